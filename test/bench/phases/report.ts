// Bench phase 7: the report. Checks the targets, writes the results as JSON and an SVG chart under bench-results/, and prints the table.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stamp } from '../load.js';
import { root, type BenchOptions } from '../options.js';
import { formatSummary, type ProfileSummary } from '../profile.js';
import { OVERHEAD_QUERY } from '../queries.js';
import { renderSvg, renderTable, type BenchResults, type ContenderName, type Target } from '../report.js';
import type { ReadResults } from './reads.js';

export interface Measured extends ReadResults {
  skipped: Partial<Record<ContenderName, string>>;
  criticalPath: BenchResults['criticalPath'];
  pageSizes: BenchResults['pageSizes'];
  writes: BenchResults['writes'];
  profile?: ProfileSummary;
}

/** The targets canon is held to, each `[met]` or `[NOT MET]` in the table; a contender not measured fails its target with a note. */
function targets(m: Measured): Target[] {
  const { ratios, skipped } = m;
  const rpsTarget = (other: ContenderName, min: number): Target =>
    ratios[other] ? { name: `canon throughput ≥ ${min} × ${other}`, value: ratios[other]!.rps, limit: min, met: ratios[other]!.rps >= min } : { name: `canon throughput ≥ ${min} × ${other}`, value: NaN, limit: min, met: false, note: skipped[other] ?? 'not measured' };
  return [
    rpsTarget('apollo', 1.25),
    rpsTarget('hive', 1.0),
    ratios.apollo
      ? { name: 'canon CPU/request ≤ 0.8 × apollo', value: ratios.apollo.cpuMsPerRequest, limit: 0.8, met: ratios.apollo.cpuMsPerRequest <= 0.8 }
      : { name: 'canon CPU/request ≤ 0.8 × apollo', value: NaN, limit: 0.8, met: false, note: skipped.apollo ?? 'not measured' },
    { name: 'critical-path ratio ≤ 1.3', value: m.criticalPath.ratio, limit: 1.3, met: m.criticalPath.ratio <= 1.3 },
    {
      name: 'one request per system per query at every page size',
      value: Math.max(...m.pageSizes.flatMap((p) => Object.values(p.systemRequestsPerQuery))),
      limit: 1,
      met: m.pageSizes.every((p) => Object.values(p.systemRequestsPerQuery).every((v) => v <= 1)),
    },
  ];
}

export function report(started: Date, opts: BenchOptions, m: Measured): void {
  const results: BenchResults = {
    startedAt: started.toISOString(),
    node: process.version,
    machine: { cpus: cpus().length },
    options: opts as unknown as Record<string, unknown>,
    query: OVERHEAD_QUERY,
    skipped: m.skipped,
    summaries: m.summaries,
    ratios: m.ratios,
    runs: m.runs,
    criticalPath: m.criticalPath,
    pageSizes: m.pageSizes,
    writes: m.writes,
    targets: targets(m),
    profile: m.profile,
  };
  const outDir = join(root, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `bench-${stamp(started)}`);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
  writeFileSync(`${base}.svg`, renderSvg(results));
  console.log(renderTable(results));
  if (m.profile) console.log(`\n${formatSummary(m.profile)}`);
  console.log(`\nresults: ${base}.json\nchart:   ${base}.svg`);
}
