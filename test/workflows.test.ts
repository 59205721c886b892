// Writes as durable workflows: the definitions served as data, REALTIME and QUEUED modes, durable retries of queued steps, and retryOperation as the next run.

import { DBOS } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

let stack: TestStack;
let customer: { id: string; sourceIds: Record<SystemName, string | null> };

beforeAll(async () => {
  const workflows = { ...testConfig('unused').workflows, queuedMaxAttempts: 3 };
  // One call per step, so the number of calls a system receives is the number of times the workflow sent the step.
  stack = await startTestStack({ seedSize: 40, workflows, systemResilience: { maxAttempts: 1, breakerThreshold: 1000 } });
  const res = await stack.gql('{ customers(first: 40) { edges { node { id sourceIds { crm erp marketing support } } } } }');
  customer = res.data.customers.edges.map((e: any) => e.node).find((n: any) => SYSTEMS.every((s) => n.sourceIds[s] !== null));
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.clearFaults();
  await stack.resetStats();
});

const UPDATE = `mutation($id: ID!, $input: UpdateCustomerInput!, $mode: Mode) {
  updateCustomer(id: $id, input: $input, mode: $mode) {
    results { system status }
    operation { id status workflow mode progress { total done failed } steps { name system status attempts } }
  }
}`;
const OPERATION = 'query($id: ID!) { operation(id: $id) { status steps { name status attempts error { code } history { attempts error { code } } } } }';

const crmPatches = async () => (await stack.systemStats()).crm.byRoute['PATCH /crm/v3/objects/contacts/{id}'] ?? 0;

async function settled(id: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const op = (await stack.gql(OPERATION, { id })).data.operation;
    if (op.status !== 'PENDING') return op;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`operation ${id} is still PENDING`);
}

describe('workflows', () => {
  it('serves every workflow with its steps in order, what each waits for and its precondition', async () => {
    const res = await stack.gql('{ workflows { name defaultMode steps { name system action after precondition } } }');
    expect(res.data.workflows.map((w: any) => [w.name, w.defaultMode])).toEqual([
      ['updateCustomer', 'REALTIME'],
      ['openTicket', 'REALTIME'],
      ['retryOperation', 'REALTIME'],
      ['onboardCustomer', 'REALTIME'],
      ['bulkUpdateCustomers', 'QUEUED'],
      ['propagate', 'QUEUED'],
    ]);
    expect(res.data.workflows[0].steps.map((s: any) => [s.name, s.system, s.after])).toEqual(SYSTEMS.map((s) => [`${s}.updateCustomer`, s, []]));
    expect(res.data.workflows[1].steps[0]).toEqual({ name: 'support.createTicket', system: 'support', action: 'createTicket', after: [], precondition: 'the customer has a support organization' });
    // One step per system that keeps a copy of some field; never the ERP, which keeps none.
    expect(res.data.workflows[5].steps.map((s: any) => [s.name, s.after])).toEqual([['crm.setCopies', []], ['marketing.setCopies', []], ['support.setCopies', []]]);
  });
});

describe('updateCustomer as a workflow', () => {
  it('answers REALTIME once every owner has written, with the operation SUCCEEDED and its steps named', async () => {
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Realtime Run', supportPlan: 'BUSINESS' } });
    expect(res.errors).toBeUndefined();
    const { operation, results } = res.data.updateCustomer;
    expect(results).toEqual([
      { system: 'CRM', status: 'SUCCEEDED' },
      { system: 'SUPPORT', status: 'SUCCEEDED' },
    ]);
    expect({ ...operation, id: undefined }).toEqual({
      id: undefined,
      status: 'SUCCEEDED',
      workflow: 'updateCustomer',
      mode: 'REALTIME',
      progress: { total: 2, done: 2, failed: 0 },
      steps: [
        { name: 'crm.updateCustomer', system: 'CRM', status: 'SUCCEEDED', attempts: 1 },
        { name: 'support.updateCustomer', system: 'SUPPORT', status: 'SUCCEEDED', attempts: 1 },
      ],
    });
  });

  it('answers QUEUED with the operation PENDING before the system has written, then runs it to SUCCEEDED', async () => {
    await stack.setFaults('crm', { latencyMs: 1500 });
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Queued Run' }, mode: 'QUEUED' });
    expect(res.errors).toBeUndefined();
    const { operation, results } = res.data.updateCustomer;
    // The CRM holds every request 1.5 s: nothing it was sent can have been written when the answer came.
    expect((await stack.systemStats()).crm.writes).toBe(0);
    expect(results).toEqual([{ system: 'CRM', status: 'PENDING' }]);
    expect([operation.status, operation.mode, operation.steps.map((s: any) => s.status)]).toEqual(['PENDING', 'QUEUED', ['PENDING']]);
    const done = await settled(operation.id);
    expect(done.status).toBe('SUCCEEDED');
    expect((await stack.systemStats()).crm.writes).toBe(1);
    const read = await stack.gql('query($id: ID!) { customer(id: $id) { name } }', { id: customer.id });
    expect(read.data.customer.name).toBe('Queued Run');
  });

  it('refuses QUEUED bad input at once, enqueuing nothing', async () => {
    const headers = await stack.appHeaders('queued-refused');
    const res = await stack.gql(UPDATE, { id: customer.id, input: { email: 'not an email' }, mode: 'QUEUED' }, headers);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const listed = await stack.gql('{ operations(app: "queued-refused") { edges { node { status mode steps { name } } } } }');
    expect(listed.data.operations.edges.map((e: any) => e.node)).toEqual([{ status: 'FAILED', mode: 'QUEUED', steps: [] }]);
    expect((await stack.systemStats()).crm.requests).toBe(0);
  });

  it('retries a queued step durably up to QUEUED_MAX_ATTEMPTS calls, then leaves the operation FAILED with that step named', async () => {
    await stack.setFaults('crm', { errorRate: 1, errorStatus: 503 });
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Never Lands' }, mode: 'QUEUED' });
    const done = await settled(res.data.updateCustomer.operation.id);
    expect(done).toEqual({ status: 'FAILED', steps: [{ name: 'crm.updateCustomer', status: 'FAILED', attempts: 3, error: { code: 'SYSTEM_UNAVAILABLE' }, history: [] }] });
    expect(await crmPatches()).toBe(3);
  });

  it("waits the system's Retry-After before sending a queued step again, then writes once", async () => {
    // The CRM answers 429 with Retry-After: 1: longer than the queued retry's own pause (10 ms here).
    await stack.setFaults('crm', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 1 });
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'After The Wait' }, mode: 'QUEUED' });
    const id = res.data.updateCustomer.operation.id;
    // The step's own workflow, on the CRM queue: its durable pause after the 429.
    const sleep = await until('the pause after the 429', async () => (await DBOS.listWorkflowSteps(`${id}.crm.updateCustomer`))?.find((s) => s.name === 'DBOS.sleep'));
    await stack.clearFaults();
    expect((await settled(id)).status).toBe('SUCCEEDED');
    // The pause DBOS recorded, from its start to the deadline it stored: exactly the Retry-After.
    expect(Number(sleep.output) - sleep.startedAtEpochMs!).toBe(1000);
    expect((await stack.systemStats()).crm.writes).toBe(1);
  });

  it('resumes from the failed step with retryOperation, the failed run kept in its history', async () => {
    await stack.setFaults('erp', { errorRate: 1, errorStatus: 503 });
    const first = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Half Done', legalName: 'Half Done AG' } });
    const id = first.data.updateCustomer.operation.id;
    expect(first.data.updateCustomer.operation.status).toBe('PARTIAL');
    await stack.clearFaults();
    await stack.resetStats();
    const retried = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { id status } }', { id });
    expect(retried.data.retryOperation).toEqual({ id, status: 'SUCCEEDED' });
    const op = (await stack.gql(OPERATION, { id })).data.operation;
    expect(op.steps.map((s: any) => [s.name, s.status, s.history.map((h: any) => h.error.code)])).toEqual([
      ['crm.updateCustomer', 'SUCCEEDED', []],
      ['erp.updateCustomer', 'SUCCEEDED', ['SYSTEM_UNAVAILABLE']],
    ]);
    const stats = await stack.systemStats();
    expect([stats.crm.writes, stats.erp.writes]).toEqual([0, 1]);
  });
});
