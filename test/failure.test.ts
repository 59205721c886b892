// Failure as the default case, end to end: a system down or hanging, circuit breakers, and writes that must not repeat.

import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
let customer: { id: string; sourceIds: Record<string, string | null> };

const HALF_OPEN_AFTER_MS = 60_000;

beforeAll(async () => {
  stack = await startTestStack({
    seedSize: 60,
    systemResilience: { attemptTimeoutMs: 300, budgetMs: 1500, maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 10, breakerThreshold: 3, halfOpenAfterMs: HALF_OPEN_AFTER_MS },
  });
  const res = await stack.gql('{ customers(first: 60) { edges { node { id sourceIds { crm erp marketing support } } } } }');
  customer = res.data.customers.edges.map((e: any) => e.node).find((n: any) => Object.values(n.sourceIds).every((v) => v !== null));
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.clearFaults();
  await stack.resetStats();
});
afterEach(() => vi.useRealTimers());

async function requestsLogged(system: 'crm' | 'erp' | 'marketing' | 'support'): Promise<number> {
  const log = await fetch(`${stack.systems[system].url}/_admin/requests?limit=2000`).then((r) => r.json());
  return log.length;
}

const ERP_QUERY = '{ customers(first: 10) { edges { node { id name legalName creditLimit { amount } emailConsent } } } }';
const CRM_QUERY = '{ customers(first: 10) { edges { node { id name email phone } } } }';

describe('the ERP down', () => {
  it('leaves CRM-only queries untouched, names erp in ERP queries, fails fast once the breaker opens, and recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await stack.setFaults('erp', { timeoutRate: 1 });

    const crmOnly = await stack.gql(CRM_QUERY);
    expect(crmOnly.errors).toBeUndefined();
    expect(crmOnly.data.customers.edges.filter((e: any) => e.node.name).length).toBeGreaterThan(0);

    // The ERP hangs: the first ERP query waits out its budget, then answers with the rest of the data.
    const first = await stack.gql(ERP_QUERY);
    expect(first.data.customers.edges).toHaveLength(10);
    expect(first.data.customers.edges.some((e: any) => e.node.name !== null)).toBe(true);
    expect(first.data.customers.edges.every((e: any) => e.node.legalName === null)).toBe(true);
    expect(first.errors).toHaveLength(1);
    expect(first.errors![0].extensions).toMatchObject({ system: 'erp', retryable: true });
    expect(['SYSTEM_TIMEOUT', 'SYSTEM_UNAVAILABLE', 'CIRCUIT_OPEN']).toContain(first.errors![0].extensions!.code);
    expect(first.errors![0].extensions!.attempts).toBeGreaterThanOrEqual(1);
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
    vi.setSystemTime(Date.now() + HALF_OPEN_AFTER_MS + 1);
    const back = await stack.gql(ERP_QUERY);
    expect(back.errors).toBeUndefined();
    expect(back.data.customers.edges.some((e: any) => e.node.legalName !== null)).toBe(true);
    expect(stack.systemPolicies.for('erp').state).toBe('closed');
  });

  it('answers a query touching a refusing ERP with SYSTEM_UNAVAILABLE naming erp', async () => {
    await stack.setFaults('erp', { down: true });
    const res = await stack.gql('{ customers(first: 3) { edges { node { id legalName } } } }');
    expect(res.errors?.[0].extensions).toMatchObject({ system: 'erp', retryable: true });
    expect(['SYSTEM_UNAVAILABLE', 'CIRCUIT_OPEN']).toContain(res.errors?.[0].extensions?.code);
    expect(res.data.customers.edges).toHaveLength(3);
    // Let the breaker close again for the tests after this one.
    await stack.clearFaults();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + HALF_OPEN_AFTER_MS + 1);
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
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + HALF_OPEN_AFTER_MS + 1);
    await post({ query: UPDATE, variables: { id: customer.id, input: { supportPlan: 'BASIC' } } }, randomUUID());
    expect(stack.systemPolicies.for('support').state).toBe('closed');
  });

  it('finds the ticket a lost answer already created instead of creating a second', async () => {
    await stack.setFaults('support', { resetAfterCommitRate: 1 });
    const subject = `Lost answer ${randomUUID()}`;
    const res = await post({ query: 'mutation($id: ID!, $s: String!) { openTicket(customerId: $id, subject: $s, body: "x") { id subject } }', variables: { id: customer.id, s: subject } }, randomUUID());
    expect(res.errors).toBeUndefined();
    expect(res.data.openTicket.subject).toBe(subject);
    await stack.clearFaults();
    const tickets = await fetch(`${stack.systems.support.url}/api/v2/tickets.json?organization_ids=${customer.sourceIds.support}&per_org=100`).then((r) => r.json());
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
    await stack.clearFaults();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + HALF_OPEN_AFTER_MS + 1);
    const again = await post(body, key);
    // The version moved (our own write), but the contact holds exactly what was sent: done, not STALE_WRITE.
    expect(again.data.updateCustomer.results[0]).toMatchObject({ system: 'CRM', status: 'SUCCEEDED', error: null });
    const now = await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: customer.id });
    expect(now.data.customer.name).toBe('Landed Once');
  });
});
