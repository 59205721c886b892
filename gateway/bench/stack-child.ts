// The bench's stack process: canon's sandboxes and subgraphs, started once through canon's own startStack and kept up for every contender.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../config.js';
import { startStack } from '../stack.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { exitWhenParentSays, tellParent } from './protocol.js';

// Fresh data per bench: writes change names, and runs should start from the same seeded state.
// 2000 customers so that `customers(first: 1000)` is a real page.
const dataDir = mkdtempSync(join(tmpdir(), 'canon-bench-'));
try {
  const config = testConfig(dataDir, { seedSize: Number(process.env.BENCH_SEED_SIZE ?? 2000) });
  const stack = await startStack(config);
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
  exitWhenParentSays(async () => {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
} catch (e) {
  rmSync(dataDir, { recursive: true, force: true });
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
