// Owns the support sandbox's SQLite schema and every query against it (Zendesk-style organizations and tickets).

import type Database from 'better-sqlite3';
import { openSqlite } from '../../kit/sqlite.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';

export const SUPPORT_PLANS = ['basic', 'business', 'enterprise'] as const;
export const TICKET_STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
/** Statuses that count as open for the open_ticket_counts sideload. */
export const OPEN_TICKET_STATUSES = ['new', 'open', 'pending', 'hold'] as const;
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/** One row of `organizations` (organization_fields is JSON text). */
export interface SupportOrganizationRow {
  id: number;
  name: string;
  external_id: string | null;
  details: string | null;
  notes: string | null;
  organization_fields: string;
  created_at: string;
  updated_at: string;
}

/** One row of `tickets`. */
export interface SupportTicketRow {
  id: number;
  organization_id: number | null;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: TicketPriority | null;
  external_id: string | null;
  created_at: string;
  updated_at: string;
}

/** Ticket ids in an empty store start here, like a long-lived Zendesk account would. */
const FIRST_TICKET_ID = 500001;

const DDL = `
CREATE TABLE IF NOT EXISTS organizations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  external_id TEXT,
  details TEXT,
  notes TEXT,
  organization_fields TEXT NOT NULL DEFAULT '{"support_plan":null}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organizations_external_id ON organizations (external_id);
CREATE INDEX IF NOT EXISTS organizations_updated_at ON organizations (updated_at, id);
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  organization_id INTEGER REFERENCES organizations(id),
  subject TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  priority TEXT,
  external_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_organization ON tickets (organization_id, created_at);
CREATE INDEX IF NOT EXISTS tickets_external_id ON tickets (external_id);
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'tickets', ${FIRST_TICKET_ID - 1} WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tickets');
`;

const ORG_COLUMNS = ['id', 'name', 'external_id', 'details', 'notes', 'organization_fields', 'created_at', 'updated_at'] as const;
const TICKET_COLUMNS = ['id', 'organization_id', 'subject', 'description', 'status', 'priority', 'external_id', 'created_at', 'updated_at'] as const;

export interface SupportStore {
  db: Database.Database;
  insertAll(organizations: readonly SupportOrganizationRow[], tickets: readonly SupportTicketRow[]): void;
  getOrganization(id: number): SupportOrganizationRow | undefined;
  getOrganizations(ids: readonly number[]): SupportOrganizationRow[];
  /** Open ticket count per organization id (orgs without open tickets are absent). */
  openTicketCounts(ids: readonly number[]): Map<number, number>;
  updateOrganization(
    id: number,
    patch: Partial<Pick<SupportOrganizationRow, 'name' | 'external_id' | 'details' | 'notes' | 'organization_fields'>>,
  ): SupportOrganizationRow | undefined;
  getTicket(id: number): SupportTicketRow | undefined;
  ticketsByExternalId(externalId: string): SupportTicketRow[];
  /** At most `perOrg` newest tickets of each organization. */
  ticketsByOrganizations(ids: readonly number[], perOrg: number): SupportTicketRow[];
  listTickets(limit: number): { rows: SupportTicketRow[]; total: number };
  createTicket(input: Pick<SupportTicketRow, 'organization_id' | 'subject' | 'description' | 'priority' | 'external_id'>): SupportTicketRow;
  updateTicket(id: number, patch: Partial<Pick<SupportTicketRow, 'status' | 'priority'>>): SupportTicketRow | undefined;
  close(): void;
}

const insertSql = (table: string, cols: readonly string[]) =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`;

/** Opens (creating if needed) a support sandbox database file. */
export function openSupportStore(file: string): SupportStore {
  const db = openSqlite(file);
  db.exec(DDL);
  const insertOrg = db.prepare(insertSql('organizations', ORG_COLUMNS));
  const insertTicket = db.prepare(insertSql('tickets', TICKET_COLUMNS));
  const createTicketStmt = db.prepare(insertSql('tickets', TICKET_COLUMNS.filter((c) => c !== 'id')));
  const getOrg = db.prepare<[number], SupportOrganizationRow>('SELECT * FROM organizations WHERE id = ?');
  const getOrgs = db.prepare<[string], SupportOrganizationRow>(
    'SELECT * FROM organizations WHERE id IN (SELECT value FROM json_each(?))',
  );
  const openCounts = db.prepare<[string], { organization_id: number; n: number }>(
    `SELECT organization_id, COUNT(*) AS n FROM tickets
     WHERE organization_id IN (SELECT value FROM json_each(?)) AND status IN ('new', 'open', 'pending', 'hold')
     GROUP BY organization_id`,
  );
  const getTicket = db.prepare<[number], SupportTicketRow>('SELECT * FROM tickets WHERE id = ?');
  const byExternal = db.prepare<[string], SupportTicketRow>('SELECT * FROM tickets WHERE external_id = ? ORDER BY id');
  const byOrgs = db.prepare<[string, number], SupportTicketRow & { rn: number }>(
    `SELECT * FROM (
       SELECT t.*, ROW_NUMBER() OVER (PARTITION BY organization_id ORDER BY created_at DESC, id DESC) AS rn
       FROM tickets t WHERE organization_id IN (SELECT value FROM json_each(?))
     ) WHERE rn <= ? ORDER BY organization_id, created_at DESC, id DESC`,
  );
  const listTickets = db.prepare<[number], SupportTicketRow>('SELECT * FROM tickets ORDER BY id LIMIT ?');
  const countTickets = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM tickets');

  const insertAll = db.transaction((orgs: readonly SupportOrganizationRow[], tickets: readonly SupportTicketRow[]) => {
    for (const o of orgs) insertOrg.run(o);
    for (const t of tickets) insertTicket.run(t);
  });
  const updateOrganization = db.transaction((id: number, patch: Parameters<SupportStore['updateOrganization']>[1]) => {
    const current = getOrg.get(id);
    if (!current) return undefined;
    const next: SupportOrganizationRow = { ...current, ...patch, updated_at: nextStamp(current.updated_at) };
    db.prepare(
      `UPDATE organizations SET name = @name, external_id = @external_id, details = @details, notes = @notes,
         organization_fields = @organization_fields, updated_at = @updated_at WHERE id = @id`,
    ).run(next);
    return next;
  });
  const updateTicket = db.transaction((id: number, patch: Parameters<SupportStore['updateTicket']>[1]) => {
    const current = getTicket.get(id);
    if (!current) return undefined;
    const next: SupportTicketRow = { ...current, ...patch, updated_at: nextStamp(current.updated_at) };
    db.prepare('UPDATE tickets SET status = @status, priority = @priority, updated_at = @updated_at WHERE id = @id').run(next);
    return next;
  });

  return {
    db,
    insertAll: (orgs, tickets) => insertAll(orgs, tickets),
    getOrganization: (id) => getOrg.get(id),
    getOrganizations: (ids) => getOrgs.all(JSON.stringify(ids)),
    openTicketCounts: (ids) => new Map(openCounts.all(JSON.stringify(ids)).map((r) => [r.organization_id, r.n])),
    updateOrganization: (id, patch) => updateOrganization(id, patch),
    getTicket: (id) => getTicket.get(id),
    ticketsByExternalId: (externalId) => byExternal.all(externalId),
    ticketsByOrganizations: (ids, perOrg) => byOrgs.all(JSON.stringify(ids), perOrg).map(({ rn: _rn, ...t }) => t),
    listTickets: (limit) => ({ rows: listTickets.all(limit), total: countTickets.get()?.n ?? 0 }),
    createTicket: (input) => {
      const now = nextStamp(null);
      const info = createTicketStmt.run({ ...input, status: 'new', created_at: now, updated_at: now });
      return getTicket.get(Number(info.lastInsertRowid))!;
    },
    updateTicket: (id, patch) => updateTicket(id, patch),
    close: () => db.close(),
  };
}
