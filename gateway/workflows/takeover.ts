// Replicas finishing each other's workflows: every process with a workflow engine on PostgreSQL beats a heartbeat, and a survivor resumes the pending workflows of an executor whose heartbeat stopped.
//
// Terminology
// - executor: one replica's DBOS executor id (CANON_EXECUTOR_ID). DBOS resumes an executor's pending workflows
//   when a process with that id starts again; a replica that never comes back needs another to take them.
// - heartbeat: the executor's row in `<workflows schema>.canon_executors`, its `beat_at` renewed every `heartbeatMs`.
// - takeover: a survivor claims an executor whose beat is older than `takeoverAfterMs` (one UPDATE, so exactly
//   one survivor wins it) and resumes its PENDING workflows on their own queues through DBOS's public API.
// Guarantees
// - A workflow of a dead executor is resumed within about takeoverAfterMs + heartbeatMs of its last beat, by one
//   survivor; its steps run again from the first unfinished one, each with its derived idempotency key.
// - A live executor is never taken over while it beats; one that stops on purpose (`leave`) is taken over at the
//   next beat of any survivor, and one that returns simply beats again.

import { DBOS } from '@dbos-inc/dbos-sdk';
import pg from 'pg';
import type { Logger } from 'pino';

export interface TakeoverOptions {
  databaseUrl: string;
  /** The workflow schema (WORKFLOWS_SCHEMA), where DBOS keeps its tables too. */
  schema: string;
  executorId: string;
  /** How often this executor beats and looks for dead ones (`EXECUTOR_HEARTBEAT_MS`). */
  heartbeatMs: number;
  /** How old a beat makes its executor dead (`EXECUTOR_TAKEOVER_MS`). */
  takeoverAfterMs: number;
  log: Logger;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export class ExecutorTakeover {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly table: string;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly opts: TakeoverOptions,
  ) {
    this.table = `${ident(opts.schema)}.canon_executors`;
  }

  /** Creates the heartbeat table if needed, beats once, and keeps beating and looking for dead executors. */
  static async start(opts: TakeoverOptions): Promise<ExecutorTakeover> {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 2 });
    pool.on('error', () => undefined); // a dropped idle connection is replaced on the next beat
    const t = new ExecutorTakeover(pool, opts);
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${ident(opts.schema)}`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${t.table} (executor_id TEXT PRIMARY KEY, beat_at BIGINT NOT NULL, claimed_by TEXT, claimed_at BIGINT)`);
    await t.beat();
    t.timer = setInterval(() => t.tick(), opts.heartbeatMs);
    t.timer.unref();
    return t;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.beat()
      .then(() => this.takeOver())
      .catch((e: Error) => this.opts.log.warn({ error: e.message }, 'executor heartbeat failed'))
      .finally(() => (this.running = null));
  }

  private async beat(): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (executor_id, beat_at) VALUES ($1, $2) ON CONFLICT (executor_id) DO UPDATE SET beat_at = EXCLUDED.beat_at, claimed_by = NULL, claimed_at = NULL`,
      [this.opts.executorId, Date.now()],
    );
  }

  /** Claims executors whose beat stopped (a claim whose holder died too is claimed again) and resumes their workflows. */
  private async takeOver(): Promise<void> {
    const now = Date.now();
    const dead = now - this.opts.takeoverAfterMs;
    const { rows } = await this.pool.query<{ executor_id: string }>(
      `UPDATE ${this.table} SET claimed_by = $1, claimed_at = $2
       WHERE executor_id <> $1 AND beat_at < $3 AND (claimed_by IS NULL OR claimed_at < $3)
       RETURNING executor_id`,
      [this.opts.executorId, now, dead],
    );
    for (const { executor_id: gone } of rows) {
      const pending = await DBOS.listWorkflows({ status: 'PENDING', executorId: gone });
      for (const w of pending) await DBOS.resumeWorkflow(w.workflowID, w.queueName ? { queueName: w.queueName } : {});
      // Done with it: a later beat of the same id (the replica came back) inserts it again.
      await this.pool.query(`DELETE FROM ${this.table} WHERE executor_id = $1 AND claimed_by = $2`, [gone, this.opts.executorId]);
      this.opts.log.warn({ executor: gone, workflows: pending.length }, 'took over the workflows of an executor whose heartbeat stopped');
    }
  }

  /** Stops beating and taking over (before DBOS stops: a takeover uses it). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** After DBOS stopped: marks this executor gone, so a survivor takes its unfinished workflows at its next beat. */
  async handOver(): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET beat_at = 0 WHERE executor_id = $1`, [this.opts.executorId]).catch(() => undefined);
    await this.pool.end();
  }
}
