// `npm start`: the whole stack on loopback, stopped cleanly on Ctrl-C.

import { loadConfig } from './config.js';
import { CompositionError } from './http/errors.js';
import { startStack } from './stack.js';
import { stopTelemetry } from '../subgraphs/kit/telemetry.js';
import type { DevApp } from './security/apps.js';

/** What start-up says of the dev app: its key once, when it is made; afterwards only where it is kept. */
function devAppLine(dev: DevApp | null): string[] {
  if (!dev) return [];
  if (dev.status === 'created') return [`  dev key  ${dev.key}   (app "dev", every scope; shown once, kept in ${dev.file})`];
  if (dev.status === 'reused') return [`  dev key  in ${dev.file}   (app "dev", every scope)`];
  return [`  dev key  none: ${dev.reason}`];
}

const config = loadConfig();
try {
  const stack = await startStack(config);
  const lines = [
    `canon gateway  ${stack.gateway.url}/graphql   (health: ${stack.gateway.url}/health)`,
    ...Object.entries(stack.subgraphs).map(([n, s]) => `  subgraph ${n.padEnd(10)} ${s.url}`),
    ...Object.entries(stack.systems).map(([n, s]) => `  system   ${n.padEnd(10)} ${s.url}   (admin: ${s.url}/_admin/stats)`),
    `  data     ${config.dataDir}`,
    ...devAppLine(stack.devApp),
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping canon…`);
    await stack.close();
    // Spans still batched for the OTLP exporter leave before the process does.
    await stopTelemetry();
    console.log('canon stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (e) {
  if (e instanceof CompositionError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(`canon failed to start: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
