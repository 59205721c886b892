// `npm run bench`: starts canon's stack once, then measures canon's gateway against plain Apollo Gateway and Hive Gateway,
// each in its own process, interleaved run by run; prints ratios and targets, writes JSON and an SVG chart.
//
// Terms used here:
//   contender — one gateway under test, in its own child process (canon, apollo, hive, hive-nodedup).
//   run       — one fixed-duration autocannon load against one contender; rounds repeat A B C D so drift cancels.
//   ratio     — canon's figure over the contender's, taken within each round and then the median over rounds.
//
// Flags: --quick (smoke check, under a minute), --profile (also profile canon's gateway under load, V8 profiler),
// --rounds N, --duration S, --connections N, --contenders canon,apollo (a subset).
//
// The phases, in order, each in phases/: start the stack and the contenders (start.ts), measure reads (reads.ts),
// the critical path (critical-path.ts), page-size scaling (page-sizes.ts), writes (writes.ts), and report (report.ts).

import type { Child } from './children.js';
import { readOptions } from './options.js';
import { measureCriticalPath } from './phases/critical-path.js';
import { measurePageSizes } from './phases/page-sizes.js';
import { measureReads, profileReads } from './phases/reads.js';
import { report } from './phases/report.js';
import { ensureContenders, startContenders, startStack } from './phases/start.js';
import { measureWrites } from './phases/writes.js';
import type { GatewayReady } from './protocol.js';
import type { ContenderName } from './report.js';

async function main(): Promise<void> {
  const opts = readOptions(process.argv.slice(2));
  const started = new Date();
  const installProblem = ensureContenders();
  const stack = await startStack();
  // Every contender that starts goes in here at once, so the finally below stops it whatever fails later.
  const gateways = new Map<ContenderName, Child<GatewayReady>>();
  try {
    const { canon, live, skipped, sameAnswer } = await startContenders(stack.ready, opts, installProblem, gateways);
    const reads = await measureReads(stack.ready, live, gateways, sameAnswer, opts);
    // The other gateways are idle from here on; stopping them gives canon the machine for the remaining phases.
    await Promise.all([...gateways].filter(([n]) => n !== 'canon').map(([, g]) => g.stop()));
    const criticalPath = await measureCriticalPath(stack.ready, canon, opts.quick);
    const pageSizes = await measurePageSizes(stack.ready, canon, opts.quick);
    const writes = await measureWrites(stack.ready, canon, opts);
    const profile = opts.profile ? await profileReads(canon, opts, started) : undefined;
    report(started, opts, { ...reads, skipped, criticalPath, pageSizes, writes, profile });
  } finally {
    await Promise.all([...gateways.values()].map((g) => g.stop()));
    await stack.stop();
  }
}

await main();
