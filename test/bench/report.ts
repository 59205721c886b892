// The bench's results: their shape, the table printed on stdout, and the SVG chart of throughput and p99.

import type { SystemName } from '../../schema/model.js';
import type { ProfileSummary } from './profile.js';

export type ContenderName = 'canon' | 'apollo' | 'hive' | 'hive-nodedup';

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
  /** Gateway process CPU (user + system) per completed request, ms. */
  cpuMsPerRequest: number;
  /** Gateway CPU time over wall time: 1.0 is one core busy. */
  cpuUtilisation: number;
  rssMiB: number;
  peakRssMiB: number;
  subgraphRequestsPerRequest: number;
  subgraphRequestsBySubgraph: Record<string, number>;
}

/** Medians over rounds for one contender. */
export interface Summary {
  contender: ContenderName;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  cpuUtilisation: number;
  rssMiB: number;
  peakRssMiB: number;
  subgraphRequestsPerRequest: number;
  non2xx: number;
  graphqlErrors: number;
  /** The contender's answer to the bench query equals canon's, byte for byte once parsed. */
  sameAnswerAsCanon: boolean;
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  met: boolean;
  note?: string;
}

export interface BenchResults {
  startedAt: string;
  node: string;
  machine: { cpus: number };
  options: Record<string, unknown>;
  query: string;
  skipped: Partial<Record<ContenderName, string>>;
  summaries: Summary[];
  /** canon ÷ contender, per round then median; for rps higher is better for canon, for the rest lower is. */
  ratios: Partial<Record<ContenderName, { rps: number; cpuMsPerRequest: number; p50: number; p99: number; rssMiB: number }>>;
  runs: LoadRun[];
  criticalPath: {
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
  pageSizes: { first: number; rps: number; p50: number; p99: number; rssMiB: number; peakRssMiB: number; systemRequestsPerQuery: Record<SystemName, number>; graphqlErrors: number }[];
  writes: {
    customers: number;
    canon: { rps: number; p50: number; p99: number; graphqlErrors: number; non2xx: number };
    direct: { rps: number; p50: number; p99: number; graphqlErrors: number; non2xx: number };
    /** updateCustomer with mode: QUEUED: `rps` answered (PENDING), `doneRps` written, counting the time the queue took to drain. */
    queued?: { rps: number; p50: number; p99: number; graphqlErrors: number; non2xx: number; doneRps: number };
    ratio: number;
    /** One canon write's full answer, kept so a run whose writes all failed is visible as such. */
    probe: unknown;
  };
  targets: Target[];
  profile?: ProfileSummary;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function renderTable(r: BenchResults): string {
  const out: string[] = [];
  out.push(`canon bench — ${r.startedAt}, Node ${r.node}, ${r.machine.cpus} CPUs, ${JSON.stringify(r.options)}`);
  out.push(`query: ${r.query}\n`);
  out.push('1. Gateway overhead (medians over rounds)');
  out.push(
    table(
      ['contender', 'req/s', 'p50 ms', 'p99 ms', 'cpu ms/req', 'cpu cores', 'RSS MiB', 'peak MiB', 'subgraph req/req', 'errors', 'same answer'],
      r.summaries.map((s) => [s.contender, fmt(s.rps, 0), fmt(s.p50, 0), fmt(s.p99, 0), fmt(s.cpuMsPerRequest, 3), fmt(s.cpuUtilisation), fmt(s.rssMiB, 0), fmt(s.peakRssMiB, 0), fmt(s.subgraphRequestsPerRequest, 3), s.non2xx + s.graphqlErrors, s.sameAnswerAsCanon ? 'yes' : 'NO']),
    ),
  );
  for (const [name, reason] of Object.entries(r.skipped)) out.push(`  ${name}: SKIPPED — ${reason}`);
  out.push('\n   canon ÷ contender (per round, median; req/s: higher is better for canon; the rest: lower is)');
  out.push(
    table(
      ['vs', 'req/s', 'cpu/req', 'p50', 'p99', 'RSS'],
      Object.entries(r.ratios).map(([n, x]) => [n, fmt(x!.rps), fmt(x!.cpuMsPerRequest), fmt(x!.p50), fmt(x!.p99), fmt(x!.rssMiB)]),
    ),
  );
  const c = r.criticalPath;
  out.push(`\n2. Critical path (${c.latencyMs} ms on every system, ${c.connections} connection, canon p50 ms)`);
  out.push(table(['query', 'p50 ms'], Object.entries(c.p50).map(([k, v]) => [k === 'identity' || k === 'full' ? k : `identity + ${k}`, fmt(v, 1)])));
  out.push(`   ratio = full ${fmt(c.p50.full ?? NaN, 1)} ÷ (identity ${fmt(c.identityMs, 1)} + slowest system ${c.slowestSystem} ${fmt(c.slowestSystemMs, 1)}) = ${fmt(c.ratio, 3)}`);
  out.push('\n3. Page size (canon, 2 connections, fixed request count): requests to each system per query');
  out.push(
    table(
      ['first', 'crm', 'erp', 'marketing', 'support', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'peak MiB', 'errors'],
      r.pageSizes.map((p) => [p.first, fmt(p.systemRequestsPerQuery.crm, 3), fmt(p.systemRequestsPerQuery.erp, 3), fmt(p.systemRequestsPerQuery.marketing, 3), fmt(p.systemRequestsPerQuery.support, 3), fmt(p.rps, 1), fmt(p.p50, 0), fmt(p.p99, 0), fmt(p.rssMiB, 0), fmt(p.peakRssMiB, 0), p.graphqlErrors]),
    ),
  );
  const w = r.writes;
  out.push(`\n4. Writes (updateCustomer name, ${w.customers} CRM customers round-robin)`);
  out.push(
    table(
      ['path', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
      [
        ['canon updateCustomer REALTIME + Idempotency-Key', fmt(w.canon.rps, 0), fmt(w.canon.p50, 0), fmt(w.canon.p99, 0), w.canon.graphqlErrors + w.canon.non2xx],
        ['crm subgraph crmUpdateCustomer (direct)', fmt(w.direct.rps, 0), fmt(w.direct.p50, 0), fmt(w.direct.p99, 0), w.direct.graphqlErrors + w.direct.non2xx],
        ...(w.queued ? [[`canon updateCustomer QUEUED (answered; ${fmt(w.queued.doneRps, 0)}/s written)`, fmt(w.queued.rps, 0), fmt(w.queued.p50, 0), fmt(w.queued.p99, 0), w.queued.graphqlErrors + w.queued.non2xx]] : []),
      ],
    ),
  );
  out.push(`   canon ÷ direct throughput: ${fmt(w.ratio, 3)}${w.queued ? `; queued written ÷ direct: ${fmt(w.queued.doneRps / w.direct.rps, 3)}` : ''}`);
  out.push('\nTargets');
  for (const t of r.targets) out.push(`  [${t.met ? 'met' : 'NOT MET'}] ${t.name}: ${fmt(t.value, 3)}${t.note ? ` (${t.note})` : ''}`);
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two bar charts side by side: req/s (higher is better) and p99 ms (lower is better), one bar per contender. */
export function renderSvg(r: BenchResults): string {
  const W = 360;
  const H = 260;
  const top = 40;
  const bottom = 50;
  const colours: Record<string, string> = { canon: '#2b6cb0', apollo: '#718096', hive: '#d69e2e', 'hive-nodedup': '#b7791f' };
  const panel = (x0: number, title: string, values: { name: string; v: number }[], unit: string) => {
    const max = Math.max(1, ...values.map((d) => (Number.isFinite(d.v) ? d.v : 0)));
    const bw = (W - 40) / Math.max(1, values.length) - 12;
    const bars = values
      .map((d, i) => {
        const h = Number.isFinite(d.v) ? ((H - top - bottom) * d.v) / max : 0;
        const x = x0 + 30 + i * (bw + 12);
        const y = H - bottom - h;
        return [
          `<rect x="${x}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${colours[d.name] ?? '#999'}"/>`,
          `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="11">${Number.isFinite(d.v) ? d.v.toFixed(0) : 'n/a'}</text>`,
          `<text x="${(x + bw / 2).toFixed(1)}" y="${H - bottom + 14}" text-anchor="middle" font-size="11">${esc(d.name)}</text>`,
        ].join('');
      })
      .join('\n  ');
    return [
      `<text x="${x0 + W / 2}" y="22" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>`,
      `<line x1="${x0 + 24}" y1="${H - bottom}" x2="${x0 + W - 6}" y2="${H - bottom}" stroke="#333"/>`,
      `  ${bars}`,
    ].join('\n');
  };
  const rps = r.summaries.map((s) => ({ name: s.contender, v: s.rps }));
  const p99 = r.summaries.map((s) => ({ name: s.contender, v: s.p99 }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" viewBox="0 0 ${2 * W} ${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Throughput, higher is better', rps, 'req/s'),
    panel(W, 'p99 latency, lower is better', p99, 'ms'),
    `<text x="${W}" y="${H - 12}" text-anchor="middle" font-size="10" fill="#555">${esc(`canon bench ${r.startedAt} · ${r.options.connections} connections · ${r.options.duration} s runs × ${r.options.rounds} rounds · Node ${r.node}`)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
