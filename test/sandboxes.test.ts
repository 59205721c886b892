// Owns the behaviour tests of the four sandboxes, their shared kit (stats, request log, faults) and the seeder.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SystemName } from '../schema/model.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { createRng } from '../subgraphs/sandbox-kit/rng.js';
import { nextStamp } from '../subgraphs/sandbox-kit/stamps.js';
import { startCrmSandbox } from '../subgraphs/crm/sandbox/index.js';
import { startErpSandbox } from '../subgraphs/erp/sandbox/index.js';
import { MARKETING_LIST_ID, openMarketingStore, startMarketingSandbox, subscriberHash } from '../subgraphs/marketing/sandbox/index.js';
import { startSupportSandbox } from '../subgraphs/support/sandbox/index.js';
import { generateDataset, isSeeded, seedAll, SEED_FILES, SEED_TRUTH_FILE, type SeedTruth } from '../subgraphs/sandbox-kit/seed.js';
import { sandboxHeaders, TEST_CREDENTIALS } from './support/credentials.js';

const SIZE = 300;

/** Every call of this file goes through here: a sandbox's URL tells its system, whose credentials the call then carries. */
function authed(url: string, init: RequestInit = {}): Promise<Response> {
  const port = Number(new URL(url).port);
  const system = (Object.entries({ crm, erp, marketing, support }) as [SystemName, RunningSandbox | undefined][]).find(([, s]) => s?.port === port)?.[0];
  return fetch(url, system ? { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...sandboxHeaders(system) } } : init);
}
const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canon-sandbox-'));
  tempDirs.push(dir);
  return dir;
}

let dataDir: string;
let crm: RunningSandbox;
let erp: RunningSandbox;
let marketing: RunningSandbox;
let support: RunningSandbox;

beforeAll(async () => {
  dataDir = tempDir();
  seedAll(dataDir, { seed: 7, size: SIZE });
  [crm, erp, marketing, support] = await Promise.all([
    startCrmSandbox({ file: join(dataDir, SEED_FILES.crm), credentials: TEST_CREDENTIALS.crm }),
    startErpSandbox({ file: join(dataDir, SEED_FILES.erp), credentials: TEST_CREDENTIALS.erp }),
    startMarketingSandbox({ file: join(dataDir, SEED_FILES.marketing), credentials: TEST_CREDENTIALS.marketing }),
    startSupportSandbox({ file: join(dataDir, SEED_FILES.support), credentials: TEST_CREDENTIALS.support }),
  ]);
});

afterAll(async () => {
  await Promise.all([crm, erp, marketing, support].filter(Boolean).map((s) => s.close()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await Promise.all(
    [crm, erp, marketing, support].flatMap((s) => [
      authed(`${s.url}/_admin/faults`, { method: 'DELETE' }),
      authed(`${s.url}/_admin/stats`, { method: 'DELETE' }),
    ]),
  );
});

/** The seed's truth (DATA_DIR/seed-truth.json): each customer's first native id per system, in generation order. */
function identity(dir: string) {
  const truth = JSON.parse(readFileSync(join(dir, SEED_TRUTH_FILE), 'utf8')) as SeedTruth;
  return { primaries: (system: SystemName) => truth.customers.flatMap((c) => c.records[system].slice(0, 1)) };
}

async function json(res: Response): Promise<any> {
  return res.json();
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  authed(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const send = (method: string, url: string, body: unknown, headers: Record<string, string> = {}) =>
  authed(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const stats = async (s: RunningSandbox) => json(await authed(`${s.url}/_admin/stats`));
const putFaults = async (s: RunningSandbox, faults: Record<string, unknown>) => {
  const res = await send('PUT', `${s.url}/_admin/faults`, faults);
  expect(res.status).toBe(200);
  return json(res);
};

describe('sandbox-kit', () => {
  it('answers 404 for unknown paths and 405 for a known path with the wrong method', async () => {
    const missing = await authed(`${crm.url}/nope`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).category).toBe('OBJECT_NOT_FOUND');
    const wrongMethod = await authed(`${crm.url}/crm/v3/objects/contacts/batch/read`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('answers a body over its cap with 413 in the system\'s own error format, running no handler', async () => {
    const capped = await startCrmSandbox({ file: join(dataDir, SEED_FILES.crm), maxBodyBytes: 64, credentials: TEST_CREDENTIALS.crm });
    try {
      const res = await post(`${capped.url}/crm/v3/objects/contacts`, { properties: { jobtitle: 'x'.repeat(100) } }, sandboxHeaders('crm'));
      expect(res.status).toBe(413);
      expect(await json(res)).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', message: 'The request body is larger than 64 bytes; send at most 64.' });
      expect(await stats(capped)).toMatchObject({ requests: 1, writes: 0 });
      const log = await json(await authed(`${capped.url}/_admin/requests`));
      expect(log[0]).toMatchObject({ method: 'POST', status: 413 });
    } finally {
      await capped.close();
    }
  });

  it('nextStamp strictly increases even within one millisecond', () => {
    const t = Date.UTC(2026, 0, 1);
    expect(nextStamp('2026-01-01T00:00:00.000Z', t)).toBe('2026-01-01T00:00:00.001Z');
    expect(nextStamp('2025-01-01T00:00:00.000Z', t)).toBe('2026-01-01T00:00:00.000Z');
  });

  it('createRng is reproducible per seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(createRng(43)()).not.toBe(createRng(42)());
  });
});

describe('crm sandbox', () => {
  it('batch-reads found ids in input order and reports missing ones with 207', async () => {
    const [a, b] = identity(dataDir).primaries('crm');
    const ok = await post(`${crm.url}/crm/v3/objects/contacts/batch/read`, { properties: ['email'], inputs: [{ id: b }, { id: a }] });
    expect(ok.status).toBe(200);
    const okBody = await json(ok);
    expect(okBody.status).toBe('COMPLETE');
    expect(okBody.results.map((r: any) => r.id)).toEqual([b, a]);
    expect(Object.keys(okBody.results[0].properties).sort()).toEqual(['createdate', 'email', 'hs_object_id', 'lastmodifieddate']);

    const partial = await post(`${crm.url}/crm/v3/objects/contacts/batch/read`, { properties: ['email'], inputs: [{ id: a }, { id: '999999' }] });
    expect(partial.status).toBe(207);
    const body = await json(partial);
    expect(body.results.map((r: any) => r.id)).toEqual([a]);
    expect(body.numErrors).toBe(1);
    expect(body.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } });

    const bad = await post(`${crm.url}/crm/v3/objects/contacts/batch/read`, { ids: [a] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).category).toBe('VALIDATION_ERROR');
  });

  it('PATCH bumps lastmodifieddate and rejects read-only properties', async () => {
    const [id] = identity(dataDir).primaries('crm');
    const before = await json(await authed(`${crm.url}/crm/v3/objects/contacts/${id}`));
    const res = await send('PATCH', `${crm.url}/crm/v3/objects/contacts/${id}`, { properties: { jobtitle: 'CTO' } });
    expect(res.status).toBe(200);
    const after = await json(res);
    expect(after.properties.jobtitle).toBe('CTO');
    expect(after.properties.lastmodifieddate > before.properties.lastmodifieddate).toBe(true);
    expect(after.updatedAt).toBe(after.properties.lastmodifieddate);

    const ro = await send('PATCH', `${crm.url}/crm/v3/objects/contacts/${id}`, { properties: { createdate: 'x' } });
    expect(ro.status).toBe(400);
    expect((await json(ro)).message).toContain('createdate');
    expect((await send('PATCH', `${crm.url}/crm/v3/objects/contacts/1`, { properties: { jobtitle: 'x' } })).status).toBe(404);
  });

  it('creates contacts with the next id and finds them by canon_external_id', async () => {
    const created = await post(`${crm.url}/crm/v3/objects/contacts`, { properties: { email: 'new.person@example.com', canon_external_id: 'cus_test000001' } });
    expect(created.status).toBe(201);
    const body = await json(created);
    const search = await post(`${crm.url}/crm/v3/objects/contacts/search`, {
      filterGroups: [{ filters: [{ propertyName: 'canon_external_id', operator: 'EQ', value: 'cus_test000001' }] }],
      properties: ['email'],
    });
    const found = await json(search);
    expect(found.total).toBe(1);
    expect(found.results[0].id).toBe(body.id);
    expect(Number(body.id)).toBeGreaterThan(1001);
  });

  it('pages the contact list by id with paging.next.after', async () => {
    const first = await json(await authed(`${crm.url}/crm/v3/objects/contacts?limit=3`));
    expect(first.results.map((r: any) => r.id)).toEqual(['1001', '1002', '1003']);
    expect(first.paging.next.after).toBe('1003');
    const second = await json(await authed(`${crm.url}/crm/v3/objects/contacts?limit=3&after=1003`));
    expect(second.results[0].id).toBe('1004');
  });
});

describe('erp sandbox', () => {
  it('filters with in (GET and POST $query) and honours $select', async () => {
    const [a, b] = identity(dataDir).primaries('erp');
    const filter = `BusinessPartner in ('${a}','${b}','9999999')`;
    const get = await json(await authed(`${erp.url}/odata/v4/BusinessPartners?$filter=${encodeURIComponent(filter)}&$select=Country`));
    expect(get.value.map((v: any) => v.BusinessPartner)).toEqual([a, b]);
    expect(Object.keys(get.value[0]).sort()).toEqual(['@odata.etag', 'BusinessPartner', 'Country']);
    const viaQuery = await authed(`${erp.url}/odata/v4/BusinessPartners/$query`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `$filter=${encodeURIComponent(filter)}&$select=Country`,
    });
    expect(await json(viaQuery)).toEqual(get);
    const bad = await authed(`${erp.url}/odata/v4/BusinessPartners?$filter=${encodeURIComponent("Country ne 'DE'")}`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('InvalidFilter');
  });

  it('requires If-Match on PATCH: 428 without, 412 on mismatch, 200 with a new ETag on match', async () => {
    const [id] = identity(dataDir).primaries('erp');
    const url = `${erp.url}/odata/v4/BusinessPartners('${id}')`;
    const current = await authed(url);
    const etag = current.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect((await json(current))['@odata.etag']).toBe(etag);

    expect((await send('PATCH', url, { PaymentTerms: 'NT60' })).status).toBe(428);
    expect((await send('PATCH', url, { PaymentTerms: 'NT60' }, { 'if-match': 'W/"999"' })).status).toBe(412);
    const ok = await send('PATCH', url, { PaymentTerms: 'NT60' }, { 'if-match': etag });
    expect(ok.status).toBe(200);
    const newEtag = ok.headers.get('etag');
    expect(newEtag).not.toBe(etag);
    expect((await json(ok)).PaymentTerms).toBe('NT60');
    // The old ETag is now stale.
    expect((await send('PATCH', url, { PaymentTerms: 'NT30' }, { 'if-match': etag })).status).toBe(412);
    expect((await send('PATCH', url, { RowVersion: '1' }, { 'if-match': '*' })).status).toBe(400);
    expect((await authed(`${erp.url}/odata/v4/BusinessPartners('0000000')`)).status).toBe(404);
  });
});

describe('marketing sandbox', () => {
  it('batch-reads members by hash and lists the missing ones', async () => {
    const [h] = identity(dataDir).primaries('marketing');
    const res = await post(`${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/batch-read`, { subscriber_hashes: [h, 'f'.repeat(32)] });
    const body = await json(res);
    expect(body.members.map((m: any) => m.id)).toEqual([h]);
    expect(body.members[0].unique_email_id).toBe(h!.slice(0, 10));
    expect(body.missing).toEqual(['f'.repeat(32)]);
    expect((await authed(`${marketing.url}/3.0/lists/zzz/members/${h}`)).status).toBe(404);
  });

  it('upserts with PUT only when the hash matches the email', async () => {
    const email = ' New.Member@Example.org ';
    const hash = subscriberHash(email);
    const wrong = await send('PUT', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${'0'.repeat(32)}`, { email_address: email, status_if_new: 'subscribed' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    expect((await json(wrong)).title).toBe('Invalid Resource');

    const created = await send('PUT', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, {
      email_address: email, status_if_new: 'pending', merge_fields: { FNAME: 'New' },
    });
    expect(created.status).toBe(200);
    const first = await json(created);
    expect(first).toMatchObject({ id: hash, status: 'pending', merge_fields: { FNAME: 'New' } });

    const updated = await json(await send('PUT', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, {
      email_address: email, status_if_new: 'pending', status: 'subscribed', merge_fields: { LNAME: 'Member' },
    }));
    expect(updated).toMatchObject({ status: 'subscribed', merge_fields: { FNAME: 'New', LNAME: 'Member' } });
    expect(updated.last_changed > first.last_changed).toBe(true);
    expect([first.contact_id, updated.contact_id === first.contact_id]).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), true]);

    const badStatus = await send('PATCH', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, { status: 'gone' });
    expect(badStatus.status).toBe(400);
  });

  it('moves a member to its new address with PATCH email_address, and refuses an address another member has', async () => {
    const [a, b] = identity(dataDir).primaries('marketing').slice(-2);
    const before = await json(await authed(`${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${a}`));
    const other = await json(await authed(`${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${b}`));
    const taken = await send('PATCH', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${a}`, { email_address: other.email_address });
    expect([taken.status, (await json(taken)).title]).toEqual([400, 'Member Exists']);
    const email = 'Moved.Member@Example.org';
    const moved = await json(await send('PATCH', `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${a}`, { email_address: email, merge_fields: { FNAME: 'Moved' } }));
    expect(moved).toMatchObject({ id: subscriberHash(email), email_address: email, status: before.status, merge_fields: { ...before.merge_fields, FNAME: 'Moved' }, timestamp_signup: before.timestamp_signup });
    // Its contact_id is the contact's, not the address's: it stays, and it is no other member's.
    expect(moved.contact_id).toMatch(/^[0-9a-f]{32}$/);
    expect([moved.contact_id === before.contact_id, moved.contact_id === other.contact_id]).toEqual([true, false]);
    expect((await authed(`${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${a}`)).status).toBe(404);
    expect((await json(await authed(`${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${subscriberHash(email)}`))).id).toBe(subscriberHash(email));
  });
});

describe('marketing store', () => {
  it('gives each member of a file made before contact_id existed a contact_id of its own when it opens', () => {
    const file = join(tempDir(), 'marketing.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE members (list_id TEXT NOT NULL, subscriber_hash TEXT NOT NULL, email_address TEXT NOT NULL, status TEXT NOT NULL,
      merge_fields TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '[]', timestamp_signup TEXT NOT NULL, last_changed TEXT NOT NULL,
      canon_external_id TEXT, PRIMARY KEY (list_id, subscriber_hash))`);
    for (const e of ['a@example.org', 'b@example.org']) {
      old.prepare("INSERT INTO members (list_id, subscriber_hash, email_address, status, timestamp_signup, last_changed) VALUES (?, ?, ?, 'subscribed', 't', 't')").run(MARKETING_LIST_ID, subscriberHash(e), e);
    }
    old.close();
    const store = openMarketingStore(file);
    try {
      const ids = ['a@example.org', 'b@example.org'].map((e) => store.get(MARKETING_LIST_ID, subscriberHash(e))!.contact_id);
      expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
      expect(ids[0]).not.toBe(ids[1]);
    } finally {
      store.close();
    }
  });
});

describe('support sandbox', () => {
  it('shows many organizations with open ticket counts matching the store', async () => {
    const ids = identity(dataDir).primaries('support').slice(0, 20);
    const res = await json(await authed(`${support.url}/api/v2/organizations/show_many.json?ids=${ids.join(',')},1&include=open_ticket_counts`));
    expect(res.organizations.map((o: any) => String(o.id))).toEqual(ids);
    expect(res.organizations[0].url).toBe(`${support.url}/api/v2/organizations/${ids[0]}.json`);
    const db = new Database(join(dataDir, SEED_FILES.support), { readonly: true });
    const count = db.prepare("SELECT COUNT(*) AS n FROM tickets WHERE organization_id = ? AND status IN ('new','open','pending','hold')");
    for (const id of ids) expect(res.open_ticket_counts[id]).toBe((count.get(Number(id)) as { n: number }).n);
    db.close();
    const plain = await json(await authed(`${support.url}/api/v2/organizations/show_many.json?ids=${ids[0]}`));
    expect(plain.open_ticket_counts).toBeUndefined();
  });

  it('creates a ticket that is found by external_id and per organization', async () => {
    const [orgId] = identity(dataDir).primaries('support');
    const res = await post(`${support.url}/api/v2/tickets.json`, {
      ticket: { subject: 'Address change', comment: { body: 'We moved.' }, organization_id: Number(orgId), external_id: 'canon-t-1', priority: 'high' },
    });
    expect(res.status).toBe(201);
    const { ticket } = await json(res);
    expect(ticket).toMatchObject({ status: 'new', description: 'We moved.', organization_id: Number(orgId) });
    const byExternal = await json(await authed(`${support.url}/api/v2/tickets.json?external_id=canon-t-1`));
    expect(byExternal).toMatchObject({ count: 1, tickets: [{ id: ticket.id }] });
    const perOrg = await json(await authed(`${support.url}/api/v2/tickets.json?organization_ids=${orgId}&per_org=1`));
    expect(perOrg.tickets.map((t: any) => t.id)).toEqual([ticket.id]);

    const invalid = await post(`${support.url}/api/v2/tickets.json`, { ticket: { subject: 'x', comment: { body: 'y' }, organization_id: 1 } });
    expect(invalid.status).toBe(422);
    expect((await json(invalid)).error).toBe('RecordInvalid');
    const plan = await send('PUT', `${support.url}/api/v2/organizations/${orgId}.json`, { organization: { organization_fields: { support_plan: 'platinum' } } });
    expect(plan.status).toBe(422);
  });
});

describe('stats and request log', () => {
  it('counts reads and writes per route and ignores admin calls', async () => {
    const [id] = identity(dataDir).primaries('crm');
    await authed(`${crm.url}/crm/v3/objects/contacts/${id}`);
    await post(`${crm.url}/crm/v3/objects/contacts/batch/read`, { inputs: [{ id }] });
    await send('PATCH', `${crm.url}/crm/v3/objects/contacts/${id}`, { properties: { phone: '+49 30 1234567' } });
    await authed(`${crm.url}/_admin/faults`);
    expect(await stats(crm)).toEqual({
      requests: 3,
      reads: 2,
      writes: 1,
      byRoute: {
        'GET /crm/v3/objects/contacts/{id}': 1,
        'POST /crm/v3/objects/contacts/batch/read': 1,
        'PATCH /crm/v3/objects/contacts/{id}': 1,
      },
    });
  });

  it('logs requests newest first with traceparent and idempotency key', async () => {
    const [id] = identity(dataDir).primaries('erp');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await authed(`${erp.url}/odata/v4/BusinessPartners('${id}')`, { headers: { traceparent } });
    await send('PATCH', `${erp.url}/odata/v4/BusinessPartners('${id}')`, { Currency: 'EUR' }, { 'if-match': '*', 'idempotency-key': 'k-1' });
    const log = await json(await authed(`${erp.url}/_admin/requests?limit=5`));
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ method: 'PATCH', route: "PATCH /odata/v4/BusinessPartners('{id}')", status: 200, idempotencyKey: 'k-1', traceparent: null });
    expect(log[1]).toMatchObject({ method: 'GET', status: 200, traceparent, idempotencyKey: null });
    expect(new Date(log[0].at).toISOString()).toBe(log[0].at);
  });
});

describe('faults', () => {
  it('drops connections without an answer when down', async () => {
    await putFaults(support, { down: true });
    await expect(authed(`${support.url}/api/v2/tickets.json`)).rejects.toThrow();
    const log = await json(await authed(`${support.url}/_admin/requests`));
    expect(log[0].status).toBe(0);
  });

  it('answers errorStatus in the system format with Retry-After at errorRate 1, without running the handler', async () => {
    const [id] = identity(dataDir).primaries('crm');
    const faults = await putFaults(crm, { errorRate: 1, errorStatus: 429, retryAfterSeconds: 3 });
    expect(faults).toMatchObject({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 3, latencyMs: 0 });
    const res = await send('PATCH', `${crm.url}/crm/v3/objects/contacts/${id}`, { properties: { jobtitle: 'Injected' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect((await json(res)).status).toBe('error');
    await authed(`${crm.url}/_admin/faults`, { method: 'DELETE' });
    const now = await json(await authed(`${crm.url}/crm/v3/objects/contacts/${id}?properties=jobtitle`));
    expect(now.properties.jobtitle).not.toBe('Injected');
    // The attempt is a request to a write route, but nothing was written.
    const after = await stats(crm);
    expect(after.byRoute['PATCH /crm/v3/objects/contacts/{id}']).toBe(1);
    expect(after.writes).toBe(0);
  });

  it('holds requests at timeoutRate 1 so the client times out and the write never happens', async () => {
    const [id] = identity(dataDir).primaries('marketing');
    await putFaults(marketing, { timeoutRate: 1 });
    const url = `${marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members/${id}`;
    await expect(
      authed(url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'cleaned' }), signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    await authed(`${marketing.url}/_admin/faults`, { method: 'DELETE' });
    const member = await json(await authed(url));
    expect(member.last_changed < '2026-01-01T00:00:00.000Z').toBe(true);
    expect((await stats(marketing)).byRoute['PATCH /3.0/lists/{list_id}/members/{subscriber_hash}']).toBe(1);
  });

  it('commits the write and then resets the connection at resetAfterCommitRate 1', async () => {
    const [id] = identity(dataDir).primaries('erp');
    await putFaults(erp, { resetAfterCommitRate: 1 });
    const url = `${erp.url}/odata/v4/BusinessPartners('${id}')`;
    // Reads are never reset by this fault.
    expect((await authed(url)).status).toBe(200);
    await expect(send('PATCH', url, { CentralBlockReason: '02' }, { 'if-match': '*' })).rejects.toThrow();
    await authed(`${erp.url}/_admin/faults`, { method: 'DELETE' });
    expect((await json(await authed(url))).CentralBlockReason).toBe('02');
  });

  it('replays the same fault decisions for the same seed', async () => {
    const run = async () => {
      await putFaults(support, { errorRate: 0.5, seed: 99 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await authed(`${support.url}/api/v2/tickets/500001.json`)).status);
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([200, 503]));
  });

  it('rejects unknown fault settings with a message naming them', async () => {
    const res = await send('PUT', `${crm.url}/_admin/faults`, { errorRat: 1 });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toContain('errorRat');
  });
});

describe('seed', () => {
  const dump = (dir: string) => {
    const out: Record<string, unknown[]> = {};
    const tables: [string, string, string][] = [
      ['crm', 'contacts', 'id'], ['erp', 'business_partners', 'BusinessPartner'], ['marketing', 'members', 'subscriber_hash'],
      ['support', 'organizations', 'id'], ['support', 'tickets', 'id'],
    ];
    for (const [file, table, order] of tables) {
      const db = new Database(join(dir, SEED_FILES[file as keyof typeof SEED_FILES]), { readonly: true });
      out[`${file}.${table}`] = db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all();
      db.close();
    }
    // Which records are one customer lives in the truth file only: the seed writes nothing of canon's own.
    out.truth = [readFileSync(join(dir, SEED_TRUTH_FILE), 'utf8')];
    return out;
  };

  it('writes identical tables for the same seed and different ones for another seed', () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    seedAll(a, { seed: 3, size: 150 });
    seedAll(b, { seed: 3, size: 150 });
    seedAll(c, { seed: 4, size: 150 });
    expect(isSeeded(a)).toBe(true);
    expect(dump(a)).toEqual(dump(b));
    expect(dump(a)).not.toEqual(dump(c));
    expect(generateDataset({ seed: 3, size: 50 })).toEqual(generateDataset({ seed: 3, size: 50 }));
  });

  it('writes, byte for byte, the rows it has always written for a seed and size', () => {
    const dir = tempDir();
    seedAll(dir, { seed: 3, size: 150 });
    const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');
    // Pinned before the seeder was split into tables, generator and writer: tests and benchmarks rely on the same
    // seed giving the same customers. A deliberate change to the generator changes these digests; say so when it does.
    // Changed once, on purpose, by issue 12's data-entry noise (seed/noise.ts: typos, ERP legal names, placeholder
    // phones, shared generic emails); every value the noise does not touch is as it was. Changed again when the seed
    // stopped writing canon's ids into the systems' records and the identity store (truth file only, issue 12).
    // And once more when members got Mailchimp's contact_id (issue 13): without it, the dataset is what it was.
    const data = generateDataset({ seed: 3, size: 150 });
    expect(digest({ ...data, marketing: data.marketing.map(({ contact_id: _, ...m }) => m) })).toBe('b29cadbd9e499b0845d4cecea25300b0f1fc1ebe89496b6c9ceba25fa50b9891');
    expect(digest(data)).toBe('850d6c8650ea46df04ccab4d5376bff5594a3048ea49656b3815107eab13b463');
    expect(digest(dump(dir))).toBe('028ae255b88c1fbfaafe0aac3c3fca85088688814e921c71c1abd86ce785f391');
  });

  it('refuses to seed over existing files unless forced', () => {
    const dir = tempDir();
    seedAll(dir, { seed: 1, size: 10 });
    expect(() => seedAll(dir, { seed: 1, size: 10 })).toThrow(/refusing/);
    expect(seedAll(dir, { seed: 2, size: 10, force: true }).counts.customers).toBe(10);
  });

  it('seeds 2,000 customers quickly', () => {
    const summary = seedAll(tempDir(), { seed: 1, size: 2000 });
    expect(summary.counts.customers).toBe(2000);
    // Generous bound for slow CI; locally this is a few hundred ms.
    expect(summary.durationMs).toBeLessThan(5000);
  });

  it('spreads customers over systems with overlap, gaps and CRM near-duplicates', () => {
    const data = generateDataset({ seed: 1, size: 2000 });
    const bySystem = (system: string) => new Set(data.sourceIds.filter((s) => s.system === system).map((s) => s.customer_id));
    const share = (system: string) => bySystem(system).size / data.customers.length;
    expect(share('crm')).toBeGreaterThan(0.9);
    expect(share('erp')).toBeGreaterThan(0.6);
    expect(share('erp')).toBeLessThan(0.8);
    expect(share('marketing')).toBeGreaterThan(0.7);
    expect(share('support')).toBeGreaterThan(0.4);
    expect(share('support')).toBeLessThan(0.6);
    const anywhere = new Set(data.sourceIds.map((s) => s.customer_id));
    expect(anywhere.size).toBe(data.customers.length);
    expect(data.customers.some((c) => !bySystem('erp').has(c.id))).toBe(true);

    // Exactly one primary per (customer, system).
    const primaries = new Map<string, number>();
    for (const s of data.sourceIds) if (s.is_primary) primaries.set(`${s.customer_id}/${s.system}`, (primaries.get(`${s.customer_id}/${s.system}`) ?? 0) + 1);
    expect([...primaries.values()].every((n) => n === 1)).toBe(true);

    const contact = new Map(data.crm.map((c) => [c.id, c]));
    const primaryContact = new Map(data.sourceIds.filter((s) => s.system === 'crm' && s.is_primary).map((s) => [s.customer_id, contact.get(s.native_id)!]));
    const dups = data.sourceIds.filter((s) => s.system === 'crm' && !s.is_primary).map((s) => ({ dup: contact.get(s.native_id)!, primary: primaryContact.get(s.customer_id)! }));
    expect(dups.length).toBeGreaterThan(40);
    expect(dups.every(({ dup, primary }) => dup.email !== primary.email)).toBe(true);
    expect(dups.every(({ dup, primary }) => dup.email!.replace(/\s/g, '').toLowerCase() === primary.email)).toBe(true);
    expect(dups.filter(({ dup, primary }) => dup.email!.trim().toLowerCase() === primary.email).length).toBeGreaterThan(dups.length / 2);

    // Systems disagree on some values.
    const erpByCustomer = new Map(data.sourceIds.filter((s) => s.system === 'erp').map((s) => [s.customer_id, data.erp.find((p) => p.BusinessPartner === s.native_id)!]));
    const orgs = data.sourceIds.filter((s) => s.system === 'support').map((s) => ({ c: s.customer_id, org: data.supportOrganizations.find((o) => String(o.id) === s.native_id)! }));
    expect(orgs.some(({ c, org }) => erpByCustomer.has(c) && erpByCustomer.get(c)!.BusinessPartnerName !== org.name)).toBe(true);
    expect([...primaryContact].some(([c, row]) => erpByCustomer.has(c) && erpByCustomer.get(c)!.BusinessPartnerName !== row.company)).toBe(true);
    expect(new Set(data.erp.map((p) => p.CentralBlockReason))).toEqual(new Set(['', '01', '02']));
    expect(data.erp.every((p) => /^(DE\d{9}|FR[0-9A-Z]{2}\d{9}|GB\d{9}|NL\d{9}B\d{2}|ES[0-9A-Z]\d{7}[0-9A-Z]|IT\d{11}|SE\d{12}|\d{2}-\d{7})$/.test(p.TaxNumber!))).toBe(true);
    expect(data.marketing.every((m) => m.subscriber_hash === subscriberHash(m.email_address))).toBe(true);
  });
});
