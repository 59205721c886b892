// The data-quality report over the identity store's latest native records (source_records): disagreements between owners and copies, and values canon cannot normalise.
//
// Guarantees: the report reads only source_records (each system's latest record, as its change feed returned it)
// and the customers' creation order; it calls no system. It is computed again only after another connection
// changed the file (SQLite's data_version), so paging through it sees one consistent report while nothing changes.

import type Database from 'better-sqlite3';
import { SYSTEMS, type SystemName } from '../../../schema/model.js';
import { openSqlite } from '../../kit/sqlite.js';
import type { IdentityRecord } from '../connector.js';
import { BILLING_COUNTRY, agree, comparisons, copyValue, readPath, servedValue, valueChecks, type NativeRecord } from './comparisons.js';

/**
 * Each system's latest native record, linked to its customer: filled by the identity sync from the change feeds.
 * Created here too when absent, with the same columns, so the report answers (empty) before the first sync.
 */
export const SOURCE_RECORDS_DDL = `
CREATE TABLE IF NOT EXISTS source_records (
  system TEXT NOT NULL,
  native_id TEXT NOT NULL,
  customer_id TEXT,
  is_primary INTEGER NOT NULL DEFAULT 0,
  fields_json TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  PRIMARY KEY (system, native_id)
);
CREATE INDEX IF NOT EXISTS source_records_customer ON source_records (customer_id, system);
`;

export interface CopyValue {
  system: SystemName;
  sourceField: string;
  value: string;
}

/** An owner's value against the copies that hold another value. */
export interface Disagreement {
  customer: IdentityRecord;
  field: string;
  owner: SystemName;
  ownerValue: string;
  copies: CopyValue[];
}

/** A record's value that canon cannot normalise, so serves as null. */
export interface DataIssue {
  kind: string;
  system: SystemName;
  nativeId: string;
  field: string;
  rawValue: string;
  message: string;
}

export interface QualityReport {
  /** Per compared field, in model order, with its owner and how many customers disagree on it (zero included). */
  summary: { field: string; owner: SystemName; disagreements: number }[];
  /** In customer creation order, then model order of fields. */
  disagreements: Disagreement[];
  /** In system order, then native id, then field. */
  issues: DataIssue[];
}

interface Row {
  system: SystemName;
  native_id: string;
  customer_id: string;
  fields_json: string;
  seq: number | null;
}

/** The report of one customer's primary records. */
function customerFindings(records: Partial<Record<SystemName, NativeRecord>>, ids: IdentityRecord): Disagreement[] {
  const out: Disagreement[] = [];
  const billing = BILLING_COUNTRY ? records[BILLING_COUNTRY.system] : undefined;
  const billingCountry = billing && BILLING_COUNTRY ? readPath(billing, BILLING_COUNTRY.path) : null;
  for (const c of comparisons()) {
    const own = records[c.owner];
    if (!own) continue;
    const parts = c.ownerPaths.map((p) => readPath(own, p));
    // A copy's phone is read in the customer's country: the owner record's own, else the billing country.
    const region = (c.kind === 'phone' ? parts[1] : null) ?? billingCountry;
    const ownerValue = servedValue(c.kind, parts, region);
    if (ownerValue === null) continue;
    const differing: CopyValue[] = [];
    for (const copy of c.copies) {
      const held = records[copy.system];
      const value = held ? copyValue(held, copy) : null;
      if (value !== null && !agree(c.kind, ownerValue, value, region)) differing.push({ system: copy.system, sourceField: copy.sourceField, value });
    }
    if (differing.length) out.push({ customer: ids, field: c.field, owner: c.owner, ownerValue, copies: differing });
  }
  return out;
}

function buildReport(rows: Row[]): QualityReport {
  const byCustomer = new Map<string, { customer: IdentityRecord; records: Partial<Record<SystemName, NativeRecord>> }>();
  const issues: DataIssue[] = [];
  const checks = valueChecks();
  for (const r of rows) {
    const record = JSON.parse(r.fields_json) as NativeRecord;
    let entry = byCustomer.get(r.customer_id);
    if (!entry) {
      const sourceIds = Object.fromEntries(SYSTEMS.map((s) => [s, null])) as IdentityRecord['sourceIds'];
      byCustomer.set(r.customer_id, (entry = { customer: { id: r.customer_id, seq: r.seq ?? 0, sourceIds }, records: {} }));
    }
    entry.records[r.system] = record;
    entry.customer.sourceIds[r.system] = r.native_id;
    for (const check of checks) {
      if (check.owner !== r.system) continue;
      const problem = check.check(check.paths.map((p) => readPath(record, p)), check.field, check.owner);
      if (problem) issues.push({ ...problem, system: r.system, nativeId: r.native_id, field: check.field });
    }
  }
  const known = (seq: number) => (seq > 0 ? seq : Infinity);
  const ordered = [...byCustomer.values()].sort((x, y) => known(x.customer.seq) - known(y.customer.seq) || compareText(x.customer.id, y.customer.id));
  const disagreements = ordered.flatMap((c) => customerFindings(c.records, c.customer));
  const systemOrder = (s: SystemName) => SYSTEMS.indexOf(s);
  issues.sort((a, b) => systemOrder(a.system) - systemOrder(b.system) || compareIds(a.nativeId, b.nativeId) || compareText(a.field, b.field));
  const summary = comparisons().map((c) => ({ field: c.field, owner: c.owner, disagreements: disagreements.filter((d) => d.field === c.field).length }));
  return { summary, disagreements, issues };
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Native ids in numeric order where both are numbers (CRM and support ids), else as text. */
export function compareIds(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return compareText(a, b);
}

/** Reads source_records of identity.sqlite and keeps the report until the file changes. */
export class QualityStore {
  private readonly db: Database.Database;
  private readonly rowsStmt: Database.Statement;
  private cached: { version: number; report: QualityReport } | null = null;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(SOURCE_RECORDS_DDL);
    // customers is the crosswalk's own table; a store that has none yet orders by customer id alone.
    const hasCustomers = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customers'").get() !== undefined;
    this.rowsStmt = this.db.prepare(
      hasCustomers
        ? 'SELECT r.system, r.native_id, r.customer_id, r.fields_json, c.seq FROM source_records r LEFT JOIN customers c ON c.id = r.customer_id WHERE r.is_primary = 1 AND r.customer_id IS NOT NULL'
        : 'SELECT system, native_id, customer_id, fields_json, NULL AS seq FROM source_records WHERE is_primary = 1 AND customer_id IS NOT NULL',
    );
  }

  /** The report as of the store's latest committed change. */
  report(): QualityReport {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.cached?.version !== version) this.cached = { version, report: buildReport(this.rowsStmt.all() as Row[]) };
    return this.cached.report;
  }

  close(): void {
    this.db.close();
  }
}
