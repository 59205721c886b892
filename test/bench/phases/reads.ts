// Bench phase 3: reads. Every live contender under the same workload (the varied mix, then the identical query), interleaved round by round, compared to canon by ratios within each round; also profiling canon under the mix.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../../../schema/model.js';
import type { Child } from '../children.js';
import { admin, load, log, median, round, stamp, sleep, subgraphAdmin, type LoadSpec } from '../load.js';
import { ROLES, saturation, startMeter, type ProcessFigures, type Role } from '../meter.js';
import { mixStream, type Population } from '../mix.js';
import { root, type BenchOptions } from '../options.js';
import { summarizeProfile, type ProfileSummary } from '../profile.js';
import type { GatewayReady, StackReady } from '../protocol.js';
import { OVERHEAD_QUERY } from '../queries.js';
import type { Answers, ContenderName, LoadRun, Ratios, ReadTable, Summary } from '../report.js';
import type { Contender, RunningStack } from './start.js';

/** What a read table loads the contenders with. */
export interface Workload {
  name: ReadTable['workload'];
  description: string;
  /** The bodies of round `round` (-1: the warm-up): the same requests, in the same order, for every contender of a round. */
  bodies(round: number): LoadSpec['body'];
}

/** Seed of the mix's streams; round r uses MIX_SEED + r, so rounds differ from each other but not between contenders. */
export const MIX_SEED = 15;

export function variedWorkload(pop: Population): Workload {
  return {
    name: 'varied',
    description: `seeded mix, distinct variables on every request: customers(first: 20, after: <random cursor>), customer(id: <random>), customerBySourceId(<random system and native id>), each with fields of one, two or four systems (21 shapes; ${pop.ids.length} customers, ${pop.sourceIds.length} native ids)`,
    bodies(r) {
      const next = mixStream(pop, MIX_SEED + r + 1);
      return () => ({ body: next().body });
    },
  };
}

export function identicalWorkload(): Workload {
  const body = JSON.stringify({ query: OVERHEAD_QUERY });
  return { name: 'identical', description: `every request the same: ${OVERHEAD_QUERY}`, bodies: () => body };
}

/** One timed load against `g`, with each process's CPU and memory and what the subgraphs received per request. */
async function loadRun(stack: RunningStack, name: ContenderName, g: Child<GatewayReady>, opts: BenchOptions, duration: number, body: LoadSpec['body']): Promise<LoadRun> {
  const subgraphs = stack.ready.subgraphs;
  const subgraphNames = Object.keys(subgraphs) as (SystemName | 'identity')[];
  // Side by side, the subgraphs serve every contender at once: their counters are not one contender's.
  const count = !opts.sideBySide;
  if (count) await Promise.all(subgraphNames.map((n) => admin(subgraphAdmin(subgraphs[n]), 'DELETE')));
  const meter = startMeter({ gateway: g.pid, subgraphs: stack.pids.subgraphs, systems: stack.pids.systems });
  const r = await load({ url: g.ready.url, connections: opts.connections, duration, body });
  const metered = meter.stop(r.requests);
  // Let the requests cut off by the deadline finish, so every sent request's subgraph calls are counted (--quick
  // waits at most a second: its counts are a smoke check, and its time is budgeted).
  await sleep(Math.min(opts.quick ? 1000 : 3000, Math.max(200, 2 * r.p99)));
  const stats = count ? await Promise.all(subgraphNames.map(async (n) => [n, ((await admin(subgraphAdmin(subgraphs[n]), 'GET')) as { requests: number }).requests] as const)) : [];
  const subgraphRequests = stats.reduce((a, [, n]) => a + n, 0);
  return {
    contender: name,
    ...r,
    ...metered,
    subgraphRequestsPerRequest: subgraphRequests / Math.max(1, r.sent),
    subgraphRequestsBySubgraph: Object.fromEntries(stats.map(([n, k]) => [n, round(k / Math.max(1, r.sent), 3)])),
  };
}

/** One process's figures, each the median over `runs`. */
function medianFigures(runs: LoadRun[], role: Role): ProcessFigures {
  const m = (k: keyof ProcessFigures, digits: number) => round(median(runs.map((r) => r.processes[role][k])), digits);
  return { cpuMsPerRequest: m('cpuMsPerRequest', 3), cores: m('cores', 2), rssMiB: m('rssMiB', 1), peakRssMiB: m('peakRssMiB', 1) };
}

/** Medians over the rounds of one contender's runs. */
function summarize(c: Contender, runs: LoadRun[], answers: Partial<Record<ContenderName, Answers>>): Summary {
  const mine = runs.filter((r) => r.contender === c.name);
  const m = (f: (r: LoadRun) => number) => median(mine.map(f));
  const processes = Object.fromEntries(ROLES.map((role) => [role, medianFigures(mine, role)])) as Record<Role, ProcessFigures>;
  const machineCores = round(m((r) => r.machineCores), 2);
  return {
    contender: c.name,
    label: c.label,
    rps: round(m((r) => r.rps), 1),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    processes,
    machineCores,
    saturated: saturation(Object.fromEntries(ROLES.map((role) => [role, processes[role].cores])) as Record<Role, number>, machineCores),
    subgraphRequestsPerRequest: round(m((r) => r.subgraphRequestsPerRequest), 3),
    non2xx: mine.reduce((a, r) => a + r.non2xx + r.errors, 0),
    graphqlErrors: mine.reduce((a, r) => a + r.graphqlErrors, 0),
    answers: answers[c.name] ?? { same: 0, of: 0, differing: ['not checked'] },
  };
}

/** canon's figure over `other`'s, per round, median over rounds: both runs of a pair saw the same machine state. */
function ratio(runs: LoadRun[], rounds: number, other: ContenderName, figure: (r: LoadRun) => number): number {
  const per: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = runs.find((r) => r.round === i && r.contender === 'canon');
    const b = runs.find((r) => r.round === i && r.contender === other);
    if (a && b) per.push(figure(a) / figure(b));
  }
  return round(median(per), 3);
}

/**
 * Runs rounds of A B C D, D C B A, … so that drift and order cancel out of the ratios, after a warm-up per contender when
 * `warmUp` (the first table warms every contender for both).
 */
export async function measureReads(
  stack: RunningStack,
  live: Contender[],
  gateways: Map<ContenderName, Child<GatewayReady>>,
  workload: Workload,
  answers: Partial<Record<ContenderName, Answers>>,
  opts: BenchOptions,
  warmUp: boolean,
): Promise<ReadTable> {
  const run = (name: ContenderName, duration: number, r: number) => loadRun(stack, name, gateways.get(name)!, opts, duration, workload.bodies(r));
  log(`reads, ${workload.name}${warmUp ? `: warm-up ${opts.warmup}s per contender` : ''} …`);
  if (warmUp) for (const c of live) await run(c.name, opts.warmup, -1);
  const runs: LoadRun[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    // A B C D, then D C B A: whatever favours a place in the order (what ran just before, the machine's drift)
    // falls on every contender alike.
    const order = i % 2 ? [...live].reverse() : live;
    const results: [Contender, LoadRun][] = [];
    if (opts.sideBySide) {
      const all = await Promise.all(order.map((c) => run(c.name, opts.duration, i)));
      order.forEach((c, k) => results.push([c, all[k]!]));
    } else {
      for (const c of order) results.push([c, await run(c.name, opts.duration, i)]);
    }
    for (const [c, r] of results) {
      runs.push({ ...r, round: i });
      const p = r.processes;
      log(
        `  ${workload.name} ${i + 1}/${opts.rounds} ${c.name.padEnd(13)} ${r.rps.toFixed(0).padStart(5)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  cpu ms/req gateway ${p.gateway.cpuMsPerRequest.toFixed(2)} subgraphs ${p.subgraphs.cpuMsPerRequest.toFixed(2)} systems ${p.systems.cpuMsPerRequest.toFixed(2)}  cores ${p.gateway.cores.toFixed(2)}/${p.subgraphs.cores.toFixed(2)}/${p.systems.cores.toFixed(2)} machine ${r.machineCores.toFixed(2)}`,
      );
    }
  }
  const summaries = live.map((c) => summarize(c, runs, answers));
  const ratios = Object.fromEntries(
    live
      .filter((c) => c.name !== 'canon')
      .map((c): [ContenderName, Ratios] => [
        c.name,
        {
          rps: ratio(runs, opts.rounds, c.name, (r) => r.rps),
          cpuMsPerRequest: ratio(runs, opts.rounds, c.name, (r) => r.processes.gateway.cpuMsPerRequest),
          totalCpuMsPerRequest: ratio(runs, opts.rounds, c.name, (r) => r.processes.gateway.cpuMsPerRequest + r.processes.subgraphs.cpuMsPerRequest + r.processes.systems.cpuMsPerRequest),
          p50: ratio(runs, opts.rounds, c.name, (r) => r.p50),
          p99: ratio(runs, opts.rounds, c.name, (r) => r.p99),
          rssMiB: ratio(runs, opts.rounds, c.name, (r) => r.processes.gateway.rssMiB),
        },
      ]),
  );
  return { workload: workload.name, description: workload.description, summaries, ratios, runs };
}

/**
 * Where canon's CPU goes, in its gateway and in its subgraphs' process, profiled together under one run of `workload`
 * (canon is warm from the phases before; the profilers run only while the load does).
 */
export async function profileReads(canon: Child<GatewayReady>, subgraphs: Child<StackReady>, workload: Workload, opts: BenchOptions, started: Date): Promise<{ gateway: ProfileSummary; subgraphs: ProfileSummary }> {
  log(`profiling canon's gateway and subgraphs under the ${workload.name} load …`);
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const file = (who: string) => join(root, 'bench-results', `canon-${who}-${workload.name}-${stamp(started)}.cpuprofile`);
  const [gw, sg] = [file('gateway'), file('subgraphs')];
  await canon.profile(gw, () => subgraphs.profile(sg, () => load({ url: canon.ready.url, connections: opts.connections, duration: opts.duration * 2, body: workload.bodies(100) })));
  return { gateway: summarizeProfile(gw, 25), subgraphs: summarizeProfile(sg, 25) };
}
