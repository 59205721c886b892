// Opening canon's SQLite files: every store (sandboxes, identity, ledger, key store) goes through here, so the pragmas are set once.

import Database from 'better-sqlite3';

export interface OpenSqliteOptions {
  /** Fail when the file does not exist yet (a store that another step must have created). Default false. */
  fileMustExist?: boolean;
  /** Open read-only. Default false. */
  readonly?: boolean;
}

/**
 * Opens `file` in WAL mode with synchronous=NORMAL and foreign keys on. In WAL mode NORMAL survives a crash of
 * the process and loses nothing it acknowledged to SQLite then; only an OS crash or power cut can drop the last
 * commits. FULL would fsync every commit, and a write makes several.
 */
export function openSqlite(file: string, opts: OpenSqliteOptions = {}): Database.Database {
  const db = new Database(file, { fileMustExist: opts.fileMustExist ?? false, readonly: opts.readonly ?? false });
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  return db;
}
