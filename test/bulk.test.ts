// bulkUpdateCustomers: validated whole, then sent per system through its batch API at most 100 records a call, with progress over the records while it runs and a record its system refuses failing alone.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
let customers: { id: string; sourceIds: { crm: string | null; erp: string | null } }[];

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 200 });
  const res = await stack.gql('{ customers(first: 200) { edges { node { id sourceIds { crm erp } } } } }');
  customers = res.data.customers.edges.map((e: any) => e.node);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.reset();
});

const BULK = `mutation($u: [BulkCustomerUpdate!]!, $mode: Mode) {
  bulkUpdateCustomers(updates: $u, mode: $mode) { operation { id status workflow mode progress { total done failed } } }
}`;
const OPERATION = `query($id: ID!) { operation(id: $id) {
  status progress { total done failed }
  steps { name status error { code } items { customerId nativeId status error { code message } } }
} }`;

const inCrm = () => customers.filter((c) => c.sourceIds.crm);
const inErp = () => customers.filter((c) => c.sourceIds.erp);

async function until(id: string, done: (op: any) => boolean): Promise<any> {
  for (let i = 0; i < 600; i++) {
    const op = (await stack.gql(OPERATION, { id })).data.operation;
    if (done(op)) return op;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`operation ${id} never reached the state waited for`);
}
const ended = (op: any) => op.status !== 'PENDING';

describe('bulkUpdateCustomers', () => {
  it('sends 150 CRM updates as exactly 2 batch requests and no single PATCH, progress 150 of 150', async () => {
    const chosen = inCrm().slice(0, 150);
    expect(chosen).toHaveLength(150);
    const res = await stack.gql(BULK, { u: chosen.map((c) => ({ id: c.id, input: { lifecycleStage: 'EVANGELIST' } })) });
    expect(res.errors).toBeUndefined();
    const { operation } = res.data.bulkUpdateCustomers;
    expect([operation.status, operation.workflow, operation.mode, operation.progress]).toEqual(['PENDING', 'bulkUpdateCustomers', 'QUEUED', { total: 150, done: 0, failed: 0 }]);
    const done = await until(operation.id, ended);
    expect([done.status, done.progress]).toEqual(['SUCCEEDED', { total: 150, done: 150, failed: 0 }]);
    expect(done.steps.map((s: any) => [s.name, s.status, s.items.length])).toEqual([
      ['crm.bulkUpdateCustomers', 'SUCCEEDED', 100],
      ['crm.bulkUpdateCustomers', 'SUCCEEDED', 50],
    ]);
    const crm = (await stack.systemStats()).crm;
    expect(crm.byRoute).toEqual({ 'POST /crm/v3/objects/contacts/batch/update': 2 });
    expect(crm.writes).toBe(150);
    const read = await stack.gql('query($a: ID!, $b: ID!) { a: customer(id: $a) { lifecycleStage } b: customer(id: $b) { lifecycleStage } }', { a: chosen[0]!.id, b: chosen[149]!.id });
    expect(read.data).toEqual({ a: { lifecycleStage: 'EVANGELIST' }, b: { lifecycleStage: 'EVANGELIST' } });
  });

  it('fails a record its system refuses alone, named in its step, and writes the rest: the operation PARTIAL', async () => {
    // A customer identity links to a CRM contact the CRM does not hold.
    const link = await fetch(stack.subgraphs.identity.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { identityLinkRecords(records: { crm: "999999" }) { id } }' }),
    }).then((r) => r.json());
    const ghost = link.data.identityLinkRecords.id as string;
    const [a, b] = inCrm().slice(150, 152);
    const u = [a!, { id: ghost }, b!].map((c) => ({ id: c.id, input: { name: 'Bulk Named' } }));
    const res = await stack.gql(BULK, { u, mode: 'REALTIME' });
    expect(res.errors).toBeUndefined();
    const op = (await stack.gql(OPERATION, { id: res.data.bulkUpdateCustomers.operation.id })).data.operation;
    expect([op.status, op.progress]).toEqual(['PARTIAL', { total: 3, done: 3, failed: 1 }]);
    expect(op.steps.map((s: any) => [s.name, s.status, s.error?.code])).toEqual([['crm.bulkUpdateCustomers', 'FAILED', 'NOT_FOUND']]);
    expect(op.steps[0].items.map((i: any) => [i.customerId, i.nativeId, i.status, i.error?.code ?? null])).toEqual([
      [a!.id, a!.sourceIds.crm, 'SUCCEEDED', null],
      [ghost, '999999', 'FAILED', 'NOT_FOUND'],
      [b!.id, b!.sourceIds.crm, 'SUCCEEDED', null],
    ]);
    const crm = (await stack.systemStats()).crm;
    expect([crm.byRoute, crm.writes]).toEqual([{ 'POST /crm/v3/objects/contacts/batch/update': 1 }, 2]);
  });

  it('shows progress while it runs: the CRM batch done while the slow ERP batch is still PENDING', async () => {
    await stack.setFaults('erp', { latencyMs: 1500 });
    const crm = inCrm().slice(0, 20).map((c) => ({ id: c.id, input: { name: 'Progress Seen' } }));
    const erp = inErp().filter((c) => !crm.some((x) => x.id === c.id)).slice(0, 20).map((c) => ({ id: c.id, input: { paymentTerms: 'NET_60' } }));
    const res = await stack.gql(BULK, { u: [...crm, ...erp] });
    const id = res.data.bulkUpdateCustomers.operation.id;
    const midway = await until(id, (op) => op.progress.done > 0);
    expect([midway.status, midway.progress, midway.steps.map((s: any) => [s.name, s.status])]).toEqual([
      'PENDING',
      { total: 40, done: 20, failed: 0 },
      [
        ['crm.bulkUpdateCustomers', 'SUCCEEDED'],
        ['erp.bulkUpdateCustomers', 'PENDING'],
      ],
    ]);
    const done = await until(id, ended);
    expect([done.status, done.progress]).toEqual(['SUCCEEDED', { total: 40, done: 40, failed: 0 }]);
    expect((await stack.systemStats()).erp.byRoute).toEqual({ 'POST /odata/v4/$batch': 1 });
  });

  it('refuses the whole call when one update is invalid, enqueuing nothing', async () => {
    const headers = await stack.appHeaders('bulk-refused');
    const [a, b] = inCrm().slice(0, 2);
    const res = await stack.gql(BULK, { u: [{ id: a!.id, input: { name: 'Fine' } }, { id: b!.id, input: { email: 'no at sign' } }] }, headers);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.index, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 1, 'email']]);
    const listed = await stack.gql('{ operations(app: "bulk-refused") { edges { node { status workflow steps { name } } } } }');
    expect(listed.data.operations.edges.map((e: any) => e.node)).toEqual([{ status: 'FAILED', workflow: 'bulkUpdateCustomers', steps: [] }]);
    expect((await stack.systemStats()).crm.requests).toBe(0);
  });

  it('needs workflows:run and the write scope of every system its updates write', async () => {
    const headers = await stack.appHeaders('bulk-crm-only', ['workflows:run', 'write:crm']);
    const [a, b] = inErp().slice(0, 2);
    const res = await stack.gql(BULK, { u: [{ id: a!.id, input: { name: 'Allowed' } }, { id: b!.id, input: { paymentTerms: 'NET_14' } }] }, headers);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.scope, e.extensions?.field])).toEqual([['FORBIDDEN', 'write:erp', 'updates[1].input.paymentTerms']]);
    const stats = await stack.systemStats();
    expect([stats.crm.requests, stats.erp.requests]).toEqual([0, 0]);
  });
});
