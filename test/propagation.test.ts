// Propagation from owners to copies: owner changes (through canon, or in the owner itself) reach every copy once, canon's own copy writes coming back are no drift, copies changed in their own system are drift that never reaches the owner (set back under ENFORCE), the later of two owner changes wins, and an email change moves the marketing member.

import { DBOS } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { writeIfNewest, type CopyClaim } from '../gateway/propagation/ordering.js';
import { copyWriteProblems } from '../gateway/propagation/plan.js';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityStore } from '../subgraphs/identity/connector.js';
import { IdentityResolution } from '../subgraphs/identity/resolution.js';
import { CopyState, versionStamp } from '../subgraphs/identity/copies.js';
import { InProcessLock, type RecordLock } from '../subgraphs/kit/record-lock.js';
import { createRng } from '../subgraphs/sandbox-kit/server.js';
import { MARKETING_LIST_ID, subscriberHash } from '../subgraphs/marketing/sandbox/index.js';
import type { SystemName } from '../schema/model.js';
import { findChromium, openPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

describe('the ordering rule', () => {
  /** A copy written by `n` owner changes (stamps 1..n) that start in a seeded order and stall for seeded turns at each await. */
  async function race(seed: number, lock: RecordLock, n = 6): Promise<{ final: string | null; newest: string }> {
    const rng = createRng(seed);
    const turns = () => Array.from({ length: Math.floor(rng() * 4) }).reduce<Promise<void>>((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve());
    const claims = new Map<string, number>();
    let copy: string | null = null;
    const write = {
      lock,
      claim: async (c: CopyClaim) => {
        await turns();
        const held = claims.get(c.nativeId);
        if (held !== undefined && held > c.stamp) return false;
        claims.set(c.nativeId, c.stamp);
        return true;
      },
      send: async (c: CopyClaim) => {
        await turns();
        copy = c.value;
        await turns();
      },
    };
    const changes = Array.from({ length: n }, (_, i) => ({ system: 'marketing', nativeId: 'm1', field: 'name', value: `Name ${i + 1}`, stamp: i + 1, operationId: `op${i + 1}` }));
    const order = [...changes].sort(() => rng() - 0.5);
    await Promise.all(order.map(async (c) => { await turns(); await writeIfNewest(write, c); }));
    return { final: copy, newest: `Name ${n}` };
  }

  it('leaves the copy with the newest owner change whatever order 300 seeded interleavings run in', async () => {
    const wrong: number[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      const r = await race(seed, new InProcessLock());
      if (r.final !== r.newest) wrong.push(seed);
    }
    expect(wrong).toEqual([]);
  });

  it('needs its lock: without one, some of the same interleavings end with an older value', async () => {
    const none: RecordLock = { run: (_key, fn) => fn() };
    let stale = 0;
    for (let seed = 1; seed <= 300; seed++) if ((await race(seed, none)).final !== 'Name 6') stale++;
    expect(stale).toBeGreaterThan(0);
  });

  it('has a copy mutation for every copy the model declares', () => {
    expect(copyWriteProblems()).toEqual([]);
  });
});

describe('copy claims', () => {
  const claim = (value: string, stamp: number) => ({ system: 'marketing' as const, nativeId: 'm1', field: 'name', value, stamp, operationId: `op${stamp}` });

  it('refuses a claim older than the newest, and takes the same claim again (a step run twice)', () => {
    const state = new CopyState(new Database(':memory:'));
    expect(state.claim([claim('B', 2)])).toEqual([true]);
    expect(state.claim([claim('A', 1)])).toEqual([false]);
    expect(state.claim([claim('B', 2)])).toEqual([true]);
    expect(state.claim([claim('C', 3)])).toEqual([true]);
    expect(state.claimed('marketing', 'm1', 'name')).toEqual({ value: 'C', recent: ['C', 'B'], stamp: 3 });
  });

  it('closes the drift of a copy when canon claims it, and moves claims and drift with a record that changed its id', () => {
    const state = new CopyState(new Database(':memory:'));
    state.addDrift({ customer_id: 'cus_1', field: 'name', system: 'marketing', native_id: 'm1', source_field: 'merge_fields.FNAME + merge_fields.LNAME', copy_value: 'X', owner_value: 'Y', seen_at: '2026-12-03T00:00:00.000Z' });
    expect(state.drift(0, 10).total).toBe(1);
    state.moveRecord('marketing', 'm1', 'm2');
    expect(state.drift(0, 10).rows.map((r) => r.native_id)).toEqual(['m2']);
    expect(state.claim([{ ...claim('Y', 5), nativeId: 'm2' }])).toEqual([true]);
    expect(state.drift(0, 10)).toEqual({ rows: [], hasNextPage: false, total: 0 });
  });

  it("orders the ERP's versions by the row version its entity tag carries, the others by time", () => {
    expect(versionStamp('erp', 'W/"17"')).toBe(17);
    expect(versionStamp('crm', '2026-12-03T06:45:09.195Z')).toBe(Date.parse('2026-12-03T06:45:09.195Z'));
    expect(versionStamp('marketing', null)).toBeNull();
  });
});

describe('a member whose address changed in Mailchimp itself', () => {
  const crm = (email: string) => ({ id: '101', properties: { firstname: 'Ada', lastname: 'Lovelace', email, lastmodifieddate: '2026-12-01T10:00:00.000Z' } });
  const member = (email: string, contactId: string | undefined, at: string) => ({
    id: subscriberHash(email),
    email_address: email,
    status: 'subscribed',
    merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
    last_changed: at,
    list_id: MARKETING_LIST_ID,
    ...(contactId ? { contact_id: contactId } : {}),
  });
  const rec = (r: { id: string }) => ({ nativeId: r.id, fields: JSON.stringify(r) });

  function linked(contactId: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'canon-moved-'));
    const store = new IdentityStore(join(dir, 'identity.sqlite'));
    const resolution = new IdentityResolution(store);
    resolution.applyRecords('crm', [rec(crm('ada@example.org'))], null, true);
    resolution.applyRecords('marketing', [rec(member('ada@example.org', contactId, '2026-12-01T10:00:00.000Z'))], null, true);
    const customer = resolution.link([{ system: 'crm', nativeId: '101' }, { system: 'marketing', nativeId: subscriberHash('ada@example.org') }]);
    const moved = member('ada.l@elsewhere.example', contactId, '2026-12-02T09:00:00.000Z');
    const out = resolution.applyRecords('marketing', [rec(moved)], 'c2', false);
    return { store, customer, out, dir };
  }

  it('is followed by its contact_id: the crosswalk names the new member, and its address is drift against the CRM, never sent there', () => {
    const { store, customer, out, dir } = linked('5f0c6b2e9d4a4c1e8b7a3d2f1e0c9b8a');
    try {
      const moved = subscriberHash('ada.l@elsewhere.example');
      expect(store.byIds([customer])[0]!.sourceIds.marketing).toBe(moved);
      expect(store.record('marketing', subscriberHash('ada@example.org'))).toBeNull();
      expect(store.recordsOf([customer])[0]!.filter((r) => r.system === 'marketing').map((r) => r.nativeId)).toEqual([moved]);
      expect(out.events).toEqual([{ kind: 'DRIFT', customerId: customer, field: 'email', system: 'marketing', value: 'ada@example.org', unreadable: null, stamp: Date.parse('2026-12-01T10:00:00.000Z'), copyStamp: Date.parse('2026-12-02T09:00:00.000Z') }]);
      expect(store.copies.drift(0, 10).rows.map((d) => [d.customer_id, d.field, d.native_id, d.copy_value, d.owner_value])).toEqual([[customer, 'email', moved, 'ada.l@elsewhere.example', 'ada@example.org']]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a contact_id is a record of its own, and the old member stays in the crosswalk', () => {
    const { store, customer, out, dir } = linked(undefined);
    try {
      expect(store.byIds([customer])[0]!.sourceIds.marketing).toBe(subscriberHash('ada@example.org'));
      expect(out.events).toEqual([]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let stack: TestStack;
beforeAll(async () => {
  // The marketing phone and email copies are enforced here; every other copy keeps the model's REPORT.
  stack = await startTestStack({ seedSize: 120, workflows: { ...testConfig('').workflows, propagateCopies: true, copyPolicies: { 'phone.marketing': 'ENFORCE', 'email.marketing': 'ENFORCE' } } });
}, 120_000);
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());

type Ids = Record<SystemName, string>;
/** What the page tests look at: the first test's propagation, and the drift the REPORT test leaves. */
const seen: { operation?: string; drifted?: string } = {};
let pool: { id: string; sourceIds: Ids }[] = [];
/** A customer with a record in every system that no other test has used. */
async function freshCustomer(): Promise<{ id: string; sourceIds: Ids }> {
  if (!pool.length) pool = await stack.customersInEverySystem(120);
  return pool.shift()!;
}

const member = (hash: string) => stack.systemFetch('marketing', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`).then(async (r) => (r.status === 404 ? null : r.json()));
/** How many members the marketing list holds, by its own API. */
const memberCount = async () => (await stack.systemApi('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members?count=0`)).total_items as number;
/** Sets the customer's phone through canon and waits for its marketing copy. */
const phoneCopied = async (c: { id: string; sourceIds: Ids }, phone: string) => {
  await stack.gql(UPDATE, { id: c.id, input: { phone } });
  await until('the phone copy', async () => (await member(c.sourceIds.marketing))?.merge_fields.PHONE === phone);
};
const writes = async () => {
  const s = await stack.systemStats();
  return { crm: s.crm.writes, erp: s.erp.writes, marketing: s.marketing.writes, support: s.support.writes };
};
const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { results { system status } } }';
const DRIFT = '{ dataQuality { drift(first: 1000) { edges { cursor node { customer { id } field system sourceField copyValue ownerValue seenAt } } pageInfo { hasNextPage endCursor } totalCount } } }';
const driftOf = async (id: string) => ((await stack.gql(DRIFT)).data.dataQuality.drift.edges as any[]).map((e) => e.node).filter((n) => n.customer.id === id);
const propagations = async (id: string) => {
  const r = await stack.gql('{ operations(first: 200) { edges { node { id workflow customerId status steps { name status idempotencyKey } } } } }');
  return (r.data.operations.edges as any[]).map((e) => e.node).filter((o) => o.workflow === 'propagate' && o.customerId === id);
};
/** The customer's propagate operations once none is PENDING (the copy lands before the workflow records its end). */
const ended = (id: string, n: number) =>
  until(`${n} propagations of ${id} ended`, async () => {
    const ops = await propagations(id);
    return ops.length === n && ops.every((o) => o.status !== 'PENDING') ? ops : null;
  });
/** A few sync rounds, as the interval would run them: what the systems' feeds show of canon's own writes. */
const rounds = async (n = 3) => {
  for (let i = 0; i < n; i++) await stack.sync.syncNow();
};

describe('propagate', () => {
  it("writes a name changed through canon to marketing's FNAME and LNAME once, and the sync rounds after it write nothing more", async () => {
    const c = await freshCustomer();
    const r = await stack.gql(UPDATE, { id: c.id, input: { name: 'Ottilie Quast-Brenner' } });
    expect(r.data.updateCustomer.results).toEqual([{ system: 'CRM', status: 'SUCCEEDED' }]);
    const m = await until('the marketing copy of the name', async () => {
      const got = await member(c.sourceIds.marketing);
      return got?.merge_fields.FNAME === 'Ottilie' ? got : null;
    });
    expect(m.merge_fields.LNAME).toBe('Quast-Brenner');
    await rounds();
    expect(await writes()).toEqual({ crm: 1, erp: 0, marketing: 1, support: 0 });
    expect(await driftOf(c.id)).toEqual([]);
    const ops = await ended(c.id, 1);
    seen.operation = ops[0].id;
    expect(ops.map((o) => [o.status, o.steps])).toEqual([['SUCCEEDED', [{ name: 'marketing.setCopies', status: 'SUCCEEDED', idempotencyKey: `${ops[0].id}:marketing:setCopies` }]]]);
  });

  it('writes a legal name changed through canon to its three copies: the CRM company, the marketing COMPANY and the support organization', async () => {
    const c = await freshCustomer();
    const legalName = `Propagated Widgets ${c.id} GmbH`;
    await stack.gql(UPDATE, { id: c.id, input: { legalName } });
    const ops = await ended(c.id, 1);
    expect(ops[0].steps.map((s: any) => [s.name, s.status])).toEqual([['crm.setCopies', 'SUCCEEDED'], ['marketing.setCopies', 'SUCCEEDED'], ['support.setCopies', 'SUCCEEDED']]);
    const [crm, mk, sup] = await Promise.all([
      stack.systemApi('crm', 'GET', `/crm/v3/objects/contacts/${c.sourceIds.crm}?properties=company`),
      member(c.sourceIds.marketing),
      stack.systemApi('support', 'GET', `/api/v2/organizations/${c.sourceIds.support}.json`),
    ]);
    expect([crm.properties.company, mk.merge_fields.COMPANY, sup.organization.name]).toEqual([legalName, legalName, legalName]);
    await rounds();
    // The ERP's write, and one batch write in each copy's system: the feeds' echoes of them are recognised.
    expect(await writes()).toEqual({ crm: 1, erp: 1, marketing: 1, support: 1 });
    expect(await driftOf(c.id)).toEqual([]);
    expect(await ended(c.id, 1)).toHaveLength(1);
  });

  it('writes a name changed in the CRM itself, not through canon, to marketing', async () => {
    const c = await freshCustomer();
    await stack.systemApi('crm', 'PATCH', `/crm/v3/objects/contacts/${c.sourceIds.crm}`, { properties: { firstname: 'Radka', lastname: 'Ionescu' } });
    await stack.sync.syncNow();
    await until('the marketing copy of the CRM change', async () => (await member(c.sourceIds.marketing))?.merge_fields.LNAME === 'Ionescu');
    await rounds();
    expect((await member(c.sourceIds.marketing)).merge_fields.FNAME).toBe('Radka');
    // The PATCH the test sent, and canon's one write of the copy.
    expect(await writes()).toEqual({ crm: 1, erp: 0, marketing: 1, support: 0 });
  });

  it('lists a copy changed in marketing as drift and never writes the CRM', async () => {
    const c = await freshCustomer();
    const owner = (await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: c.id })).data.customer.name;
    seen.drifted = c.id;
    await stack.systemApi('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`, { merge_fields: { FNAME: 'Someone', LNAME: 'Else' } });
    await rounds();
    const drift = await driftOf(c.id);
    expect(drift.map(({ seenAt, ...d }) => ({ ...d, seen: typeof seenAt }))).toEqual([
      { customer: { id: c.id }, field: 'name', system: 'MARKETING', sourceField: 'merge_fields.FNAME + merge_fields.LNAME', copyValue: 'Someone Else', ownerValue: owner, seen: 'string' },
    ]);
    // REPORT: the copy is left as it is, and the owner keeps its value.
    expect(await writes()).toEqual({ crm: 0, erp: 0, marketing: 1, support: 0 });
    expect((await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: c.id })).data.customer.name).toBe(owner);
    expect(await propagations(c.id)).toEqual([]);
  });

  it('sets an ENFORCE copy changed in marketing back to the owner, once, as a propagate operation', async () => {
    const c = await freshCustomer();
    const phone = '+4930901820';
    await phoneCopied(c, phone);
    await stack.resetStats();
    await stack.systemApi('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`, { merge_fields: { PHONE: '030 1234567' } });
    await stack.sync.syncNow();
    await until('the phone copy set back', async () => (await member(c.sourceIds.marketing))?.merge_fields.PHONE === phone);
    await rounds();
    expect(await writes()).toEqual({ crm: 0, erp: 0, marketing: 2, support: 0 });
    // The phone write's propagation, and the one that set the copy back.
    const ops = await ended(c.id, 2);
    expect(ops.filter((o) => o.id.startsWith('enforce.')).map((o) => [o.status, o.steps.map((s: any) => [s.name, s.status])])).toEqual([['SUCCEEDED', [['marketing.setCopies', 'SUCCEEDED']]]]);
    // Set back, it is no drift any more.
    expect(await driftOf(c.id)).toEqual([]);
  });

  it('leaves the copy with the later of two quick owner changes', async () => {
    const c = await freshCustomer();
    const q = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input, mode: QUEUED) { operation { id } } }';
    await stack.gql(q, { id: c.id, input: { name: 'Early Bird' } });
    await stack.gql(q, { id: c.id, input: { name: 'Late Owl' } });
    await until('the CRM holding the later name', async () => (await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: c.id })).data.customer.name === 'Late Owl');
    await rounds();
    // Both end well: the earlier one wrote its value before the later one, or found the copy claimed by it and left it.
    expect((await ended(c.id, 2)).map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const m = await member(c.sourceIds.marketing);
    expect([m.merge_fields.FNAME, m.merge_fields.LNAME]).toEqual(['Late', 'Owl']);
  });

  it('moves the marketing member when the email changes, and the crosswalk follows; nothing is duplicated', async () => {
    const c = await freshCustomer();
    const before = await memberCount();
    const old = await member(c.sourceIds.marketing);
    const email = `moved.${c.id}@example.org`;
    await stack.gql(UPDATE, { id: c.id, input: { email } });
    const hash = subscriberHash(email);
    const moved = await until('the member at its new address', () => member(hash));
    expect({ email: moved.email_address, status: moved.status, merge: moved.merge_fields }).toEqual({ email, status: old.status, merge: old.merge_fields });
    expect(await member(c.sourceIds.marketing)).toBeNull();
    const ids = async () => (await stack.gql('query($id: ID!) { customer(id: $id) { sourceIds { marketing } records { system nativeId } } }', { id: c.id })).data.customer;
    await until('the crosswalk naming the new member', async () => (await ids()).sourceIds.marketing === hash);
    await rounds();
    const after = await ids();
    expect(after.records.filter((r: any) => r.system === 'MARKETING')).toEqual([{ system: 'MARKETING', nativeId: hash }]);
    expect(await memberCount()).toBe(before);
    expect((await writes()).marketing).toBe(1);
    expect(await driftOf(c.id)).toEqual([]);
  });

  it('follows a member whose address was changed in Mailchimp itself, and under ENFORCE moves it back to the owner\'s address, once', async () => {
    const c = await freshCustomer();
    const before = await memberCount();
    const old = await member(c.sourceIds.marketing);
    const typed = `typed.elsewhere.${c.id}@example.net`;
    const patched = await stack.systemApi('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`, { email_address: typed });
    // Mailchimp's id follows the address; its contact_id stays.
    expect([patched.id, patched.contact_id]).toEqual([subscriberHash(typed), old.contact_id]);
    await stack.sync.syncNow();
    const back = await until('the member back at the owner\'s address', () => member(c.sourceIds.marketing));
    expect([back.email_address, back.contact_id, back.merge_fields]).toEqual([old.email_address, old.contact_id, old.merge_fields]);
    expect(await member(subscriberHash(typed))).toBeNull();
    await rounds();
    const ids = (await stack.gql('query($id: ID!) { customer(id: $id) { email sourceIds { marketing } records { system nativeId } } }', { id: c.id })).data.customer;
    expect(ids.sourceIds.marketing).toBe(c.sourceIds.marketing);
    expect(ids.records.filter((r: any) => r.system === 'MARKETING')).toEqual([{ system: 'MARKETING', nativeId: c.sourceIds.marketing }]);
    expect(await memberCount()).toBe(before);
    // The test's PATCH and canon's one move back; the CRM, which owns the address, is never written.
    expect(await writes()).toEqual({ crm: 0, erp: 0, marketing: 2, support: 0 });
    const ops = await ended(c.id, 1);
    expect(ops.map((o) => [o.id.startsWith('enforce.'), o.status, o.steps.map((s: any) => [s.name, s.status])])).toEqual([[true, 'SUCCEEDED', [['marketing.setCopies', 'SUCCEEDED']]]]);
    expect(await driftOf(c.id)).toEqual([]);
  });

  it("waits the copy system's Retry-After before writing the copy again, then writes it once", async () => {
    const c = await freshCustomer();
    // Mailchimp answers 429 with Retry-After: 1 to everything: longer than the queued retry's own pause (10 ms here).
    await stack.setFaults('marketing', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 1 });
    await stack.gql(UPDATE, { id: c.id, input: { name: 'Waltraud Retry-After' } });
    const [op] = await until('the propagation', async () => ((await propagations(c.id)).length ? propagations(c.id) : null));
    const sleep = await until('the pause after the 429', async () => (await DBOS.listWorkflowSteps(op!.id))?.find((s) => s.name === 'DBOS.sleep'));
    await stack.clearFaults();
    const [done] = await ended(c.id, 1);
    expect(done.steps.map((s: any) => s.status)).toEqual(['SUCCEEDED']);
    expect((await member(c.sourceIds.marketing))?.merge_fields.FNAME).toBe('Waltraud');
    // The durable pause DBOS recorded: from its start to the deadline it stored, exactly the Retry-After.
    expect(Number(sleep.output) - sleep.startedAtEpochMs!).toBe(1000);
    expect((await stack.systemStats()).marketing.writes).toBe(1);
  });

  it('clears the copy of a phone cleared through canon', async () => {
    const c = await freshCustomer();
    const phone = '+4930901821';
    await phoneCopied(c, phone);
    await stack.gql(UPDATE, { id: c.id, input: { phone: null } });
    await until('the phone copy cleared', async () => (await member(c.sourceIds.marketing))?.merge_fields.PHONE === '');
    await rounds();
    expect(await writes()).toEqual({ crm: 2, erp: 0, marketing: 2, support: 0 });
    expect((await ended(c.id, 2)).map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await driftOf(c.id)).toEqual([]);
  });

  it('writes no copy of a value canon cannot read, or one the copy cannot keep empty, and the propagation says why', async () => {
    // One whose phone canon can read now (some seeded phones it cannot), so that the change is one.
    let c = await freshCustomer();
    while ((await stack.gql('query($id: ID!) { customer(id: $id) { phone email } }', { id: c.id })).data.customer.phone === null) c = await freshCustomer();
    const kept = await member(c.sourceIds.marketing);
    await stack.systemApi('crm', 'PATCH', `/crm/v3/objects/contacts/${c.sourceIds.crm}`, { properties: { phone: 'ask reception', email: '' } });
    await stack.sync.syncNow();
    const ops = await ended(c.id, 2);
    const byField = Object.fromEntries(
      await Promise.all(ops.map(async (o) => [o.id.split('.')[2], (await stack.gql('query($id: ID!) { operation(id: $id) { status steps { name status error { code message } } } }', { id: o.id })).data.operation])),
    );
    expect(byField.phone).toEqual({
      status: 'SUCCEEDED',
      steps: [{ name: 'marketing.setCopies', status: 'SKIPPED', error: { code: 'PRECONDITION_FAILED', message: 'Not run: crm holds phone as "ask reception", which canon cannot read; the marketing copy keeps its value until it is corrected in crm.' } }],
    });
    expect(byField.email).toEqual({
      status: 'SUCCEEDED',
      steps: [{ name: 'marketing.setCopies', status: 'SKIPPED', error: { code: 'PRECONDITION_FAILED', message: 'Not run: email was cleared in crm, and marketing cannot keep email_address empty; the copy keeps its value.' } }],
    });
    await rounds();
    const now = await member(c.sourceIds.marketing);
    expect([now.email_address, now.merge_fields.PHONE]).toEqual([kept.email_address, kept.merge_fields.PHONE]);
    expect(await writes()).toEqual({ crm: 1, erp: 0, marketing: 0, support: 0 });
  });
});

const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

describe.skipIf('skip' in chromium)('the pages', () => {
  it("shows a propagate operation in the console with the copy's native fields and values", async () => {
    const { browser, page, pageErrors } = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/console#op=${encodeURIComponent(seen.operation!)}`, { key: stack.devKey });
    try {
      await page.waitForSelector(`#detail[data-op-id="${seen.operation}"][data-state="ready"]`);
      const step = page.locator('#detail .step[data-system="MARKETING"]');
      expect(await step.locator('.action').textContent()).toBe('setCopies');
      const copies = await step.locator('.step-copies dd').allTextContents();
      expect(copies.slice(1)).toEqual(['Ottilie', 'Quast-Brenner']);
      expect(await step.locator('.step-copies .source-field').allTextContents()).toEqual(['merge_fields.FNAME', 'merge_fields.LNAME']);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("lists drift in the explorer's data-quality view", async () => {
    const { browser, page, pageErrors } = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/explorer#quality`, { key: stack.devKey });
    try {
      await page.waitForSelector('#quality-drift[data-state="loaded"]');
      const row = page.locator(`#quality-drift tbody tr[data-customer="${seen.drifted}"]`);
      expect(await row.getAttribute('data-field')).toBe('name');
      expect(await row.getAttribute('data-system')).toBe('marketing');
      expect(await row.locator('.copy-value .value').textContent()).toBe('Someone Else');
      const total = (await stack.gql(DRIFT)).data.dataQuality.drift.totalCount;
      expect(await page.locator('#quality-drift-count').textContent()).toBe(`${total} copies changed outside canon`);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
