// Bench phase 6: writes. canon's updateCustomer (an idempotency key each) as a REALTIME and as a QUEUED workflow, against the CRM subgraph's own mutation, which skips canon's validation, ledger, workflow and routing.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Child } from '../children.js';
import { summarizeProfile, type ProfileSummary } from '../profile.js';
import { admin, load, log, median, post, round, sleep, stamp } from '../load.js';
import { root, type BenchOptions } from '../options.js';
import { ROLES, startMeter, type Role } from '../meter.js';
import type { GatewayReady } from '../protocol.js';
import type { BenchResults } from '../report.js';
import type { RunningStack } from './start.js';

type WritePath = 'canon' | 'direct' | 'queued';

/** The customers writes go to, and the request bodies of each write path (a distinct name and key every request). */
async function writeBodies(canon: Child<GatewayReady>) {
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
  const queued = () => {
    const next = viaCanon();
    const body = JSON.parse(next.body);
    return { ...next, body: JSON.stringify({ ...body, query: body.query.replace('updateCustomer(id: $id, input: { name: $name })', 'updateCustomer(id: $id, input: { name: $name }, mode: QUEUED)') }) };
  };
  return { targets, viaCanon, direct, queued };
}

/** Workflows waiting or running on canon's queues now, by its /health: the work a load run left behind it. */
async function queuedWork(canon: Child<GatewayReady>): Promise<number> {
  const h = (await admin(canon.ready.url.replace(/\/graphql$/, '/health'), 'GET')) as { queues?: { enqueued: number; running: number }[] };
  return (h.queues ?? []).reduce((a, q) => a + q.enqueued + q.running, 0);
}

/** Asks `done` every `everyMs` until it says yes or `maxMs` have passed; the seconds that took. */
async function waitUntil(done: () => Promise<boolean>, maxMs: number, everyMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < maxMs && !(await done())) await sleep(everyMs);
  return (performance.now() - started) / 1000;
}

export async function measureWrites(stack: RunningStack, canon: Child<GatewayReady>, opts: BenchOptions): Promise<NonNullable<BenchResults['writes']>> {
  log('writes …');
  const { targets, viaCanon, direct, queued } = await writeBodies(canon);
  /** Waits until no queued write is left PENDING (at most a minute): the time the queue took to drain, in s. */
  const drained = () =>
    waitUntil(async () => !(await post(canon.ready.url, { query: '{ operations(status: [PENDING], first: 1) { edges { node { id } } } }' })).json.data?.operations.edges.length, 60_000, 50);
  // Whatever canon still has queued when the writes begin (work of its own start or of earlier phases) is worked off
  // first, so that the first run does not share canon with it.
  const backlog = await queuedWork(canon);
  if (backlog) {
    const waited = await waitUntil(async () => (await queuedWork(canon)) === 0, 120_000, 100);
    log(`  waited ${waited.toFixed(1)} s for ${backlog} workflows canon had queued itself (${await queuedWork(canon)} left)`);
  }
  const first = viaCanon();
  const probe = await post(canon.ready.url, JSON.parse(first.body), first.headers);
  const writeRuns: { path: WritePath; rps: number; p50: number; p99: number; graphqlErrors: number; non2xx: number; doneRps?: number; cores: Record<Role, number>; gatewayCpuMs: number; leftQueued: number }[] = [];
  for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
    // Queued last: its queue drains after the answers, and must not run under the next path's load.
    for (const [path, body, url] of [['canon', viaCanon, canon.ready.url], ['direct', direct, stack.ready.subgraphs.crm], ['queued', queued, canon.ready.url]] as const) {
      // On the direct path canon is not called: what its `gateway` figures show there is the propagations the realtime run left it working off.
      const meter = startMeter({ gateway: canon.pid, subgraphs: stack.pids.subgraphs, systems: stack.pids.systems });
      const r = await load({ url, connections: opts.connections, duration: opts.duration, body });
      const m = meter.stop(r.requests);
      if (r.firstError) log(`  ${path}: ${r.graphqlErrors} answers with errors; the first: ${r.firstError}`);
      const cores = Object.fromEntries(ROLES.map((role) => [role, m.processes[role].cores])) as Record<Role, number>;
      // Realtime writes answer before their propagations run: what is still queued is work the run's figures leave out.
      const leftQueued = await queuedWork(canon);
      const doneRps = path === 'queued' ? r.requests / (opts.duration + (await drained())) : undefined;
      writeRuns.push({ path, rps: r.rps, p50: r.p50, p99: r.p99, graphqlErrors: r.graphqlErrors, non2xx: r.non2xx + r.errors, doneRps, cores, gatewayCpuMs: m.processes.gateway.cpuMsPerRequest, leftQueued });
    }
  }
  const w = (p: WritePath) => {
    const mine = writeRuns.filter((r) => r.path === p);
    return { rps: round(median(mine.map((r) => r.rps)), 1), p50: median(mine.map((r) => r.p50)), p99: median(mine.map((r) => r.p99)), graphqlErrors: mine.reduce((a, r) => a + r.graphqlErrors, 0), non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
      cores: Object.fromEntries(ROLES.map((role) => [role, round(median(mine.map((r) => r.cores[role])), 2)])) as Record<Role, number>,
      gatewayCpuMs: round(median(mine.map((r) => r.gatewayCpuMs)), 2),
      leftQueued: median(mine.map((r) => r.leftQueued)) };
  };
  const queuedDone = round(median(writeRuns.filter((r) => r.path === 'queued').map((r) => r.doneRps!)), 1);
  const writes: NonNullable<BenchResults['writes']> = { customers: targets.length, canon: w('canon'), direct: w('direct'), queued: { ...w('queued'), doneRps: queuedDone }, ratio: NaN, probe: probe.json };
  writes.ratio = round(writes.canon.rps / writes.direct.rps, 3);
  return writes;
}

/** Where canon's CPU goes on the realtime write path (--writes-only --profile): warmed first, then profiled under load. */
export async function profileWrites(canon: Child<GatewayReady>, opts: BenchOptions, started: Date): Promise<ProfileSummary> {
  const { viaCanon } = await writeBodies(canon);
  await load({ url: canon.ready.url, connections: opts.connections, duration: opts.warmup, body: viaCanon });
  log('profiling canon under the realtime write load …');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  const file = join(root, 'bench-results', `canon-writes-${stamp(started)}.cpuprofile`);
  await canon.profile(file, () => load({ url: canon.ready.url, connections: opts.connections, duration: opts.duration * 2, body: viaCanon }));
  return summarizeProfile(file, 25);
}
