// An in-process stand-in for a `pg.Pool` over one embedded PGlite database: what lets DBOS keep its system database under DATA_DIR with nothing else installed.
//
// Terminology
// - session: PGlite is one PostgreSQL backend, so every client of this pool shares one session.
// - lease: the session held by one client from its BEGIN until its COMMIT or ROLLBACK; every other client's
//   statements wait, so no statement of theirs lands inside a transaction it does not belong to.
// Guarantees: statements run one at a time, in the order they were sent (FIFO, so no client starves); a client
// released while it still holds a lease has its transaction rolled back and the lease freed; values come back as
// node-postgres returns them (int8 and numeric as strings, json parsed, bytea as Buffer), since DBOS reads rows
// the way pg gives them; `LISTEN` subscribes the client to the session's notifications, which it receives as pg's
// `notification` events. Each statement enters PGlite once, as pg's wire messages (see runStatement), and a
// statement with parameters is prepared once per text.
// Why not pglite-socket: its multiplexer interleaves extended-protocol messages of different connections
// (pglite issue 1046), and DBOS then fails under concurrency with `portal "" does not exist`.

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { prepareValue } from 'pg/lib/utils.js';
import { DatabaseError, serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage, CommandCompleteMessage, DataRowMessage, NotificationResponseMessage, RowDescriptionMessage } from 'pg-protocol/dist/messages.js';

/** What a query answers: the part of pg's `QueryResult` DBOS reads. */
export interface PoolQueryResult {
  rows: any[];
  rowCount: number;
  command: string;
  fields: { name: string; dataTypeID: number }[];
}

/** A statement that leaves dead row versions behind, and the table it does so in (as the statement names it). */
const LEAVES_DEAD_ROWS = /^\s*(?:UPDATE|DELETE\s+FROM)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i;
const COMMAND = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/;

/**
 * Statements with parameters are prepared once per text, by name, and only bound and executed after that: DBOS
 * sends the same couple of dozen statements again and again, and PostgreSQL then neither parses nor plans them anew.
 * Prepared statements belong to the session, not to a transaction, so a rollback keeps them. Past the cap (texts
 * that differ every time), statements go unnamed.
 */
type PreparedStatements = Map<string, string>;
const MAX_PREPARED = 500;

/**
 * One statement as node-postgres sends it over a socket, in one message, so PGlite is entered once per statement
 * (its own `query` enters it six times, describing the statement first to serialise the parameters; its `exec`
 * twice). With parameters: Parse, Bind (values as pg prepares them, types left to the server), Describe, Execute,
 * Sync; without: a simple Query, which may hold several statements (migrations), answered with the last one's
 * result. The answer is read with pg's own protocol parser and pg's type parsers, so rows are what pg would
 * return; notifications it carries go to `notify`.
 *
 * Why the stream form: PGlite's `execProtocolRaw` also parses every answer itself and keeps each parsed message
 * in a list that only its `execProtocol` empties, so on this path the list grew by every message of every
 * statement for as long as the database was open (about 850 bytes of heap per statement measured here: the
 * engine's queue polls alone, about 125 statements a second when idle, added some 380 MB an hour). With
 * `onRawData` PGlite hands over the bytes and neither parses nor keeps them.
 */
async function runStatement(db: PGlite, text: string, values: readonly unknown[] | undefined, statements: PreparedStatements, notify: (channel: string, payload: string) => void): Promise<PoolQueryResult> {
  let request: Buffer;
  let preparing: string | null = null;
  if (values?.length) {
    const known = statements.get(text);
    const name = known ?? (statements.size < MAX_PREPARED ? `canon_${statements.size + 1}` : '');
    if (!known && name) preparing = name;
    const bind = serialize.bind({ statement: name, values: values.map((v) => prepareValue(v === undefined ? null : v)) });
    request = Buffer.concat([...(known ? [] : [serialize.parse({ name, text })]), bind, serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync()]);
  } else request = serialize.query(text);
  // NodeFS writes through to the data directory as PostgreSQL writes; syncing is for the browsers' in-memory stores.
  const chunks: Buffer[] = [];
  // The chunk is a view of WebAssembly memory that PGlite reuses: copied at once.
  await db.execProtocolRawStream(request, { syncToFs: false, onRawData: (chunk) => void chunks.push(Buffer.from(chunk)) });
  const empty = (): PoolQueryResult => ({ rows: [], rowCount: 0, command: '', fields: [] });
  let current = empty();
  let last = current;
  let parsers: ((v: string) => unknown)[] = [];
  let error: DatabaseError | null = null;
  new Parser().parse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), (msg: BackendMessage) => {
    if (msg.name === 'parseComplete' && preparing) statements.set(text, preparing);
    else if (msg.name === 'rowDescription') {
      const fields = (msg as RowDescriptionMessage).fields;
      current.fields = fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
      parsers = fields.map((f) => pg.types.getTypeParser(f.dataTypeID, 'text') as (v: string) => unknown);
    } else if (msg.name === 'dataRow') {
      const raw = (msg as DataRowMessage).fields;
      const row: Record<string, unknown> = {};
      for (let i = 0; i < raw.length; i++) row[current.fields[i]!.name] = raw[i] === null ? null : parsers[i]!(raw[i]);
      current.rows.push(row);
    } else if (msg.name === 'commandComplete') {
      const m = COMMAND.exec((msg as CommandCompleteMessage).text);
      current.command = m?.[1] ?? '';
      current.rowCount = m?.[3] ?? m?.[2] ? Number(m[3] ?? m[2]) : current.rows.length;
      last = current;
      current = empty();
    } else if (msg.name === 'notification') {
      const n = msg as NotificationResponseMessage;
      notify(n.channel, n.payload);
    } else if (msg.name === 'error') error ??= msg as DatabaseError;
  });
  if (error) throw error;
  return last;
}

/** A first-come, first-served lock: the one session is given to one holder at a time. */
class FifoLock {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  async acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

const BEGINS = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
// ROLLBACK TO SAVEPOINT stays inside the transaction; COMMIT PREPARED is not this session's transaction.
const ENDS = /^\s*(COMMIT|END|ABORT|ROLLBACK)\b(?!\s+(TO|PREPARED)\b)/i;
const LISTEN = /^\s*LISTEN\s+("?)([A-Za-z_][A-Za-z0-9_$]*)\1\s*;?\s*$/i;
const UNLISTEN = /^\s*UNLISTEN\s+("?)([A-Za-z_][A-Za-z0-9_$*]*)\1\s*;?\s*$/i;

export interface PglitePoolOptions {
  /** The data directory, or `memory://` for a database that lives as long as the process. */
  dataDir: string;
  /** What DBOS reads as the pool size (`pool.options.max`); it sizes its polling limiter by it. Default 10. */
  max?: number;
  /**
   * A database directory created before (and closed) to copy when `dataDir` holds none, instead of creating one: the
   * tests create one per run, since creating a database takes about 2.5 s and copying one 0.1 s. Default none.
   */
  template?: string;
}

/**
 * PostgreSQL settings for the embedded database. Its tables (DBOS's workflow and step state) are small, and every
 * buffer lives in WebAssembly memory that is never given back, so buffers are kept small: 16 MB of shared buffers
 * instead of PostgreSQL's 128 MB took the gateway's resident memory down by about 110 MB on this machine.
 */
const PGLITE_CONF = ['shared_buffers = 16MB', 'wal_buffers = 1MB', 'maintenance_work_mem = 16MB'];

/**
 * Creates the database at `dataDir` in a short-lived process of its own. Creating a database runs initdb in
 * WebAssembly, whose memory grows to about 700 MB, and the process that ran it keeps much of that resident: in the
 * gateway's own process about 250 MB more for as long as it ran (measured on this machine: 506 MB after a fresh
 * start against 253 MB opening the same directory again), and still about 100 MB more from a worker thread.
 */
async function createInProcess(dataDir: string): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const code = `const { PGlite } = require(${JSON.stringify(entry)});
    const db = new PGlite(${JSON.stringify(dataDir)}, { postgresqlconf: ${JSON.stringify(PGLITE_CONF)} });
    db.waitReady.then(() => db.close()).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (exitCode !== 0) throw new Error(`Creating the workflow database at ${dataDir} failed (exit ${exitCode}): ${stderr.trim().slice(0, 500)}`);
}

/** One checked-out client: pg's `PoolClient` as DBOS uses it. */
export class PglitePoolClient extends EventEmitter {
  /** Set between this client's BEGIN and its COMMIT/ROLLBACK. */
  private leased = false;
  private released = false;
  readonly channels = new Set<string>();

  constructor(private readonly pool: PglitePool) {
    super();
  }

  /** Runs one statement (or, without parameters, a script of several) as this client. */
  async query(text: string, values?: readonly unknown[]): Promise<PoolQueryResult> {
    if (this.released) throw new Error('This client was released to the pool; check out another with pool.connect().');
    const listen = LISTEN.exec(text);
    if (listen) return this.pool.listen(this, listen[2]!);
    const unlisten = UNLISTEN.exec(text);
    if (unlisten) return this.pool.unlisten(this, unlisten[2]!);
    if (this.leased) {
      const result = this.pool.run(text, values);
      // The transaction ends with this statement whether it succeeds or not (a failed COMMIT rolls back).
      if (ENDS.test(text)) result.finally(() => this.endLease()).catch(() => undefined);
      return result;
    }
    if (BEGINS.test(text)) {
      await this.pool.lock.acquire();
      this.leased = true;
      try {
        return await this.pool.run(text, values);
      } catch (e) {
        this.endLease();
        throw e;
      }
    }
    return this.pool.exclusive(() => this.pool.run(text, values));
  }

  private endLease(): void {
    if (!this.leased) return;
    this.leased = false;
    this.pool.lock.release();
  }

  /** Returns the client; a transaction it left open is rolled back first, so the session is free for the next. */
  release(_err?: Error | boolean): void {
    if (this.released) return;
    this.released = true;
    this.pool.forget(this);
    if (this.leased) {
      void this.pool
        .run('ROLLBACK')
        .catch(() => undefined)
        .finally(() => this.endLease());
    }
  }
}

/** The pool: `connect`, `query`, `end` and `on('error')`, over one PGlite database. */
export class PglitePool extends EventEmitter {
  readonly lock = new FifoLock();
  readonly options: { max: number };
  private readonly clients = new Set<PglitePoolClient>();
  private ended = false;
  private readonly statements: PreparedStatements = new Map();
  /** The tables an UPDATE or DELETE ran in since the last vacuum, as the statements named them. */
  private readonly dirty = new Set<string>();
  private vacuumTimer: NodeJS.Timeout | null = null;
  /** Vacuums run so far (vacuum and vacuumEvery). */
  vacuums = 0;

  private constructor(
    readonly db: PGlite,
    max: number,
  ) {
    super();
    this.options = { max };
  }

  /** Hands a notification to the clients that listen on its channel, after the statement that carried it has answered. */
  private readonly notify = (channel: string, payload: string): void => {
    queueMicrotask(() => {
      for (const c of this.clients) if (c.channels.has(channel)) c.emit('notification', { channel, payload, processId: 0 });
    });
  };

  /** Opens (or creates) the database at `dataDir` and waits until it is ready. */
  static async open(opts: PglitePoolOptions): Promise<PglitePool> {
    if (!opts.dataDir.startsWith('memory://') && !existsSync(join(opts.dataDir, 'PG_VERSION'))) {
      if (opts.template && existsSync(join(opts.template, 'PG_VERSION'))) cpSync(opts.template, opts.dataDir, { recursive: true });
      else await createInProcess(opts.dataDir);
    }
    const db = new PGlite(opts.dataDir, { postgresqlconf: PGLITE_CONF });
    await db.waitReady;
    return new PglitePool(db, opts.max ?? 10);
  }

  /** Runs `fn` holding the session, after every statement sent before it. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.lock.acquire();
    try {
      return await fn();
    } finally {
      this.lock.release();
    }
  }

  /** One statement on the session, which the caller holds. Without parameters a script may hold several statements. */
  async run(text: string, values?: readonly unknown[]): Promise<PoolQueryResult> {
    if (this.ended) throw new Error('The PGlite pool has ended.');
    const dead = LEAVES_DEAD_ROWS.exec(text);
    if (dead) this.dirty.add(dead[1]!);
    return runStatement(this.db, text, values, this.statements, this.notify);
  }

  async listen(client: PglitePoolClient, channel: string): Promise<PoolQueryResult> {
    await this.exclusive(() => this.run(`LISTEN ${channel}`));
    client.channels.add(channel.toLowerCase());
    return { rows: [], rowCount: 0, command: 'LISTEN', fields: [] };
  }

  async unlisten(client: PglitePoolClient, channel: string): Promise<PoolQueryResult> {
    if (channel === '*') client.channels.clear();
    else client.channels.delete(channel.toLowerCase());
    return { rows: [], rowCount: 0, command: 'UNLISTEN', fields: [] };
  }

  forget(client: PglitePoolClient): void {
    this.clients.delete(client);
  }

  async connect(): Promise<PglitePoolClient> {
    if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
    const client = new PglitePoolClient(this);
    this.clients.add(client);
    return client;
  }

  async query(text: string, values?: readonly unknown[]): Promise<PoolQueryResult> {
    if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
    return this.exclusive(() => this.run(text, values));
  }

  /**
   * Does autovacuum's work, which embedded PostgreSQL has no process for: every `everyMs`, `VACUUM` of the tables
   * an UPDATE or DELETE ran in since. Without it every row version an UPDATE or DELETE leaves behind, and its index
   * entries, stay: a queue's dequeue reads through all of them and gets slower with each workflow run (measured on
   * the bench's write load: DBOS's dequeue statements took 2.8 to 3.8 ms each, 0.8 to 1.3 with this). No ANALYZE:
   * it costs about 20 times a vacuum of DBOS's status table (280 against 13 ms at 25,000 workflows, the event loop
   * held all the while), and the planner did no better with its statistics; VACUUM keeps the row counts it plans
   * with up to date. A vacuum that fails is handed to `failed`; its tables are vacuumed again once written again.
   */
  vacuumEvery(everyMs: number, failed: (e: unknown) => void): void {
    this.vacuumTimer = setInterval(() => {
      if (!this.dirty.size || this.ended) return;
      const tables = [...this.dirty];
      this.dirty.clear();
      this.vacuum(tables).catch(failed);
    }, everyMs);
    this.vacuumTimer.unref();
  }

  /** `VACUUM` of `tables` (qualified names, quoted where they need it), now. */
  async vacuum(tables: readonly string[]): Promise<void> {
    await this.exclusive(() => this.run(`VACUUM ${tables.join(', ')}`));
    this.vacuums++;
  }

  /** Closes the database once every statement sent before has run. */
  async end(): Promise<void> {
    if (this.vacuumTimer) clearInterval(this.vacuumTimer);
    if (this.ended) return;
    await this.exclusive(async () => {
      this.ended = true;
      this.clients.clear();
      await this.db.close();
    });
  }
}
