// The app store: one contract suite that SQLite and PostgreSQL both pass, and the app rules (names, scopes, rates, keys) on top of it.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAppStore, SqliteAppStore, type AppRecord, type AppStore } from '../gateway/security/app-store.js';
import { createApp, revokeApp } from '../gateway/security/apps.js';
import { appIdOf, newAppId, newKey, verifyKey } from '../gateway/security/keys.js';
import { parseScopes, SCOPES } from '../gateway/security/scopes.js';
import { PG_URL, postgresSkipReason } from './support/postgres.js';
import { scratch } from './support/scratch.js';

const pgSkip = await postgresSkipReason();
if (pgSkip) console.warn(pgSkip.replace('ledger tests', 'app store tests'));

const tmp = scratch();

/** Each store kind opens two instances on one database: what two gateways (or a gateway and the CLI) do. */
const stores: { name: string; skip: string | null; openPair: () => Promise<[AppStore, AppStore]> }[] = [
  {
    name: 'SQLite',
    skip: null,
    openPair: async () => {
      const d = tmp.dir('canon-apps-');
      const file = join(d, 'canon.sqlite');
      return [new SqliteAppStore(file), new SqliteAppStore(file)];
    },
  },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    openPair: async () => {
      const schema = tmp.schema('canon_apps_test');
      return [await PostgresAppStore.open(PG_URL, { schema }), await PostgresAppStore.open(PG_URL, { schema })];
    },
  },
];

function record(name: string, extra: Partial<AppRecord> = {}): Omit<AppRecord, 'revokedAt'> {
  return { id: newAppId(), name, scopes: ['read:crm'], ratePerSecond: null, keyHash: 'scrypt$1$1$1$x$y', createdAt: '2026-11-01T10:00:00.000Z', ...extra };
}

describe.each(stores)('AppStore on $name', ({ skip, openPair }) => {
  let a: AppStore;
  let b: AppStore;
  beforeAll(async () => {
    if (!skip) [a, b] = await openPair();
  });
  afterAll(async () => {
    if (!skip) await Promise.all([a.close(), b.close()]);
  });

  it.skipIf(skip)('returns a created app whole by id and by name', async () => {
    const app = record('whole', { scopes: ['read:crm', 'write:crm'], ratePerSecond: 7 });
    expect(await a.create(app)).toEqual({ ok: true, app: { ...app, revokedAt: null } });
    expect(await a.get(app.id)).toEqual({ ...app, revokedAt: null });
    expect(await a.byName('whole')).toEqual({ ...app, revokedAt: null });
    expect(await a.get('0000000000000000')).toBeNull();
    expect(await a.byName('nobody')).toBeNull();
  });

  it.skipIf(skip)('refuses a second app with a name in use, revoked or not', async () => {
    expect((await a.create(record('twice'))).ok).toBe(true);
    expect(await a.create(record('twice'))).toEqual({ ok: false, reason: 'name-taken' });
    await a.revoke('twice', '2026-11-02T00:00:00.000Z');
    expect(await b.create(record('twice'))).toEqual({ ok: false, reason: 'name-taken' });
  });

  it.skipIf(skip)('lists every app oldest first, revoked ones included', async () => {
    const older = record('list-older', { createdAt: '2020-01-01T00:00:00.000Z' });
    const newer = record('list-newer', { createdAt: '2020-01-02T00:00:00.000Z' });
    await a.create(newer);
    await a.create(older);
    await a.revoke('list-newer', '2020-01-03T00:00:00.000Z');
    const names = (await b.list()).map((x) => [x.name, x.revokedAt]);
    expect(names.slice(0, 2)).toEqual([
      ['list-older', null],
      ['list-newer', '2020-01-03T00:00:00.000Z'],
    ]);
  });

  it.skipIf(skip)('shows a revocation made through another instance on the next read', async () => {
    const app = record('revoked-elsewhere');
    await a.create(app);
    expect((await b.get(app.id))?.revokedAt).toBeNull();
    expect((await a.revoke('revoked-elsewhere', '2026-11-03T00:00:00.000Z'))?.revokedAt).toBe('2026-11-03T00:00:00.000Z');
    expect((await b.get(app.id))?.revokedAt).toBe('2026-11-03T00:00:00.000Z');
  });

  it.skipIf(skip)('keeps the first revocation time when revoked again, and returns null for an unknown app', async () => {
    await a.create(record('revoked-twice'));
    await a.revoke('revoked-twice', '2026-11-04T00:00:00.000Z');
    expect((await b.revoke('revoked-twice', '2026-11-05T00:00:00.000Z'))?.revokedAt).toBe('2026-11-04T00:00:00.000Z');
    expect(await a.revoke('nobody', '2026-11-05T00:00:00.000Z')).toBeNull();
  });
});

describe('keys', () => {
  it('names its app and verifies against its hash only', async () => {
    const id = newAppId();
    const { key, hash } = await newKey(id);
    expect(key).toMatch(/^canon_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(appIdOf(key)).toBe(id);
    expect(hash.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(hash).not.toContain(key.slice(23));
    expect(await verifyKey(key, hash)).toBe(true);
    expect(await verifyKey(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, hash)).toBe(false);
    expect(await verifyKey(key, 'not a hash')).toBe(false);
    expect(appIdOf('canon_short_x')).toBeNull();
  });
});

describe('createApp and revokeApp', () => {
  let store: AppStore;
  beforeAll(() => {
    const d = tmp.dir('canon-apps-rules-');
    store = new SqliteAppStore(join(d, 'canon.sqlite'));
  });
  afterAll(() => store.close());

  it('stores the hash of the key it hands back once, with the scopes in canonical order', async () => {
    const made = await createApp(store, { name: 'rules-web', scopes: ['write:crm', 'read:crm'], ratePerSecond: 50 });
    if (!made.ok) throw new Error(made.message);
    expect(made.app).toMatchObject({ name: 'rules-web', scopes: ['read:crm', 'write:crm'], ratePerSecond: 50, revokedAt: null });
    expect(appIdOf(made.key)).toBe(made.app.id);
    const stored = await store.byName('rules-web');
    expect(JSON.stringify(stored)).not.toContain(made.key);
    expect(await verifyKey(made.key, stored!.keyHash)).toBe(true);
  });

  it('refuses unknown scopes, bad names, bad rates and names in use, storing nothing', async () => {
    const before = (await store.list()).length;
    expect(await createApp(store, { name: 'rules-bad', scopes: ['read:crm', 'read:everything'] })).toEqual({ ok: false, message: `Unknown scope "read:everything"; the scopes are: ${SCOPES.join(', ')}.` });
    expect(await createApp(store, { name: 'rules-none', scopes: [] })).toEqual({ ok: false, message: `An app needs at least one scope; the scopes are: ${SCOPES.join(', ')}.` });
    expect((await createApp(store, { name: 'bad name', scopes: ['read:crm'] })).ok).toBe(false);
    expect(await createApp(store, { name: 'rules-rate', scopes: ['read:crm'], ratePerSecond: 0 })).toEqual({ ok: false, message: 'The rate must be a whole number of requests per second from 1 to 1000000; got 0.' });
    await createApp(store, { name: 'rules-dup', scopes: ['read:crm'] });
    expect(await createApp(store, { name: 'rules-dup', scopes: ['read:erp'] })).toEqual({
      ok: false,
      message: 'An app named "rules-dup" already exists (a revoked app keeps its name, so the ledger\'s app names stay unambiguous); choose another name.',
    });
    expect((await store.list()).length).toBe(before + 1);
  });

  it('revokes by name, says so when already revoked, and names the list for an unknown app', async () => {
    await createApp(store, { name: 'rules-revoke', scopes: ['read:crm'] });
    expect(await revokeApp(store, 'rules-revoke')).toMatchObject({ ok: true, already: false });
    expect(await revokeApp(store, 'rules-revoke')).toMatchObject({ ok: true, already: true });
    expect(await revokeApp(store, 'rules-nobody')).toEqual({ ok: false, message: 'No app named "rules-nobody"; `npm run apps -- list` shows them.' });
  });
});

describe('SCOPES', () => {
  it('has a read and a write scope per system, then canon own scopes', () => {
    expect(SCOPES).toEqual(['read:crm', 'write:crm', 'read:erp', 'write:erp', 'read:marketing', 'write:marketing', 'read:support', 'write:support', 'workflows:run', 'operations:read', 'operations:retry', 'admin', 'model:read', 'quality:read']);
    expect(parseScopes(['admin', 'nope', 'read:x'])).toEqual({ ok: false, unknown: ['nope', 'read:x'] });
  });
});
