// The only code that reads and writes canon's identity store (SQLite, DATA_DIR/identity.sqlite): canonical customers, each system's latest record snapshot and its link to a customer, reviewers' decisions, review candidates and where each system's sync stands.
//
// Tables (the contract other parts of canon read; dataQuality reads `source_records`):
//   customers(id, seq, created_at, merged_into)
//       a canonical customer; `seq` is its place in creation order (what page cursors hold); `merged_into` is the
//       customer it was merged into (then it has no records and `customer(id:)` answers that one), null while live.
//   source_records(system, native_id, customer_id, is_primary, fields_json, seen_at)
//       the latest snapshot of one native record as its system's change feed delivered it (`fields_json`: the
//       record as the connector reads it: a HubSpot contact `{id, properties, updatedAt}`, an OData business
//       partner, a Mailchimp member, a Zendesk organization), the customer it is linked to, and whether it is the
//       record canon reads for that customer and system (1) or a duplicate linked to the same customer (0).
//       `seen_at` is when canon last received it. Every record belongs to exactly one live customer.
//   match_decisions(a, b, decision, reason, decided_at)
//       a decision on a pair of records (refs `<system>:<nativeId>`, a < b): LINK or DISTINCT, by a reviewer
//       (`review`), a merge (`merge`) or an unlink (`unlink`). The matcher holds them from then on.
//   merges(merged, survivor, records_json, merged_at)
//       what a merge moved (the merged customer's refs), so that unlinking one of them gives that customer back.
//   match_candidates(n, id, score, rules_json, record_a, record_b, status, updated_at)
//       review candidates: OPEN while the matcher proposes them, LINKED or DISTINCT once decided.
//   sync_state(system, cursor, full_sync_at, last_sync_at, records)
//       where each system's change feed was last read up to, stored with the records it delivered.
//   copy_claims, copy_drift: what propagation wrote to each copy, and copies that drifted (copies.ts).

import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { openSqlite } from '../kit/sqlite.js';
import { CopyState } from './copies.js';

export type SourceIdMap = Record<SystemName, string | null>;

export const IDENTITY_DDL = `
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, created_at TEXT NOT NULL, merged_into TEXT);
CREATE TABLE IF NOT EXISTS source_records (
  system TEXT NOT NULL,
  native_id TEXT NOT NULL,
  customer_id TEXT REFERENCES customers(id),
  is_primary INTEGER NOT NULL DEFAULT 0,
  fields_json TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  PRIMARY KEY (system, native_id)
);
CREATE INDEX IF NOT EXISTS source_records_customer ON source_records (customer_id, system);
CREATE INDEX IF NOT EXISTS source_records_contact ON source_records (json_extract(fields_json, '$.contact_id')) WHERE system = 'marketing';
CREATE TABLE IF NOT EXISTS match_decisions (a TEXT NOT NULL, b TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL, decided_at TEXT NOT NULL, PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS merges (merged TEXT PRIMARY KEY, survivor TEXT NOT NULL, records_json TEXT NOT NULL, merged_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS match_candidates (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  score REAL NOT NULL,
  rules_json TEXT NOT NULL,
  record_a TEXT NOT NULL,
  record_b TEXT NOT NULL,
  status TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS match_candidates_status ON match_candidates (status, n);
CREATE TABLE IF NOT EXISTS sync_state (system TEXT PRIMARY KEY, cursor TEXT, full_sync_at TEXT, last_sync_at TEXT, records INTEGER NOT NULL DEFAULT 0);
`;

export interface IdentityRecord {
  id: string;
  seq: number;
  sourceIds: SourceIdMap;
}

/** One native record linked to a customer, as `Customer.records` serves it. */
export interface LinkedRecord {
  system: SystemName;
  nativeId: string;
  primary: boolean;
}

/** One row of `source_records`. */
export interface SourceRecordRow {
  system: SystemName;
  native_id: string;
  customer_id: string | null;
  is_primary: 0 | 1;
  fields_json: string;
  seen_at: string;
}

export type MatchStatus = 'OPEN' | 'LINKED' | 'DISTINCT';

export interface CandidateRow {
  n: number;
  id: string;
  score: number;
  rules_json: string;
  record_a: string;
  record_b: string;
  status: MatchStatus;
  updated_at: string;
}

export interface SyncStateRow {
  system: SystemName;
  cursor: string | null;
  full_sync_at: string | null;
  last_sync_at: string | null;
  records: number;
}

export interface DecisionRow {
  a: string;
  b: string;
  decision: 'LINK' | 'DISTINCT';
  reason: 'review' | 'merge' | 'unlink' | 'sticky';
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

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A new canonical id: `cus_` and ten base-36 characters. */
function newCustomerId(): string {
  return 'cus_' + Array.from({ length: 10 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
}

/** Native ids in a stable order that puts numeric ids by value (a CRM's older contact first). */
export function byNativeId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export class IdentityStore {
  readonly db: Database.Database;
  /** Propagation's claims on copies and the drift seen in them, in the same file. */
  readonly copies: CopyState;
  private readonly stmts;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(IDENTITY_DDL);
    this.copies = new CopyState(this.db);
    const p = (sql: string) => this.db.prepare(sql);
    this.stmts = {
      page: p(`WITH page AS (SELECT id, seq FROM customers WHERE seq > ? AND merged_into IS NULL ORDER BY seq LIMIT ?)
        SELECT page.id, page.seq, s.system, s.native_id FROM page LEFT JOIN source_records s ON s.customer_id = page.id AND s.is_primary = 1 ORDER BY page.seq`),
      byIds: p(`SELECT c.id, c.seq, s.system, s.native_id FROM customers c LEFT JOIN source_records s ON s.customer_id = c.id AND s.is_primary = 1
        WHERE c.id IN (SELECT value FROM json_each(?))`),
      mergedInto: p('SELECT id, merged_into FROM customers WHERE id IN (SELECT value FROM json_each(?)) AND merged_into IS NOT NULL'),
      bySource: p('SELECT native_id, customer_id FROM source_records WHERE system = ? AND native_id IN (SELECT value FROM json_each(?))'),
      recordsOf: p(`SELECT customer_id, system, native_id, is_primary FROM source_records WHERE customer_id IN (SELECT value FROM json_each(?))`),
      count: p('SELECT count(*) AS n FROM customers WHERE merged_into IS NULL'),
      countRecords: p('SELECT count(*) AS n FROM source_records'),
      countOpen: p("SELECT count(*) AS n FROM match_candidates WHERE status = 'OPEN'"),
      record: p('SELECT * FROM source_records WHERE system = ? AND native_id = ?'),
      upsertRecord: p(`INSERT INTO source_records (system, native_id, customer_id, is_primary, fields_json, seen_at) VALUES (?, ?, NULL, 0, ?, ?)
        ON CONFLICT (system, native_id) DO UPDATE SET fields_json = excluded.fields_json, seen_at = excluded.seen_at`),
      deleteRecord: p('DELETE FROM source_records WHERE system = ? AND native_id = ?'),
      byContact: p(`SELECT native_id FROM source_records WHERE system = 'marketing' AND json_extract(fields_json, '$.contact_id') = ? AND native_id <> ?`),
      touch: p('UPDATE source_records SET seen_at = ? WHERE system = ? AND native_id = ?'),
      setCustomer: p('UPDATE source_records SET customer_id = ?, is_primary = 0 WHERE system = ? AND native_id = ?'),
      setPrimary: p('UPDATE source_records SET is_primary = ? WHERE system = ? AND native_id = ?'),
      customer: p('SELECT id, seq, created_at, merged_into FROM customers WHERE id = ?'),
      maxSeq: p('SELECT MAX(seq) AS m FROM customers'),
      insertCustomer: p('INSERT INTO customers (id, seq, created_at, merged_into) VALUES (?, ?, ?, NULL)'),
      retire: p('UPDATE customers SET merged_into = ? WHERE id = ?'),
      redirect: p('UPDATE customers SET merged_into = ? WHERE merged_into = ?'),
      syncState: p('SELECT * FROM sync_state ORDER BY system'),
      saveCursor: p(`INSERT INTO sync_state (system, cursor, full_sync_at, last_sync_at, records) VALUES (@system, @cursor, @full, @at, @n)
        ON CONFLICT (system) DO UPDATE SET cursor = excluded.cursor, full_sync_at = COALESCE(sync_state.full_sync_at, excluded.full_sync_at), last_sync_at = excluded.last_sync_at, records = sync_state.records + excluded.records`),
      decisions: p('SELECT a, b, decision, reason FROM match_decisions'),
      decide: p(`INSERT INTO match_decisions (a, b, decision, reason, decided_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (a, b) DO UPDATE SET decision = excluded.decision, reason = excluded.reason, decided_at = excluded.decided_at`),
      undecide: p('DELETE FROM match_decisions WHERE a = ? AND b = ?'),
      decisionsOf: p('SELECT a, b, decision, reason FROM match_decisions WHERE a = ? OR b = ?'),
      allRecords: p('SELECT * FROM source_records ORDER BY system, native_id'),
      openCandidate: p(`INSERT INTO match_candidates (id, score, rules_json, record_a, record_b, status, updated_at) VALUES (?, ?, ?, ?, ?, 'OPEN', ?)
        ON CONFLICT (id) DO UPDATE SET score = excluded.score, rules_json = excluded.rules_json, status = 'OPEN', updated_at = excluded.updated_at`),
      dropCandidate: p("DELETE FROM match_candidates WHERE id = ? AND status = 'OPEN'"),
      dropOpen: p("DELETE FROM match_candidates WHERE status = 'OPEN'"),
      closeCandidate: p('UPDATE match_candidates SET status = ?, updated_at = ? WHERE id = ?'),
      candidate: p('SELECT * FROM match_candidates WHERE id = ?'),
      candidates: p('SELECT * FROM match_candidates WHERE status = ? AND n > ? ORDER BY n LIMIT ?'),
      saveMerge: p(`INSERT INTO merges (merged, survivor, records_json, merged_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (merged) DO UPDATE SET survivor = excluded.survivor, records_json = excluded.records_json, merged_at = excluded.merged_at`),
      mergesInto: p('SELECT merged, survivor, records_json FROM merges WHERE survivor = ?'),
      mergeOf: p('SELECT merged, survivor, records_json FROM merges WHERE merged = ?'),
    };
  }

  // --- reads: what the resolvers serve ---

  /** Live customers after position `afterSeq` in creation order; `first` of them. */
  page(afterSeq: number, first: number): { records: IdentityRecord[]; hasNextPage: boolean } {
    const records = fold(this.stmts.page.all(afterSeq, first + 1) as Row[]);
    return { records: records.slice(0, first), hasNextPage: records.length > first };
  }

  /** Live canonical customers in all. */
  count(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  /** What /health reports of the store. */
  status(): { customers: number; records: number; pendingReview: number } {
    const n = (s: Database.Statement) => (s.get() as { n: number }).n;
    return { customers: n(this.stmts.count), records: n(this.stmts.countRecords), pendingReview: n(this.stmts.countOpen) };
  }

  /** The live customer an id names: itself, or the survivor it was merged into (followed through later merges). */
  resolveIds(ids: readonly string[]): Map<string, string> {
    const out = new Map(ids.map((id) => [id, id]));
    let pending = [...new Set(ids)];
    for (let hop = 0; hop < 64 && pending.length; hop++) {
      const rows = this.stmts.mergedInto.all(JSON.stringify(pending)) as { id: string; merged_into: string }[];
      const next = new Map(rows.map((r) => [r.id, r.merged_into]));
      for (const [asked, current] of out) if (next.has(current)) out.set(asked, next.get(current)!);
      pending = [...new Set(rows.map((r) => r.merged_into))];
    }
    return out;
  }

  /** Customers by id; a merged id answers its survivor. */
  byIds(ids: readonly string[]): (IdentityRecord | null)[] {
    const live = this.resolveIds(ids);
    const found = new Map(fold(this.stmts.byIds.all(JSON.stringify([...new Set(live.values())])) as Row[]).map((r) => [r.id, r]));
    return ids.map((id) => found.get(live.get(id)!) ?? null);
  }

  bySource(system: SystemName, nativeIds: readonly string[]): (IdentityRecord | null)[] {
    const links = this.stmts.bySource.all(system, JSON.stringify(nativeIds)) as { native_id: string; customer_id: string | null }[];
    const customerOf = new Map(links.map((l) => [l.native_id, l.customer_id]));
    const records = new Map(this.byIds([...new Set([...customerOf.values()].filter((c): c is string => c !== null))]).filter((r): r is IdentityRecord => r !== null).map((r) => [r.id, r]));
    return nativeIds.map((n) => records.get(customerOf.get(n) ?? '') ?? null);
  }

  /** Every record linked to each customer, primaries first, then by system and native id. */
  recordsOf(customerIds: readonly string[]): LinkedRecord[][] {
    const rows = this.stmts.recordsOf.all(JSON.stringify(customerIds)) as { customer_id: string; system: SystemName; native_id: string; is_primary: number }[];
    const by = new Map<string, LinkedRecord[]>();
    for (const r of rows) {
      if (!by.has(r.customer_id)) by.set(r.customer_id, []);
      by.get(r.customer_id)!.push({ system: r.system, nativeId: r.native_id, primary: r.is_primary === 1 });
    }
    const order = (x: LinkedRecord, y: LinkedRecord) => SYSTEMS.indexOf(x.system) - SYSTEMS.indexOf(y.system) || Number(y.primary) - Number(x.primary) || byNativeId(x.nativeId, y.nativeId);
    return customerIds.map((id) => (by.get(id) ?? []).sort(order));
  }

  syncStates(): SyncStateRow[] {
    return this.stmts.syncState.all() as SyncStateRow[];
  }

  candidate(id: string): CandidateRow | null {
    return (this.stmts.candidate.get(id) as CandidateRow | undefined) ?? null;
  }

  /** Candidates of one status in the order they were found, `first` after position `after`. */
  candidates(status: MatchStatus, after: number, first: number): { rows: CandidateRow[]; hasNextPage: boolean } {
    const rows = this.stmts.candidates.all(status, after, first + 1) as CandidateRow[];
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  // --- writes: what resolution.ts does, each inside one of its transactions ---

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  record(system: SystemName, nativeId: string): SourceRecordRow | null {
    return (this.stmts.record.get(system, nativeId) as SourceRecordRow | undefined) ?? null;
  }

  allRecords(): SourceRecordRow[] {
    return this.stmts.allRecords.all() as SourceRecordRow[];
  }

  /** Stores a record's snapshot: a new record is linked to no customer until assigned (inside the same transaction). */
  upsertRecord(system: SystemName, nativeId: string, fieldsJson: string, seenAt: string): void {
    this.stmts.upsertRecord.run(system, nativeId, fieldsJson, seenAt);
  }

  /**
   * The record a delivered one was stored as before its native id changed in its system: a marketing member whose
   * address changed in Mailchimp has a new id (the new address's hash) and the same `contact_id`. Null for a record
   * seen for the first time, and in systems whose ids never change.
   */
  formerId(system: SystemName, nativeId: string, fieldsJson: string): string | null {
    if (system !== 'marketing') return null;
    const contact = (JSON.parse(fieldsJson) as { contact_id?: unknown }).contact_id;
    if (typeof contact !== 'string' || !contact) return null;
    return (this.stmts.byContact.get(contact, nativeId) as { native_id: string } | undefined)?.native_id ?? null;
  }

  deleteRecord(system: SystemName, nativeId: string): void {
    this.stmts.deleteRecord.run(system, nativeId);
  }

  touchRecord(system: SystemName, nativeId: string, seenAt: string): void {
    this.stmts.touch.run(seenAt, system, nativeId);
  }

  setCustomer(system: SystemName, nativeId: string, customerId: string): void {
    this.stmts.setCustomer.run(customerId, system, nativeId);
  }

  setPrimary(system: SystemName, nativeId: string, primary: boolean): void {
    this.stmts.setPrimary.run(primary ? 1 : 0, system, nativeId);
  }

  customer(id: string): { id: string; seq: number; merged_into: string | null } | null {
    return (this.stmts.customer.get(id) as { id: string; seq: number; merged_into: string | null } | undefined) ?? null;
  }

  /** A new live customer, last in creation order. */
  newCustomer(now: string): string {
    const seq = ((this.stmts.maxSeq.get() as { m: number | null }).m ?? 0) + 1;
    let id: string;
    do id = newCustomerId();
    while (this.customer(id));
    this.stmts.insertCustomer.run(id, seq, now);
    return id;
  }

  /** Retires `id` into `survivor` (null: makes it live again); ids merged into it follow it. */
  retire(id: string, survivor: string | null): void {
    this.stmts.retire.run(survivor, id);
    if (survivor) this.stmts.redirect.run(survivor, id);
  }

  saveCursor(system: SystemName, cursor: string | null, complete: boolean, records: number, now: string): void {
    this.stmts.saveCursor.run({ system, cursor, full: complete ? now : null, at: now, n: records });
  }

  decisions(): DecisionRow[] {
    return this.stmts.decisions.all() as DecisionRow[];
  }

  decisionsOf(ref: string): DecisionRow[] {
    return this.stmts.decisionsOf.all(ref, ref) as DecisionRow[];
  }

  decide(a: string, b: string, decision: 'LINK' | 'DISTINCT' | null, reason: DecisionRow['reason'], now: string): void {
    const [x, y] = a < b ? [a, b] : [b, a];
    if (decision) this.stmts.decide.run(x, y, decision, reason, now);
    else this.stmts.undecide.run(x, y);
  }

  openCandidate(id: string, score: number, rules: unknown, a: string, b: string, now: string): void {
    this.stmts.openCandidate.run(id, score, JSON.stringify(rules), a, b, now);
  }

  dropCandidate(id: string): void {
    this.stmts.dropCandidate.run(id);
  }

  dropOpenCandidates(): void {
    this.stmts.dropOpen.run();
  }

  closeCandidate(id: string, status: MatchStatus, now: string): void {
    this.stmts.closeCandidate.run(status, now, id);
  }

  saveMerge(merged: string, survivor: string, refs: readonly string[], now: string): void {
    this.stmts.saveMerge.run(merged, survivor, JSON.stringify(refs), now);
  }

  /** The merge that retired `merged`, if one did. */
  mergeOf(merged: string): { survivor: string; refs: string[] } | null {
    const row = this.stmts.mergeOf.get(merged) as { survivor: string; records_json: string } | undefined;
    return row ? { survivor: row.survivor, refs: JSON.parse(row.records_json) } : null;
  }

  /** The customers merged into `survivor`, with the records each brought. */
  mergesInto(survivor: string): { merged: string; refs: string[] }[] {
    return (this.stmts.mergesInto.all(survivor) as { merged: string; records_json: string }[]).map((r) => ({ merged: r.merged, refs: JSON.parse(r.records_json) }));
  }

  close(): void {
    this.db.close();
  }
}
