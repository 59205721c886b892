// canon's one durable workflow engine: DBOS Transact in the gateway process, its state in PostgreSQL (DATABASE_URL) or in embedded PGlite under DATA_DIR/workflows.
//
// Terminology
// - workflow: a registered function DBOS runs to completion; each external effect is one of its steps, whose
//   output DBOS checkpoints. A process killed mid-workflow resumes it on restart from the first unfinished step.
// - workflow id: given by canon (the operation id, `<id>.r<n>` for later runs), so starting an id twice is one workflow.
// - queue: where queued work waits: `canon-operations` for queued mutations, `canon-system-<system>` for their
//   calls to each system, at most `<SYSTEM>_CONCURRENCY` at a time across gateways.
// Guarantees: one DBOS per process (DBOS is a singleton); several stacks started in one process (tests) share it,
// each with its own runtime (runtime.ts), and it stops when the last of them closes. Start it after the subgraphs,
// since recovery may run steps at once; stop it after the gateway, so no request waits on a stopped engine.
// Finished workflows are deleted after LEDGER_RETENTION_DAYS, as the ledger's operations are (prune); the embedded
// database is vacuumed as it is used, since PGlite has no autovacuum (PglitePool.vacuumEvery).

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DBOS, type WorkflowHandle } from '@dbos-inc/dbos-sdk';
import type { Logger } from 'pino';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import type { CanonConfig } from '../config.js';
import type { QueuesHealth } from '../http/health.js';
import { PglitePool } from './pglite-pool.js';
import { CANON_JSON } from './serializer.js';
import { registerRuntime, unregisterRuntime, type WorkflowRuntime } from './runtime.js';
import { ExecutorTakeover } from './takeover.js';

export const OPERATIONS_QUEUE = 'canon-operations';
export const systemQueue = (system: SystemName) => `canon-system-${system}`;

/** How often the embedded database is vacuumed (PglitePool.vacuumEvery), when anything was written since. */
const EMBEDDED_VACUUM_MS = 10_000;
/** The statuses of a workflow that will not run again by itself, and how many such workflows one prune statement deletes. */
const ENDED = ['SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED'] as const;
const PRUNE_BATCH = 1000;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** At most this many waiting and running workflows are counted for /health (queues), so a long backlog costs one bounded read. */
const QUEUE_COUNT_LIMIT = 2000;
/** Queued mutations running at once in one gateway; their system calls are limited per system besides. */
const OPERATIONS_CONCURRENCY = 32;
/**
 * Longest wait for each part of stopping the engine (DBOS's teardown, then its database). A stop never waits for
 * workflows to finish (they resume on the next start), but a teardown stuck on a query in flight would hold Ctrl-C.
 */
const STOP_PART_MS = 5000;

/** `work`, or after `ms` a warning and on: stopping goes ahead without it. */
async function bounded(work: Promise<unknown>, ms: number, what: string, log: Logger | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    const r = await Promise.race([work.then(() => 'done' as const), late]);
    if (r === 'late') log?.warn({ ms }, `${what} did not finish in time; stopping without it`);
  } finally {
    clearTimeout(timer);
  }
}

interface Launched {
  users: number;
  log: Logger;
  pool: PglitePool | null;
  /** On PostgreSQL: this executor's heartbeat, and the takeover of dead executors' workflows (takeover.ts). */
  takeover: ExecutorTakeover | null;
  /** Where the state lives, for the log and for a second stack that asks for another place. */
  where: string;
}

let launched: Promise<Launched> | null = null;

/** DBOS's log lines as pino lines of the gateway's logger. */
function dbosLogger(log: Logger) {
  const child = log.child({ component: 'dbos' });
  const text = (e: unknown) => (e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));
  return {
    info: (e: unknown) => child.debug(text(e)),
    debug: (e: unknown) => child.trace(text(e)),
    warn: (e: unknown) => child.warn(text(e)),
    error: (e: unknown) => child.error(text(e)),
  };
}

async function launch(config: CanonConfig, log: Logger): Promise<Launched> {
  const settings = config.workflows;
  let pool: PglitePool | null = null;
  let url = config.databaseUrl;
  if (!url) {
    const dir = join(config.dataDir, 'workflows');
    mkdirSync(dir, { recursive: true });
    pool = await PglitePool.open({ dataDir: dir, template: settings.embeddedTemplate ?? undefined });
    // DBOS reads a database URL even when handed a pool; nothing connects to it.
    url = 'postgresql://canon@localhost:5432/canon_workflows';
  }
  DBOS.setConfig({
    name: 'canon',
    systemDatabaseUrl: url,
    systemDatabaseSchemaName: settings.schema,
    ...(pool ? { systemDatabasePool: pool as never } : {}),
    executorID: settings.executorId,
    serializer: CANON_JSON,
    logger: dbosLogger(log),
  });
  let takeover: ExecutorTakeover | null = null;
  try {
    await DBOS.launch();
    await DBOS.registerQueue(OPERATIONS_QUEUE, { workerConcurrency: OPERATIONS_CONCURRENCY, minPollingIntervalMs: settings.queuePollMs, onConflict: 'always_update' });
    for (const s of SYSTEMS) await DBOS.registerQueue(systemQueue(s), { globalConcurrency: settings.systemConcurrency[s], minPollingIntervalMs: settings.queuePollMs, onConflict: 'always_update' });
    pool?.vacuumEvery(EMBEDDED_VACUUM_MS, (e) => log.warn({ err: e }, 'vacuuming the embedded workflow database failed; its tables are vacuumed again after their next writes'));
    // Embedded PGlite is one process's own: only on PostgreSQL can another replica be there to take over.
    if (!pool) takeover = await ExecutorTakeover.start({ databaseUrl: url, schema: settings.schema, executorId: settings.executorId, heartbeatMs: settings.heartbeatMs, takeoverAfterMs: settings.takeoverAfterMs, log });
  } catch (e) {
    await DBOS.shutdown().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    throw e;
  }
  return { users: 0, log, pool, takeover, where: pool ? join(config.dataDir, 'workflows') : `${url.replace(/\/\/[^@]*@/, '//')} schema ${settings.schema}` };
}

export class WorkflowEngine {
  private closed = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  /** The prune in progress, if any: closing waits for it. */
  private pruning: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The runtime key this stack's workflows carry (its data directory). */
    readonly key: string,
  ) {}

  /**
   * Registers this stack's runtime and starts DBOS, or joins the DBOS this process already runs. Unfinished
   * workflows of this executor resume as soon as DBOS starts, so `runtime` must be ready to serve them.
   */
  static async start(config: CanonConfig, runtime: WorkflowRuntime): Promise<WorkflowEngine> {
    const key = config.dataDir;
    registerRuntime(key, runtime);
    try {
      launched ??= launch(config, runtime.log).catch((e) => {
        launched = null;
        throw e;
      });
      const state = await launched;
      state.users++;
      if (state.users > 1) runtime.log.warn({ sharedWith: state.where }, 'a second canon stack in this process shares its workflow engine and database');
    } catch (e) {
      unregisterRuntime(key);
      throw e;
    }
    const engine = new WorkflowEngine(key);
    engine.pruneHourly(config.ledgerRetentionDays, runtime.log);
    return engine;
  }

  /** Prunes the workflows past the ledger's retention now and every hour, as the ledger prunes their operations (stack.ts). */
  private pruneHourly(days: number, log: Logger): void {
    const run = () => {
      this.pruning = this.prune(new Date(Date.now() - days * DAY_MS).toISOString()).then(
        (deleted) => deleted && log.info({ deleted, days }, 'pruned the workflows past the retention'),
        (e: Error) => log.error({ error: e.message }, 'workflow prune failed'),
      );
    };
    run();
    this.pruneTimer = setInterval(run, HOUR_MS);
    this.pruneTimer.unref();
  }

  /** Starts (or, for an id already started, joins) a workflow; `queue` puts it on a queue instead of running it now. */
  async start<A extends unknown[], R>(fn: (...args: A) => Promise<R>, workflowID: string, args: A, queue?: string): Promise<WorkflowHandle<R>> {
    return DBOS.startWorkflow(fn, { workflowID, ...(queue ? { queueName: queue } : {}) })(...args);
  }

  /** The workflow's result, or `timedOut` when it has not ended within `ms` (it goes on running). */
  async wait<R>(handle: WorkflowHandle<R>, ms: number): Promise<{ done: true; result: R } | { done: false }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ done: false }>((resolve) => (timer = setTimeout(() => resolve({ done: false }), ms)));
    try {
      return await Promise.race([handle.getResult().then((result) => ({ done: true as const, result })), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * What waits on each of canon's queues (ENQUEUED) and what runs from it (PENDING), for /health: one read of at
   * most QUEUE_COUNT_LIMIT workflows; past it the counts are lower bounds, and `countedUpTo` says so.
   */
  async queues(): Promise<QueuesHealth> {
    const names = [OPERATIONS_QUEUE, ...SYSTEMS.map(systemQueue)];
    const listed = await DBOS.listWorkflows({ queueName: names, status: ['ENQUEUED', 'PENDING'], limit: QUEUE_COUNT_LIMIT, loadInput: false, loadOutput: false });
    const queues = names.map((name) => ({ name, enqueued: 0, running: 0 }));
    for (const w of listed) {
      const q = queues.find((x) => x.name === w.queueName);
      if (q) q[w.status === 'ENQUEUED' ? 'enqueued' : 'running']++;
    }
    return { queues, ...(listed.length >= QUEUE_COUNT_LIMIT ? { countedUpTo: QUEUE_COUNT_LIMIT } : {}) };
  }

  /**
   * Deletes the workflows (with their steps, input and output) that ended before `before` (ISO time), as the
   * ledger prunes their operations. Kept however old: a workflow still running or waiting, and a child whose
   * parent still runs (the parent reads its result again if it resumes). Returns how many went (for the log).
   */
  async prune(before: string): Promise<number> {
    let deleted = 0;
    let kept = 0;
    for (;;) {
      const old = await DBOS.listWorkflows({ status: [...ENDED], completedBefore: before, limit: PRUNE_BATCH, offset: kept, loadInput: false, loadOutput: false });
      const parents = [...new Set(old.flatMap((w) => (w.parentWorkflowID ? [w.parentWorkflowID] : [])))];
      const running = parents.length ? await DBOS.listWorkflows({ workflowIDs: parents, loadInput: false, loadOutput: false }) : [];
      const busy = new Set(running.filter((p) => !(ENDED as readonly string[]).includes(p.status)).map((p) => p.workflowID));
      const gone = old.filter((w) => !w.parentWorkflowID || !busy.has(w.parentWorkflowID)).map((w) => w.workflowID);
      if (gone.length) await DBOS.deleteWorkflows(gone);
      deleted += gone.length;
      kept += old.length - gone.length;
      if (old.length < PRUNE_BATCH) return deleted;
    }
  }

  /** Leaves the engine; the last stack to leave stops DBOS and its database. Workflows still running resume on the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.pruning;
    unregisterRuntime(this.key);
    const state = await launched;
    if (!state || --state.users > 0) return;
    launched = null;
    await state.takeover?.stop();
    await bounded(DBOS.shutdown(), STOP_PART_MS, 'DBOS shutdown', state.log);
    // Its unfinished workflows are for the other replicas now (or for this executor id when it starts again).
    if (state.takeover) await bounded(state.takeover.handOver(), STOP_PART_MS, 'handing over the workflows', state.log);
    if (state.pool) await bounded(state.pool.end(), STOP_PART_MS, 'closing the workflow database', state.log);
  }
}
