// Owns the CRM sandbox's SQLite schema and every query against it (HubSpot-style contacts).

import type Database from 'better-sqlite3';
import { openSqlite } from '../../kit/sqlite.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';

/** One row of `contacts`, exactly as stored. */
export interface CrmContactRow {
  id: string;
  firstname: string | null;
  lastname: string | null;
  email: string | null;
  phone: string | null;
  /** ISO 3166-1 alpha-2, as HubSpot's `country` property holds it when a form validated it. */
  country: string | null;
  company: string | null;
  jobtitle: string | null;
  lifecyclestage: string | null;
  canon_external_id: string | null;
  createdate: string;
  lastmodifieddate: string;
}

/** Properties a client may write; everything else on a contact is read-only. */
export const CRM_WRITABLE_PROPERTIES = [
  'firstname',
  'lastname',
  'email',
  'phone',
  'country',
  'company',
  'jobtitle',
  'lifecyclestage',
  'canon_external_id',
] as const;
export type CrmWritableProperty = (typeof CRM_WRITABLE_PROPERTIES)[number];

export const CRM_READ_ONLY_PROPERTIES = ['id', 'hs_object_id', 'createdate', 'lastmodifieddate'] as const;

/** HubSpot's internal lifecycle stage values (the labels differ; the API speaks these). */
export const CRM_LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
] as const;

/** The first id handed out in an empty store; HubSpot ids are opaque numeric strings. */
const FIRST_ID = 1001;

const DDL = `
CREATE TABLE IF NOT EXISTS contacts (
  id TEXT PRIMARY KEY,
  firstname TEXT,
  lastname TEXT,
  email TEXT,
  phone TEXT,
  country TEXT,
  company TEXT,
  jobtitle TEXT,
  lifecyclestage TEXT,
  canon_external_id TEXT,
  createdate TEXT NOT NULL,
  lastmodifieddate TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_canon_external_id ON contacts (canon_external_id);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email);
CREATE INDEX IF NOT EXISTS contacts_email_lower ON contacts (lower(trim(email)));
CREATE INDEX IF NOT EXISTS contacts_lastmodifieddate ON contacts (lastmodifieddate);
`;

const COLUMNS = ['id', ...CRM_WRITABLE_PROPERTIES, 'createdate', 'lastmodifieddate'] as const;

/** One search filter on a known column (checked by the caller); `value` is bound, never spliced. */
export interface CrmFilter {
  column: string;
  op: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE';
  value: string;
}

const SQL_OPS: Record<CrmFilter['op'], string> = { EQ: '=', NEQ: '!=', GT: '>', GTE: '>=', LT: '<', LTE: '<=' };
/** Columns compared as numbers rather than text. */
const NUMERIC = new Set(['id']);

export interface CrmStore {
  db: Database.Database;
  /** Inserts rows as given, in one transaction (used by the seeder). */
  insertAll(rows: readonly CrmContactRow[]): void;
  get(id: string): CrmContactRow | undefined;
  /** Rows for the ids that exist; order unspecified. */
  getMany(ids: readonly string[]): CrmContactRow[];
  /** Rows with numeric id greater than `after`, ascending, at most `limit`. */
  listAfter(after: number, limit: number): CrmContactRow[];
  /**
   * Rows matching any group (every filter of a group must hold), in `sort` order (a column, ascending or not) and
   * then by numeric id; by numeric id alone without one.
   */
  search(groups: readonly CrmFilter[][], sort?: { column: string; ascending: boolean }): CrmContactRow[];
  /** Applies `properties` and bumps lastmodifieddate; undefined when the contact does not exist. */
  update(id: string, properties: Partial<Record<CrmWritableProperty, string | null>>): CrmContactRow | undefined;
  create(properties: Partial<Record<CrmWritableProperty, string | null>>): CrmContactRow;
  close(): void;
}

/**
 * HubSpot matches email case-insensitively (it stores addresses trimmed and lower-cased), so a search for
 * `Ada@Example.com` finds `ada@example.com`; the expression index `contacts_email_lower` serves it.
 */
const EMAIL_EQ = 'lower(trim(email)) = lower(trim(?))';

/** Opens (creating if needed) a CRM sandbox database file. */
export function openCrmStore(file: string): CrmStore {
  const db = openSqlite(file);
  db.exec(DDL);

  const insert = db.prepare(
    `INSERT INTO contacts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`,
  );
  const getOne = db.prepare<[string], CrmContactRow>('SELECT * FROM contacts WHERE id = ?');
  // json_each keeps big batches to one statement instead of building thousands of placeholders.
  const getSome = db.prepare<[string], CrmContactRow>(
    'SELECT * FROM contacts WHERE id IN (SELECT value FROM json_each(?))',
  );
  const after = db.prepare<[number, number], CrmContactRow>(
    'SELECT * FROM contacts WHERE CAST(id AS INTEGER) > ? ORDER BY CAST(id AS INTEGER) LIMIT ?',
  );
  const maxId = db.prepare<[], { m: number | null }>('SELECT MAX(CAST(id AS INTEGER)) AS m FROM contacts');

  const insertAll = db.transaction((rows: readonly CrmContactRow[]) => {
    for (const row of rows) insert.run(row);
  });

  const update = db.transaction(
    (id: string, properties: Partial<Record<CrmWritableProperty, string | null>>): CrmContactRow | undefined => {
      const current = getOne.get(id);
      if (!current) return undefined;
      const next: CrmContactRow = { ...current, ...properties, lastmodifieddate: nextStamp(current.lastmodifieddate) };
      const sets = [...CRM_WRITABLE_PROPERTIES, 'lastmodifieddate'].map((c) => `${c} = @${c}`).join(', ');
      db.prepare(`UPDATE contacts SET ${sets} WHERE id = @id`).run(next);
      return next;
    },
  );

  const create = db.transaction((properties: Partial<Record<CrmWritableProperty, string | null>>): CrmContactRow => {
    const id = String(Math.max(FIRST_ID - 1, maxId.get()?.m ?? 0) + 1);
    const now = nextStamp(null);
    const row: CrmContactRow = {
      id,
      firstname: null,
      lastname: null,
      email: null,
      phone: null,
      country: null,
      company: null,
      jobtitle: null,
      lifecyclestage: null,
      canon_external_id: null,
      ...properties,
      createdate: now,
      lastmodifieddate: now,
    };
    insert.run(row);
    return row;
  });

  return {
    db,
    insertAll: (rows) => insertAll(rows),
    get: (id) => getOne.get(id),
    getMany: (ids) => getSome.all(JSON.stringify(ids)),
    listAfter: (a, limit) => after.all(a, limit),
    search: (groups, sort) => {
      // Column names were checked against the known set by the caller; values are bound.
      const condition = (f: CrmFilter) => {
        if (f.column === 'email' && f.op === 'EQ') return EMAIL_EQ;
        return NUMERIC.has(f.column) ? `CAST(${f.column} AS INTEGER) ${SQL_OPS[f.op]} CAST(? AS INTEGER)` : `${f.column} ${SQL_OPS[f.op]} ?`;
      };
      const where = groups.length ? groups.map((g) => (g.length ? '(' + g.map(condition).join(' AND ') + ')' : '1')).join(' OR ') : '1';
      const values = groups.flatMap((g) => g.map((f) => f.value));
      const order = sort ? `${NUMERIC.has(sort.column) ? `CAST(${sort.column} AS INTEGER)` : sort.column} ${sort.ascending ? 'ASC' : 'DESC'}, ` : '';
      return db
        .prepare<unknown[], CrmContactRow>(`SELECT * FROM contacts WHERE ${where} ORDER BY ${order}CAST(id AS INTEGER)`)
        .all(...values);
    },
    update: (id, properties) => update(id, properties),
    create: (properties) => create(properties),
    close: () => db.close(),
  };
}
