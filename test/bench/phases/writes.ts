// Bench phase 6: writes. canon's updateCustomer (an idempotency key each) against the CRM subgraph's own mutation, which skips canon's validation, ledger and routing.

import type { Child } from '../children.js';
import { load, log, median, post, round } from '../load.js';
import type { BenchOptions } from '../options.js';
import type { GatewayReady, StackReady } from '../protocol.js';
import type { BenchResults } from '../report.js';

type WritePath = 'canon' | 'direct';

export async function measureWrites(stack: StackReady, canon: Child<GatewayReady>, opts: BenchOptions): Promise<BenchResults['writes']> {
  log('writes …');
  const page = await post(canon.ready.url, { query: '{ customers(first: 500) { edges { node { id sourceIds { crm } } } } }' });
  const targets = (page.json.data.customers.edges as { node: { id: string; sourceIds: { crm: string | null } } }[]).map((e) => e.node).filter((n) => n.sourceIds.crm);
  let seq = 0;
  const runTag = Date.now().toString(36);
  const viaCanon = () => {
    const n = seq++;
    const t = targets[n % targets.length]!;
    return {
      body: JSON.stringify({ query: 'mutation($id: ID!, $name: String!) { updateCustomer(id: $id, input: { name: $name }) { results { system status } } }', variables: { id: t.id, name: `Bench ${runTag} ${n}` } }),
      headers: { 'idempotency-key': `bench-${runTag}-${n}` },
    };
  };
  const direct = () => {
    const n = seq++;
    const t = targets[n % targets.length]!;
    return { body: JSON.stringify({ query: 'mutation($crmId: ID!, $name: String!) { crmUpdateCustomer(crmId: $crmId, input: { name: $name }) { crmId } }', variables: { crmId: t.sourceIds.crm, name: `Bench ${runTag} ${n}` } }) };
  };
  const probe = await post(canon.ready.url, JSON.parse(viaCanon().body), { 'idempotency-key': `bench-${runTag}-probe` });
  const writeRuns: { path: WritePath; rps: number; p50: number; p99: number; graphqlErrors: number; non2xx: number }[] = [];
  for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
    for (const [path, body, url] of [['canon', viaCanon, canon.ready.url], ['direct', direct, stack.subgraphs.crm]] as const) {
      const r = await load({ url, connections: opts.connections, duration: opts.duration, body });
      writeRuns.push({ path, rps: r.rps, p50: r.p50, p99: r.p99, graphqlErrors: r.graphqlErrors, non2xx: r.non2xx + r.errors });
    }
  }
  const w = (p: WritePath) => {
    const mine = writeRuns.filter((r) => r.path === p);
    return { rps: round(median(mine.map((r) => r.rps)), 1), p50: median(mine.map((r) => r.p50)), p99: median(mine.map((r) => r.p99)), graphqlErrors: mine.reduce((a, r) => a + r.graphqlErrors, 0), non2xx: mine.reduce((a, r) => a + r.non2xx, 0) };
  };
  const writes: BenchResults['writes'] = { customers: targets.length, canon: w('canon'), direct: w('direct'), ratio: NaN, probe: probe.json };
  writes.ratio = round(writes.canon.rps / writes.direct.rps, 3);
  return writes;
}
