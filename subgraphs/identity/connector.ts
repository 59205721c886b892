// The only code that reads and writes canon's identity crosswalk (SQLite): canonical customer ids and each system's native ids for them.

import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import DataLoader from 'dataloader';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { openSqlite } from '../kit/sqlite.js';

export type SourceIdMap = Record<SystemName, string | null>;

/** One row of `customers`: a canonical customer and its place in creation order (what page cursors hold). */
export interface IdentityCustomerRow {
  id: string;
  seq: number;
  created_at: string;
}

/** One row of `source_ids`: a native record of one system linked to a canonical customer. */
export interface IdentitySourceIdRow {
  system: SystemName;
  native_id: string;
  customer_id: string;
  /** 1 for the record canon reads for that customer and system; 0 for a duplicate linked to the same customer. */
  is_primary: 0 | 1;
}

export const IDENTITY_DDL = `
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_ids (
  system TEXT NOT NULL,
  native_id TEXT NOT NULL,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  is_primary INTEGER NOT NULL,
  PRIMARY KEY (system, native_id)
);
CREATE INDEX IF NOT EXISTS source_ids_customer ON source_ids (customer_id, system);
`;

/** Creates the crosswalk in `file` (if missing) and writes `customers` and their links in one transaction. */
export function writeIdentityCrosswalk(file: string, customers: readonly IdentityCustomerRow[], sourceIds: readonly IdentitySourceIdRow[]): void {
  const db = openSqlite(file);
  try {
    db.exec(IDENTITY_DDL);
    const insertCustomer = db.prepare('INSERT INTO customers (id, seq, created_at) VALUES (@id, @seq, @created_at)');
    const insertSource = db.prepare('INSERT INTO source_ids (system, native_id, customer_id, is_primary) VALUES (@system, @native_id, @customer_id, @is_primary)');
    db.transaction(() => {
      for (const c of customers) insertCustomer.run(c);
      for (const l of sourceIds) insertSource.run(l);
    })();
  } finally {
    db.close();
  }
}

export interface IdentityRecord {
  id: string;
  seq: number;
  sourceIds: SourceIdMap;
}

export interface IdentityContext {
  store: IdentityStore;
  byId: DataLoader<string, IdentityRecord | null>;
  /** By a system's native id, duplicates (non-primary rows) included. */
  bySource: (system: SystemName) => DataLoader<string, IdentityRecord | null>;
}

/** A page of customers as the resolvers build it; totalCount is resolved on its own, only when selected. */
export interface IdentityConnection {
  edges: { cursor: string; node: IdentityRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface IdentityPage {
  records: IdentityRecord[];
  hasNextPage: boolean;
}

interface Row {
  id: string;
  seq: number;
  system: SystemName | null;
  native_id: string | null;
}

function emptyIds(): SourceIdMap {
  return Object.fromEntries(SYSTEMS.map((s) => [s, null])) as SourceIdMap;
}

/** Rows of (customer, system, native id) folded into one record per customer, in row order. */
function fold(rows: Row[]): IdentityRecord[] {
  const out = new Map<string, IdentityRecord>();
  for (const r of rows) {
    let rec = out.get(r.id);
    if (!rec) {
      rec = { id: r.id, seq: r.seq, sourceIds: emptyIds() };
      out.set(r.id, rec);
    }
    if (r.system && r.native_id != null) rec.sourceIds[r.system] = r.native_id;
  }
  return [...out.values()];
}

export class IdentityStore {
  private readonly db: Database.Database;
  private readonly pageStmt: Database.Statement;
  private readonly byIdsStmt: Database.Statement;
  private readonly bySourceStmt: Database.Statement;
  private readonly countStmt: Database.Statement;

  constructor(file: string) {
    this.db = openSqlite(file, { fileMustExist: true });
    this.pageStmt = this.db.prepare(`
      WITH page AS (SELECT id, seq FROM customers WHERE seq > ? ORDER BY seq LIMIT ?)
      SELECT page.id, page.seq, s.system, s.native_id
      FROM page LEFT JOIN source_ids s ON s.customer_id = page.id AND s.is_primary = 1
      ORDER BY page.seq`);
    this.byIdsStmt = this.db.prepare(`
      SELECT c.id, c.seq, s.system, s.native_id
      FROM customers c LEFT JOIN source_ids s ON s.customer_id = c.id AND s.is_primary = 1
      WHERE c.id IN (SELECT value FROM json_each(?))`);
    this.bySourceStmt = this.db.prepare(`SELECT native_id, customer_id FROM source_ids WHERE system = ? AND native_id IN (SELECT value FROM json_each(?))`);
    this.countStmt = this.db.prepare('SELECT count(*) AS n FROM customers');
  }

  /** Customers after position `afterSeq` in creation order; `first` of them. */
  page(afterSeq: number, first: number): IdentityPage {
    const records = fold(this.pageStmt.all(afterSeq, first + 1) as Row[]);
    return { records: records.slice(0, first), hasNextPage: records.length > first };
  }

  /** Canonical customers in all. */
  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  byIds(ids: readonly string[]): (IdentityRecord | null)[] {
    const found = new Map(fold(this.byIdsStmt.all(JSON.stringify(ids)) as Row[]).map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? null);
  }

  bySource(system: SystemName, nativeIds: readonly string[]): (IdentityRecord | null)[] {
    const links = this.bySourceStmt.all(system, JSON.stringify(nativeIds)) as { native_id: string; customer_id: string }[];
    const customerOf = new Map(links.map((l) => [l.native_id, l.customer_id]));
    const records = new Map(this.byIds([...new Set(customerOf.values())]).filter((r): r is IdentityRecord => r !== null).map((r) => [r.id, r]));
    return nativeIds.map((n) => records.get(customerOf.get(n) ?? '') ?? null);
  }

  /**
   * Links native records into one canonical customer, in one transaction: the customer already holding any of
   * them, the rest linked to it (primary for a system it has no record of yet, else a duplicate), or a new customer
   * holding them all. Linking the same records again answers the same customer and changes nothing.
   */
  link(records: Partial<SourceIdMap>): LinkOutcome {
    const given = SYSTEMS.flatMap((system) => (records[system] != null && records[system] !== '' ? [{ system, nativeId: String(records[system]) }] : []));
    if (!given.length) return { ok: false, message: `identityLinkRecords needs at least one native record (${SYSTEMS.join(', ')}).` };
    return this.db.transaction((): LinkOutcome => {
      const holderOf = this.db.prepare<[string, string], { customer_id: string }>('SELECT customer_id FROM source_ids WHERE system = ? AND native_id = ?');
      const held = given.map((r) => ({ ...r, customer: holderOf.get(r.system, r.nativeId)?.customer_id ?? null }));
      const customers = [...new Set(held.flatMap((r) => (r.customer ? [r.customer] : [])))];
      if (customers.length > 1) {
        const owners = held.filter((r) => r.customer).map((r) => `${r.system} ${r.nativeId} → ${r.customer}`).join(', ');
        return { ok: false, message: `These records belong to different customers (${owners}); merge the customers instead of linking.` };
      }
      let customer = customers[0];
      if (!customer) {
        const seq = ((this.db.prepare('SELECT MAX(seq) AS m FROM customers').get() as { m: number | null }).m ?? 0) + 1;
        const exists = this.db.prepare<[string], { id: string }>('SELECT id FROM customers WHERE id = ?');
        do customer = newCustomerId();
        while (exists.get(customer));
        this.db.prepare('INSERT INTO customers (id, seq, created_at) VALUES (?, ?, ?)').run(customer, seq, new Date().toISOString());
      }
      const hasPrimary = this.db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM source_ids WHERE customer_id = ? AND system = ? AND is_primary = 1');
      const insert = this.db.prepare('INSERT INTO source_ids (system, native_id, customer_id, is_primary) VALUES (?, ?, ?, ?)');
      for (const r of held) {
        if (r.customer) continue;
        insert.run(r.system, r.nativeId, customer, hasPrimary.get(customer, r.system)!.n > 0 ? 0 : 1);
      }
      return { ok: true, record: this.byIds([customer])[0]! };
    })();
  }

  close(): void {
    this.db.close();
  }
}

/** What `link` did: the customer holding the records, or why it refused (nothing written). */
export type LinkOutcome = { ok: true; record: IdentityRecord } | { ok: false; message: string };

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A new canonical id in the seeded form: `cus_` and ten base-36 characters. */
function newCustomerId(): string {
  return 'cus_' + Array.from({ length: 10 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
}

export function createIdentityContext(store: IdentityStore): IdentityContext {
  const bySource = new Map<SystemName, DataLoader<string, IdentityRecord | null>>();
  return {
    store,
    byId: new DataLoader(async (ids) => store.byIds(ids)),
    bySource: (system) => {
      let loader = bySource.get(system);
      if (!loader) {
        loader = new DataLoader(async (ids) => store.bySource(system, ids));
        bySource.set(system, loader);
      }
      return loader;
    },
  };
}
