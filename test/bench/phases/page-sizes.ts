// Bench phase 5: page-size scaling. Pages of 10, 100 and 1000 customers should each cost one request per system per query, whatever the page; measured with dedup off, so no query shares another's calls.

import { SYSTEMS, type SystemName } from '../../../schema/model.js';
import { sampleProc, type Child } from '../children.js';
import { admin, load, log, round } from '../load.js';
import type { GatewayReady, StackReady } from '../protocol.js';
import { customersQuery, FULL_FIELDS } from '../queries.js';
import type { BenchResults, ContenderName } from '../report.js';

export async function measurePageSizes(stack: StackReady, contender: ContenderName, canon: Child<GatewayReady>, quick: boolean): Promise<BenchResults['pageSizes']> {
  log(`page sizes (${contender}) …`);
  const pages: BenchResults['pageSizes'] = [];
  // A fixed number of requests, all answered, so system requests divide by exactly the queries that caused them.
  const pageAmounts: Record<number, number> = quick ? { 10: 40, 100: 16, 1000: 4 } : { 10: 300, 100: 100, 1000: 16 };
  for (const first of [10, 100, 1000]) {
    await Promise.all(SYSTEMS.map((s) => admin(`${stack.systems[s]}/_admin/stats`, 'DELETE')));
    const r = await load({ url: canon.ready.url, connections: 2, amount: pageAmounts[first], body: JSON.stringify({ query: customersQuery(first, FULL_FIELDS) }) });
    const after = sampleProc(canon.pid);
    const perSystem = Object.fromEntries(
      await Promise.all(SYSTEMS.map(async (s) => [s, round(((await admin(`${stack.systems[s]}/_admin/stats`, 'GET')) as { requests: number }).requests / Math.max(1, r.requests), 3)] as const)),
    ) as Record<SystemName, number>;
    pages.push({ contender, first, rps: round(r.rps, 1), p50: r.p50, p99: r.p99, rssMiB: round(after.rssMiB, 1), peakRssMiB: round(after.peakRssMiB, 1), systemRequestsPerQuery: perSystem, graphqlErrors: r.graphqlErrors });
    log(`  first ${first}: ${JSON.stringify(perSystem)} p50 ${r.p50} ms`);
  }
  return pages;
}
