// The bench's results: their shape and the tables printed on stdout (the SVG chart is in svg.ts).

import type { SystemName } from '../../schema/model.js';
import { ROLES, SATURATED_CORES, type ProcessFigures, type Role } from './meter.js';
import type { ProfileSummary } from './profile.js';

export type ContenderName = 'canon' | 'canon-nodedup' | 'apollo' | 'hive' | 'hive-nodedup' | 'canon-baseline';

/** One fixed-duration load against one contender. */
export interface LoadRun {
  contender: ContenderName;
  round?: number;
  requests: number;
  sent: number;
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Answers carrying GraphQL `errors`. */
  graphqlErrors: number;
  /** CPU and memory of each process the run's requests passed through (meter.ts). */
  processes: Record<Role, ProcessFigures>;
  /** Busy cores of the whole machine, other users' processes included. */
  machineCores: number;
  subgraphRequestsPerRequest: number;
  subgraphRequestsBySubgraph: Record<string, number>;
}

/** Whether a contender answers as canon does: the data of each request of the check, compared once parsed. */
export interface Answers {
  same: number;
  of: number;
  /** The shapes answered differently. */
  differing: string[];
}

/** Medians over rounds for one contender. */
export interface Summary {
  contender: ContenderName;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  processes: Record<Role, ProcessFigures>;
  machineCores: number;
  /** The processes (and whether the machine) at saturation in this contender's runs. */
  saturated: { processes: Role[]; machine: boolean };
  subgraphRequestsPerRequest: number;
  non2xx: number;
  graphqlErrors: number;
  answers: Answers;
}

/** canon ÷ contender, per round then median; for rps higher is better for canon, for the rest lower is. */
export interface Ratios {
  rps: number;
  /** The gateway process's CPU per request. */
  cpuMsPerRequest: number;
  /** Gateway, subgraphs and systems together: what one request costs the whole deployment. */
  totalCpuMsPerRequest: number;
  p50: number;
  p99: number;
  rssMiB: number;
}

export interface ReadTable {
  /** varied: the headline, distinct variables on every request; identical: one query for all, what dedup adds. */
  workload: 'varied' | 'identical';
  description: string;
  summaries: Summary[];
  ratios: Partial<Record<ContenderName, Ratios>>;
  runs: LoadRun[];
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  met: boolean;
  note?: string;
}

/** One write path's load run (medians over rounds): the answers, and each process's busy cores meanwhile. */
export interface WritePathRun {
  rps: number;
  p50: number;
  p99: number;
  graphqlErrors: number;
  non2xx: number;
  /** CPU time over wall time per process (`gateway` is canon: not called on the direct path, where it works off earlier propagations). */
  cores: Record<Role, number>;
  /** canon's CPU per request on this path, ms. */
  gatewayCpuMs: number;
  /** Workflows still waiting or running on canon's queues when the run ended (its /health): propagations after realtime writes, the writes themselves after queued ones. */
  leftQueued: number;
}

export interface BenchResults {
  startedAt: string;
  node: string;
  machine: { cpus: number };
  options: Record<string, unknown>;
  skipped: Partial<Record<ContenderName, string>>;
  varied: ReadTable;
  /** The identical table, critical path, page sizes and writes are absent with --varied-only. */
  identical?: ReadTable;
  criticalPath?: {
    latencyMs: number;
    connections: number;
    /** p50 ms per query: identity only, identity plus each system's fields, and the full query. */
    p50: Record<string, number>;
    identityMs: number;
    slowestSystem: string;
    /** What the slowest system adds over identity alone, ms. */
    slowestSystemMs: number;
    /** full p50 ÷ (identity + slowest system): 1 when the system fetches run in parallel, about 4 if in series. */
    ratio: number;
  };
  /** Measured on `contender` (canon with dedup off when it runs, so every query makes its own system calls). */
  pageSizes?: { contender: ContenderName; first: number; rps: number; p50: number; p99: number; rssMiB: number; peakRssMiB: number; systemRequestsPerQuery: Record<SystemName, number>; graphqlErrors: number }[];
  writes?: {
    customers: number;
    canon: WritePathRun;
    direct: WritePathRun;
    /** updateCustomer with mode: QUEUED: `rps` answered (PENDING), `doneRps` written, counting the time the queue took to drain. */
    queued?: WritePathRun & { doneRps: number };
    ratio: number;
    /** One canon write's full answer, kept so a run whose writes all failed is visible as such. */
    probe: unknown;
  };
  /** Wall time of the bench up to the report, contender installation excluded, s. */
  elapsedSeconds: number;
  targets: Target[];
  /** --profile: canon's gateway and its subgraphs' process under the varied load. */
  profile?: { gateway: ProfileSummary; subgraphs: ProfileSummary };
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

const ROLE_LABEL: Record<Role, string> = { gateway: 'gateway', subgraphs: 'subgraphs', systems: 'systems', load: 'load gen' };

/** One sentence per contender whose runs saturated something: what bounds its throughput. */
export function saturationNotes(t: ReadTable, cpus: number): string[] {
  return t.summaries.flatMap((s) => {
    const notes: string[] = [];
    const p = s.processes;
    if (s.saturated.processes.includes('subgraphs'))
      notes.push(`${s.contender}: the subgraph process is saturated (${fmt(p.subgraphs.cores)} cores, ≥ ${SATURATED_CORES}): its throughput is bounded by canon's subgraphs, not by its gateway.`);
    if (s.saturated.processes.includes('gateway')) notes.push(`${s.contender}: its gateway process is saturated (${fmt(p.gateway.cores)} cores): the gateway bounds its throughput.`);
    if (s.saturated.machine)
      notes.push(`${s.contender}: the machine is saturated (${fmt(s.machineCores)} of ${cpus} cores busy, ${fmt(s.machineCores - ROLES.reduce((a, r) => a + p[r].cores, 0))} of them outside the bench): throughput follows what each request costs all processes together.`);
    return notes;
  });
}

function readTable(title: string, t: ReadTable, cpus: number): string[] {
  const out: string[] = [title, `   ${t.description}`];
  out.push(
    table(
      ['contender', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'peak MiB', 'subgraph req/req', 'errors', 'same answers'],
      t.summaries.map((s) => [s.contender, fmt(s.rps, 0), fmt(s.p50, 0), fmt(s.p99, 0), fmt(s.processes.gateway.rssMiB, 0), fmt(s.processes.gateway.peakRssMiB, 0), fmt(s.subgraphRequestsPerRequest, 3), s.non2xx + s.graphqlErrors, `${s.answers.same}/${s.answers.of}`]),
    ),
  );
  out.push('\n   Where the time goes: CPU ms per request, and in brackets cores busy, of each process (medians over rounds)');
  out.push(
    table(
      ['contender', ...ROLES.map((r) => ROLE_LABEL[r]), 'machine cores', 'subgraphs RSS MiB', 'saturated'],
      t.summaries.map((s) => [
        s.contender,
        ...ROLES.map((r) => `${fmt(s.processes[r].cpuMsPerRequest, 2)} (${fmt(s.processes[r].cores)})`),
        fmt(s.machineCores),
        fmt(s.processes.subgraphs.rssMiB, 0),
        [...s.saturated.processes.map((r) => ROLE_LABEL[r]), ...(s.saturated.machine ? ['machine'] : [])].join(', ') || '-',
      ]),
    ),
  );
  for (const note of saturationNotes(t, cpus)) out.push(`   ${note}`);
  out.push('\n   canon ÷ contender (per round, median; req/s: higher is better for canon; the rest: lower is)');
  out.push(
    table(
      ['vs', 'req/s', 'gateway cpu/req', 'all cpu/req', 'p50', 'p99', 'RSS'],
      Object.entries(t.ratios).map(([n, x]) => [n, fmt(x!.rps), fmt(x!.cpuMsPerRequest), fmt(x!.totalCpuMsPerRequest), fmt(x!.p50), fmt(x!.p99), fmt(x!.rssMiB)]),
    ),
  );
  return out;
}

function criticalPathTable(c: NonNullable<BenchResults['criticalPath']>): string[] {
  return [
    `\n3. Critical path (${c.latencyMs} ms on every system, ${c.connections} connection, canon p50 ms)`,
    table(['query', 'p50 ms'], Object.entries(c.p50).map(([k, v]) => [k === 'identity' || k === 'full' ? k : `identity + ${k}`, fmt(v, 1)])),
    `   ratio = full ${fmt(c.p50.full ?? NaN, 1)} ÷ (identity ${fmt(c.identityMs, 1)} + slowest system ${c.slowestSystem} ${fmt(c.slowestSystemMs, 1)}) = ${fmt(c.ratio, 3)}`,
  ];
}

function pageSizeTable(pages: NonNullable<BenchResults['pageSizes']>): string[] {
  return [
    `\n4. Page size (${pages[0]?.contender ?? 'canon'}, 2 connections, fixed request count): requests to each system per query`,
    table(
      ['first', 'crm', 'erp', 'marketing', 'support', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'peak MiB', 'errors'],
      pages.map((p) => [p.first, fmt(p.systemRequestsPerQuery.crm, 3), fmt(p.systemRequestsPerQuery.erp, 3), fmt(p.systemRequestsPerQuery.marketing, 3), fmt(p.systemRequestsPerQuery.support, 3), fmt(p.rps, 1), fmt(p.p50, 0), fmt(p.p99, 0), fmt(p.rssMiB, 0), fmt(p.peakRssMiB, 0), p.graphqlErrors]),
    ),
  ];
}

export function writeTable(w: NonNullable<BenchResults['writes']>): string[] {
  const paths: [string, WritePathRun][] = [
    ['canon updateCustomer REALTIME + Idempotency-Key', w.canon],
    ['crm subgraph crmUpdateCustomer (direct)', w.direct],
    ...(w.queued ? [[`canon updateCustomer QUEUED (answered; ${fmt(w.queued.doneRps, 0)}/s written)`, w.queued] as [string, WritePathRun]] : []),
  ];
  return [
    `\n5. Writes (updateCustomer name, ${w.customers} CRM customers round-robin; cores: each process's CPU over wall time; on the direct path canon is not called, and works off the propagations the realtime run left)`,
    table(
      ['path', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'canon CPU ms/req', ...ROLES.map((r) => `${r} cores`), 'queued after'],
      paths.map(([label, p]) => [label, fmt(p.rps, 0), fmt(p.p50, 0), fmt(p.p99, 0), p.graphqlErrors + p.non2xx, fmt(p.gatewayCpuMs, 2), ...ROLES.map((r) => fmt(p.cores[r], 2)), p.leftQueued]),
    ),
    `   canon ÷ direct throughput: ${fmt(w.ratio, 3)}${w.queued ? `; queued written ÷ direct: ${fmt(w.queued.doneRps / w.direct.rps, 3)}` : ''}`,
    `   queued after: workflows still on canon's queues as the run ended (/health). After realtime writes these are their propagations to the marketing copy, which the realtime figures leave out and canon works off during the next runs.`,
  ];
}

export function renderTable(r: BenchResults): string {
  const out: string[] = [];
  out.push(`canon bench — ${r.startedAt}, Node ${r.node}, ${r.machine.cpus} CPUs, ${JSON.stringify(r.options)}, ${fmt(r.elapsedSeconds, 0)} s\n`);
  out.push(...readTable('1. Varied traffic: the headline (medians over rounds)', r.varied, r.machine.cpus));
  for (const [name, reason] of Object.entries(r.skipped)) out.push(`  ${name}: SKIPPED — ${reason}`);
  if (r.identical) out.push('', ...readTable('2. Identical query: what in-flight dedup adds (compare canon with canon-nodedup, hive with hive-nodedup)', r.identical, r.machine.cpus));
  if (r.criticalPath) out.push(...criticalPathTable(r.criticalPath));
  if (r.pageSizes) out.push(...pageSizeTable(r.pageSizes));
  if (r.writes) out.push(...writeTable(r.writes));
  out.push('\nTargets');
  for (const t of r.targets) out.push(`  [${t.met ? 'met' : 'NOT MET'}] ${t.name}: ${fmt(t.value, 3)}${t.note ? ` (${t.note})` : ''}`);
  return out.join('\n');
}
