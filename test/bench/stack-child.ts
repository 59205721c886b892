// The bench's stack process: canon's subgraphs (and an idle gateway), started once through canon's own startStack against the systems child's systems.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig } from '../../gateway/config.js';
import { startStack } from '../../gateway/stack.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { childArgs, exitWhenParentSays, tellParent, type SystemsReady } from './protocol.js';

const { systems, dataDir } = childArgs<SystemsReady>();
try {
  // Logs at info, as `npm start` does (the bench sends this child's stdout nowhere): the subgraphs' logging is their cost.
  const stack = await startStack(testConfig(dataDir, { logLevel: 'info' }), { systems });
  // startStack also starts a canon gateway; it stays idle here. The measured canon runs in its own child (so its CPU
  // and memory are its own); this one is kept because startStack is the one way to get the subgraphs wired exactly
  // as canon wires them, and the supergraph it composed is what every contender serves.
  const supergraphFile = join(dataDir, 'supergraph.graphql');
  writeFileSync(supergraphFile, stack.gateway.supergraphSdl);
  tellParent({
    kind: 'stack-ready',
    systems: Object.fromEntries(SYSTEMS.map((s) => [s, stack.systems[s].url])) as Record<SystemName, string>,
    subgraphs: Object.fromEntries(Object.entries(stack.subgraphs).map(([n, s]) => [n, s.url])) as Record<SystemName | 'identity', string>,
    supergraphFile,
    dataDir,
  });
  exitWhenParentSays(() => stack.close());
} catch (e) {
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
