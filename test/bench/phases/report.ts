// Bench phase 7: the report. Checks the targets, writes the results as JSON and an SVG chart under bench-results/, and prints the tables.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stamp } from '../load.js';
import { root, type BenchOptions } from '../options.js';
import { formatSummary, type ProfileSummary } from '../profile.js';
import { fmt, renderTable, type BenchResults, type ContenderName, type Ratios, type ReadTable, type Target } from '../report.js';
import { renderSvg } from '../svg.js';

export interface Measured {
  skipped: Partial<Record<ContenderName, string>>;
  varied: ReadTable;
  /** Absent with --varied-only, as are the critical path, page sizes and writes. */
  identical?: ReadTable;
  criticalPath?: BenchResults['criticalPath'];
  pageSizes?: BenchResults['pageSizes'];
  writes?: BenchResults['writes'];
  elapsedSeconds: number;
  profile?: { gateway: ProfileSummary; subgraphs: ProfileSummary };
}

/** The targets (issue 15), each a median of per-round ratios measured in this run. */
const LIMITS = {
  cpuVsApollo: 0.5,
  cpuVsHive: 0.4,
  rpsVsApollo: 1.25,
  rpsVsHive: 1.25,
  writesVsDirect: 0.5,
  queuedVsRealtime: 2,
  criticalPath: 1.15,
  rssVsApollo: 1.0,
  quickSeconds: 120,
  fullSeconds: 480,
};

/** What bounds canon's varied throughput, when something does: said beside the throughput targets. */
function boundNote(varied: ReadTable): string | undefined {
  const canon = varied.summaries.find((s) => s.contender === 'canon');
  if (!canon) return undefined;
  if (canon.saturated.processes.includes('subgraphs'))
    return `the subgraph process saturates in canon's runs (${fmt(canon.processes.subgraphs.cores)} cores): this throughput is the subgraphs' bound, not a gateway ratio; see gateway cpu/req`;
  if (canon.saturated.machine) return `the machine saturates in canon's runs (${fmt(canon.machineCores)} cores busy): throughput follows all processes' CPU per request together`;
  return undefined;
}

/** The targets canon is held to, each `[met]` or `[NOT MET]`; a contender not measured fails its target with a note. */
function targets(m: Measured, opts: BenchOptions): Target[] {
  const ratio = (other: ContenderName, key: keyof Ratios, name: string, limit: number, atMost: boolean, note?: string): Target => {
    const r = m.varied.ratios[other];
    if (!r) return { name, value: NaN, limit, met: false, note: m.skipped[other] ?? 'not measured' };
    const value = r[key];
    return { name, value, limit, met: atMost ? value <= limit : value >= limit, ...(note ? { note } : {}) };
  };
  const bound = boundNote(m.varied);
  const reads = [
    ratio('apollo', 'cpuMsPerRequest', `varied: canon gateway CPU/request ≤ ${LIMITS.cpuVsApollo} × apollo`, LIMITS.cpuVsApollo, true),
    ratio('hive', 'cpuMsPerRequest', `varied: canon gateway CPU/request ≤ ${LIMITS.cpuVsHive} × hive`, LIMITS.cpuVsHive, true),
    ratio('apollo', 'rps', `varied: canon throughput ≥ ${LIMITS.rpsVsApollo} × apollo`, LIMITS.rpsVsApollo, false, bound),
    ratio('hive', 'rps', `varied: canon throughput ≥ ${LIMITS.rpsVsHive} × hive`, LIMITS.rpsVsHive, false, bound),
    ratio('apollo', 'rssMiB', `varied: canon RSS ≤ ${LIMITS.rssVsApollo} × apollo`, LIMITS.rssVsApollo, true),
  ];
  const later: Target[] = [];
  if (m.writes) {
    later.push(
      { name: `writes: canon updateCustomer + Idempotency-Key, realtime, ≥ ${LIMITS.writesVsDirect} × the CRM subgraph direct`, value: m.writes.ratio, limit: LIMITS.writesVsDirect, met: m.writes.ratio >= LIMITS.writesVsDirect },
      queuedTarget(m.writes),
    );
  }
  if (m.criticalPath) later.push({ name: `critical-path ratio ≤ ${LIMITS.criticalPath}`, value: m.criticalPath.ratio, limit: LIMITS.criticalPath, met: m.criticalPath.ratio <= LIMITS.criticalPath });
  if (m.pageSizes) {
    const perSystem = m.pageSizes.flatMap((p) => Object.values(p.systemRequestsPerQuery));
    const nodedup = m.pageSizes[0]?.contender === 'canon-nodedup';
    later.push({
      name: `one request per system per query at every page size, dedup off`,
      value: Math.max(...perSystem),
      limit: 1,
      met: nodedup && perSystem.every((v) => v === 1),
      ...(nodedup ? {} : { note: 'measured with dedup on: canon-nodedup did not run' }),
    });
  }
  const time: Target = opts.quick
    ? { name: `--quick under ${LIMITS.quickSeconds} s`, value: m.elapsedSeconds, limit: LIMITS.quickSeconds, met: m.elapsedSeconds < LIMITS.quickSeconds, note: 'contender installation excluded' }
    : { name: `full run under ${LIMITS.fullSeconds} s`, value: m.elapsedSeconds, limit: LIMITS.fullSeconds, met: m.elapsedSeconds < LIMITS.fullSeconds, note: 'contender installation excluded' };
  return [...reads, ...later, ...(opts.variedOnly ? [] : [time])];
}

export function report(started: Date, opts: BenchOptions, m: Measured): void {
  const results: BenchResults = {
    startedAt: started.toISOString(),
    node: process.version,
    machine: { cpus: cpus().length },
    options: opts as unknown as Record<string, unknown>,
    skipped: m.skipped,
    varied: m.varied,
    identical: m.identical,
    criticalPath: m.criticalPath,
    pageSizes: m.pageSizes,
    writes: m.writes,
    elapsedSeconds: Math.round(m.elapsedSeconds),
    targets: targets(m, opts),
    profile: m.profile,
  };
  const outDir = join(root, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `bench-${stamp(started)}`);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
  writeFileSync(`${base}.svg`, renderSvg(results));
  console.log(renderTable(results));
  if (m.profile) for (const [who, p] of Object.entries(m.profile)) console.log(`\n${who}: ${formatSummary(p)}`);
  console.log(`\nresults: ${base}.json\nchart:   ${base}.svg`);
}

/** Queued mode's answer rate against realtime's, from the write rows measured side by side; NOT MET with the reason when absent. */
function queuedTarget(w: NonNullable<BenchResults['writes']>): Target {
  const name = `writes: queued mode's answer ≥ ${LIMITS.queuedVsRealtime} × realtime throughput`;
  if (!w.queued || !(w.canon.rps > 0)) return { name, value: NaN, limit: LIMITS.queuedVsRealtime, met: false, note: 'not measured' };
  const value = w.queued.rps / w.canon.rps;
  return { name, value, limit: LIMITS.queuedVsRealtime, met: value >= LIMITS.queuedVsRealtime, note: `${Math.round(w.queued.doneRps)}/s written by the queue` };
}
