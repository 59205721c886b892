// An in-process stand-in for a `pg.Pool` over one embedded PGlite database: what lets DBOS keep its system database under DATA_DIR with nothing else installed.
//
// Terminology
// - session: PGlite is one PostgreSQL backend, so every client of this pool shares one session.
// - lease: the session held by one client from its BEGIN until its COMMIT or ROLLBACK; every other client's
//   statements wait, so no statement of theirs lands inside a transaction it does not belong to.
// Guarantees: statements run one at a time, in the order they were sent (FIFO, so no client starves); a client
// released while it still holds a lease has its transaction rolled back and the lease freed; values come back as
// node-postgres returns them (int8 and numeric as strings, json parsed, bytea as Buffer), since DBOS reads rows
// the way pg gives them; `LISTEN` subscribes the client to PGlite's own notifications, which it receives as pg's
// `notification` events.
// Why not pglite-socket: its multiplexer interleaves extended-protocol messages of different connections
// (pglite issue 1046), and DBOS then fails under concurrency with `portal "" does not exist`.

import { EventEmitter } from 'node:events';
import { PGlite, type Results } from '@electric-sql/pglite';
import pg from 'pg';

/** What a query answers: the part of pg's `QueryResult` DBOS reads. */
export interface PoolQueryResult {
  rows: any[];
  rowCount: number;
  command: string;
  fields: { name: string; dataTypeID: number }[];
}

// Array types pg-types parses besides the builtins: pg turns them into JS arrays of its element parser's values.
const ARRAY_OIDS = [199, 651, 791, 1000, 1001, 1005, 1007, 1008, 1009, 1014, 1015, 1016, 1017, 1021, 1022, 1028, 1040, 1041, 1115, 1182, 1183, 1185, 1186, 1231, 1270, 2951, 3807, 3907];

/** pg's own text parsers for every type it knows, as PGlite takes parsers: rows then read exactly as through pg. */
function pgParsers(): Record<number, (value: string) => unknown> {
  const oids = [...new Set([...Object.values(pg.types.builtins), ...ARRAY_OIDS])];
  return Object.fromEntries(oids.map((oid) => [oid, pg.types.getTypeParser(oid, 'text') as (value: string) => unknown]));
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
}

/**
 * PostgreSQL settings for the embedded database. Its tables (DBOS's workflow and step state) are small, and every
 * buffer lives in WebAssembly memory that is never given back, so buffers are kept small: 16 MB of shared buffers
 * instead of PostgreSQL's 128 MB took the gateway's resident memory down by about 110 MB on this machine.
 */
const PGLITE_CONF = ['shared_buffers = 16MB', 'wal_buffers = 1MB', 'maintenance_work_mem = 16MB'];

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
  private readonly unsubscribe: () => void;
  private ended = false;

  private constructor(
    readonly db: PGlite,
    max: number,
  ) {
    super();
    this.options = { max };
    this.unsubscribe = db.onNotification((channel, payload) => {
      for (const c of this.clients) if (c.channels.has(channel)) c.emit('notification', { channel, payload, processId: 0 });
    });
  }

  /** Opens (or creates) the database at `dataDir` and waits until it is ready. */
  static async open(opts: PglitePoolOptions): Promise<PglitePool> {
    const db = new PGlite(opts.dataDir, { parsers: pgParsers(), postgresqlconf: PGLITE_CONF });
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
    if (values && values.length > 0) return shape(await this.db.query(text, values.map((v) => (v === undefined ? null : v))));
    // The simple protocol, as pg uses for a query without parameters: migrations send scripts of several statements.
    const results = await this.db.exec(text);
    return shape(results.at(-1) ?? { rows: [], fields: [] });
  }

  async listen(client: PglitePoolClient, channel: string): Promise<PoolQueryResult> {
    await this.exclusive(() => this.db.query(`LISTEN ${channel}`));
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

  /** Closes the database once every statement sent before has run. */
  async end(): Promise<void> {
    if (this.ended) return;
    await this.exclusive(async () => {
      this.ended = true;
      this.unsubscribe();
      this.clients.clear();
      await this.db.close();
    });
  }
}

function shape(r: Results): PoolQueryResult {
  return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length, command: r.command ?? '', fields: r.fields };
}
