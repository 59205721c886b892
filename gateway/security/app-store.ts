// Where canon keeps its apps (name, scopes, rate, key hash, revocation): SQLite under DATA_DIR by default, PostgreSQL when several gateways share them.
//
// Guarantees: both stores pass the same contract suite (test/app-store.test.ts); a change made by any process (the
// apps CLI, another gateway) is what the next `get` returns, with no cache in between, so a revoked key stops
// working on the very next request; names are unique for good (a revoked app keeps its name, so the ledger's `app`
// always means one app).

import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { openSqlite } from '../../subgraphs/kit/sqlite.js';

export interface AppRecord {
  /** 16 hex digits; every key of the app starts with it (gateway/security/keys.ts). */
  id: string;
  /** Unique, as the ledger, logs and the console name the app. */
  name: string;
  scopes: string[];
  /** Requests per second the app may send; null for the gateway's default (RATE_LIMIT_PER_SECOND). */
  ratePerSecond: number | null;
  /** The scrypt hash of the app's key; the key itself is never stored. */
  keyHash: string;
  /** ISO time. */
  createdAt: string;
  /** ISO time the app was revoked; null while its key works. */
  revokedAt: string | null;
}

export type CreateOutcome = { ok: true; app: AppRecord } | { ok: false; reason: 'name-taken' };

export interface AppStore {
  /** Stores a new app; refuses a name already used, revoked apps' included. */
  create(app: Omit<AppRecord, 'revokedAt'>): Promise<CreateOutcome>;
  /** The app with this id as stored now, or null. The request path: one primary-key read. */
  get(id: string): Promise<AppRecord | null>;
  byName(name: string): Promise<AppRecord | null>;
  /** Every app, revoked ones included, oldest first. */
  list(): Promise<AppRecord[]>;
  /** Marks the app revoked at `at` (ISO time) unless it already is; returns it as stored now, or null when there is no such app. */
  revoke(name: string, at: string): Promise<AppRecord | null>;
  close(): Promise<void>;
}

interface Row {
  id: string;
  name: string;
  scopes: string;
  rate_per_second: number | null;
  key_hash: string;
  created_at: string;
  revoked_at: string | null;
}

function fromRow(r: Row): AppRecord {
  return { id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as string[], ratePerSecond: r.rate_per_second, keyHash: r.key_hash, createdAt: r.created_at, revokedAt: r.revoked_at };
}

const COLUMNS = 'id, name, scopes, rate_per_second, key_hash, created_at, revoked_at';

/** The embedded store: table `apps` in DATA_DIR/canon.sqlite, beside the ledger. */
export class SqliteAppStore implements AppStore {
  private readonly db: Database.Database;
  private readonly byId: Database.Statement<[string], Row>;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS apps (
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, rate_per_second INTEGER,
      key_hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)`);
    this.byId = this.db.prepare(`SELECT ${COLUMNS} FROM apps WHERE id = ?`);
  }

  async create(app: Omit<AppRecord, 'revokedAt'>): Promise<CreateOutcome> {
    const r = this.db
      .prepare(`INSERT INTO apps (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING`)
      .run(app.id, app.name, JSON.stringify(app.scopes), app.ratePerSecond, app.keyHash, app.createdAt);
    return r.changes === 1 ? { ok: true, app: { ...app, revokedAt: null } } : { ok: false, reason: 'name-taken' };
  }

  async get(id: string): Promise<AppRecord | null> {
    const row = this.byId.get(id);
    return row ? fromRow(row) : null;
  }

  async byName(name: string): Promise<AppRecord | null> {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM apps WHERE name = ?`).get(name) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async list(): Promise<AppRecord[]> {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM apps ORDER BY created_at, name`).all() as Row[]).map(fromRow);
  }

  async revoke(name: string, at: string): Promise<AppRecord | null> {
    this.db.prepare('UPDATE apps SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(at, name);
    return this.byName(name);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** The shared store for several gateways: table `canon_apps` in PostgreSQL (`DATABASE_URL`), in `DATABASE_SCHEMA`. */
export class PostgresAppStore implements AppStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  static async open(url: string, opts: { schema?: string } = {}): Promise<PostgresAppStore> {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`The app store's schema must be a plain lower-case identifier; got "${schema}".`);
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    const table = `${schema}.canon_apps`;
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, rate_per_second INTEGER,
        key_hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)`);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresAppStore(pool, table);
  }

  async create(app: Omit<AppRecord, 'revokedAt'>): Promise<CreateOutcome> {
    const r = await this.pool.query(`INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT DO NOTHING`, [
      app.id,
      app.name,
      JSON.stringify(app.scopes),
      app.ratePerSecond,
      app.keyHash,
      app.createdAt,
    ]);
    return r.rowCount === 1 ? { ok: true, app: { ...app, revokedAt: null } } : { ok: false, reason: 'name-taken' };
  }

  async get(id: string): Promise<AppRecord | null> {
    const r = await this.pool.query<Row>({ name: 'canon-app-by-id', text: `SELECT ${COLUMNS} FROM ${this.table} WHERE id = $1`, values: [id] });
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async byName(name: string): Promise<AppRecord | null> {
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE name = $1`, [name]);
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async list(): Promise<AppRecord[]> {
    return (await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} ORDER BY created_at, name`)).rows.map(fromRow);
  }

  async revoke(name: string, at: string): Promise<AppRecord | null> {
    await this.pool.query(`UPDATE ${this.table} SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`, [at, name]);
    return this.byName(name);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The app store canon's configuration names: PostgreSQL with a database URL, else SQLite in the data directory. */
export async function openAppStore(config: { databaseUrl: string | undefined; databaseSchema: string; dataDir: string }): Promise<AppStore> {
  if (config.databaseUrl) return PostgresAppStore.open(config.databaseUrl, { schema: config.databaseSchema });
  return new SqliteAppStore(join(config.dataDir, 'canon.sqlite'));
}
