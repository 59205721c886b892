// The bench's systems process: the four sandbox systems on freshly seeded data, in a process of their own, as real source systems would be.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { startCrmSandbox } from '../../subgraphs/crm/sandbox/index.js';
import { startErpSandbox } from '../../subgraphs/erp/sandbox/index.js';
import { startMarketingSandbox } from '../../subgraphs/marketing/sandbox/index.js';
import { startSupportSandbox } from '../../subgraphs/support/sandbox/index.js';
import type { RunningSandbox } from '../../subgraphs/sandbox-kit/server.js';
import { seedAll } from '../../subgraphs/sandbox-kit/seed.js';
import { exitWhenParentSays, tellParent } from './protocol.js';

const starters = { crm: startCrmSandbox, erp: startErpSandbox, marketing: startMarketingSandbox, support: startSupportSandbox };

// Fresh data per bench: writes change names, and runs should start from the same seeded state.
// 2000 customers so that `customers(first: 1000)` is a real page.
const dataDir = mkdtempSync(join(tmpdir(), 'canon-bench-'));
try {
  seedAll(dataDir, { seed: 1, size: Number(process.env.BENCH_SEED_SIZE ?? 2000) });
  const running: RunningSandbox[] = [];
  for (const s of SYSTEMS) running.push(await starters[s]({ file: join(dataDir, `${s}.sqlite`) }));
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
