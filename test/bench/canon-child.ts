// Contender "canon": canon's own startStack, in a process of its own, whose gateway is the only server it starts here.

import { register } from 'node:module';
import type { GatewayChildArgs } from './protocol.js';
import { childArgs, exitWhenParentSays, tellParent } from './protocol.js';

// The hooks must be registered before stack.ts is loaded, hence the dynamic imports below. With them, startStack's
// sandboxes and subgraphs are the bench stack's running ones (see reuse-servers-hooks.mjs), so this process's CPU
// and memory are the gateway's: Apollo, the query planner, canon's data sources, plugins and control subgraph.
register('./reuse-servers-hooks.mjs', import.meta.url);

const { stack } = childArgs<GatewayChildArgs>();
try {
  const { testConfig } = await import('../../gateway/config.js');
  const { startStack } = await import('../../gateway/stack.js');
  // Same data directory as the stack process: it is seeded already, and the identity subgraph definition and any
  // gateway store (idempotency, ledger) open their files there, as they would in one `npm start`.
  const running = await startStack(testConfig(stack.dataDir));
  tellParent({ kind: 'gateway-ready', url: `${running.gateway.url}/graphql` });
  exitWhenParentSays(() => running.close());
} catch (e) {
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
