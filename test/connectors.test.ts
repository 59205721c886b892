// The connector contract: every connector passes the same tests against its real sandbox on a loopback port, as keyv's stores pass one suite.
//
// Each connector is described once in READS or WRITES (how to build it, which keys to use, which route its call
// takes); the tests below are written once and run for every entry. What a system received is read from its
// sandbox's /_admin/ endpoints, so the tests assert on the calls made, not only on what came back.

import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type DataLoader from 'dataloader';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../schema/errors.js';
import { SYSTEMS, type Owner, type SystemName } from '../schema/model.js';
import { CrmConnector, type CrmContact } from '../subgraphs/crm/connector.js';
import { sandboxFetch, TEST_CREDENTIALS } from './support/credentials.js';
import { ErpConnector, type ErpPartner } from '../subgraphs/erp/connector.js';
import { IdentityStore, type IdentityRecord } from '../subgraphs/identity/connector.js';
import { createIdentityContext } from '../subgraphs/identity/context.js';
import { IdentityResolution } from '../subgraphs/identity/resolution.js';
import { SystemPolicy } from '../subgraphs/kit/resilience.js';
import { chunkPositions } from '../subgraphs/kit/batch-write.js';
import { SystemError } from '../subgraphs/kit/system-error.js';
import { MarketingConnector, type MarketingMember } from '../subgraphs/marketing/connector.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import type { RequestLogEntry, SandboxStats } from '../subgraphs/sandbox-kit/admin.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { generateDataset, seedAll, SEED_FILES, type Dataset } from '../subgraphs/sandbox-kit/seed.js';
import { SupportConnector, type SupportOrganization, type SupportTicket } from '../subgraphs/support/connector.js';

const SEED = 11;
const SIZE = 60;
/** A timeout short enough to wait out: the sandbox holds the request, the connector gives up. */
const SHORT_TIMEOUT_MS = 150;
/** Attempts a retrying policy makes, so a test can count them at the system. */
const ATTEMPTS = 3;

let dir: string;
let data: Dataset;
let identity: IdentityStore;
let resolution: IdentityResolution;
/** The canonical ids identity gave the first customers, linked from their records as a workflow links them. */
let linked: string[] = [];
const sandboxes = {} as Record<SystemName, RunningSandbox>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canon-connectors-'));
  seedAll(dir, { seed: SEED, size: SIZE });
  data = generateDataset({ seed: SEED, size: SIZE });
  identity = new IdentityStore(join(dir, 'identity.sqlite'));
  resolution = new IdentityResolution(identity);
  linked = data.customers.slice(0, 3).map((c) => resolution.link(data.sourceIds.filter((s) => s.customer_id === c.id).map((s) => ({ system: s.system, nativeId: s.native_id }))));
  [sandboxes.crm, sandboxes.erp, sandboxes.marketing, sandboxes.support] = await Promise.all(SYSTEMS.map((system) => startSandboxIn(system, dir, TEST_CREDENTIALS)));
});

afterAll(async () => {
  await Promise.all(Object.values(sandboxes).map((s) => s.close()));
  identity?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await Promise.all(
    Object.values(sandboxes).flatMap((s) => [fetch(`${s.url}/_admin/faults`, { method: 'DELETE' }), fetch(`${s.url}/_admin/stats`, { method: 'DELETE' })]),
  );
});

async function setFaults(system: SystemName, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sandboxes[system].url}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  expect(res.status).toBe(200);
}
const stats = async (system: SystemName): Promise<SandboxStats> => (await fetch(`${sandboxes[system].url}/_admin/stats`)).json();
/** What the system received on `route`, oldest first. */
async function received(system: SystemName, route: string): Promise<RequestLogEntry[]> {
  const log = (await (await fetch(`${sandboxes[system].url}/_admin/requests?limit=500`)).json()) as RequestLogEntry[];
  return log.filter((e) => e.route === route).reverse();
}

/** A retrying policy that never waits between attempts (zero jitter), so tests count attempts without sleeping. */
const retrying = (system: Owner) => new SystemPolicy(system, { maxAttempts: ATTEMPTS, initialDelayMs: 1, maxDelayMs: 1, breakerThreshold: 1000 }, () => 0);

/** A loopback port nobody listens on: opened, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** How a connector is reached in a test: its base URL, and a timeout for connectors built without a policy. */
interface Reach {
  baseUrl: string;
  timeoutMs: number;
}

interface ReadContract<V> {
  name: string;
  system: Owner;
  /** The sandbox it calls; null for identity, which reads canon's own SQLite file. */
  sandbox: SystemName | null;
  /** A fresh per-request loader, as `createContext()` gives resolvers. */
  loader(reach: Reach): Pick<DataLoader<string, unknown>, 'loadMany'>;
  /** Three keys the system holds. */
  keys(): string[];
  /** A well-formed key the system does not hold, and one it could never hold. */
  missing: string;
  malformed: string;
  /** What the loader answers for a key the system does not hold. Default null. */
  absent?: unknown;
  /** The key a loaded value answers for. */
  keyOf(value: V): string;
  /** The route one call of the loader takes, and whether it takes one call per key (an API with no batch read). */
  route?: string;
  perKey?: boolean;
}

const read = <V>(c: ReadContract<V>) => c as ReadContract<unknown>;

const READS: ReadContract<unknown>[] = [
  read<CrmContact>({
    name: 'crm contacts',
    system: 'crm',
    sandbox: 'crm',
    loader: (r) => new CrmConnector({ ...r, credentials: TEST_CREDENTIALS.crm }).createContext().contacts,
    keys: () => data.crm.slice(0, 3).map((c) => c.id),
    missing: '999999',
    malformed: 'not a contact id',
    keyOf: (c) => c.id,
    route: 'POST /crm/v3/objects/contacts/batch/read',
  }),
  read<ErpPartner>({
    name: 'erp business partners',
    system: 'erp',
    sandbox: 'erp',
    loader: (r) => new ErpConnector({ ...r, credentials: TEST_CREDENTIALS.erp }).createContext().partners,
    keys: () => data.erp.slice(0, 3).map((p) => p.BusinessPartner),
    missing: '9999999',
    malformed: "O'Brien & Co",
    keyOf: (p) => p.BusinessPartner,
    route: 'POST /odata/v4/BusinessPartners/$query',
  }),
  read<MarketingMember>({
    name: 'marketing members (batch read)',
    system: 'marketing',
    sandbox: 'marketing',
    loader: (r) => new MarketingConnector({ ...r, credentials: TEST_CREDENTIALS.marketing, listId: MARKETING_LIST_ID }).createContext().members,
    keys: () => data.marketing.slice(0, 3).map((m) => m.subscriber_hash),
    missing: createHash('md5').update('nobody@example.com').digest('hex'),
    malformed: 'not a hash',
    keyOf: (m) => m.id,
    route: 'POST /3.0/lists/{list_id}/members/batch-read',
  }),
  read<MarketingMember>({
    name: 'marketing members (one GET each)',
    system: 'marketing',
    sandbox: 'marketing',
    loader: (r) => new MarketingConnector({ ...r, credentials: TEST_CREDENTIALS.marketing, listId: MARKETING_LIST_ID, batchRead: false }).createContext().members,
    keys: () => data.marketing.slice(3, 6).map((m) => m.subscriber_hash),
    missing: createHash('md5').update('nobody@example.com').digest('hex'),
    malformed: 'not a hash',
    keyOf: (m) => m.id,
    route: 'GET /3.0/lists/{list_id}/members/{subscriber_hash}',
    perKey: true,
  }),
  read<SupportOrganization>({
    name: 'support organizations',
    system: 'support',
    sandbox: 'support',
    loader: (r) => new SupportConnector({ ...r, credentials: TEST_CREDENTIALS.support }).createContext().organizations,
    keys: () => data.supportOrganizations.slice(0, 3).map((o) => String(o.id)),
    missing: '99999999',
    malformed: 'abc',
    keyOf: (o) => String(o.id),
    route: 'GET /api/v2/organizations/show_many.json',
  }),
  read<SupportTicket[]>({
    name: 'support tickets per organization',
    system: 'support',
    sandbox: 'support',
    loader: (r) => new SupportConnector({ ...r, credentials: TEST_CREDENTIALS.support }).createContext().tickets(5),
    keys: () => [...new Set(data.supportTickets.map((t) => String(t.organization_id)))].slice(0, 3),
    missing: '99999999',
    malformed: 'abc',
    absent: [],
    keyOf: (tickets) => String(tickets[0]?.organization_id),
    route: 'GET /api/v2/tickets.json',
  }),
  read<SupportTicket>({
    name: 'support tickets by id',
    system: 'support',
    sandbox: 'support',
    loader: (r) => new SupportConnector({ ...r, credentials: TEST_CREDENTIALS.support }).createContext().ticketById,
    keys: () => data.supportTickets.slice(0, 3).map((t) => String(t.id)),
    missing: '999999',
    malformed: 'abc',
    keyOf: (t) => String(t.id),
    route: 'GET /api/v2/tickets/{id}.json',
    perKey: true,
  }),
  read<IdentityRecord>({
    name: 'identity by canonical id',
    system: 'identity',
    sandbox: null,
    loader: () => createIdentityContext(identity, resolution).byId,
    keys: () => linked,
    missing: 'cus_0000000000',
    malformed: "'; DROP TABLE customers; --",
    keyOf: (r) => r.id,
  }),
  read<IdentityRecord>({
    name: 'identity by crm id',
    system: 'identity',
    sandbox: null,
    loader: () => createIdentityContext(identity, resolution).bySource('crm'),
    keys: () => data.sourceIds.filter((s) => s.system === 'crm' && s.is_primary && data.customers.slice(0, 3).some((c) => c.id === s.customer_id)).map((s) => s.native_id),
    missing: '999999',
    malformed: 'not a contact id',
    keyOf: (r) => r.sourceIds.crm!,
  }),
];

const reach = (c: ReadContract<unknown>): Reach => ({ baseUrl: c.sandbox ? sandboxes[c.sandbox].url : 'unused://identity', timeoutMs: SHORT_TIMEOUT_MS });
const overHttp = READS.filter((c): c is ReadContract<unknown> & { sandbox: SystemName; route: string } => c.sandbox !== null && c.route !== undefined);

describe.each(READS)('$name: a batch read', (c) => {
  it('answers one result per key, in key order, with the absent value for a key the system does not hold', async () => {
    const [a, b, d] = c.keys();
    const got = await c.loader(reach(c)).loadMany([d!, c.missing, a!, b!]);
    expect(got.map((v, i) => (i === 1 ? v : c.keyOf(v)))).toEqual([d, c.absent ?? null, a, b]);
  });

  it('answers a key the system could never hold as absent, without failing the others', async () => {
    const [a, b] = c.keys();
    const got = await c.loader(reach(c)).loadMany([a!, c.malformed, b!]);
    expect(got[1]).toEqual(c.absent ?? null);
    expect([c.keyOf(got[0]), c.keyOf(got[2])]).toEqual([a, b]);
  });
});

describe.each(overHttp)('$name: calls to the system', (c) => {
  it('makes one call for the whole batch, or one per key where the API has no batch read', async () => {
    const keys = c.keys();
    await c.loader(reach(c)).loadMany(keys);
    expect((await stats(c.sandbox)).byRoute).toEqual({ [c.route]: c.perKey ? keys.length : 1 });
  });

  it('gives every key of a failed call its own SystemError, never rejecting the batch', async () => {
    await setFaults(c.sandbox, { errorRate: 1, errorStatus: 503 });
    const got = await c.loader(reach(c)).loadMany(c.keys());
    expect(got).toHaveLength(3);
    for (const v of got) expect(v).toMatchObject({ name: 'SystemError', code: ErrorCode.SYSTEM_UNAVAILABLE, system: c.system });
  });
});

describe.each(overHttp.filter((c) => c.perKey))('$name: one call per key', (c) => {
  it('fails only the keys whose own call failed, each in its place', async () => {
    const keys = [...c.keys(), c.missing];
    // Seed 7 fails the first two of four requests, whichever keys reach the system first.
    await setFaults(c.sandbox, { errorRate: 0.5, seed: 7 });
    const got = await c.loader(reach(c)).loadMany(keys);
    expect(got.filter((v) => v instanceof SystemError)).toHaveLength(2);
    got.forEach((v, i) => {
      if (!(v instanceof SystemError)) expect(v === null ? null : c.keyOf(v)).toBe(keys[i] === c.missing ? null : keys[i]);
    });
  });
});

/** How each upstream failure must reach resolvers, the same for every connector. */
const FAILURES: { name: string; faults?: Record<string, unknown>; refused?: true; expected: Record<string, unknown> }[] = [
  { name: 'a 500', faults: { errorRate: 1, errorStatus: 500 }, expected: { code: ErrorCode.SYSTEM_UNAVAILABLE, retryable: true, status: 500 } },
  { name: 'a 503', faults: { errorRate: 1, errorStatus: 503 }, expected: { code: ErrorCode.SYSTEM_UNAVAILABLE, retryable: true, status: 503 } },
  { name: 'a 429 with Retry-After', faults: { errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 }, expected: { code: ErrorCode.SYSTEM_UNAVAILABLE, retryable: true, status: 429, retryAfterSeconds: 7 } },
  { name: 'a timeout', faults: { timeoutRate: 1 }, expected: { code: ErrorCode.SYSTEM_TIMEOUT, retryable: true } },
  { name: 'a refused connection', refused: true, expected: { code: ErrorCode.SYSTEM_UNAVAILABLE, retryable: true, status: undefined } },
];

describe.each(overHttp)('$name: upstream failures', (c) => {
  it.each(FAILURES)('maps $name to its code, the system and retryable', async (f) => {
    const r = reach(c);
    if (f.refused) r.baseUrl = `http://127.0.0.1:${await closedPort()}`;
    if (f.faults) await setFaults(c.sandbox, f.faults);
    const [first] = await c.loader(r).loadMany(c.keys().slice(0, 1));
    expect(first).toBeInstanceOf(SystemError);
    expect(first).toMatchObject({ ...f.expected, system: c.system, attempts: 1 });
  });
});

interface WriteOptions {
  expectedVersion?: string | null;
  idempotencyKey?: string | null;
}

interface WriteContract {
  name: string;
  system: SystemName;
  /** The route the write takes, as the sandbox counts it. */
  route: string;
  /** Records the tests write to, one per test so they do not meet. */
  targets(): string[];
  /** Sends the `n`-th distinct value to `target` through a connector with `policy`. */
  write(policy: SystemPolicy, target: string, n: number, opts: WriteOptions): Promise<unknown>;
  /** The record's version token as the connector reads it; absent for writes with no version (creates). */
  version?(target: string): Promise<string>;
  /**
   * Under an idempotency key and a connection reset after every commit: how many writes reach the system, and
   * whether the call then succeeds (the connector found its own earlier write) or fails once its attempts are spent.
   */
  keyed: { writes: number; succeeds: boolean };
}

const conn = {
  crm: (policy?: SystemPolicy) => new CrmConnector({ credentials: TEST_CREDENTIALS.crm, baseUrl: sandboxes.crm.url, policy }),
  erp: (policy?: SystemPolicy) => new ErpConnector({ credentials: TEST_CREDENTIALS.erp, baseUrl: sandboxes.erp.url, policy }),
  marketing: (policy?: SystemPolicy) => new MarketingConnector({ credentials: TEST_CREDENTIALS.marketing, baseUrl: sandboxes.marketing.url, listId: MARKETING_LIST_ID, policy }),
  support: (policy?: SystemPolicy) => new SupportConnector({ credentials: TEST_CREDENTIALS.support, baseUrl: sandboxes.support.url, policy }),
};
const STATUSES = ['subscribed', 'unsubscribed', 'cleaned', 'pending'];
const PLANS = ['basic', 'business', 'enterprise'];

const WRITES: WriteContract[] = [
  {
    name: 'crm contact update',
    system: 'crm',
    route: 'PATCH /crm/v3/objects/contacts/{id}',
    targets: () => data.crm.slice(10, 16).map((c) => c.id),
    write: (p, id, n, o) => conn.crm(p).updateContact(id, { jobtitle: `Contract test ${n}` }, o.expectedVersion, o.idempotencyKey),
    version: async (id) => (await conn.crm().batchRead([id]))[0]!.properties.lastmodifieddate!,
    keyed: { writes: ATTEMPTS, succeeds: false },
  },
  {
    name: 'erp business partner update',
    system: 'erp',
    route: "PATCH /odata/v4/BusinessPartners('{id}')",
    targets: () => data.erp.slice(10, 16).map((p) => p.BusinessPartner),
    write: (p, id, n, o) => conn.erp(p).updatePartner(id, { CityName: `Contract City ${n}` }, o.expectedVersion, o.idempotencyKey),
    version: async (id) => (await conn.erp().batchRead([id]))[0]!['@odata.etag'],
    keyed: { writes: ATTEMPTS, succeeds: false },
  },
  {
    name: 'marketing member update',
    system: 'marketing',
    route: 'PATCH /3.0/lists/{list_id}/members/{subscriber_hash}',
    targets: () => data.marketing.slice(10, 16).map((m) => m.subscriber_hash),
    write: (p, hash, n, o) => conn.marketing(p).updateMember(hash, { status: STATUSES[n % STATUSES.length]! }, o.expectedVersion, o.idempotencyKey),
    version: async (hash) => (await conn.marketing().batchRead([hash]))[0]!.last_changed,
    keyed: { writes: ATTEMPTS, succeeds: false },
  },
  {
    name: 'support organization update',
    system: 'support',
    route: 'PUT /api/v2/organizations/{id}.json',
    targets: () => data.supportOrganizations.slice(10, 16).map((o) => String(o.id)),
    write: (p, id, n, o) => conn.support(p).updateOrganization(id, { organization_fields: { support_plan: PLANS[n % PLANS.length] } }, o.expectedVersion, o.idempotencyKey),
    version: async (id) => (await conn.support().showMany([id]))[0]!.updated_at,
    keyed: { writes: ATTEMPTS, succeeds: false },
  },
  {
    name: 'crm contact find-or-create',
    system: 'crm',
    route: 'POST /crm/v3/objects/contacts',
    targets: () => Array.from({ length: 6 }, (_, i) => `contract.create${i}@kestrel.example`),
    write: (p, email, n, o) => conn.crm(p).findOrCreateContact({ email, firstname: `Contract ${n}` }, o.idempotencyKey),
    keyed: { writes: 1, succeeds: true },
  },
  {
    name: 'erp business partner create',
    system: 'erp',
    route: 'POST /odata/v4/BusinessPartners',
    targets: () => Array.from({ length: 6 }, (_, i) => `contract-create-${i}`),
    write: (p, externalId, n, o) => conn.erp(p).createPartner({ BusinessPartnerName: `Contract ${n} GmbH`, Country: 'DE', CityName: 'Berlin' }, externalId, o.idempotencyKey),
    keyed: { writes: 1, succeeds: true },
  },
  {
    name: 'marketing member upsert',
    system: 'marketing',
    route: 'PUT /3.0/lists/{list_id}/members/{subscriber_hash}',
    targets: () => Array.from({ length: 6 }, (_, i) => `contract.upsert${i}@kestrel.example`),
    write: (p, email, n, o) => conn.marketing(p).upsertMember(email, { status: STATUSES[n % STATUSES.length]! }, o.idempotencyKey),
    keyed: { writes: 1, succeeds: true },
  },
  {
    name: 'support organization find-or-create',
    system: 'support',
    route: 'POST /api/v2/organizations.json',
    targets: () => Array.from({ length: 6 }, (_, i) => `Contract Create ${i}`),
    write: (p, name, _n, o) => conn.support(p).findOrCreateOrganization({ name, externalId: `ext-${name}` }, o.idempotencyKey),
    keyed: { writes: 1, succeeds: true },
  },
  {
    name: 'support ticket create',
    system: 'support',
    route: 'POST /api/v2/tickets.json',
    targets: () => data.supportOrganizations.slice(10, 16).map((o) => String(o.id)),
    write: (p, id, n, o) => conn.support(p).createTicket({ organizationId: id, subject: `Contract test ${n}`, body: 'Sent by the connector contract suite.' }, o.idempotencyKey),
    keyed: { writes: 1, succeeds: true },
  },
];

describe.each(WRITES)('$name: a write', (c) => {
  it('is sent exactly once without an idempotency key, even when its answer is lost', async () => {
    await setFaults(c.system, { resetAfterCommitRate: 1 });
    const err = await c.write(retrying(c.system), c.targets()[0]!, 1, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SystemError', code: ErrorCode.SYSTEM_UNAVAILABLE, system: c.system, retryable: true, attempts: 1 });
    expect((await received(c.system, c.route)).map((e) => e.idempotencyKey)).toEqual([null]);
  });

  it('is retried only under its idempotency key, which every attempt carries', async () => {
    await setFaults(c.system, { resetAfterCommitRate: 1 });
    const key = `contract-${c.name}`;
    const outcome = await c.write(retrying(c.system), c.targets()[1]!, 2, { idempotencyKey: key }).then(
      () => 'succeeded',
      (e: SystemError) => e.code,
    );
    expect(outcome).toBe(c.keyed.succeeds ? 'succeeded' : ErrorCode.SYSTEM_UNAVAILABLE);
    expect((await received(c.system, c.route)).map((e) => e.idempotencyKey)).toEqual(Array(c.keyed.writes).fill(key));
  });
});

describe.each(WRITES.filter((c) => c.version))('$name: versions', (c) => {
  it('refuses a write over a newer version with STALE_WRITE, changing nothing', async () => {
    const [id] = c.targets().slice(2);
    const before = await c.version!(id!);
    const stale = c.system === 'erp' ? 'W/"0"' : '2000-01-01T00:00:00.000Z';
    const err = await c.write(retrying(c.system), id!, 3, { expectedVersion: stale }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SystemError', code: ErrorCode.STALE_WRITE, system: c.system, retryable: false });
    expect((await stats(c.system)).writes).toBe(0);
    expect(await c.version!(id!)).toBe(before);
  });

  it('writes when the version matches', async () => {
    const [id] = c.targets().slice(3);
    await c.write(retrying(c.system), id!, 4, { expectedVersion: await c.version!(id!) });
    expect((await stats(c.system)).writes).toBe(1);
  });

  it('accepts a moved version under the same key when the record already holds exactly what the write sets', async () => {
    const [id] = c.targets().slice(4);
    const read = await c.version!(id!);
    await c.write(retrying(c.system), id!, 5, { expectedVersion: read, idempotencyKey: 'contract-repeat' });
    // The first answer was lost; the app sends the same write again with the version it read before it.
    await expect(c.write(retrying(c.system), id!, 5, { expectedVersion: read, idempotencyKey: 'contract-repeat' })).resolves.toBeTruthy();
    await expect(c.write(retrying(c.system), id!, 5, { expectedVersion: read })).rejects.toMatchObject({ code: ErrorCode.STALE_WRITE });
    await expect(c.write(retrying(c.system), id!, 6, { expectedVersion: read, idempotencyKey: 'contract-repeat' })).rejects.toMatchObject({ code: ErrorCode.STALE_WRITE });
    expect((await stats(c.system)).writes).toBe(1);
  });
});

/** A create a workflow step repeats: it must find its own earlier record rather than make a second. */
interface CreateContract {
  name: string;
  system: SystemName;
  create(policy: SystemPolicy, key: string): Promise<unknown>;
  /** How many records the system holds for what `create` makes, counted through the system's own API. */
  count(): Promise<number>;
}

const api = async <T = any>(system: SystemName, method: string, path: string, body?: unknown): Promise<T> => {
  const res = await sandboxFetch(system, sandboxes[system].url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await res.json()) as T;
};

const CREATES: CreateContract[] = [
  {
    name: 'crm contact find-or-create',
    system: 'crm',
    create: (p, key) => conn.crm(p).findOrCreateContact({ email: 'once.only@kestrel.example', firstname: 'Once' }, key),
    count: async () => (await api('crm', 'POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'once.only@kestrel.example' }] }] })).total,
  },
  {
    name: 'erp business partner create',
    system: 'erp',
    create: (p, key) => conn.erp(p).createPartner({ BusinessPartnerName: 'Once Only GmbH', Country: 'DE', CityName: 'Köln' }, 'once-only', key),
    count: async () => (await api('erp', 'GET', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent("BusinessPartnerName eq 'Once Only GmbH'")}`)).value.length,
  },
  {
    name: 'marketing member upsert',
    system: 'marketing',
    create: (p, key) => conn.marketing(p).upsertMember('once.only@kestrel.example', { status: 'subscribed' }, key),
    count: async () => (await api('marketing', 'POST', `/3.0/lists/${MARKETING_LIST_ID}/members/batch-read`, { subscriber_hashes: [createHash('md5').update('once.only@kestrel.example').digest('hex')] })).members.length,
  },
  {
    name: 'support organization find-or-create',
    system: 'support',
    create: (p, key) => conn.support(p).findOrCreateOrganization({ name: 'Once Only', externalId: 'once-only' }, key),
    count: async () => (await api('support', 'GET', `/api/v2/organizations/search.json?name=${encodeURIComponent('Once Only')}`)).count,
  },
];

describe.each(CREATES)('$name: a create under a key', (c) => {
  it('leaves exactly one record when every answer is lost and the whole step is repeated', async () => {
    await setFaults(c.system, { resetAfterCommitRate: 1 });
    await c.create(retrying(c.system), 'contract-once');
    await c.create(retrying(c.system), 'contract-once');
    await fetch(`${sandboxes[c.system].url}/_admin/faults`, { method: 'DELETE' });
    expect(await c.count()).toBe(1);
    expect((await stats(c.system)).writes).toBe(1);
  });
});

/** A batch write through the system's own batch API: one result or one Error per input. */
interface BatchContract {
  name: string;
  system: SystemName;
  /** The batch call, as the sandbox counts it. */
  route: string;
  /** Three records the system holds, different for each test `t`. */
  targets(t: number): string[];
  /** A well-formed record the system does not hold. */
  missing: string;
  /** Writes the `n`-th value to every record of `records` in one batch method call, at most `size` per call. */
  write(policy: SystemPolicy, records: string[], n: number, opts: { size?: number; idempotencyKey?: string }): Promise<unknown[]>;
  /** The record a successful result is. */
  recordOf(result: any): string;
}

const BATCHES: BatchContract[] = [
  {
    name: 'crm batch update',
    system: 'crm',
    route: 'POST /crm/v3/objects/contacts/batch/update',
    targets: (t) => data.crm.slice(20 + 3 * t, 23 + 3 * t).map((c) => c.id),
    missing: '999999',
    write: (policy, ids, n, o) => new CrmConnector({ credentials: TEST_CREDENTIALS.crm, baseUrl: sandboxes.crm.url, policy, maxBatchWrite: o.size }).batchUpdateContacts(ids.map((id) => ({ id, properties: { jobtitle: `Batch ${n}` } })), o.idempotencyKey),
    recordOf: (c: CrmContact) => c.id,
  },
  {
    name: 'erp $batch update',
    system: 'erp',
    route: 'POST /odata/v4/$batch',
    targets: (t) => data.erp.slice(20 + 3 * t, 23 + 3 * t).map((p) => p.BusinessPartner),
    missing: '9999998',
    write: (policy, ids, n, o) => new ErpConnector({ credentials: TEST_CREDENTIALS.erp, baseUrl: sandboxes.erp.url, policy, maxBatchWrite: o.size }).batchUpdatePartners(ids.map((id) => ({ id, properties: { CityName: `Batch City ${n}` } })), o.idempotencyKey),
    recordOf: (p: ErpPartner) => p.BusinessPartner,
  },
  {
    name: 'marketing batch subscribe',
    system: 'marketing',
    route: 'POST /3.0/lists/{list_id}',
    targets: (t) => data.marketing.slice(20 + 3 * t, 23 + 3 * t).map((m) => m.subscriber_hash),
    missing: createHash('md5').update('nobody@example.com').digest('hex'),
    write: (policy, hashes, n, o) =>
      new MarketingConnector({ credentials: TEST_CREDENTIALS.marketing, baseUrl: sandboxes.marketing.url, listId: MARKETING_LIST_ID, policy, maxBatchWrite: o.size }).batchUpdateMembers(hashes.map((hash) => ({ hash, status: STATUSES[n % STATUSES.length]! })), o.idempotencyKey),
    recordOf: (m: MarketingMember) => m.id,
  },
  {
    name: 'support update_many',
    system: 'support',
    route: 'PUT /api/v2/organizations/update_many.json',
    targets: (t) => data.supportOrganizations.slice(20 + 3 * t, 23 + 3 * t).map((o) => String(o.id)),
    missing: '99999999',
    write: (policy, ids, n, o) =>
      new SupportConnector({ credentials: TEST_CREDENTIALS.support, baseUrl: sandboxes.support.url, policy, maxBatchWrite: o.size }).updateManyOrganizations(ids.map((id) => ({ id, organization: { organization_fields: { support_plan: PLANS[n % PLANS.length] } } })), o.idempotencyKey),
    recordOf: (o: SupportOrganization) => String(o.id),
  },
];

describe.each(BATCHES)('$name: a batch write', (c) => {
  it('answers one result or one Error per input, in input order, a record the system lacks failing alone', async () => {
    const [a, b, d] = c.targets(0);
    const got = await c.write(retrying(c.system), [a!, c.missing, b!, d!], 1, {});
    expect(got[1]).toMatchObject({ name: 'SystemError', code: ErrorCode.NOT_FOUND, system: c.system, retryable: false });
    expect([got[0], got[2], got[3]].map(c.recordOf)).toEqual([a, b, d]);
    expect((await stats(c.system)).byRoute[c.route]).toBe(1);
    expect((await stats(c.system)).writes).toBe(3);
  });

  it('sends at most the batch size per call, and never the same record twice in one call', async () => {
    const [a, b, d] = c.targets(1);
    const got = await c.write(retrying(c.system), [a!, b!, a!, d!], 2, { size: 2 });
    expect(got.map(c.recordOf)).toEqual([a, b, a, d]);
    expect((await stats(c.system)).byRoute[c.route]).toBe(2);
  });

  it('gives every input of a failed call its own SystemError, never rejecting', async () => {
    await setFaults(c.system, { errorRate: 1, errorStatus: 503 });
    const got = await c.write(retrying(c.system), c.targets(2), 3, {});
    expect(got).toHaveLength(3);
    for (const v of got) expect(v).toMatchObject({ name: 'SystemError', code: ErrorCode.SYSTEM_UNAVAILABLE, system: c.system, retryable: true });
    expect((await stats(c.system)).writes).toBe(0);
  });

  it('is sent once without an idempotency key, even when its answer is lost', async () => {
    await setFaults(c.system, { resetAfterCommitRate: 1 });
    const got = await c.write(retrying(c.system), c.targets(3), 4, {});
    for (const v of got) expect(v).toMatchObject({ name: 'SystemError', code: ErrorCode.SYSTEM_UNAVAILABLE, attempts: 1 });
    expect((await received(c.system, c.route)).map((e) => e.idempotencyKey)).toEqual([null]);
  });

  it('recognises under its key a call whose answer was lost, writing nothing twice', async () => {
    await setFaults(c.system, { resetAfterCommitRate: 1 });
    const records = c.targets(4);
    const got = await c.write(retrying(c.system), records, 5, { idempotencyKey: 'contract-batch' });
    expect(got.map(c.recordOf)).toEqual(records);
    expect((await received(c.system, c.route)).map((e) => e.idempotencyKey)).toEqual(['contract-batch:1']);
    expect((await stats(c.system)).writes).toBe(3);
  });
});

describe('chunkPositions', () => {
  it('fills chunks in input order, moving a record met again to a later chunk', () => {
    expect(chunkPositions(['a', 'b', 'a', 'c', 'a'], 2, (x) => x)).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunkPositions(['a', 'b', 'c'], 100, (x) => x)).toEqual([[0, 1, 2]]);
    expect(() => chunkPositions(['a'], 0, (x) => x)).toThrow(TypeError);
  });
});

describe('support update_many: the job it answers with', () => {
  /** A Zendesk stand-in whose update_many job is queued, then working, then `finish`ed: what a real account answers. */
  async function zendesk(polls: (string | null)[]): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
    const seen: string[] = [];
    let poll = 0;
    const server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url!.split('?')[0]}`);
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'PUT') return json({ job_status: { id: 'job1', status: 'queued', results: null } });
      if (req.url!.startsWith('/api/v2/job_statuses/job1.json')) {
        const status = polls[Math.min(poll++, polls.length - 1)];
        return json({ job_status: { id: 'job1', status, results: status === 'completed' ? [{ id: 7, action: 'update', success: true, status: 'Updated' }] : null } });
      }
      return json({ organizations: [{ id: 7, name: 'Seven', external_id: null, organization_fields: { support_plan: 'basic' }, updated_at: '2026-01-01T00:00:00.000Z' }], open_ticket_counts: { '7': 2 } });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const update = [{ id: '7', organization: { organization_fields: { support_plan: 'basic' } } }];

  it('polls a queued job until it completes, then reads the organizations back', async () => {
    const z = await zendesk(['working', 'completed']);
    try {
      const got = await new SupportConnector({ credentials: TEST_CREDENTIALS.support, baseUrl: z.url, jobPollMs: 0 }).updateManyOrganizations(update);
      expect(got).toEqual([{ id: 7, name: 'Seven', external_id: null, organization_fields: { support_plan: 'basic' }, updated_at: '2026-01-01T00:00:00.000Z', openTickets: 2 }]);
      expect(z.seen).toEqual(['PUT /api/v2/organizations/update_many.json', 'GET /api/v2/job_statuses/job1.json', 'GET /api/v2/job_statuses/job1.json', 'GET /api/v2/organizations/show_many.json']);
    } finally {
      await z.close();
    }
  });

  it('gives up on a job that never completes after maxJobPolls polls, failing each of its inputs', async () => {
    const z = await zendesk(['working']);
    try {
      const got = await new SupportConnector({ credentials: TEST_CREDENTIALS.support, baseUrl: z.url, jobPollMs: 0, maxJobPolls: 3 }).updateManyOrganizations(update);
      expect(got[0]).toMatchObject({ name: 'SystemError', system: 'support', code: ErrorCode.SYSTEM_UNAVAILABLE, message: expect.stringContaining('job job1 did not complete after 3 polls') });
      expect(z.seen.filter((r) => r.startsWith('GET /api/v2/job_statuses'))).toHaveLength(3);
    } finally {
      await z.close();
    }
  });
});
