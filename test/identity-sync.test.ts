// canon builds its crosswalk itself: the full sync against the seed's truth, records created in the systems afterwards, review, merge and unlink, a system down during a sync, and what /health says.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { SEED_TRUTH_FILE, type SeedTruth } from '../subgraphs/sandbox-kit/seed.js';
import { MARKETING_LIST_ID, subscriberHash } from '../subgraphs/marketing/sandbox/index.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

let stack: TestStack;
beforeAll(async () => {
  // Changes made in the systems reach canon within a fifth of a second.
  stack = await startTestStack({ syncIntervalMs: 200 });
}, 120_000);
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());


type Rec = { system: string; nativeId: string; primary: boolean };
const CUSTOMER = '{ id sourceIds { crm erp marketing support } records { system nativeId primary } }';

async function allCustomers(): Promise<{ id: string; records: Rec[] }[]> {
  const out: { id: string; records: Rec[] }[] = [];
  let after: string | null = null;
  for (;;) {
    const r: any = await stack.gql(`query($after: String) { customers(first: 500, after: $after) { edges { node ${CUSTOMER} } pageInfo { hasNextPage endCursor } } }`, { after });
    out.push(...r.data.customers.edges.map((e: any) => e.node));
    if (!r.data.customers.pageInfo.hasNextPage) return out;
    after = r.data.customers.pageInfo.endCursor;
  }
}

const bySource = async (system: string, id: string) => (await stack.gql(`query($s: System!, $id: ID!) { customerBySourceId(system: $s, id: $id) ${CUSTOMER} }`, { s: system, id })).data.customerBySourceId;
const health = async () => (await fetch(`${stack.gateway.url}/health`)).json();
const pairs = (n: number) => (n * (n - 1)) / 2;

describe('the full sync', () => {
  it('builds a crosswalk that agrees with the seed truth: precision ≥ 0.99, recall ≥ 0.95, every record in exactly one customer', async () => {
    const truth = JSON.parse(readFileSync(join(stack.config.dataDir, SEED_TRUTH_FILE), 'utf8')) as SeedTruth;
    const truthOf = new Map<string, number>();
    truth.customers.forEach((c, i) => SYSTEMS.forEach((s) => c.records[s].forEach((id) => truthOf.set(`${s}:${id}`, i))));
    const customers = await allCustomers();
    const seen = customers.flatMap((c) => c.records.map((r) => `${r.system.toLowerCase()}:${r.nativeId}`));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...new Set(seen)].sort()).toEqual([...truthOf.keys()].sort());
    let found = 0;
    let correct = 0;
    for (const c of customers) {
      found += pairs(c.records.length);
      const per = new Map<number, number>();
      for (const r of c.records) {
        const k = truthOf.get(`${r.system.toLowerCase()}:${r.nativeId}`)!;
        per.set(k, (per.get(k) ?? 0) + 1);
      }
      for (const n of per.values()) correct += pairs(n);
    }
    const truePairs = truth.customers.reduce((sum, c) => sum + pairs(SYSTEMS.reduce((n, s) => n + c.records[s].length, 0)), 0);
    expect(correct / found).toBeGreaterThanOrEqual(0.99);
    expect(correct / truePairs).toBeGreaterThanOrEqual(0.95);
    // One primary per system, and sourceIds names it.
    for (const c of customers) for (const s of SYSTEMS) expect(c.records.filter((r) => r.system === s.toUpperCase() && r.primary).length).toBe(c.records.some((r) => r.system === s.toUpperCase()) ? 1 : 0);
  });

  it('reports the store and every system in /health once done', async () => {
    const h = await health();
    const total = (await stack.gql('{ customers(first: 0) { totalCount } }')).data.customers.totalCount;
    const records = (await allCustomers()).reduce((n, c) => n + c.records.length, 0);
    expect(h.status).toBe('ok');
    expect(h.identity).toMatchObject({ customers: total, records });
    expect(h.sync.map((s: any) => [s.system, s.ok, typeof s.cursor, typeof s.lastSyncAt, typeof s.lagMs])).toEqual(SYSTEMS.map((s) => [s, true, 'string', 'string', 'number']));
    // What the systems received (since the reset before this test, so after one more round): each feed, the way its product offers it.
    await stack.sync.syncNow();
    const routes = await stack.systemStats();
    expect(routes.crm.byRoute['POST /crm/v3/objects/contacts/search']).toBeGreaterThan(0);
    expect(routes.support.byRoute['GET /api/v2/incremental/organizations.json']).toBeGreaterThan(0);
  });
});

describe('records created in the systems after the full sync', () => {
  it('a CRM contact appears, a marketing member with its email joins it, and a support organisation named alike joins it', async () => {
    const contact = await stack.systemApi('crm', 'POST', '/crm/v3/objects/contacts', {
      properties: { firstname: 'Ada', lastname: 'Lovelace', email: 'ada.lovelace@analyticalengines.example', company: 'Analytical Engines Ltd', country: 'GB' },
    });
    const customer = await until('the contact', () => bySource('CRM', contact.id));
    expect(customer.records).toEqual([{ system: 'CRM', nativeId: contact.id, primary: true }]);

    const email = 'Ada.Lovelace@AnalyticalEngines.example';
    await stack.systemApi('marketing', 'PUT', `/3.0/lists/${MARKETING_LIST_ID}/members/${subscriberHash(email)}`, {
      email_address: email, status_if_new: 'subscribed', merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace', COMPANY: 'Analytical Engines' },
    });
    const member = await until('the member', async () => (await bySource('MARKETING', subscriberHash(email)))?.records.length === 2 && bySource('MARKETING', subscriberHash(email)));
    expect(member.id).toBe(customer.id);

    const org = (await stack.systemApi('support', 'POST', '/api/v2/organizations.json', { organization: { name: 'Analytical Engines', details: 'Mill Lane 1, EC1 4AB London' } })).organization;
    const joined = await until('the organisation', async () => (await bySource('SUPPORT', String(org.id)))?.records.length === 3 && bySource('SUPPORT', String(org.id)));
    expect(joined.id).toBe(customer.id);
    expect(joined.sourceIds).toEqual({ crm: contact.id, erp: null, marketing: subscriberHash(email), support: String(org.id) });
  });
});

describe('a linked record changed in its own system', () => {
  it('stays with its customer when its new values match nothing any more: canon never splits a customer by itself', async () => {
    const customers = await allCustomers();
    const target = customers.find((c) => c.records.length === 2 && c.records.some((r) => r.system === 'CRM') && c.records.some((r) => r.system === 'MARKETING'))!;
    const hash = target.records.find((r) => r.system === 'MARKETING')!.nativeId;
    const member = await stack.systemApi('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`);
    // Everything the matcher could match it by, but the address the member is keyed by, rewritten by hand.
    await stack.systemApi('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, { merge_fields: { ...member.merge_fields, FNAME: 'Zebulon', LNAME: 'Quarrington-Smythe', PHONE: '+44 20 7946 0000', COMPANY: 'Entirely Other Trading Ltd' } });
    await stack.sync.syncNow();
    const after = await bySource('MARKETING', hash);
    expect(after.id).toBe(target.id);
    expect(after.records).toEqual(target.records);
    expect((await stack.gql('{ customers(first: 0) { totalCount } }')).data.customers.totalCount).toBe(customers.length);
  });
});

describe('merge and unlink', () => {
  const MERGE = `mutation($s: ID!, $m: ID!) { mergeCustomers(survivor: $s, merged: $m) ${CUSTOMER} }`;
  const UNLINK = `mutation($s: System!, $n: ID!) { unlinkRecord(system: $s, nativeId: $n) ${CUSTOMER} }`;

  it('merging then unlinking the merged record gives back both customers exactly; a merged id answers the survivor meanwhile', async () => {
    const customers = await allCustomers();
    const [a, b] = customers.filter((c) => c.records.length === 1 && c.records[0]!.system === 'CRM').slice(-2) as [{ id: string; records: Rec[] }, { id: string; records: Rec[] }];
    const merged = await stack.gql(MERGE, { s: a.id, m: b.id });
    expect(merged.errors).toBeUndefined();
    expect(merged.data.mergeCustomers.id).toBe(a.id);
    expect(merged.data.mergeCustomers.records.map((r: Rec) => r.nativeId)).toEqual([...a.records, ...b.records].map((r) => r.nativeId).sort((x, y) => Number(x) - Number(y)));
    expect((await stack.gql(`query($id: ID!) { customer(id: $id) { id } }`, { id: b.id })).data.customer.id).toBe(a.id);

    const unlinked = await stack.gql(UNLINK, { s: 'CRM', n: b.records[0]!.nativeId });
    expect(unlinked.errors).toBeUndefined();
    expect(unlinked.data.unlinkRecord).toMatchObject({ id: b.id, records: b.records });
    const after = await stack.gql(`query($a: ID!, $b: ID!) { a: customer(id: $a) ${CUSTOMER} b: customer(id: $b) ${CUSTOMER} }`, { a: a.id, b: b.id });
    expect(after.data.a.records).toEqual(a.records);
    expect(after.data.b.records).toEqual(b.records);

    const ops = await stack.gql('{ operations(first: 5) { edges { node { name workflow status app } } } }');
    expect(ops.errors).toBeUndefined();
    const names = ops.data.operations.edges.map((e: any) => e.node);
    expect(names.slice(0, 2)).toEqual([
      { name: 'unlinkRecord', workflow: 'identity.unlinkRecord', status: 'SUCCEEDED', app: 'dev' },
      { name: 'mergeCustomers', workflow: 'identity.mergeCustomers', status: 'SUCCEEDED', app: 'dev' },
    ]);
  });

  it('refuses a merge of a customer with itself and an unknown record, naming identity', async () => {
    const [c] = await allCustomers();
    const same = await stack.gql(MERGE, { s: c!.id, m: c!.id });
    expect(same.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', system: 'identity' });
    const unknown = await stack.gql(UNLINK, { s: 'CRM', n: '999999' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', system: 'identity' });
  });

  it('needs admin for review, merge and unlink', async () => {
    const reader = await stack.appHeaders('reader', ['read:crm']);
    const list = await stack.gql('{ matchCandidates { edges { node { id } } } }', {}, reader);
    expect(list.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const merge = await stack.gql(MERGE, { s: 'cus_a', m: 'cus_b' }, reader);
    expect(merge.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('review', () => {
  it('lists open candidates with their evidence; LINK makes their records one customer and closes the candidate', async () => {
    const open = await stack.gql('{ matchCandidates(first: 5) { edges { node { id score rules { name weight } records { system nativeId } status } } } }');
    const candidate = open.data.matchCandidates.edges[0].node;
    expect(candidate.status).toBe('OPEN');
    expect(candidate.rules.reduce((s: number, r: { weight: number }) => s + r.weight, 0)).toBe(candidate.score);
    expect(candidate.id).toBe(candidate.records.map((r: any) => `${r.system.toLowerCase()}:${r.nativeId}`).join('|'));
    const res = await stack.gql('mutation($id: ID!) { resolveMatch(id: $id, decision: LINK) { id status } }', { id: candidate.id });
    expect(res.data.resolveMatch).toEqual({ id: candidate.id, status: 'LINKED' });
    const [x, y] = await Promise.all(candidate.records.map((r: any) => bySource(r.system, r.nativeId)));
    expect(x.id).toBe(y.id);
    const linked = await stack.gql('{ matchCandidates(status: LINKED) { edges { node { id } } } }');
    expect(linked.data.matchCandidates.edges.map((e: any) => e.node.id)).toContain(candidate.id);
    const still = await stack.gql('{ matchCandidates { edges { node { id } } } }');
    expect(still.data.matchCandidates.edges.map((e: any) => e.node.id)).not.toContain(candidate.id);
  });
});

describe('a system down during a sync', () => {
  it('leaves its cursor where it was, /health names it, and the next sync after it is back reads on', async () => {
    const before = (await health()).sync.find((s: any) => s.system === 'erp');
    await stack.setFaults('erp', { down: true });
    const down = await until('erp named failing', async () => {
      const h = await health();
      return h.sync.find((s: any) => s.system === 'erp' && !s.ok) && h;
    });
    expect(down.status).toBe('degraded');
    const erp = down.sync.find((s: any) => s.system === 'erp');
    expect(erp).toMatchObject({ ok: false, cursor: before.cursor, error: { system: 'erp' } });
    expect(down.sync.filter((s: any) => s.system !== 'erp').every((s: any) => s.ok)).toBe(true);
    await stack.clearFaults();
    const back = await until('erp synced again', async () => (await health()).sync.find((s: any) => s.system === 'erp' && s.ok));
    expect(back.cursor).toBe(before.cursor);
  });
});

