// Failure as the default case, end to end: a system down or hanging, circuit breakers, and writes that must not repeat.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SystemName } from '../schema/model.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
let customer: { id: string; sourceIds: Record<string, string | null> };

const ATTEMPT_TIMEOUT_MS = 300;
const HALF_OPEN_AFTER_MS = 60_000;
/**
 * Each system's policy runs on a clock of its own that moves only when a test moves it: a timeout or a breaker's
 * wait runs out exactly when the test says, and moving one system's clock leaves the others' calls alone.
 */
const clocks: Record<SystemName, ManualClock> = { crm: new ManualClock(), erp: new ManualClock(), marketing: new ManualClock(), support: new ManualClock() };

beforeAll(async () => {
  stack = await startTestStack({
    seedSize: 60,
    // No backoff (initialDelayMs 0): retries follow at once, so only timeouts and breaker waits need the clocks moved.
    systemResilience: { attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, budgetMs: 1500, maxAttempts: 3, initialDelayMs: 0, breakerThreshold: 3, halfOpenAfterMs: HALF_OPEN_AFTER_MS, clock: (s) => clocks[s as SystemName] },
  });
  const res = await stack.gql('{ customers(first: 60) { edges { node { id sourceIds { crm erp marketing support } } } } }');
  customer = res.data.customers.edges.map((e: any) => e.node).find((n: any) => Object.values(n.sourceIds).every((v) => v !== null));
});
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());
async function requestsLogged(system: SystemName): Promise<number> {
  const log = await fetch(`${stack.systems[system].url}/_admin/requests?limit=2000`).then((r) => r.json());
  return log.length;
}

/** Resolves once `system` has logged `n` requests in all; each look is a round trip to its admin API, not a timer. */
async function untilLogged(system: SystemName, n: number): Promise<void> {
  for (;;) if ((await requestsLogged(system)) >= n) return;
}

const ERP_QUERY = '{ customers(first: 10) { edges { node { id name legalName creditLimit { amount } emailConsent } } } }';
const CRM_QUERY = '{ customers(first: 10) { edges { node { id name email phone } } } }';

describe('the ERP down', () => {
  it('leaves CRM-only queries untouched, names erp in ERP queries, fails fast once the breaker opens, and recovers', async () => {
    await stack.setFaults('erp', { timeoutRate: 1 });

    const crmOnly = await stack.gql(CRM_QUERY);
    expect(crmOnly.errors).toBeUndefined();
    expect(crmOnly.data.customers.edges.filter((e: any) => e.node.name).length).toBeGreaterThan(0);

    // The ERP hangs: each of the three attempts reaches it and times out, then the query answers with the rest of the data.
    const logged = await requestsLogged('erp');
    const asked = stack.gql(ERP_QUERY);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await untilLogged('erp', logged + attempt);
      clocks.erp.advance(ATTEMPT_TIMEOUT_MS);
    }
    const first = await asked;
    expect(await requestsLogged('erp')).toBe(logged + 3);
    expect(first.data.customers.edges).toHaveLength(10);
    expect(first.data.customers.edges.some((e: any) => e.node.name !== null)).toBe(true);
    expect(first.data.customers.edges.every((e: any) => e.node.legalName === null)).toBe(true);
    expect(first.errors).toHaveLength(1);
    expect(first.errors![0].extensions).toMatchObject({ code: 'SYSTEM_TIMEOUT', system: 'erp', retryable: true, attempts: 3 });
    expect(stack.systemPolicies.for('erp').state).toBe('open');

    // Open breaker: answered without calling the ERP at all, so without waiting for any timeout.
    const before = await requestsLogged('erp');
    const fast = await stack.gql(ERP_QUERY);
    expect(fast.errors?.map((e) => [e.extensions?.code, e.extensions?.system])).toEqual([['CIRCUIT_OPEN', 'erp']]);
    expect(fast.data.customers.edges.some((e: any) => e.node.name !== null)).toBe(true);
    expect(await requestsLogged('erp')).toBe(before);

    // CRM queries are still unaffected.
    expect((await stack.gql(CRM_QUERY)).errors).toBeUndefined();

    // The ERP comes back; after the half-open wait one probe goes through, the breaker closes and data returns.
    await stack.clearFaults();
    clocks.erp.advance(HALF_OPEN_AFTER_MS);
    const back = await stack.gql(ERP_QUERY);
    expect(back.errors).toBeUndefined();
    expect(back.data.customers.edges.some((e: any) => e.node.legalName !== null)).toBe(true);
    expect(stack.systemPolicies.for('erp').state).toBe('closed');
  });

  it('answers a query touching a refusing ERP with SYSTEM_UNAVAILABLE naming erp', async () => {
    await stack.setFaults('erp', { down: true });
    const res = await stack.gql('{ customers(first: 3) { edges { node { id legalName } } } }');
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'SYSTEM_UNAVAILABLE', system: 'erp', retryable: true, attempts: 3 });
    expect(res.data.customers.edges).toHaveLength(3);
    // Three refused attempts opened the breaker; let it probe and close again for the tests after this one.
    expect(stack.systemPolicies.for('erp').state).toBe('open');
    await stack.clearFaults();
    clocks.erp.advance(HALF_OPEN_AFTER_MS);
    expect((await stack.gql('{ customers(first: 3) { edges { node { legalName } } } }')).errors).toBeUndefined();
  });
});

const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { results { system status error { code retryable } } } }';

async function post(body: unknown, key?: string) {
  const res = await stack.postGraphql(body, key ? { 'idempotency-key': key } : {});
  return (await res.json()) as any;
}

describe('writes under failure', () => {
  it('never retries a write without an idempotency key', async () => {
    await stack.setFaults('marketing', { errorRate: 1 });
    const res = await post({ query: UPDATE, variables: { id: customer.id, input: { emailConsent: 'PENDING' } } });
    expect(res.data.updateCustomer.results[0]).toMatchObject({ system: 'MARKETING', status: 'FAILED', error: { code: 'SYSTEM_UNAVAILABLE', retryable: true } });
    const stats = await stack.systemStats();
    expect(stats.marketing.byRoute['PATCH /3.0/lists/{list_id}/members/{subscriber_hash}']).toBe(1);
  });

  it('retries a write under a key, up to the attempt limit', async () => {
    await stack.setFaults('support', { errorRate: 1 });
    await post({ query: UPDATE, variables: { id: customer.id, input: { supportPlan: 'BASIC' } } }, randomUUID());
    const stats = await stack.systemStats();
    expect(stats.support.byRoute['PUT /api/v2/organizations/{id}.json']).toBe(3);
    await stack.clearFaults();
    // Three failed calls opened the support breaker; let it probe and close for the next tests.
    expect(stack.systemPolicies.for('support').state).toBe('open');
    clocks.support.advance(HALF_OPEN_AFTER_MS);
    await post({ query: UPDATE, variables: { id: customer.id, input: { supportPlan: 'BASIC' } } }, randomUUID());
    expect(stack.systemPolicies.for('support').state).toBe('closed');
  });

  it('finds the ticket a lost answer already created instead of creating a second', async () => {
    await stack.setFaults('support', { resetAfterCommitRate: 1 });
    const subject = `Lost answer ${randomUUID()}`;
    const res = await post({ query: 'mutation($id: ID!, $s: String!) { openTicket(customerId: $id, subject: $s, body: "x") { ticket { id subject } } }', variables: { id: customer.id, s: subject } }, randomUUID());
    expect(res.errors).toBeUndefined();
    expect(res.data.openTicket.ticket.subject).toBe(subject);
    await stack.clearFaults();
    const tickets = await stack.systemFetch('support', `/api/v2/tickets.json?organization_ids=${customer.sourceIds.support}&per_org=100`).then((r) => r.json());
    expect(tickets.tickets.filter((t: any) => t.subject === subject)).toHaveLength(1);
    expect((await stack.systemStats()).support.writes).toBe(1);
  });

  it('accepts an update whose earlier attempt landed before its answer was lost, even with an expected version', async () => {
    const read = await stack.gql('query($id: ID!) { customer(id: $id) { crmVersion } }', { id: customer.id });
    await stack.setFaults('crm', { resetAfterCommitRate: 1 });
    const key = randomUUID();
    const body = { query: 'mutation($id: ID!, $v: String) { updateCustomer(id: $id, input: { name: "Landed Once" }, expectedVersions: { crm: $v }) { results { system status error { code } } } }', variables: { id: customer.id, v: read.data.customer.crmVersion } };
    const first = await post(body, key);
    // Every answer is lost, so canon cannot know yet: a retryable failure.
    expect(first.data.updateCustomer.results[0]).toMatchObject({ status: 'FAILED', error: { code: 'SYSTEM_UNAVAILABLE' } });
    expect(stack.systemPolicies.for('crm').state).toBe('open');
    await stack.clearFaults();
    clocks.crm.advance(HALF_OPEN_AFTER_MS);
    const again = await post(body, key);
    // The version moved (our own write), but the contact holds exactly what was sent: done, not STALE_WRITE.
    expect(again.data.updateCustomer.results[0]).toMatchObject({ system: 'CRM', status: 'SUCCEEDED', error: null });
    const now = await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: customer.id });
    expect(now.data.customer.name).toBe('Landed Once');
  });
});
