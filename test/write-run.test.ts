// Canonical writes as plain functions: run, recorded and retried without a GraphQL request, and the Operation.retry field that shares retryOperation's rule.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { SubgraphClient, type SubgraphUrls } from '../gateway/federation/subgraph-client.js';
import type { OperationMeta } from '../gateway/operations/recorder.js';
import { planUpdate } from '../gateway/writes/plans.js';
import { retryOperation } from '../gateway/writes/retry.js';
import { runWrite } from '../gateway/writes/run.js';
import { StepRunner } from '../gateway/writes/steps.js';
import { InProcessLock } from '../subgraphs/kit/record-lock.js';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
let runner: StepRunner;
let customer: { id: string; sourceIds: Record<SystemName, string | null> };

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 60, systemResilience: { maxAttempts: 1, breakerThreshold: 1000 } });
  const urls = Object.fromEntries(Object.entries(stack.subgraphs).map(([n, sg]) => [n, sg.url])) as SubgraphUrls;
  runner = new StepRunner(new SubgraphClient({ urls, policies: stack.subgraphPolicies }));
  customer = (await stack.customersInEverySystem(60))[0]!;
});
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());

async function writes(): Promise<Record<SystemName, number>> {
  const stats = await stack.systemStats();
  return Object.fromEntries(SYSTEMS.map((s) => [s, stats[s].writes])) as Record<SystemName, number>;
}

function meta(over: Partial<OperationMeta> = {}): OperationMeta {
  return { operationId: randomUUID(), name: 'updateCustomer', traceId: null, app: 'write-run-test', idempotencyKey: null, resume: false, variables: {}, customerId: customer.id, ...over };
}

describe('runWrite outside a GraphQL request', () => {
  it('writes each slice to its owner and records the operation when given only plain inputs', async () => {
    const m = meta();
    const args = { id: customer.id, input: { name: 'Plain Run', legalName: 'Plain Run GmbH' } };
    const out = await runWrite(m, () => planUpdate(runner, args, null), { runner, ledger: stack.ledger, engine: stack.engine });
    expect(out.ok && out.steps.map((s) => [s.system, s.status])).toEqual([
      ['crm', 'SUCCEEDED'],
      ['erp', 'SUCCEEDED'],
    ]);
    expect(await writes()).toEqual({ crm: 1, erp: 1, marketing: 0, support: 0 });
    const op = await stack.ledger.get(m.operationId);
    expect({ status: op?.status, app: op?.app, steps: op?.steps.map((s) => s.system) }).toEqual({ status: 'SUCCEEDED', app: 'write-run-test', steps: ['crm', 'erp'] });
  });

  it('records a refused plan as FAILED with its reason and sends nothing', async () => {
    const m = meta();
    const out = await runWrite(m, () => planUpdate(runner, { id: customer.id, input: { email: 'not an email' } }, null), { runner, ledger: stack.ledger, engine: stack.engine });
    expect(out.ok).toBe(false);
    expect(await writes()).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
    const op = await stack.ledger.get(m.operationId);
    expect({ status: op?.status, code: op?.error?.code, steps: op?.steps }).toEqual({ status: 'FAILED', code: 'BAD_USER_INPUT', steps: [] });
  });

  it('continues an earlier run under its key, sending only the step that failed', async () => {
    const key = randomUUID();
    const args = { id: customer.id, input: { name: 'Continued', supportPlan: 'BUSINESS' } };
    await stack.setFaults('support', { errorRate: 1 });
    const first = await runWrite(meta({ idempotencyKey: key }), () => planUpdate(runner, args, key), { runner, ledger: stack.ledger, engine: stack.engine });
    expect(first.ok && first.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'FAILED']);
    await stack.clearFaults();
    await stack.resetStats();
    const second = await runWrite(meta({ idempotencyKey: key, resume: true }), () => planUpdate(runner, args, key), { runner, ledger: stack.ledger, engine: stack.engine });
    expect(second.ok && second.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(second.operationId).toBe(first.operationId);
    expect(await writes()).toEqual({ crm: 0, erp: 0, marketing: 0, support: 1 });
  });

  it('retries a recorded operation by id without a request, under a key derived from it', async () => {
    await stack.setFaults('marketing', { errorRate: 1 });
    const m = meta();
    await runWrite(m, () => planUpdate(runner, { id: customer.id, input: { emailConsent: 'PENDING' } }, null), { runner, ledger: stack.ledger, engine: stack.engine });
    await stack.clearFaults();
    await stack.resetStats();
    const out = await retryOperation(m.operationId, null, { runner, ledger: stack.ledger, lock: new InProcessLock(), engine: stack.engine });
    expect(out.ok && { status: out.operation.status, key: out.operation.steps[0]!.idempotencyKey }).toEqual({ status: 'SUCCEEDED', key: `op-${m.operationId}:marketing:updateCustomer` });
    const received = await fetch(`${stack.systems.marketing.url}/_admin/requests?limit=5`).then((r) => r.json());
    expect(received.filter((r: any) => r.method !== 'GET' && !r.path.includes('batch')).map((r: any) => r.idempotencyKey)).toEqual([`op-${m.operationId}:marketing:updateCustomer`]);
  });
});

const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId } }';
const RETRY = 'query($id: ID!) { operation(id: $id) { status retry { possible reason steps { system action idempotencyKey } } } }';

describe('Operation.retry', () => {
  it('offers exactly the steps retryOperation then sends, and nothing once they succeeded', async () => {
    await stack.setFaults('erp', { errorRate: 1 });
    const key = randomUUID();
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Offered', legalName: 'Offered SE' } }, { 'idempotency-key': key });
    const id = res.data.updateCustomer.operationId;
    await stack.clearFaults();
    const offered = (await stack.gql(RETRY, { id })).data.operation;
    expect(offered).toEqual({ status: 'PARTIAL', retry: { possible: true, reason: null, steps: [{ system: 'ERP', action: 'updateCustomer', idempotencyKey: `${key}:erp:updateCustomer` }] } });
    await stack.resetStats();
    const retried = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status retry { possible reason steps { system } } } }', { id });
    expect(retried.data.retryOperation).toEqual({ status: 'SUCCEEDED', retry: { possible: false, reason: null, steps: [] } });
    expect(await writes()).toEqual({ crm: 0, erp: 1, marketing: 0, support: 0 });
  });

  it('says why not when a write was refused before any system was called', async () => {
    await stack.gql(UPDATE, { id: customer.id, input: { email: 'nope' } }, await stack.appHeaders('retry-field-refused'));
    const listed = await stack.gql('{ operations(app: "retry-field-refused") { edges { node { retry { possible reason steps { system } } } } } }');
    const [plan] = listed.data.operations.edges.map((e: any) => e.node.retry);
    expect(plan).toEqual({ possible: false, reason: expect.stringContaining('Nothing to retry: no system was called'), steps: [] });
  });
});
