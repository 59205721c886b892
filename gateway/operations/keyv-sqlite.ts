// keyv's embedded store: a better-sqlite3 table under DATA_DIR, so idempotency keys survive restarts with nothing else installed.
//
// Why not @keyv/sqlite: it is built on the `sqlite3` package, a second native SQLite binding (compiled at install,
// no prebuilt binary reachable offline); canon already ships better-sqlite3 for the sandboxes and the ledger.

import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { openSqlite } from '../../subgraphs/kit/sqlite.js';

export interface SqliteKeyvStoreOptions {
  /** SQLite file; created if missing. */
  file: string;
  /** Table name. Default `keyv`. */
  table?: string;
  /** How often expired rows are deleted, in ms. Default 60000. keyv itself never returns an expired value. */
  pruneEveryMs?: number;
}

/** Implements keyv's storage adapter over one table (key, value, expires_at); keyv handles serialisation and TTL checks. */
export class SqliteKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: SqliteKeyvStoreOptions;
  namespace?: string;
  private readonly db: Database.Database;
  private readonly stmts: Record<'get' | 'set' | 'del' | 'clear' | 'clearNs' | 'prune', Database.Statement>;
  private readonly pruner: NodeJS.Timeout;

  constructor(opts: SqliteKeyvStoreOptions) {
    super();
    this.opts = opts;
    const table = opts.table ?? 'keyv';
    if (!/^[a-z_][a-z0-9_]*$/i.test(table)) throw new TypeError(`SqliteKeyvStore table must be a plain identifier; got "${table}".`);
    this.db = openSqlite(opts.file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)`);
    this.stmts = {
      get: this.db.prepare(`SELECT value FROM ${table} WHERE key = ?`),
      set: this.db.prepare(`INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`),
      del: this.db.prepare(`DELETE FROM ${table} WHERE key = ?`),
      clear: this.db.prepare(`DELETE FROM ${table}`),
      clearNs: this.db.prepare(`DELETE FROM ${table} WHERE key LIKE ? ESCAPE '\\'`),
      prune: this.db.prepare(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at < ?`),
    };
    this.pruner = setInterval(() => this.prune(), opts.pruneEveryMs ?? 60_000);
    this.pruner.unref();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const row = this.stmts.get.get(key) as { value: string } | undefined;
    return row?.value as StoredData<Value> | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.stmts.set.run(key, typeof value === 'string' ? value : JSON.stringify(value), typeof ttl === 'number' ? Date.now() + ttl : null);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.stmts.del.run(key).changes > 0;
  }

  async clear(): Promise<void> {
    if (this.namespace) this.stmts.clearNs.run(`${this.namespace.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`);
    else this.stmts.clear.run();
  }

  /** Deletes rows past their expiry; returns how many. */
  prune(now = Date.now()): number {
    return this.stmts.prune.run(now).changes;
  }

  async disconnect(): Promise<void> {
    clearInterval(this.pruner);
    this.db.close();
  }
}
