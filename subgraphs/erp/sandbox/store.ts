// Owns the ERP sandbox's SQLite schema and every query against it (SAP-style business partners).

import type Database from 'better-sqlite3';
import { openSqlite } from '../../kit/sqlite.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';

/** One row of `business_partners`, exactly as stored. */
export interface ErpPartnerRow {
  BusinessPartner: string;
  BusinessPartnerName: string | null;
  TaxNumber: string | null;
  StreetName: string | null;
  AdditionalStreetName: string | null;
  CityName: string | null;
  PostalCode: string | null;
  Country: string | null;
  PaymentTerms: string | null;
  CreditLimitAmount: string | null;
  OpenBalanceAmount: string | null;
  Currency: string | null;
  CentralBlockReason: string | null;
  ExternalID: string | null;
  LastChangeDateTime: string | null;
  RowVersion: number;
}

/** Every entity property in column order (RowVersion is internal: it only surfaces as the ETag). */
export const ERP_PROPERTIES = [
  'BusinessPartner',
  'BusinessPartnerName',
  'TaxNumber',
  'StreetName',
  'AdditionalStreetName',
  'CityName',
  'PostalCode',
  'Country',
  'PaymentTerms',
  'CreditLimitAmount',
  'OpenBalanceAmount',
  'Currency',
  'CentralBlockReason',
  'ExternalID',
  'LastChangeDateTime',
] as const;
export type ErpProperty = (typeof ERP_PROPERTIES)[number];

/** Properties a PATCH may set: not the key, not the server-maintained change stamp. */
export const ERP_WRITABLE_PROPERTIES = ERP_PROPERTIES.filter(
  (p) => p !== 'BusinessPartner' && p !== 'LastChangeDateTime',
) as Exclude<ErpProperty, 'BusinessPartner' | 'LastChangeDateTime'>[];
export type ErpWritableProperty = (typeof ERP_WRITABLE_PROPERTIES)[number];

/** NT00 due on receipt, NT14/NT30/NT60 net days, PREP prepaid. */
export const ERP_PAYMENT_TERMS = ['NT00', 'NT14', 'NT30', 'NT60', 'PREP'] as const;
/** "" active, "01" on hold, "02" blocked. */
export const ERP_BLOCK_REASONS = ['', '01', '02'] as const;

const DDL = `
CREATE TABLE IF NOT EXISTS business_partners (
  BusinessPartner TEXT PRIMARY KEY,
  BusinessPartnerName TEXT,
  TaxNumber TEXT,
  StreetName TEXT,
  AdditionalStreetName TEXT,
  CityName TEXT,
  PostalCode TEXT,
  Country TEXT,
  PaymentTerms TEXT,
  CreditLimitAmount TEXT,
  OpenBalanceAmount TEXT,
  Currency TEXT,
  CentralBlockReason TEXT,
  ExternalID TEXT,
  LastChangeDateTime TEXT,
  RowVersion INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS business_partners_external_id ON business_partners (ExternalID);
CREATE INDEX IF NOT EXISTS business_partners_last_change ON business_partners (LastChangeDateTime, BusinessPartner);
`;

/** A parsed `$filter` conjunct; property names are validated before they reach SQL. */
export type ErpCondition =
  | { property: ErpProperty; op: 'eq' | 'gt' | 'ge' | 'lt' | 'le'; value: string }
  | { property: ErpProperty; op: 'in'; values: string[] };

/** The order of a query: by one property (then the key), or by the key alone; `after` resumes past a row (keyset). */
export interface ErpOrder {
  by: ErpProperty | null;
  /** The (ordering value, key) of the last row already delivered. */
  after?: [value: string | null, key: string];
}

const SQL_OPS = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

export interface ErpStore {
  db: Database.Database;
  insertAll(rows: readonly ErpPartnerRow[]): void;
  get(id: string): ErpPartnerRow | undefined;
  /** Rows matching every condition, in `order` (default: by key), after `skip`, at most `top` (null = all). */
  query(conditions: readonly ErpCondition[], top: number | null, skip: number, order?: ErpOrder): ErpPartnerRow[];
  /** Applies the patch, RowVersion+1, new LastChangeDateTime; undefined when missing. */
  update(id: string, patch: Partial<Record<ErpWritableProperty, string | null>>): ErpPartnerRow | undefined;
  close(): void;
}

const COLUMNS = [...ERP_PROPERTIES, 'RowVersion'] as const;

/** Opens (creating if needed) an ERP sandbox database file. */
export function openErpStore(file: string): ErpStore {
  const db = openSqlite(file);
  db.exec(DDL);
  const insert = db.prepare(
    `INSERT INTO business_partners (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`,
  );
  const getOne = db.prepare<[string], ErpPartnerRow>('SELECT * FROM business_partners WHERE BusinessPartner = ?');
  const insertAll = db.transaction((rows: readonly ErpPartnerRow[]) => {
    for (const row of rows) insert.run(row);
  });
  const update = db.transaction((id: string, patch: Partial<Record<ErpWritableProperty, string | null>>) => {
    const current = getOne.get(id);
    if (!current) return undefined;
    const next: ErpPartnerRow = {
      ...current,
      ...patch,
      LastChangeDateTime: nextStamp(current.LastChangeDateTime),
      RowVersion: current.RowVersion + 1,
    };
    const sets = [...ERP_WRITABLE_PROPERTIES, 'LastChangeDateTime', 'RowVersion'].map((c) => `${c} = @${c}`).join(', ');
    db.prepare(`UPDATE business_partners SET ${sets} WHERE BusinessPartner = @BusinessPartner`).run(next);
    return next;
  });

  return {
    db,
    insertAll: (rows) => insertAll(rows),
    get: (id) => getOne.get(id),
    query: (conditions, top, skip, order = { by: null }) => {
      const where: string[] = [];
      const values: unknown[] = [];
      const known = (p: string) => {
        if (!(ERP_PROPERTIES as readonly string[]).includes(p)) throw new TypeError(`unknown ERP property ${p}`);
      };
      for (const c of conditions) {
        known(c.property);
        if (c.op === 'in') {
          // json_each keeps a 10,000-key `in` to one bound parameter.
          where.push(`${c.property} IN (SELECT value FROM json_each(?))`);
          values.push(JSON.stringify(c.values));
        } else {
          where.push(`${c.property} ${SQL_OPS[c.op]} ?`);
          values.push(c.value);
        }
      }
      if (order.by) known(order.by);
      if (order.after) {
        const [value, key] = order.after;
        if (!order.by) {
          where.push('BusinessPartner > ?');
          values.push(key);
        } else if (value === null) {
          // NULLs sort first: past a NULL row come the other NULLs after its key, then every non-NULL value.
          where.push(`(${order.by} IS NOT NULL OR BusinessPartner > ?)`);
          values.push(key);
        } else {
          where.push(`(${order.by} > ? OR (${order.by} = ? AND BusinessPartner > ?))`);
          values.push(value, value, key);
        }
      }
      const sql =
        'SELECT * FROM business_partners' +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY ${order.by ? `${order.by}, ` : ''}BusinessPartner LIMIT ? OFFSET ?`;
      return db.prepare<unknown[], ErpPartnerRow>(sql).all(...values, top ?? -1, skip);
    },
    update: (id, patch) => update(id, patch),
    close: () => db.close(),
  };
}
