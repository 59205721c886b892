// Finished workflows do not pile up in the workflow database: sync rounds' records are deleted once past their retention, operations' workflows once past the ledger's.

import { DBOS } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { SYSTEMS } from '../schema/model.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

/** A parent that, its child ended, waits for a message: a running workflow with an ended child. */
const child = DBOS.registerWorkflow(async () => 'done', { name: 'test.prune.child' });
const parent = DBOS.registerWorkflow(
  async () => {
    await (await DBOS.startWorkflow(child, { workflowID: `${DBOS.workflowID}.child` })()).getResult();
    return DBOS.recv<string>('go', 120);
  },
  { name: 'test.prune.parent' },
);

let stack: TestStack;
beforeAll(async () => {
  // A round every 100 ms per system, each kept for no time at all once it has ended; writes propagate to copies.
  const workflows = { ...testConfig('unused').workflows, propagateCopies: true };
  stack = await startTestStack({ seedSize: 40, syncIntervalMs: 100, workflows }, { syncRoundRetentionMs: 0 });
}, 120_000);
afterAll(() => stack?.stop());

describe('finished sync rounds', () => {
  it('are deleted from the workflow database past their retention, however many rounds have run', async () => {
    // Wait until every system has run many rounds since the full sync.
    const seen = new Map<string, Set<string>>(SYSTEMS.map((s) => [s, new Set()]));
    await until('ten rounds of every system', async () => {
      for (const s of stack.sync.report()) if (s.lastSyncAt) seen.get(s.system)!.add(s.lastSyncAt);
      return [...seen.values()].every((v) => v.size >= 10);
    }, 600, 20);
    const finished = await DBOS.listWorkflows({ workflowName: 'canon.sync', status: ['SUCCESS', 'ERROR'] });
    // At most the rounds that ended since the last deletion, one per system; kept, the forty-odd rounds would be here.
    expect(finished.length).toBeLessThanOrEqual(SYSTEMS.length);
    // And the sync still knows where it stands: the cursors live in the identity store, not in the rounds.
    expect(stack.sync.report().every((s) => s.ok && s.cursor !== null)).toBe(true);
  });
});

describe('finished operations’ workflows', () => {
  const status = async (id: string) => (await DBOS.getWorkflowStatus(id))?.status ?? null;

  it('are deleted past the ledger’s retention with their children, while a running workflow and the ended child it may read again stay', async () => {
    const { data } = await stack.gql('{ customers(first: 40) { edges { node { id sourceIds { crm marketing } } } } }');
    const { id } = data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && n.sourceIds.marketing);
    const res = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Pruned Later" }) { operation { id status } } }', { id });
    const op = res.data.updateCustomer.operation;
    expect(op.status).toBe('SUCCEEDED');
    // The write started the name's propagation to its marketing copy, as a child workflow.
    const [propagation] = await DBOS.listWorkflows({ parentWorkflowID: op.id });
    expect(propagation!.workflowName).toBe('canon.propagate');
    await until('the propagation ended', async () => (await status(propagation!.workflowID)) === 'SUCCESS');
    const waiting = await DBOS.startWorkflow(parent, { workflowID: `prune-parent-${Date.now()}` })();
    const childId = `${waiting.workflowID}.child`;
    await until('the child ended', async () => (await status(childId)) === 'SUCCESS');

    // A cut-off a minute ahead: everything that has ended counts as past its retention.
    const ahead = () => new Date(Date.now() + 60_000).toISOString();
    await stack.engine.prune(ahead());
    expect([await status(op.id), await status(propagation!.workflowID)]).toEqual([null, null]);
    expect([await status(waiting.workflowID), await status(childId)]).toEqual(['PENDING', 'SUCCESS']);
    // The ledger keeps the operation's record until its own prune.
    expect((await stack.gql('query($id: ID!) { operation(id: $id) { status } }', { id: op.id })).data.operation).toEqual({ status: 'SUCCEEDED' });

    await DBOS.send(waiting.workflowID, 'go', 'go');
    expect(await waiting.getResult()).toBe('go');
    await stack.engine.prune(ahead());
    expect([await status(waiting.workflowID), await status(childId)]).toEqual([null, null]);
  });
});
