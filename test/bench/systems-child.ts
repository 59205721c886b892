// The bench's systems process: the four sandbox systems on freshly seeded data, in a process of their own, as real source systems would be.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import type { RunningSandbox } from '../../subgraphs/sandbox-kit/server.js';
import { seedAll } from '../../subgraphs/sandbox-kit/seed.js';
import { loadOrCreateSandboxCredentials } from '../../subgraphs/sandbox-kit/credentials.js';
import { startSandboxIn } from '../../subgraphs/sandbox-kit/sandboxes.js';
import { exitWhenParentSays, tellParent } from './protocol.js';

// Fresh data per bench: writes change names, and runs should start from the same seeded state.
// 2000 customers so that `customers(first: 1000)` is a real page.
const dataDir = mkdtempSync(join(tmpdir(), 'canon-bench-'));
try {
  seedAll(dataDir, { seed: 1, size: Number(process.env.BENCH_SEED_SIZE ?? 2000) });
  // Written into the data directory the stack child also opens, so canon's connectors present the same credentials.
  const credentials = loadOrCreateSandboxCredentials(dataDir);
  const running: RunningSandbox[] = [];
  for (const s of SYSTEMS) running.push(await startSandboxIn(s, dataDir, credentials));
  tellParent({ kind: 'systems-ready', systems: Object.fromEntries(running.map((r, i) => [SYSTEMS[i], r.url])) as Record<SystemName, string>, dataDir });
  exitWhenParentSays(async () => {
    await Promise.all(running.map((r) => r.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });
} catch (e) {
  rmSync(dataDir, { recursive: true, force: true });
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
