// /health counts the work on each workflow queue: what waits behind a system's concurrency and what runs, so an operator sees a backlog that has no operation record yet.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

let stack: TestStack;
const base = testConfig('/unused');

beforeAll(async () => {
  // One marketing call at a time, so the second and third queued calls have to wait.
  stack = await startTestStack({ workflows: { ...base.workflows, systemConcurrency: { ...base.workflows.systemConcurrency, marketing: 1 } } });
});
afterAll(() => stack?.stop());

const UPDATE = 'mutation($id: ID!, $c: EmailConsent!) { updateCustomer(id: $id, input: { emailConsent: $c }, mode: QUEUED) { operation { id status } } }';

async function queueCounts() {
  const body = await fetch(`${stack.gateway.url}/health`).then((r) => r.json());
  return Object.fromEntries((body.queues as { name: string; enqueued: number; running: number }[]).map((q) => [q.name, { enqueued: q.enqueued, running: q.running }]));
}

describe('/health queues', () => {
  it('shows the calls waiting behind a system concurrency of 1 and the one running, then all of them gone once they are done', async () => {
    const idle = await queueCounts();
    expect(Object.keys(idle).sort()).toEqual(['canon-operations', 'canon-system-crm', 'canon-system-erp', 'canon-system-marketing', 'canon-system-support']);
    expect(Object.values(idle).every((q) => q.enqueued === 0 && q.running === 0)).toBe(true);

    const customers = (await stack.customersInEverySystem(100)).slice(0, 3).map((c) => c.id);
    expect(customers).toHaveLength(3);
    await stack.setFaults('marketing', { latencyMs: 60_000 });
    for (const id of customers) expect((await stack.gql(UPDATE, { id, c: 'UNSUBSCRIBED' })).data.updateCustomer.operation.status).toBe('PENDING');
    const held = await until('three queued writes on their way, one marketing call in flight', async () => {
      const q = await queueCounts();
      return q['canon-system-marketing']!.running === 1 && q['canon-system-marketing']!.enqueued === 2 && q;
    });
    // The three operations run (each waits for its marketing call), and nothing else is queued.
    expect(held['canon-operations']).toEqual({ enqueued: 0, running: 3 });
    expect(held['canon-system-crm']).toEqual({ enqueued: 0, running: 0 });

    await stack.clearFaults();
    await until('the queues to empty', async () => Object.values(await queueCounts()).every((q) => q.enqueued === 0 && q.running === 0));
    const ops = await Promise.all(customers.map(async (id) => (await stack.gql('query($id: ID!) { customer(id: $id) { emailConsent } }', { id })).data.customer.emailConsent));
    expect(ops).toEqual(['UNSUBSCRIBED', 'UNSUBSCRIBED', 'UNSUBSCRIBED']);
  });
});
