// Test support: the child process of child-stack.ts: starts a stack on the data directory it is given, reports its URLs, and closes on request.

import { loadConfig, testConfig } from '../../gateway/config.js';
import { startStack } from '../../gateway/stack.js';
import { SYSTEMS } from '../../schema/model.js';

const { dataDir, overrides, waitForSync, systemsFromEnv } = JSON.parse(process.env.CANON_CHILD_ARGS!);
try {
  // Systems given in the environment (<SYSTEM>_URL and their credentials) are read the way `npm start` reads them.
  const fromEnv = systemsFromEnv ? loadConfig(process.env) : undefined;
  const systems = fromEnv ? { systemUrls: fromEnv.systemUrls, systemCredentials: fromEnv.systemCredentials } : {};
  const stack = await startStack(testConfig(dataDir, { ...systems, ...overrides }));
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
