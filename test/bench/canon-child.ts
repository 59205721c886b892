// Contender "canon" / "canon-nodedup": canon's own startStack, in a process of its own, whose gateway is the only server it starts here.

import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import type { CanonChildArgs } from './protocol.js';
import { childArgs, exitWhenParentSays, tellParent } from './protocol.js';

// The hook must be registered before stack.ts is loaded, hence the dynamic imports below. With it, startStack's
// subgraph servers are the bench stack's running ones (see reuse-servers-hooks.mjs), and the systems are the systems
// process's, so this process's CPU and memory are the gateway's: Apollo, the query planner, canon's data sources,
// plugins and control subgraph.
register('./reuse-servers-hooks.mjs', import.meta.url);

const { stack, name, dedupeReads, database } = childArgs<CanonChildArgs>();
try {
  const { loadConfig, testConfig } = await import('../../gateway/config.js');
  const { startStack } = await import('../../gateway/stack.js');
  const { SANDBOX_CREDENTIALS_FILE } = await import('../../subgraphs/sandbox-kit/credentials.js');
  // A data directory of its own: the gateway's stores (apps, idempotency keys, ledger, workflows) are this process's,
  // as one gateway's are in one `npm start`, and two canon contenders never share an embedded database. Logs at
  // info, as `npm start` does (one line per operation; this child's stdout goes nowhere): logging is canon's cost.
  const dataDir = join(stack.dataDir, `gateway-${name}`);
  // The identity subgraph's definition opens the crosswalk even where its server is the stack's: the stack's file.
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(join(dataDir, 'identity.sqlite'))) symlinkSync(join(stack.dataDir, 'identity.sqlite'), join(dataDir, 'identity.sqlite'));
  // Its change-feed reads present the systems' credentials, which the systems process wrote into the stack's
  // directory: credentials of its own, generated here, would have every feed read refused with 401.
  if (!existsSync(join(dataDir, SANDBOX_CREDENTIALS_FILE))) symlinkSync(join(stack.dataDir, SANDBOX_CREDENTIALS_FILE), join(dataDir, SANDBOX_CREDENTIALS_FILE));
  // The workflow settings `npm start` runs with, owner changes propagated to their copies included (testConfig
  // turns propagation off for tests that count each system's writes). The sync runs its full sync at start and no
  // round after (testConfig's hour): a round every 5 s would put its feed reads into the page-size phase's count of
  // system requests per query, which the bench cannot tell apart from the reads it measures.
  // --database-url: as a deployment past one machine runs (ledger, keys and workflows in PostgreSQL), in this run's schemas.
  const onPostgres = database ? { databaseUrl: database.url, databaseSchema: database.schema } : {};
  const workflows = loadConfig(database ? { DATABASE_SCHEMA: database.schema } : {}).workflows;
  const config = testConfig(dataDir, { logLevel: 'info', dedupeReads: dedupeReads ?? true, ...onPostgres, workflows });
  const running = await startStack(config, { systems: stack.systems });
  const key = running.devApp && running.devApp.status !== 'unavailable' ? running.devApp.key : undefined;
  if (!key) throw new Error(`canon's gateway has no dev app to be called with: ${JSON.stringify(running.devApp)}`);
  // Were a subgraph started here after all (the hook's pattern gone stale after a move), its CPU would count as
  // the gateway's and its requests would bypass the stack process's counters: refuse to be measured like that.
  const strays = Object.entries(running.subgraphs).filter(([name, s]) => s.url !== stack.subgraphs[name as keyof typeof stack.subgraphs]);
  if (strays.length) throw new Error(`canon's gateway would call subgraphs of its own (${strays.map(([n]) => n).join(', ')}): reuse-servers-hooks.mjs no longer matches the module that starts subgraph servers.`);
  tellParent({ kind: 'gateway-ready', url: `${running.gateway.url}/graphql`, key });
  exitWhenParentSays(async () => {
    await running.close();
    // The run's schemas go with everything in them once the gateway has stopped.
    if (database) await (await import('../support/postgres.js')).dropSchemas(database.url, [database.schema, workflows.schema]);
  });
} catch (e) {
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
