// The operations ledger: every mutation and every partly failed query, with one step per system call, kept durably in SQLite (default) or PostgreSQL.
//
// Terminology
// - operation: one GraphQL request canon recorded: what triggered it (name, app, trace id, idempotency key) and how it ended.
// - step: one call to one system within it, with its attempts, duration, error and the key it carried. Steps of
//   writes keep what is needed to run them again (native id, input, expected version).
// - status: PENDING while steps run; SUCCEEDED, PARTIAL (some steps failed) or FAILED once it ended.
// Guarantees: `save` is an upsert of the whole record, so a crash mid-operation leaves it PENDING with the steps
// done so far; both stores pass the same contract tests (test/ledger.test.ts).

import type Database from 'better-sqlite3';
import pg from 'pg';
import { decodeCursor as decodePosition, encodeCursor as encodePosition } from '../../subgraphs/kit/cursor.js';
import { openSqlite } from '../../subgraphs/kit/sqlite.js';

export type OperationStatus = 'PENDING' | 'SUCCEEDED' | 'PARTIAL' | 'FAILED';
/** WAITING: a precondition not yet true, re-checked durably; SKIPPED: not run, because an earlier step failed or a precondition was false. */
export type StepStatus = 'PENDING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
/** REALTIME: the request waits for the workflow; QUEUED: the request answers at once and the work runs on queues. */
export type Mode = 'REALTIME' | 'QUEUED';

export interface LedgerError {
  code: string;
  message: string;
  retryable: boolean;
  /** The system's Retry-After, when it sent one: a queued retry waits at least this long. */
  retryAfterSeconds?: number;
}

export interface LedgerStep {
  /** The step's name in its workflow's definition, e.g. `crm.updateCustomer`; defaults to `<system>.<action>`. */
  name?: string;
  /** When the step's latest run began (ISO time). */
  startedAt?: string | null;
  system: string;
  action: string;
  status: StepStatus;
  attempts: number;
  durationMs: number | null;
  idempotencyKey: string | null;
  error: LedgerError | null;
  /** For writes: what a retry needs. */
  nativeId: string | null;
  input: Record<string, unknown> | null;
  expectedVersion: string | null;
  result: string | null;
  /** Earlier runs of this step that failed, oldest first: a retry replaces the step's outcome, not what happened before. */
  history?: StepRun[];
  /** For a bulk step: one entry per record it writes, each with its own outcome. */
  items?: LedgerStepItem[];
}

/** One record of a bulk step. */
export interface LedgerStepItem {
  customerId: string;
  nativeId: string;
  input: Record<string, unknown>;
  status: StepStatus;
  error: LedgerError | null;
}

/** One earlier failed run of a step. */
export interface StepRun {
  /** When the run was superseded by a retry (ISO time). */
  at: string;
  attempts: number;
  error: LedgerError | null;
}

export interface OperationRecord {
  id: string;
  traceId: string | null;
  name: string;
  kind: 'mutation' | 'query';
  app: string | null;
  idempotencyKey: string | null;
  /** sha256 of the request's variables: tells two runs of one key apart without storing personal data twice. */
  inputHash: string | null;
  /** The canonical customer the operation concerned, when it named one. */
  customerId?: string | null;
  /** Trace ids of the retries run on it (retryOperation), oldest first: each retry's system calls carry its own. */
  retryTraceIds?: string[];
  /** The workflow that ran it (gateway/workflows/definitions.ts); defaults to `name`. */
  workflow?: string;
  /** How it was asked to run; REALTIME unless said. */
  mode?: Mode;
  /** The ids of the durable workflow runs that carried it, oldest first: the operation id, then `<id>.r1`, … for continuations and retries. */
  runs?: string[];
  /** For batch work: how many items there are and how many have ended, updated as batches finish. */
  progress?: { total: number; done: number; failed: number } | null;
  status: OperationStatus;
  createdAt: string;
  updatedAt: string;
  error: LedgerError | null;
  steps: LedgerStep[];
}

export interface OperationFilter {
  status?: OperationStatus[];
  /** Operations with a step on this system (lower case). */
  system?: string;
  app?: string;
  /** ISO time: operations created at or after it. */
  since?: string;
}

export interface LedgerPage {
  records: OperationRecord[];
  hasNextPage: boolean;
}

export interface Ledger {
  save(op: OperationRecord): Promise<void>;
  /** Saves `op` only when no record has its id: a workflow that already wrote its own record is never set back. */
  saveIfAbsent(op: OperationRecord): Promise<void>;
  get(id: string): Promise<OperationRecord | null>;
  /** The newest operation recorded under an idempotency key (one logical operation, however often it was sent). */
  byIdempotencyKey(key: string): Promise<OperationRecord | null>;
  /** Newest first; `after` is a cursor from a previous page. */
  list(filter: OperationFilter, first: number, after?: string | null): Promise<LedgerPage>;
  /** Deletes operations created before `before` (ISO time); returns how many. */
  prune(before: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Overall status from the steps: all succeeded, all failed, or some of each. A bulk step counts as its records
 * (one refused record among a hundred written is PARTIAL); a SKIPPED step counts as neither, since it did nothing,
 * but a failure that made later steps SKIPPED stopped the workflow, and the operation is FAILED.
 */
export function statusOf(steps: LedgerStep[]): OperationStatus {
  if (steps.length === 0) return 'FAILED';
  if (steps.some((s) => s.status === 'PENDING' || s.status === 'WAITING')) return 'PENDING';
  const units = steps.flatMap((s) => (s.items?.length ? s.items.map((i) => i.status) : [s.status]));
  const ok = units.filter((u) => u === 'SUCCEEDED').length;
  const failed = units.filter((u) => u === 'FAILED').length;
  if (failed > 0 && steps.some((s) => s.status === 'SKIPPED')) return 'FAILED';
  // Every step skipped with none failed: nothing was left to do (a propagation a later owner change overtook).
  if (failed === 0 && units.every((u) => u === 'SKIPPED')) return 'SUCCEEDED';
  return failed === 0 && ok > 0 ? 'SUCCEEDED' : ok === 0 ? 'FAILED' : 'PARTIAL';
}

/** The cursor of an operation in `operations()`: its place in the newest-first order (created at, then id). */
export function encodeCursor(op: Pick<OperationRecord, 'createdAt' | 'id'>): string {
  return encodePosition([op.createdAt, op.id]);
}

/** The (created at, id) an `operations()` cursor stands for; a TypeError naming the list for any other string. */
export function decodeCursor(cursor: string): [string, string] {
  return decodePosition(cursor, ['string', 'string'], 'operations()');
}

/** `,crm,erp,`: lets both stores filter by system with one LIKE, without a second table. */
function systemsColumn(op: OperationRecord): string {
  return `,${[...new Set(op.steps.map((s) => s.system))].join(',')},`;
}

const COLUMNS = 'id, trace_id, name, kind, app, idempotency_key, status, created_at, updated_at, systems, body';

/** Builds the WHERE clause shared by both stores; `p(i)` renders the i-th placeholder. */
function where(filter: OperationFilter, after: string | null | undefined, p: (i: number) => string): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  const add = (sql: (ph: string) => string, v: unknown) => {
    args.push(v);
    parts.push(sql(p(args.length)));
  };
  if (filter.status?.length) {
    const phs = filter.status.map((s) => {
      args.push(s);
      return p(args.length);
    });
    parts.push(`status IN (${phs.join(', ')})`);
  }
  if (filter.system) add((ph) => `systems LIKE ${ph}`, `%,${filter.system},%`);
  if (filter.app) add((ph) => `app = ${ph}`, filter.app);
  if (filter.since) add((ph) => `created_at >= ${ph}`, filter.since);
  if (after) {
    const [createdAt, id] = decodeCursor(after);
    args.push(createdAt, createdAt, id);
    parts.push(`(created_at < ${p(args.length - 2)} OR (created_at = ${p(args.length - 1)} AND id < ${p(args.length)}))`);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

/** The embedded ledger: one table in a SQLite file under DATA_DIR. */
export class SqliteLedger implements Ledger {
  private readonly db: Database.Database;
  /** The statements every write runs, prepared once: preparing them per call was a tenth of the ledger's cost on the write path. */
  private readonly stmt: Record<'save' | 'saveIfAbsent' | 'get' | 'byKey', Database.Statement>;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS operations (
        id TEXT PRIMARY KEY, trace_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, app TEXT, idempotency_key TEXT,
        status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, systems TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS operations_created ON operations (created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS operations_key ON operations (idempotency_key);`);
    this.stmt = {
      save: this.db.prepare(`INSERT INTO operations (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, systems = excluded.systems, body = excluded.body, trace_id = excluded.trace_id`),
      saveIfAbsent: this.db.prepare(`INSERT INTO operations (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`),
      get: this.db.prepare('SELECT body FROM operations WHERE id = ?'),
      byKey: this.db.prepare('SELECT body FROM operations WHERE idempotency_key = ? ORDER BY created_at DESC LIMIT 1'),
    };
  }

  async save(op: OperationRecord): Promise<void> {
    this.stmt.save.run(op.id, op.traceId, op.name, op.kind, op.app, op.idempotencyKey, op.status, op.createdAt, op.updatedAt, systemsColumn(op), JSON.stringify(op));
  }

  async saveIfAbsent(op: OperationRecord): Promise<void> {
    this.stmt.saveIfAbsent.run(op.id, op.traceId, op.name, op.kind, op.app, op.idempotencyKey, op.status, op.createdAt, op.updatedAt, systemsColumn(op), JSON.stringify(op));
  }

  async get(id: string): Promise<OperationRecord | null> {
    const row = this.stmt.get.get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as OperationRecord) : null;
  }

  async byIdempotencyKey(key: string): Promise<OperationRecord | null> {
    const row = this.stmt.byKey.get(key) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as OperationRecord) : null;
  }

  async list(filter: OperationFilter, first: number, after?: string | null): Promise<LedgerPage> {
    const w = where(filter, after, () => '?');
    const rows = this.db.prepare(`SELECT body FROM operations ${w.sql} ORDER BY created_at DESC, id DESC LIMIT ?`).all(...w.args, first + 1) as { body: string }[];
    return { records: rows.slice(0, first).map((r) => JSON.parse(r.body) as OperationRecord), hasNextPage: rows.length > first };
  }

  async prune(before: string): Promise<number> {
    return this.db.prepare('DELETE FROM operations WHERE created_at < ?').run(before).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** The shared ledger for several gateways: one table in PostgreSQL (`DATABASE_URL`), optionally in its own schema. */
export class PostgresLedger implements Ledger {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  static async open(url: string, opts: { schema?: string } = {}): Promise<PostgresLedger> {
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`Ledger schema must be a plain lower-case identifier; got "${schema}".`);
    const table = `${schema}.canon_operations`;
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await pool.query(`
      CREATE TABLE IF NOT EXISTS ${table} (
        id TEXT PRIMARY KEY, trace_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, app TEXT, idempotency_key TEXT,
        status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, systems TEXT NOT NULL, body JSONB NOT NULL)`);
    await pool.query(`CREATE INDEX IF NOT EXISTS canon_operations_created ON ${table} (created_at DESC, id DESC)`);
    await pool.query(`CREATE INDEX IF NOT EXISTS canon_operations_key ON ${table} (idempotency_key)`);
    return new PostgresLedger(pool, table);
  }

  async save(op: OperationRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, systems = EXCLUDED.systems, body = EXCLUDED.body, trace_id = EXCLUDED.trace_id`,
      [op.id, op.traceId, op.name, op.kind, op.app, op.idempotencyKey, op.status, op.createdAt, op.updatedAt, systemsColumn(op), JSON.stringify(op)],
    );
  }

  async saveIfAbsent(op: OperationRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
      [op.id, op.traceId, op.name, op.kind, op.app, op.idempotencyKey, op.status, op.createdAt, op.updatedAt, systemsColumn(op), JSON.stringify(op)],
    );
  }

  async get(id: string): Promise<OperationRecord | null> {
    const r = await this.pool.query(`SELECT body FROM ${this.table} WHERE id = $1`, [id]);
    return (r.rows[0]?.body as OperationRecord | undefined) ?? null;
  }

  async byIdempotencyKey(key: string): Promise<OperationRecord | null> {
    const r = await this.pool.query(`SELECT body FROM ${this.table} WHERE idempotency_key = $1 ORDER BY created_at DESC LIMIT 1`, [key]);
    return (r.rows[0]?.body as OperationRecord | undefined) ?? null;
  }

  async list(filter: OperationFilter, first: number, after?: string | null): Promise<LedgerPage> {
    const w = where(filter, after, (i) => `$${i}`);
    const r = await this.pool.query(`SELECT body FROM ${this.table} ${w.sql} ORDER BY created_at DESC, id DESC LIMIT $${w.args.length + 1}`, [...w.args, first + 1]);
    return { records: r.rows.slice(0, first).map((row) => row.body as OperationRecord), hasNextPage: r.rows.length > first };
  }

  async prune(before: string): Promise<number> {
    const r = await this.pool.query(`DELETE FROM ${this.table} WHERE created_at < $1`, [before]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
