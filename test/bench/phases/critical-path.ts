// Bench phase 4: the critical path. Every system 20 ms slower; since canon fetches the systems in parallel, the full query should take about identity plus the slowest system, not the sum.

import { SYSTEMS } from '../../../schema/model.js';
import type { Child } from '../children.js';
import { admin, load, log, median, round } from '../load.js';
import type { GatewayReady, StackReady } from '../protocol.js';
import { customersQuery, OVERHEAD_QUERY, SYSTEM_FIELDS } from '../queries.js';
import type { BenchResults } from '../report.js';

const LATENCY_MS = 20;

export async function measureCriticalPath(stack: StackReady, canon: Child<GatewayReady>, quick: boolean): Promise<BenchResults['criticalPath']> {
  log('critical path: 20 ms latency on every system …');
  await Promise.all(SYSTEMS.map((s) => admin(`${stack.systems[s]}/_admin/faults`, 'PUT', { latencyMs: LATENCY_MS })));
  const critical: BenchResults['criticalPath'] = { latencyMs: LATENCY_MS, connections: 1, p50: {}, ratio: NaN, identityMs: NaN, slowestSystem: '', slowestSystemMs: NaN };
  try {
    const cases: [string, string][] = [['identity', customersQuery(20, 'id')], ...SYSTEMS.map((s) => [s, customersQuery(20, `id ${SYSTEM_FIELDS[s]}`)] as [string, string]), ['full', OVERHEAD_QUERY]];
    const samples: Record<string, number[]> = {};
    // One connection: the question is how long one query takes, not how queries queue behind each other.
    const criticalRounds = quick ? 1 : 2;
    for (let i = 0; i < criticalRounds; i++) {
      for (const [name, query] of cases) {
        const r = await load({ url: canon.ready.url, connections: 1, duration: quick ? 1 : 3, body: JSON.stringify({ query }) });
        (samples[name] ??= []).push(r.p50);
      }
    }
    for (const [name] of cases) critical.p50[name] = median(samples[name]!);
    const identityMs = critical.p50.identity!;
    const slowest = SYSTEMS.reduce((a, s) => (critical.p50[s]! > critical.p50[a]! ? s : a), SYSTEMS[0]);
    critical.identityMs = identityMs;
    critical.slowestSystem = slowest;
    critical.slowestSystemMs = round(critical.p50[slowest]! - identityMs, 2);
    critical.ratio = round(critical.p50.full! / (identityMs + critical.slowestSystemMs), 3);
  } finally {
    await Promise.all(SYSTEMS.map((s) => admin(`${stack.systems[s]}/_admin/faults`, 'DELETE')));
  }
  return critical;
}
