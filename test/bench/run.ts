// `npm run bench`: starts canon's stack once, then measures canon's gateway against plain Apollo Gateway and Hive Gateway,
// each in its own process, interleaved run by run; prints ratios and targets, writes JSON and an SVG chart.
//
// Terms used here:
//   contender — one gateway under test, in its own child process (canon, canon-nodedup, apollo, hive, hive-nodedup).
//   workload  — what the contenders are loaded with: the varied mix (mix.ts, the headline), then the identical query
//               (what in-flight dedup adds).
//   run       — one fixed-duration autocannon load against one contender; rounds run A B C D E, then E D C B A, so drift cancels.
//   ratio     — canon's figure over the contender's, taken within each round and then the median over rounds.
//
// Flags: --quick (smoke check, under two minutes), --profile (also profile canon's gateway under the mix, V8
// profiler), --rounds N, --duration S, --connections N, --contenders canon,apollo (a subset), --baseline DIR (also
// canon from another checkout, as canon-baseline), --varied-only (only the varied table: A/B work on the gateway),
// --side-by-side (the contenders of a round loaded at once, for steadier CPU ratios in A/B work), --writes-only (only
// the writes phase, against canon; with --profile, canon profiled under the realtime writes: A/B work on the write path),
// --database-url URL (canon's ledger, keys and workflows in that PostgreSQL, in schemas of the run's own, dropped after).
//
// The phases, in order, each in phases/: start the stack and the contenders (start.ts), check that every contender
// answers as canon does (answers.ts), measure reads under each workload (reads.ts), the critical path
// (critical-path.ts), page-size scaling (page-sizes.ts), writes (writes.ts), and report (report.ts).

import { performance } from 'node:perf_hooks';
import type { Child } from './children.js';
import { post } from './load.js';
import { everyShape, readPopulation } from './mix.js';
import { readOptions } from './options.js';
import { compareAnswers } from './phases/answers.js';
import { measureCriticalPath } from './phases/critical-path.js';
import { measurePageSizes } from './phases/page-sizes.js';
import { identicalWorkload, measureReads, MIX_SEED, profileReads, variedWorkload } from './phases/reads.js';
import { report, type Measured } from './phases/report.js';
import { ensureContenders, startContenders, startStack } from './phases/start.js';
import { measureWrites, profileWrites } from './phases/writes.js';
import { formatSummary } from './profile.js';
import type { GatewayReady } from './protocol.js';
import { OVERHEAD_QUERY } from './queries.js';
import { writeTable, type ContenderName, type ReadTable } from './report.js';

async function main(): Promise<void> {
  const opts = readOptions(process.argv.slice(2));
  const started = new Date();
  const installProblem = ensureContenders();
  const t0 = performance.now();
  const stack = await startStack();
  // Every contender that starts goes in here at once, so the finally below stops it whatever fails later.
  const gateways = new Map<ContenderName, Child<GatewayReady>>();
  try {
    const { canon, live, skipped } = await startContenders(stack.ready, opts, installProblem, gateways);
    if (opts.writesOnly) {
      const writes = await measureWrites(stack, canon, opts);
      console.log(writeTable(writes).join('\n'));
      if (opts.profile) console.log(`\n${formatSummary(await profileWrites(canon, opts, started))}`);
      return;
    }
    const population = await readPopulation((body) => post(canon.ready.url, body));
    const varied = variedWorkload(population);
    const variedAnswers = await compareAnswers(gateways, everyShape(population, MIX_SEED, 2));
    const variedTable = await measureReads(stack, live, gateways, varied, variedAnswers, opts, true);
    let identicalTable: ReadTable | undefined;
    if (!opts.variedOnly) {
      const identicalAnswers = await compareAnswers(gateways, [{ shape: 'identical', body: JSON.stringify({ query: OVERHEAD_QUERY }) }]);
      identicalTable = await measureReads(stack, live, gateways, identicalWorkload(), identicalAnswers, opts, false);
    }
    // The other gateways are idle from here on; stopping them gives canon the machine for the remaining phases.
    await Promise.all([...gateways].filter(([n]) => n !== 'canon' && n !== 'canon-nodedup').map(([, g]) => g.stop()));
    const nodedup = gateways.get('canon-nodedup');
    let later: Pick<Measured, 'identical' | 'criticalPath' | 'pageSizes' | 'writes'> = { identical: identicalTable };
    if (!opts.variedOnly) {
      const criticalPath = await measureCriticalPath(stack.ready, canon, opts.quick);
      const pageSizes = await measurePageSizes(stack.ready, nodedup ? 'canon-nodedup' : 'canon', nodedup ?? canon, opts.quick);
      await nodedup?.stop();
      later = { ...later, criticalPath, pageSizes, writes: await measureWrites(stack, canon, opts) };
    }
    const profile = opts.profile ? await profileReads(canon, stack.subgraphs, varied, opts, started) : undefined;
    const elapsedSeconds = (performance.now() - t0) / 1000;
    report(started, opts, { skipped, varied: variedTable, ...later, elapsedSeconds, profile });
  } finally {
    await Promise.all([...gateways.values()].map((g) => g.stop()));
    await stack.stop();
  }
}

await main();
