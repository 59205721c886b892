// Finished sync rounds do not pile up in the workflow database: their records are deleted once past their retention.

import { DBOS } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

let stack: TestStack;
beforeAll(async () => {
  // A round every 100 ms per system, each kept for no time at all once it has ended.
  stack = await startTestStack({ seedSize: 40, syncIntervalMs: 100 }, { syncRoundRetentionMs: 0 });
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
