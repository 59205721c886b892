// Test support: the child process of child-stack.ts: starts a stack on the data directory it is given, reports its URLs, and closes on request.

import { testConfig } from '../../gateway/config.js';
import { startStack } from '../../gateway/stack.js';
import { SYSTEMS } from '../../schema/model.js';

const { dataDir, overrides, waitForSync } = JSON.parse(process.env.CANON_CHILD_ARGS!);
try {
  const stack = await startStack(testConfig(dataDir, overrides));
  if (waitForSync !== false) await stack.sync.fullSyncDone();
  const devKey = stack.devApp && 'key' in stack.devApp ? stack.devApp.key : '';
  process.send!({ kind: 'ready', gateway: stack.gateway.url, systems: Object.fromEntries(SYSTEMS.map((s) => [s, stack.systems[s].url])), devKey });
  process.on('message', async (m: { kind: string }) => {
    if (m.kind !== 'stop') return;
    await stack.close();
    process.exit(0);
  });
} catch (e) {
  process.send!({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
