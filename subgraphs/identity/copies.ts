// canon's memory of the copies it keeps in line (issue 13): what propagation last claimed for each copy (per record and canonical field, with the owner's version it carries), the drift seen in copies, and how a record a change feed delivered is read for owner changes, echoes and drift.
//
// Terminology
// - owner change: a record of a field's owner whose served value of the field changed between two snapshots.
// - claim: propagation's note, made under the copy's write lock just before it writes, of the value it is about
//   to write to one copy and the owner's version (stamp) it comes from. A claim older than the one held is
//   refused: a later owner change already wrote (or is writing) that copy.
// - echo: a copy's change whose value is what canon claimed for it: canon's own write coming back by the feed.
// - drift: any other change of a copy that leaves it different from the owner's value.
// Guarantees: drift rows and claims live in the identity store (same file, same transactions as the snapshots);
// a copy's change is classified once, when its feed first delivers it (a page stored again changes nothing).

import type Database from 'better-sqlite3';
import type { SystemName } from '../../schema/model.js';
import { agree, comparisons, copyValue, readPath, servedValue, type Comparison, type NativeRecord } from './quality/comparisons.js';

export const COPIES_DDL = `
CREATE TABLE IF NOT EXISTS copy_claims (
  system TEXT NOT NULL,
  native_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT,
  recent_json TEXT NOT NULL DEFAULT '[]',
  owner_stamp REAL NOT NULL,
  operation_id TEXT,
  claimed_at TEXT NOT NULL,
  PRIMARY KEY (system, native_id, field)
);
CREATE TABLE IF NOT EXISTS copy_drift (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL,
  field TEXT NOT NULL,
  system TEXT NOT NULL,
  native_id TEXT NOT NULL,
  source_field TEXT NOT NULL,
  copy_value TEXT,
  owner_value TEXT,
  seen_at TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS copy_drift_open ON copy_drift (status, n);
`;

/** The native field holding each system's version token (what `<system>Version` serves), as the feed delivers records. */
const VERSION_OF: Record<SystemName, (r: any) => string | null | undefined> = {
  crm: (r) => r.properties?.lastmodifieddate ?? r.updatedAt,
  erp: (r) => r['@odata.etag'],
  marketing: (r) => r.last_changed,
  support: (r) => r.updated_at,
};

/**
 * A version token as a number that orders one record's versions: the ERP's entity tag carries its row version
 * (`W/"17"`), the others are modification times. Null when the token says nothing.
 */
export function versionStamp(system: SystemName, token: string | null | undefined): number | null {
  if (!token) return null;
  if (system === 'erp') {
    const m = /"(\d+)"/.exec(token);
    return m ? Number(m[1]) : null;
  }
  const ms = Date.parse(token);
  return Number.isNaN(ms) ? null : ms;
}

export const recordStamp = (system: SystemName, record: NativeRecord): number | null => versionStamp(system, VERSION_OF[system](record) ?? null);

/** What a delivered page means for the copies: an owner's value changed, or a copy drifted from it. */
export interface PropagationEvent {
  kind: 'OWNER_CHANGE' | 'DRIFT';
  customerId: string;
  field: string;
  /** The owner (OWNER_CHANGE) or the copy's system (DRIFT). */
  system: SystemName;
  /**
   * The owner's value, as canon serves it. For OWNER_CHANGE null when the owner holds none now (cleared, so are the
   * copies) or holds one canon cannot read (`unreadable`); a DRIFT always carries the owner's value.
   */
  value: string | null;
  /** For OWNER_CHANGE: the owner's raw value when canon cannot read it (a phone that does not parse); null otherwise. */
  unreadable: string | null;
  /** The owner record's version stamp that value comes from. */
  stamp: number;
  /** For DRIFT: the copy record's version stamp when it drifted (tells two drifts of one copy apart). */
  copyStamp: number | null;
}

export interface DriftRow {
  n: number;
  customer_id: string;
  field: string;
  system: SystemName;
  native_id: string;
  source_field: string;
  copy_value: string | null;
  owner_value: string | null;
  seen_at: string;
  status: 'OPEN' | 'RESOLVED';
}

/** One claim propagation makes before it writes a copy. */
export interface CopyClaim {
  system: SystemName;
  nativeId: string;
  field: string;
  value: string;
  stamp: number;
  operationId: string | null;
}

/**
 * Which of a copy's claims count as canon's own besides the latest: two owner changes in quick succession write two
 * values, and the feed may show the copy holding the older one after the newer was claimed; both are echoes. Older
 * claims count for a while only (the feed shows a write within a few sync intervals), so that someone setting the
 * copy back to a value canon wrote long ago is drift.
 */
const RECENT_CLAIMS = 5;
const ECHO_WINDOW_MS = 10 * 60_000;

interface RecentClaim {
  value: string;
  at: number;
}

export class CopyState {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    db.exec(COPIES_DDL);
    const p = (sql: string) => db.prepare(sql);
    this.stmts = {
      claim: p('SELECT value, recent_json, owner_stamp FROM copy_claims WHERE system = ? AND native_id = ? AND field = ?'),
      saveClaim: p(`INSERT INTO copy_claims (system, native_id, field, value, recent_json, owner_stamp, operation_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (system, native_id, field) DO UPDATE SET value = excluded.value, recent_json = excluded.recent_json, owner_stamp = excluded.owner_stamp, operation_id = excluded.operation_id, claimed_at = excluded.claimed_at`),
      moveClaims: p('UPDATE OR REPLACE copy_claims SET native_id = ? WHERE system = ? AND native_id = ?'),
      moveDrift: p('UPDATE copy_drift SET native_id = ? WHERE system = ? AND native_id = ?'),
      addDrift: p(`INSERT INTO copy_drift (customer_id, field, system, native_id, source_field, copy_value, owner_value, seen_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'OPEN')`),
      resolve: p(`UPDATE copy_drift SET status = 'RESOLVED' WHERE system = ? AND native_id = ? AND field = ? AND status = 'OPEN'`),
      page: p(`SELECT * FROM copy_drift WHERE status = 'OPEN' AND n > ? ORDER BY n LIMIT ?`),
      count: p(`SELECT count(*) AS n FROM copy_drift WHERE status = 'OPEN'`),
    };
  }

  /**
   * Claims each copy for its owner change, in one transaction: true where the claim is the newest the copy has had
   * (or the same one again: a step run twice), false where a later owner change claimed it already.
   */
  claim(claims: readonly CopyClaim[]): boolean[] {
    return this.db.transaction(() =>
      claims.map((c) => {
        const held = this.stmts.claim.get(c.system, c.nativeId, c.field) as { recent_json: string; owner_stamp: number } | undefined;
        if (held && held.owner_stamp > c.stamp) return false;
        const at = Date.now();
        const earlier = held ? (JSON.parse(held.recent_json) as RecentClaim[]).filter((r) => r.value !== c.value && at - r.at < ECHO_WINDOW_MS) : [];
        const recent = [{ value: c.value, at }, ...earlier].slice(0, RECENT_CLAIMS);
        this.stmts.saveClaim.run(c.system, c.nativeId, c.field, c.value, JSON.stringify(recent), c.stamp, c.operationId, new Date(at).toISOString());
        // canon is setting the copy to the owner's value: what drifted there is being put right.
        this.stmts.resolve.run(c.system, c.nativeId, c.field);
        return true;
      }),
    )();
  }

  /**
   * What canon last claimed for a copy, and the values that count as its echo (newest first: the latest claim's, and
   * those of claims within the echo window before it), or null before any claim.
   */
  claimed(system: SystemName, nativeId: string, field: string): { value: string | null; recent: string[]; stamp: number } | null {
    const row = this.stmts.claim.get(system, nativeId, field) as { value: string | null; recent_json: string; owner_stamp: number } | undefined;
    if (!row) return null;
    const at = Date.now();
    const recent = (JSON.parse(row.recent_json) as RecentClaim[]).filter((r, i) => i === 0 || at - r.at < ECHO_WINDOW_MS).map((r) => r.value);
    return { value: row.value, recent, stamp: row.owner_stamp };
  }

  /** A record that changed its native id (a marketing member moved to its new address's hash) keeps its claims and drift. */
  moveRecord(system: SystemName, from: string, to: string): void {
    this.stmts.moveClaims.run(to, system, from);
    this.stmts.moveDrift.run(to, system, from);
  }

  addDrift(d: Omit<DriftRow, 'n' | 'status'>): void {
    this.stmts.resolve.run(d.system, d.native_id, d.field);
    this.stmts.addDrift.run(d.customer_id, d.field, d.system, d.native_id, d.source_field, d.copy_value, d.owner_value, d.seen_at);
  }

  resolveDrift(system: SystemName, nativeId: string, field: string): void {
    this.stmts.resolve.run(system, nativeId, field);
  }

  /** Open drift in the order it was seen, `first` after position `after`. */
  drift(after: number, first: number): { rows: DriftRow[]; hasNextPage: boolean; total: number } {
    const rows = this.stmts.page.all(after, first + 1) as DriftRow[];
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, total: (this.stmts.count.get() as { n: number }).n };
  }
}

/** What copyEvents reads of the identity store (connector.ts's IdentityStore; named here so neither imports the other). */
export interface RecordSource {
  record(system: SystemName, nativeId: string): { customer_id: string | null; is_primary: 0 | 1; fields_json: string } | null;
  recordsOf(customerIds: readonly string[]): { system: SystemName; nativeId: string; primary: boolean }[][];
}

/** A record as the feed delivered it, before and after. */
export interface RecordChange {
  nativeId: string;
  before: string;
  after: string;
}

const parts = (record: NativeRecord, paths: readonly string[]) => paths.map((p) => readPath(record, p));

/** The owner's served value of `c` in `record`, with the region a phone is read in. */
function ownerValueOf(c: Comparison, record: NativeRecord): { value: string | null; region: string | null } {
  const p = parts(record, c.ownerPaths);
  const region = c.kind === 'phone' ? (p[1] ?? null) : null;
  return { value: servedValue(c.kind, p, region), region };
}

/**
 * Reads changed records of `system` (each delivered before, so there is a `before`) for what they mean to the
 * copies: owner changes to propagate, and copies changed outside canon that now differ from the owner (stored as
 * drift here). Only records canon reads for their customer (primaries) count; an echo of canon's own claim is
 * neither. Runs inside the transaction that stores the records.
 */
export function copyEvents(store: RecordSource, state: CopyState, system: SystemName, changes: readonly RecordChange[], seenAt: string): PropagationEvent[] {
  const events: PropagationEvent[] = [];
  const all = comparisons();
  for (const ch of changes) {
    const row = store.record(system, ch.nativeId);
    if (!row?.customer_id || row.is_primary !== 1) continue;
    const before = JSON.parse(ch.before) as NativeRecord;
    const after = JSON.parse(ch.after) as NativeRecord;
    for (const c of all) {
      if (c.owner === system) {
        const was = ownerValueOf(c, before).value;
        const now = ownerValueOf(c, after).value;
        const stamp = recordStamp(system, after);
        // A value cleared in the owner clears the copies; one canon cannot serve (an unparseable phone) is never
        // written over a copy, but still makes a propagation, whose skipped steps say why the copies kept theirs.
        if (now !== was && stamp !== null) {
          const raw = now === null ? readPath(after, c.ownerPaths[0]!) : null;
          events.push({ kind: 'OWNER_CHANGE', customerId: row.customer_id, field: c.field, system, value: now, unreadable: raw, stamp, copyStamp: null });
        }
      }
      for (const copy of c.copies) {
        if (copy.system !== system) continue;
        const was = copyValue(before, copy);
        const now = copyValue(after, copy);
        if (was === now) continue;
        const owner = store.recordsOf([row.customer_id])[0]!.find((r) => r.system === c.owner && r.primary);
        const ownerRecord = owner ? store.record(owner.system, owner.nativeId) : null;
        if (!ownerRecord) continue;
        const fields = JSON.parse(ownerRecord.fields_json) as NativeRecord;
        const { value: ownerValue, region } = ownerValueOf(c, fields);
        const claimed = state.claimed(system, ch.nativeId, c.field);
        // canon's own write coming back (its latest, or one a later claim has overtaken): neither drift nor anything
        // to propagate; a drift seen before it is over.
        if (now !== null && claimed?.recent.some((v) => agree(c.kind, v, now, region))) {
          state.resolveDrift(system, ch.nativeId, c.field);
          continue;
        }
        if (ownerValue === null || (now !== null && agree(c.kind, ownerValue, now, region))) {
          state.resolveDrift(system, ch.nativeId, c.field);
          continue;
        }
        state.addDrift({ customer_id: row.customer_id, field: c.field, system, native_id: ch.nativeId, source_field: copy.sourceField, copy_value: now, owner_value: ownerValue, seen_at: seenAt });
        const stamp = recordStamp(c.owner, fields);
        if (stamp !== null) events.push({ kind: 'DRIFT', customerId: row.customer_id, field: c.field, system, value: ownerValue, unreadable: null, stamp, copyStamp: recordStamp(system, after) });
      }
    }
  }
  return events;
}
