// Bench phases 1 and 2: start the systems and canon's subgraphs, then every contender, each in a process of its own.

import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ChildFailedError, startChild, type Child } from '../children.js';
import { log, useKey } from '../load.js';
import { benchDir, contendersDir, root, type BenchOptions } from '../options.js';
import type { GatewayReady, StackReady, SystemsReady } from '../protocol.js';
import type { ContenderName } from '../report.js';

export interface Contender {
  name: ContenderName;
  script: string;
  args: Record<string, unknown>;
  label: string;
}

export const CONTENDERS: Contender[] = [
  { name: 'canon', script: join(benchDir, 'canon-child.ts'), args: { name: 'canon' }, label: 'canon (startStack, all its features on, logs at info)' },
  { name: 'canon-nodedup', script: join(benchDir, 'canon-child.ts'), args: { name: 'canon-nodedup', dedupeReads: false }, label: 'canon with DEDUPE_READS=false' },
  { name: 'apollo', script: join(benchDir, 'apollo-child.ts'), args: {}, label: 'plain @apollo/gateway + @apollo/server' },
  { name: 'hive', script: join(contendersDir, 'hive-child.mjs'), args: { dedup: true }, label: 'Hive Gateway (defaults: in-flight dedup on)' },
  { name: 'hive-nodedup', script: join(contendersDir, 'hive-child.mjs'), args: { dedup: false }, label: 'Hive Gateway, in-flight dedup off' },
];

/** Installs the contenders from their lockfile the first time; a failure skips them instead of failing the bench. */
export function ensureContenders(): string | null {
  if (existsSync(join(contendersDir, 'node_modules', '@graphql-hive', 'gateway'))) return null;
  log('installing contenders: npm ci --prefix test/bench/contenders …');
  try {
    execFileSync('npm', ['ci', '--prefix', contendersDir, '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
    return null;
  } catch (e) {
    return `npm ci in test/bench/contenders failed: ${(e as Error).message}`;
  }
}

export interface RunningStack {
  /** The systems' and subgraphs' URLs and the shared supergraph. */
  ready: StackReady;
  /** The processes every request passes through besides the gateway: the subgraphs' and the systems'. */
  pids: { subgraphs: number; systems: number };
  /** The subgraphs' process (canon's subgraph servers), to profile. */
  subgraphs: Child<StackReady>;
  /** Stops the stack, then the systems. */
  stop(): Promise<void>;
}

/**
 * The systems get a process of their own, as real source systems would: sharing the subgraphs' event loop would
 * serialise their work and count it against the gateway on the critical path.
 */
export async function startStack(): Promise<RunningStack> {
  log(`starting the systems (seeded) and the subgraphs …`);
  const systemsChild = await startChild<SystemsReady>(join(benchDir, 'systems-child.ts'), {}, { cwd: root });
  const stackChild = await startChild<StackReady>(join(benchDir, 'stack-child.ts'), systemsChild.ready, { cwd: root, quiet: true }).catch(async (e) => {
    await systemsChild.stop();
    throw e;
  });
  // The stack child's start created the dev app in the shared data directory (the canon child reuses its key there).
  useKey(readFileSync(join(stackChild.ready.dataDir, 'dev-key'), 'utf8').trim());
  return {
    ready: stackChild.ready,
    pids: { subgraphs: stackChild.pid, systems: systemsChild.pid },
    subgraphs: stackChild,
    async stop() {
      await stackChild.stop();
      await systemsChild.stop();
    },
  };
}

export interface Contenders {
  /** canon's gateway: it always runs. */
  canon: Child<GatewayReady>;
  /** The contenders that started, in CONTENDERS order. */
  live: Contender[];
  /** Why each contender that does not run was skipped. */
  skipped: Partial<Record<ContenderName, string>>;
}

/** Waits (at most two minutes) until a canon gateway's /health no longer says `starting`. */
async function untilSynced(health: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const status = await fetch(health).then((r) => r.json(), () => null);
    if (status && status.status !== 'starting') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`canon's gateway still says starting after two minutes: ${health}`);
}

/**
 * Starts the selected contenders in parallel (start-up is not measured) into `gateways`, which the caller owns and
 * stops, so a contender that started before another failed is stopped too.
 */
export async function startContenders(stack: StackReady, opts: BenchOptions, installProblem: string | null, gateways: Map<ContenderName, Child<GatewayReady>>): Promise<Contenders> {
  const skipped: Partial<Record<ContenderName, string>> = {};
  log(`starting contenders${opts.databaseUrl ? ` (canon's state in PostgreSQL at ${opts.databaseUrl.replace(/\/\/[^@]*@/, '//')})` : ''} …`);
  const runTag = Date.now().toString(36);
  const baseline: Contender[] = opts.baseline
    ? [{ name: 'canon-baseline', script: join(opts.baseline, 'test/bench/canon-child.ts'), args: { name: 'canon-baseline' }, label: `canon from ${opts.baseline}` }]
    : [];
  const all = [...CONTENDERS, ...baseline];
  const selected = all.filter((c) => !opts.contenders || opts.contenders.has(c.name) || c.name === 'canon-baseline');
  const start = async (c: Contender) => {
    if (c.name.startsWith('hive') && installProblem) return void (skipped[c.name] = installProblem);
    try {
      const own = !c.script.startsWith(contendersDir);
      const cwd = c.name === 'canon-baseline' ? opts.baseline! : own ? root : contendersDir;
      // On PostgreSQL, schemas of this run's own: contenders never share state, and a run leaves none behind.
      const database = opts.databaseUrl && c.script.endsWith('canon-child.ts') ? { database: { url: opts.databaseUrl, schema: `bench_${runTag}_${c.name.replace(/-/g, '_')}` } } : {};
      const g = await startChild<GatewayReady>(c.script, { stack, ...c.args, ...database }, { cwd, quiet: own });
      if (g.ready.key) useKey(g.ready.key, g.ready.url);
      gateways.set(c.name, g);
    } catch (e) {
      if (!(e instanceof ChildFailedError)) throw e;
      skipped[c.name] = `${c.name} cannot run on Node ${process.version}: ${e.reason.split('\n')[0]}`;
    }
  };
  // canon first, alone among its kind: its first start runs the full sync into the identity store the canon
  // contenders share, and another canon opening that store meanwhile would wait on its write lock. The others
  // start once canon's /health says the sync is done.
  const later = selected.filter((c) => c.name !== 'canon' && c.script.endsWith('canon-child.ts'));
  await Promise.all(selected.filter((c) => !later.includes(c)).map(start));
  const first = gateways.get('canon');
  if (first) await untilSynced(first.ready.url.replace(/\/graphql$/, '/health'));
  await Promise.all(later.map(start));
  const canon = gateways.get('canon');
  if (!canon) throw new Error(`canon's gateway did not start: ${skipped.canon}`);
  for (const [name, reason] of Object.entries(skipped)) log(`SKIPPED ${name}: ${reason}`);

  const live = all.filter((c) => gateways.has(c.name));
  for (const c of all) if (!gateways.has(c.name) && !skipped[c.name]) skipped[c.name] = 'not selected (--contenders)';
  return { canon, live, skipped };
}
