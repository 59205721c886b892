// Owns the marketing sandbox's SQLite schema and every query against it (Mailchimp-style list members).

import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../kit/sqlite.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';

/** The one audience the sandbox hosts; any other list id is answered 404. */
export const MARKETING_LIST_ID = 'a1b2c3d4e5';

export const MARKETING_STATUSES = ['subscribed', 'unsubscribed', 'cleaned', 'pending'] as const;
export type MarketingStatus = (typeof MARKETING_STATUSES)[number];

export const MARKETING_MERGE_FIELDS = ['FNAME', 'LNAME', 'PHONE', 'COMPANY'] as const;
export type MarketingMergeFields = Partial<Record<(typeof MARKETING_MERGE_FIELDS)[number], string>>;

export interface MarketingTag {
  id: number;
  name: string;
}

/** One row of `members`, exactly as stored (merge_fields and tags are JSON text). */
export interface MarketingMemberRow {
  list_id: string;
  subscriber_hash: string;
  email_address: string;
  status: MarketingStatus;
  merge_fields: string;
  tags: string;
  timestamp_signup: string;
  last_changed: string;
  canon_external_id: string | null;
  /** Mailchimp's `contact_id`: the member's own id, which stays when its address (and so its hash) changes. */
  contact_id: string;
}

/** Mailchimp's member key: md5 hex of the trimmed, lower-cased email address. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

/** A new member's contact_id: 32 hex digits, as Mailchimp's look; given once, never derived from the address again. */
export const newContactId = (): string => randomBytes(16).toString('hex');

/** A seeded member's contact_id, from its first address's hash, so that (seed, size) keeps determining the data. */
export const seededContactId = (hash: string): string => createHash('sha256').update(`contact:${hash}`).digest('hex').slice(0, 32);

const DDL = `
CREATE TABLE IF NOT EXISTS members (
  list_id TEXT NOT NULL,
  subscriber_hash TEXT NOT NULL,
  email_address TEXT NOT NULL,
  status TEXT NOT NULL,
  merge_fields TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  timestamp_signup TEXT NOT NULL,
  last_changed TEXT NOT NULL,
  canon_external_id TEXT,
  contact_id TEXT NOT NULL,
  PRIMARY KEY (list_id, subscriber_hash)
);
CREATE INDEX IF NOT EXISTS members_last_changed ON members (list_id, last_changed);
`;

/** A sandbox file made before members had a contact_id gets one per member (random, as new members do). */
function addContactIds(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(members)').all();
  if (columns.some((c) => c.name === 'contact_id')) return;
  db.exec("ALTER TABLE members ADD COLUMN contact_id TEXT NOT NULL DEFAULT ''; UPDATE members SET contact_id = lower(hex(randomblob(16)));");
}

const COLUMNS = [
  'list_id',
  'subscriber_hash',
  'email_address',
  'status',
  'merge_fields',
  'tags',
  'timestamp_signup',
  'last_changed',
  'canon_external_id',
  'contact_id',
] as const;

/** How a member list is filtered and ordered (Mailchimp's since_last_changed, sort_field and sort_dir). */
export interface MarketingListOptions {
  /** ISO instant, as stored. */
  since?: string;
  sort?: { field: 'last_changed' | 'timestamp_signup'; ascending: boolean };
}

export interface MarketingStore {
  db: Database.Database;
  insertAll(rows: readonly MarketingMemberRow[]): void;
  get(listId: string, hash: string): MarketingMemberRow | undefined;
  getMany(listId: string, hashes: readonly string[]): MarketingMemberRow[];
  /**
   * A page of members: with `since`, only those whose last_changed is at or after it; in `sort` order (then by
   * insertion), by insertion without one. `total` counts every member the filter admits.
   */
  list(listId: string, count: number, offset: number, opts?: MarketingListOptions): { rows: MarketingMemberRow[]; total: number };
  /** Creates or updates a member; merge fields are merged into the existing ones. */
  upsert(
    listId: string,
    hash: string,
    input: { email_address: string; status_if_new: MarketingStatus; status?: MarketingStatus; merge_fields?: MarketingMergeFields },
  ): MarketingMemberRow;
  /**
   * Updates an existing member; undefined when missing. A new `email_address` moves the member to that address's
   * subscriber hash (Mailchimp keys members by it), keeping everything else; 'exists' when another member has it.
   */
  patch(listId: string, hash: string, input: { status?: MarketingStatus; merge_fields?: MarketingMergeFields; email_address?: string }): MarketingMemberRow | 'exists' | undefined;
  close(): void;
}

/** Opens (creating if needed) a marketing sandbox database file. */
export function openMarketingStore(file: string): MarketingStore {
  const db = openSqlite(file);
  db.exec(DDL);
  addContactIds(db);
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS members_contact ON members (list_id, contact_id)');
  const insert = db.prepare(`INSERT INTO members (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`);
  const replace = db.prepare(
    `UPDATE members SET email_address = @email_address, status = @status, merge_fields = @merge_fields,
       last_changed = @last_changed WHERE list_id = @list_id AND subscriber_hash = @subscriber_hash`,
  );
  const getOne = db.prepare<[string, string], MarketingMemberRow>('SELECT * FROM members WHERE list_id = ? AND subscriber_hash = ?');
  const getSome = db.prepare<[string, string], MarketingMemberRow>(
    'SELECT * FROM members WHERE list_id = ? AND subscriber_hash IN (SELECT value FROM json_each(?))',
  );
  const list = (listId: string, n: number, offset: number, opts: MarketingListOptions = {}) => {
    // The sort field is one of two known names (typed), never text from a request.
    const where = `list_id = ?${opts.since ? ' AND last_changed >= ?' : ''}`;
    const args = opts.since ? [listId, opts.since] : [listId];
    const order = opts.sort ? `${opts.sort.field} ${opts.sort.ascending ? 'ASC' : 'DESC'}, rowid` : 'rowid';
    const rows = db.prepare<unknown[], MarketingMemberRow>(`SELECT * FROM members WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...args, n, offset);
    const total = db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM members WHERE ${where}`).get(...args)?.n ?? 0;
    return { rows, total };
  };

  const insertAll = db.transaction((rows: readonly MarketingMemberRow[]) => {
    for (const row of rows) insert.run(row);
  });
  const mergeFields = (current: string, patch: MarketingMergeFields | undefined) =>
    JSON.stringify({ ...(JSON.parse(current) as MarketingMergeFields), ...(patch ?? {}) });

  const upsert = db.transaction((listId: string, hash: string, input: Parameters<MarketingStore['upsert']>[2]) => {
    const current = getOne.get(listId, hash);
    if (!current) {
      const now = nextStamp(null);
      const row: MarketingMemberRow = {
        list_id: listId,
        subscriber_hash: hash,
        email_address: input.email_address,
        status: input.status ?? input.status_if_new,
        merge_fields: mergeFields('{"FNAME":"","LNAME":"","PHONE":"","COMPANY":""}', input.merge_fields),
        tags: '[]',
        timestamp_signup: now,
        last_changed: now,
        canon_external_id: null,
        contact_id: newContactId(),
      };
      insert.run(row);
      return row;
    }
    const row: MarketingMemberRow = {
      ...current,
      email_address: input.email_address,
      status: input.status ?? current.status,
      merge_fields: mergeFields(current.merge_fields, input.merge_fields),
      last_changed: nextStamp(current.last_changed),
    };
    replace.run(row);
    return row;
  });
  const move = db.prepare('UPDATE members SET subscriber_hash = ? WHERE list_id = ? AND subscriber_hash = ?');
  const patch = db.transaction((listId: string, hash: string, input: Parameters<MarketingStore['patch']>[2]): MarketingMemberRow | 'exists' | undefined => {
    const current = getOne.get(listId, hash);
    if (!current) return undefined;
    const email = input.email_address?.trim();
    const to = email ? subscriberHash(email) : hash;
    if (to !== hash) {
      if (getOne.get(listId, to)) return 'exists';
      move.run(to, listId, hash);
    }
    const row: MarketingMemberRow = {
      ...current,
      subscriber_hash: to,
      email_address: email ?? current.email_address,
      status: input.status ?? current.status,
      merge_fields: mergeFields(current.merge_fields, input.merge_fields),
      last_changed: nextStamp(current.last_changed),
    };
    replace.run(row);
    return row;
  });

  return {
    db,
    insertAll: (rows) => insertAll(rows),
    get: (listId, hash) => getOne.get(listId, hash),
    getMany: (listId, hashes) => getSome.all(listId, JSON.stringify(hashes)),
    list,
    upsert: (listId, hash, input) => upsert(listId, hash, input),
    patch: (listId, hash, input) => patch(listId, hash, input),
    close: () => db.close(),
  };
}
