// The `canon` command (bin/canon.mjs runs it through tsx): each part of canon as a process of its own, configured from the environment, or everything in one.

import { SYSTEMS, type Owner, type SystemName } from '../../schema/model.js';
import { loadConfig, SUBGRAPH_NAMES, type CanonConfig, type SubgraphName } from '../config.js';
import type { DevApp } from '../security/apps.js';
import type { Service } from '../stack.js';

// What starts a service (the stack, Apollo, DBOS, the subgraphs) is loaded only when one starts: `--help` and a
// refused name or setting answer in a fraction of a second instead of after loading all of canon.
const stack = () => import('../stack.js');
const services = () => import('./services.js');
const telemetry = () => import('../../subgraphs/kit/telemetry.js');

const PEERS = `Peers come from the environment: <SYSTEM>_URL (and its credentials) for a system, <NAME>_SUBGRAPH_URL for a
subgraph (CONTROL_SUBGRAPH_URL included); what is not named runs in this process. Services present
CANON_SERVICE_TOKEN to each other. Every setting is in gateway/config.ts; deploy/README.md shows a deployment.`;

const HELP: Record<string, string> = {
  '': `usage: canon <command> [--help]

  start             everything in one process: sandboxes, subgraphs, gateway (as npm start)
  gateway           the gateway on PORT (default 4000)
  subgraph NAME     one subgraph as a service on PORT: ${SUBGRAPH_NAMES.join(', ')}
  sandbox SYSTEM    one sandbox system on PORT: ${SYSTEMS.join(', ')}
  seed              seed the sandboxes' data under DATA_DIR (canon seed --help)
  compose           write the supergraph another router can serve (canon compose --help)
  apps              create, list and revoke the apps that may call canon (canon apps --help)

${PEERS}`,
  start: `usage: canon start

Starts the four sandboxes, the subgraphs and the gateway (control subgraph inside) in one process, as npm start;
gateway on PORT (default 4000), data under DATA_DIR (default ./data, seeded on first start). Ctrl-C stops it.`,
  gateway: `usage: canon gateway

Starts canon's gateway on PORT (default 4000): /graphql, /health, /explorer, /console. Authenticates every app,
applies its rate and scopes, keeps idempotency keys (Redis with REDIS_URL) and the ledger (PostgreSQL with
DATABASE_URL). With CONTROL_SUBGRAPH_URL the canonical writes, workflows and sync run in that service; without it
they run here, on the workflow database (DATABASE_URL, executor CANON_EXECUTOR_ID). SIGTERM stops it gracefully.

${PEERS}`,
  subgraph: `usage: canon subgraph NAME        NAME: ${SUBGRAPH_NAMES.join(', ')}

Serves one subgraph's GraphQL on PORT (default 4000) with GET /health. Every request must carry
Authorization: Bearer CANON_SERVICE_TOKEN (canon's gateway and control service) or an app's own key or JWT
(forwarded by another router), which the subgraph verifies and holds to the app's scopes.
- identity: the crosswalk of canonical and native ids, in DATA_DIR/identity.sqlite (one replica).
- crm, erp, marketing, support: the system's connector, toward <SYSTEM>_URL, else a sandbox started here.
- control: canon's canonical mutations, ledger, workflows and sync (needs every other subgraph: their
  <NAME>_SUBGRAPH_URL, or they run in this process); /health answers 503 while the first full sync runs.

${PEERS}`,
  sandbox: `usage: canon sandbox SYSTEM       SYSTEM: ${SYSTEMS.join(', ')}

Serves the system's stand-in (HubSpot-, OData-, Mailchimp- or Zendesk-shaped) on PORT (default 4000), on
DATA_DIR/<system>.sqlite (seeded on first start: SEED, SEED_SIZE), requiring the credentials canon presents:
<SYSTEM>'s variables (CRM_TOKEN, …) or DATA_DIR/sandbox-credentials.json.`,
  apps: `usage: canon apps create NAME --scopes a,b [--rate N] | list | revoke NAME

Manages the apps that may call canon, in the store every gateway and subgraph service reads (DATABASE_URL, or
DATA_DIR/canon.sqlite). create prints the new app's key once.`,
};

/** What start-up says of the dev app: its key once, when it is made; afterwards only where it is kept. */
function devAppLine(dev: DevApp | null): string[] {
  if (!dev) return [];
  if (dev.status === 'created') return [`  dev key  ${dev.key}   (app "dev", every scope; shown once, kept in ${dev.file})`];
  if (dev.status === 'reused') return [`  dev key  in ${dev.file}   (app "dev", every scope)`];
  return [`  dev key  none: ${dev.reason}`];
}

function describe(what: string, service: Service): string[] {
  const front = service.gateway.url;
  return [
    what === 'control' ? `canon control subgraph  ${front}/graphql   (health: ${front}/health)` : `canon gateway  ${front}/graphql   (health: ${front}/health)`,
    ...Object.entries(service.subgraphs).map(([n, s]) => `  subgraph ${n.padEnd(10)} ${s.url}`),
    ...Object.entries(service.systems).map(([n, s]) => `  system   ${n.padEnd(10)} ${s!.url}   (admin: ${s!.url}/_admin/stats)`),
    `  data     ${service.config.dataDir}`,
    ...devAppLine(service.devApp),
  ];
}

/** Keeps the process up until SIGINT or SIGTERM, then closes what it started, once. */
function untilStopped(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping canon…`);
    await close();
    // Spans still batched for the OTLP exporter leave before the process does.
    await (await telemetry()).stopTelemetry();
    console.log('canon stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** A usage error: what was wrong and what is accepted, on stderr, exit 2. */
function usageError(message: string): never {
  console.error(`canon: ${message}\nRun canon --help for the commands.`);
  process.exit(2);
}

/** Runs an existing command-line module (seed, compose) with `args` as its own arguments. */
async function delegate(module: string, args: string[]): Promise<void> {
  process.argv = [process.argv[0]!, module, ...args];
  await import(module);
}

async function serve(command: string, args: string[], config: CanonConfig): Promise<void> {
  if (command === 'start' || command === 'gateway') {
    if (args.length) usageError(`canon ${command} takes no arguments; got ${args.join(' ')}`);
    const service = await (await stack()).startService(config, 'gateway');
    console.log(describe(command, service).join('\n'));
    return untilStopped(() => service.close());
  }
  const name = args[0];
  if (args.length !== 1) usageError(`canon ${command} takes one name: ${command === 'subgraph' ? SUBGRAPH_NAMES.join(', ') : SYSTEMS.join(', ')}`);
  if (command === 'sandbox') {
    if (!(SYSTEMS as readonly string[]).includes(name!)) usageError(`unknown system "${name}" for canon sandbox; one of ${SYSTEMS.join(', ')}`);
    const sandbox = await (await services()).startSandboxService(config, name as SystemName);
    console.log(`canon sandbox ${name}  ${sandbox.url}   (admin: ${sandbox.url}/_admin/stats)`);
    return untilStopped(() => sandbox.close());
  }
  if (!(SUBGRAPH_NAMES as readonly string[]).includes(name!)) usageError(`unknown subgraph "${name}" for canon subgraph; one of ${SUBGRAPH_NAMES.join(', ')}`);
  if ((name as SubgraphName) === 'control') {
    const service = await (await stack()).startService(config, 'control');
    console.log(describe('control', service).join('\n'));
    return untilStopped(() => service.close());
  }
  const part = await (await services()).startSubgraphService(config, name as Owner);
  console.log(`canon subgraph ${name}  ${part.url}   (health: ${part.url.replace(/\/graphql$/, '/health')})`);
  return untilStopped(() => part.close());
}

export async function runCanon(argv: string[]): Promise<void> {
  const [command = '', ...args] = argv;
  if (command === '' || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP[args[0] ?? ''] ?? HELP['']);
    return;
  }
  if (command === 'seed') return delegate(new URL('../../subgraphs/sandbox-kit/seed-cli.ts', import.meta.url).href, args);
  if (command === 'compose') return delegate(new URL('../federation/compose-cli.ts', import.meta.url).href, args);
  if (command === 'apps' && (args.includes('--help') || args.includes('-h'))) {
    console.log(HELP.apps);
    return;
  }
  if (command === 'apps') return delegate(new URL('../security/apps-cli.ts', import.meta.url).href, args);
  if (!HELP[command]) usageError(`unknown command "${command}"; one of start, gateway, subgraph, sandbox, seed, compose, apps`);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP[command]);
    return;
  }
  let config: CanonConfig;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(`canon ${command}: ${(e as Error).message}`);
    process.exit(1);
  }
  try {
    await serve(command, args, config);
  } catch (e) {
    if (e instanceof (await import('../http/errors.js')).CompositionError) {
      console.error(e.message);
      process.exit(2);
    }
    console.error(`canon ${[command, ...args].join(' ')} failed to start: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}
