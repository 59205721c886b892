// Test support: fills identity.sqlite's source_records from the systems' change feeds, as canon's identity sync does, linking each record to its customer by the crosswalk.

import { join } from 'node:path';
import type { SystemName } from '../../schema/model.js';
import { CrmConnector } from '../../subgraphs/crm/connector.js';
import { ErpConnector } from '../../subgraphs/erp/connector.js';
import { MarketingConnector } from '../../subgraphs/marketing/connector.js';
import { MARKETING_LIST_ID } from '../../subgraphs/marketing/sandbox/index.js';
import { SupportConnector } from '../../subgraphs/support/connector.js';
import { SOURCE_RECORDS_DDL } from '../../subgraphs/identity/quality/report.js';
import { openSqlite } from '../../subgraphs/kit/sqlite.js';
import type { Stack } from '../../gateway/stack.js';

interface Feed {
  changesSince(cursor: string | null): Promise<{ records: unknown[]; cursor: string | null }>;
  idOf(record: any): string;
}

/** Reads every system's feed from where it last stopped and upserts what it brought; `sync()` answers how many records. */
export function sourceRecordsFeeder(stack: Stack) {
  const s = stack.systems;
  const c = stack.credentials;
  const feeds: Record<SystemName, Feed> = {
    crm: { changesSince: (x) => new CrmConnector({ baseUrl: s.crm.url, credentials: c.crm }).changesSince(x), idOf: (r) => r.id },
    erp: { changesSince: (x) => new ErpConnector({ baseUrl: s.erp.url, credentials: c.erp }).changesSince(x), idOf: (r) => r.BusinessPartner },
    marketing: { changesSince: (x) => new MarketingConnector({ baseUrl: s.marketing.url, credentials: c.marketing, listId: MARKETING_LIST_ID }).changesSince(x), idOf: (r) => r.id },
    support: { changesSince: (x) => new SupportConnector({ baseUrl: s.support.url, credentials: c.support }).changesSince(x), idOf: (r) => String(r.id) },
  };
  const cursors: Partial<Record<SystemName, string | null>> = {};
  const file = join(stack.config.dataDir, 'identity.sqlite');
  return {
    async sync(): Promise<number> {
      const db = openSqlite(file);
      try {
        db.exec(SOURCE_RECORDS_DDL);
        const link = db.prepare<[string, string], { customer_id: string; is_primary: number }>('SELECT customer_id, is_primary FROM source_ids WHERE system = ? AND native_id = ?');
        const upsert = db.prepare(
          `INSERT INTO source_records (system, native_id, customer_id, is_primary, fields_json, seen_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (system, native_id) DO UPDATE SET customer_id = excluded.customer_id, is_primary = excluded.is_primary, fields_json = excluded.fields_json, seen_at = excluded.seen_at`,
        );
        let n = 0;
        for (const [system, feed] of Object.entries(feeds) as [SystemName, Feed][]) {
          const { records, cursor } = await feed.changesSince(cursors[system] ?? null);
          cursors[system] = cursor;
          const seenAt = new Date().toISOString();
          db.transaction(() => {
            for (const r of records) {
              const id = feed.idOf(r);
              const l = link.get(system, id);
              upsert.run(system, id, l?.customer_id ?? null, l?.is_primary ?? 0, JSON.stringify(r), seenAt);
            }
          })();
          n += records.length;
        }
        return n;
      } finally {
        db.close();
      }
    },
  };
}
