// Bench phase 3: gateway overhead on reads. Every live contender under the same load, interleaved round by round, compared to canon by ratios within each round; also profiling canon under that load.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../../../schema/model.js';
import { sampleProc, type Child } from '../children.js';
import { admin, load, log, median, round, stamp, sleep, subgraphAdmin } from '../load.js';
import { root, type BenchOptions } from '../options.js';
import { summarizeProfile, type ProfileSummary } from '../profile.js';
import type { GatewayReady, StackReady } from '../protocol.js';
import { OVERHEAD_QUERY } from '../queries.js';
import type { BenchResults, ContenderName, LoadRun, Summary } from '../report.js';
import type { Contender } from './start.js';

export interface ReadResults {
  runs: LoadRun[];
  summaries: Summary[];
  ratios: BenchResults['ratios'];
}

/** One timed load of the overhead query against `g`, with its CPU, memory and what the subgraphs received per request. */
async function overheadRun(stack: StackReady, name: ContenderName, g: Child<GatewayReady>, opts: BenchOptions, duration: number): Promise<LoadRun> {
  const subgraphNames = Object.keys(stack.subgraphs) as (SystemName | 'identity')[];
  await Promise.all(subgraphNames.map((n) => admin(subgraphAdmin(stack.subgraphs[n]), 'DELETE')));
  const before = sampleProc(g.pid);
  const r = await load({ url: g.ready.url, connections: opts.connections, duration, body: JSON.stringify({ query: OVERHEAD_QUERY }) });
  const after = sampleProc(g.pid);
  // Let the requests cut off by the deadline finish, so every sent request's subgraph calls are counted.
  await sleep(Math.min(3000, Math.max(200, 2 * r.p99)));
  const stats = await Promise.all(subgraphNames.map(async (n) => [n, ((await admin(subgraphAdmin(stack.subgraphs[n]), 'GET')) as { requests: number }).requests] as const));
  const subgraphRequests = stats.reduce((a, [, n]) => a + n, 0);
  return {
    contender: name,
    ...r,
    p50: r.p50,
    cpuMsPerRequest: (after.cpuMs - before.cpuMs) / Math.max(1, r.requests),
    cpuUtilisation: (after.cpuMs - before.cpuMs) / (duration * 1000),
    rssMiB: after.rssMiB,
    peakRssMiB: after.peakRssMiB,
    subgraphRequestsPerRequest: subgraphRequests / Math.max(1, r.sent),
    subgraphRequestsBySubgraph: Object.fromEntries(stats.map(([n, k]) => [n, round(k / Math.max(1, r.sent), 3)])),
  };
}

/** Medians over the rounds of one contender's runs. */
function summarize(c: Contender, runs: LoadRun[], sameAnswer: Partial<Record<ContenderName, boolean>>): Summary {
  const mine = runs.filter((r) => r.contender === c.name);
  const m = (k: keyof LoadRun) => median(mine.map((r) => r[k] as number));
  return {
    contender: c.name,
    label: c.label,
    rps: round(m('rps'), 1),
    p50: m('p50'),
    p99: m('p99'),
    cpuMsPerRequest: round(m('cpuMsPerRequest'), 3),
    cpuUtilisation: round(m('cpuUtilisation'), 2),
    rssMiB: round(m('rssMiB'), 1),
    peakRssMiB: round(m('peakRssMiB'), 1),
    subgraphRequestsPerRequest: round(m('subgraphRequestsPerRequest'), 3),
    non2xx: mine.reduce((a, r) => a + r.non2xx + r.errors, 0),
    graphqlErrors: mine.reduce((a, r) => a + r.graphqlErrors, 0),
    sameAnswerAsCanon: sameAnswer[c.name] ?? false,
  };
}

/** canon's figure over `other`'s, per round, median over rounds: both runs of a pair saw the same machine state. */
function ratio(runs: LoadRun[], rounds: number, other: ContenderName, key: 'rps' | 'cpuMsPerRequest' | 'p50' | 'p99' | 'rssMiB'): number {
  const per: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = runs.find((r) => r.round === i && r.contender === 'canon');
    const b = runs.find((r) => r.round === i && r.contender === other);
    if (a && b) per.push((a[key] as number) / (b[key] as number));
  }
  return round(median(per), 3);
}

/** Warms every live contender up, then runs rounds of A B C D so that drift over time cancels out of the ratios. */
export async function measureReads(stack: StackReady, live: Contender[], gateways: Map<ContenderName, Child<GatewayReady>>, sameAnswer: Partial<Record<ContenderName, boolean>>, opts: BenchOptions): Promise<ReadResults> {
  const run = (name: ContenderName, duration: number) => overheadRun(stack, name, gateways.get(name)!, opts, duration);
  log(`overhead: warm-up ${opts.warmup}s per contender …`);
  for (const c of live) await run(c.name, opts.warmup);
  const runs: LoadRun[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    for (const c of live) {
      const r = await run(c.name, opts.duration);
      runs.push({ ...r, round: i });
      log(`  round ${i + 1}/${opts.rounds} ${c.name.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  cpu ${r.cpuMsPerRequest.toFixed(2)} ms/req`);
    }
  }
  const summaries = live.map((c) => summarize(c, runs, sameAnswer));
  const ratios = Object.fromEntries(
    live
      .filter((c) => c.name !== 'canon')
      .map((c) => [c.name, { rps: ratio(runs, opts.rounds, c.name, 'rps'), cpuMsPerRequest: ratio(runs, opts.rounds, c.name, 'cpuMsPerRequest'), p50: ratio(runs, opts.rounds, c.name, 'p50'), p99: ratio(runs, opts.rounds, c.name, 'p99'), rssMiB: ratio(runs, opts.rounds, c.name, 'rssMiB') }]),
  ) as BenchResults['ratios'];
  return { runs, summaries, ratios };
}

/** Where canon's CPU goes: canon is warm from the phases before; the profiler runs only while the overhead query is under load. */
export async function profileReads(canon: Child<GatewayReady>, opts: BenchOptions, started: Date): Promise<ProfileSummary> {
  log('profiling canon under the overhead load …');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const file = join(root, 'bench-results', `canon-${stamp(started)}.cpuprofile`);
  await canon.profile(file, () => load({ url: canon.ready.url, connections: opts.connections, duration: opts.duration * 2, body: JSON.stringify({ query: OVERHEAD_QUERY }) }));
  return summarizeProfile(file, 25);
}
