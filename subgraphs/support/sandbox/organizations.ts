// Owns the support sandbox's organization writes beyond PUT: create, search by name or external_id, and `update_many` answered with a job status, as Zendesk's API v2 does them.
//
// Terminology
// - job status: Zendesk runs bulk updates as background jobs and answers with a job to poll. The sandbox runs the
//   job before answering, so the status is already `completed`, but it keeps the shape and serves the job again at
//   `GET /api/v2/job_statuses/{id}.json`, so a client written for the real API works unchanged.
// Guarantees: organization names are unique, compared as Zendesk does (trimmed, case-insensitive); a refused
// create or update changes nothing; each organization of an update_many succeeds or fails alone.

import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { isRecord, listParam, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';
import { SUPPORT_PLANS } from './store.js';
import type { SupportOrganizationRow, SupportStore } from './store.js';

/** Zendesk's limit of organizations per update_many call. */
export const SUPPORT_UPDATE_MANY_LIMIT = 100;

/** What these routes share with the rest of the support API: the one rendering of an organization. */
export interface SupportOrganizationDeps {
  toOrganization(row: SupportOrganizationRow, base: string): Record<string, unknown>;
}

const WRITES_DDL = `
CREATE TABLE IF NOT EXISTS organization_domains (
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  domain TEXT NOT NULL,
  PRIMARY KEY (organization_id, domain)
);
CREATE INDEX IF NOT EXISTS organizations_name_nocase ON organizations (lower(trim(name)));
CREATE TABLE IF NOT EXISTS job_statuses (id TEXT PRIMARY KEY, job TEXT NOT NULL, created_at TEXT NOT NULL);
`;

/** Organization ids in an empty store start here, as in a long-lived Zendesk account. */
const FIRST_ORGANIZATION_ID = 90000001;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Zendesk's validation error: one entry per offending field. */
function invalid(field: string, description: string, error = 'InvalidValue'): SandboxResponse {
  return { status: 422, body: { error: 'RecordInvalid', description: 'Record validation errors', details: { [field]: [{ description, error }] } } };
}
const badRequest = (description: string): SandboxResponse => ({ status: 400, body: { error: 'InvalidParameter', description } });
const notFound = (): SandboxResponse => ({ status: 404, body: { error: 'RecordNotFound', description: 'Not found' } });

/** Zendesk urls are absolute; the sandbox derives its base from the Host the client used. */
function baseUrl(headers: Record<string, string | string[] | undefined>): string {
  return `http://${String(headers.host ?? '127.0.0.1')}`;
}

/** The attributes an organization write may set, checked; `domain_names` replaces the whole list, as in Zendesk. */
interface OrganizationChange {
  name?: string;
  external_id?: string | null;
  details?: string | null;
  notes?: string | null;
  organization_fields?: string;
  domain_names?: string[];
}

/** Why a write of one organization was refused: the field and Zendesk's words for it. */
interface Refusal {
  field: string;
  description: string;
  error: string;
}

const refusal = (field: string, description: string, error = 'InvalidValue'): Refusal => ({ field, description, error });
const answer = (r: Refusal) => invalid(r.field, r.description, r.error);

/** Private: checks an `organization` object's attributes against the current row (null on create). */
function organizationChange(attrs: Record<string, unknown>, current: SupportOrganizationRow | null): OrganizationChange | Refusal {
  const change: OrganizationChange = {};
  for (const [key, value] of Object.entries(attrs)) {
    switch (key) {
      case 'id':
        break;
      case 'name':
        if (typeof value !== 'string' || value.trim() === '') return refusal('name', 'Name: cannot be blank', 'BlankValue');
        change.name = value.trim();
        break;
      case 'external_id':
      case 'details':
      case 'notes':
        if (value !== null && typeof value !== 'string') return refusal(key, `${key} must be a string or null`);
        change[key] = value;
        break;
      case 'domain_names': {
        if (!Array.isArray(value) || !value.every((d) => typeof d === 'string')) return refusal(key, 'Domain names: must be an array of domain names');
        const domains = [...new Set(value.map((d: string) => d.trim().toLowerCase()))];
        const bad = domains.find((d) => !DOMAIN.test(d));
        if (bad !== undefined) return refusal(key, `Domain names: ${JSON.stringify(bad)} is not a valid domain`);
        change.domain_names = domains;
        break;
      }
      case 'organization_fields': {
        if (!isRecord(value)) return refusal(key, 'organization_fields must be an object');
        const merged = { support_plan: null, ...(current ? (JSON.parse(current.organization_fields) as Record<string, unknown>) : {}) };
        for (const [field, fieldValue] of Object.entries(value)) {
          if (field !== 'support_plan') return refusal(field, `organization field ${field} does not exist; known: support_plan`);
          if (fieldValue !== null && !(SUPPORT_PLANS as readonly unknown[]).includes(fieldValue)) {
            return refusal('support_plan', `support_plan must be one of ${SUPPORT_PLANS.join(', ')} or null, got ${JSON.stringify(fieldValue)}`);
          }
          merged[field] = fieldValue as null;
        }
        change.organization_fields = JSON.stringify(merged);
        break;
      }
      default:
        return refusal(key, `organization attribute ${key} cannot be set through the sandbox`);
    }
  }
  return change;
}

const isRefusal = (c: OrganizationChange | Refusal): c is Refusal => 'description' in c;

/** One organization's outcome in an update_many job, as Zendesk lists it. */
interface JobResult {
  id: number;
  action: 'update';
  success: boolean;
  status: 'Updated' | 'Failed';
  errors?: string;
}

/** The support sandbox's organization create, search and bulk update over an open store (their tables in the same file). */
export function supportOrganizationRoutes(store: SupportStore, deps: SupportOrganizationDeps): Route[] {
  const db: Database.Database = store.db;
  db.exec(WRITES_DDL);
  const byName = db.prepare<[string], SupportOrganizationRow>('SELECT * FROM organizations WHERE lower(trim(name)) = lower(trim(?)) ORDER BY id');
  const byExternalId = db.prepare<[string], SupportOrganizationRow>('SELECT * FROM organizations WHERE external_id = ? ORDER BY id');
  const maxId = db.prepare<[], { m: number | null }>('SELECT MAX(id) AS m FROM organizations');
  const insert = db.prepare(
    `INSERT INTO organizations (id, name, external_id, details, notes, organization_fields, created_at, updated_at)
     VALUES (@id, @name, @external_id, @details, @notes, @organization_fields, @created_at, @updated_at)`,
  );
  const domainsOf = db.prepare<[number], { domain: string }>('SELECT domain FROM organization_domains WHERE organization_id = ? ORDER BY rowid');
  const clearDomains = db.prepare<[number]>('DELETE FROM organization_domains WHERE organization_id = ?');
  const addDomain = db.prepare<[number, string]>('INSERT OR IGNORE INTO organization_domains (organization_id, domain) VALUES (?, ?)');
  const saveJob = db.prepare<[string, string, string]>('INSERT INTO job_statuses (id, job, created_at) VALUES (?, ?, ?)');
  const loadJob = db.prepare<[string], { job: string }>('SELECT job FROM job_statuses WHERE id = ?');

  const render = (row: SupportOrganizationRow, base: string) => ({ ...deps.toOrganization(row, base), domain_names: domainsOf.all(row.id).map((d) => d.domain) });
  /** Another organization holding `name`, if any. */
  const nameTaken = (name: string, self: number | null) => byName.all(name).some((o) => o.id !== self);

  const setDomains = (id: number, domains: string[] | undefined) => {
    if (domains === undefined) return;
    clearDomains.run(id);
    for (const d of domains) addDomain.run(id, d);
  };

  const create = db.transaction((attrs: Record<string, unknown>): SupportOrganizationRow | Refusal => {
    if (attrs.name === undefined) return refusal('name', 'Name: cannot be blank', 'BlankValue');
    const change = organizationChange(attrs, null);
    if (isRefusal(change)) return change;
    if (nameTaken(change.name!, null)) return refusal('name', 'Name: has already been taken', 'DuplicateValue');
    const now = nextStamp(null);
    const row: SupportOrganizationRow = {
      id: Math.max(FIRST_ORGANIZATION_ID - 1, maxId.get()?.m ?? 0) + 1,
      name: change.name!,
      external_id: change.external_id ?? null,
      details: change.details ?? null,
      notes: change.notes ?? null,
      organization_fields: change.organization_fields ?? '{"support_plan":null}',
      created_at: now,
      updated_at: now,
    };
    insert.run(row);
    setDomains(row.id, change.domain_names);
    return row;
  });

  /** Applies one organization's change of an update_many, alone: its job result. */
  const updateOne = (id: number, attrs: Record<string, unknown>): JobResult => {
    const failed = (errors: string): JobResult => ({ id, action: 'update', success: false, status: 'Failed', errors });
    const current = store.getOrganization(id);
    if (!current) return failed(`RecordNotFound: organization ${id} does not exist`);
    const change = organizationChange(attrs, current);
    if (isRefusal(change)) return failed(change.description);
    if (change.name !== undefined && nameTaken(change.name, id)) return failed('Name: has already been taken');
    const { domain_names: domains, ...columns } = change;
    store.updateOrganization(id, columns);
    setDomains(id, domains);
    return { id, action: 'update', success: true, status: 'Updated' };
  };

  return [
    {
      method: 'POST',
      pattern: '/api/v2/organizations.json',
      write: true,
      handle: ({ body, headers }) => {
        if (!isRecord(body) || !isRecord(body.organization)) {
          return badRequest('body must be {"organization": {"name", "external_id"?, "domain_names"?, "details"?, "notes"?, "organization_fields"?}}');
        }
        const out = create(body.organization);
        if ('description' in out) return answer(out);
        return { status: 201, body: { organization: render(out, baseUrl(headers)) } };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v2/organizations/search.json',
      write: false,
      handle: ({ query, headers }) => {
        const externalId = query.get('external_id');
        const name = query.get('name');
        if ((externalId === null) === (name === null)) return badRequest('search by exactly one of external_id or name: ?external_id=<id> or ?name=<exact name>');
        const rows = externalId !== null ? byExternalId.all(externalId) : byName.all(name!);
        const base = baseUrl(headers);
        return { status: 200, body: { organizations: rows.map((r) => render(r, base)), next_page: null, previous_page: null, count: rows.length } };
      },
    },
    {
      method: 'PUT',
      pattern: '/api/v2/organizations/update_many.json',
      write: true,
      handle: ({ query, body, headers }) => {
        // Two forms, as in Zendesk: the same change for ?ids=1,2,3, or a change of its own for each organization.
        const rawIds = listParam(query, 'ids');
        const changes: { id: number; attrs: Record<string, unknown> }[] = [];
        if (rawIds !== null) {
          if (!isRecord(body) || !isRecord(body.organization)) return badRequest('with ?ids=, the body is {"organization": {...}}: one change for every listed organization');
          const ids = rawIds.map(Number);
          if (ids.some((n) => !Number.isSafeInteger(n) || n <= 0)) return badRequest('ids must be comma-separated positive integers');
          for (const id of ids) changes.push({ id, attrs: body.organization });
        } else {
          if (!isRecord(body) || !Array.isArray(body.organizations)) {
            return badRequest('body must be {"organizations": [{"id", ...attributes}, ...]}, or {"organization": {...}} with ?ids=1,2,3');
          }
          for (const o of body.organizations) {
            if (!isRecord(o) || typeof o.id !== 'number' || !Number.isSafeInteger(o.id) || o.id <= 0) return badRequest(`every organization needs its numeric "id", got ${JSON.stringify(o)}`);
            changes.push({ id: o.id, attrs: o });
          }
        }
        if (changes.length === 0) return badRequest('update_many needs at least one organization');
        if (changes.length > SUPPORT_UPDATE_MANY_LIMIT) {
          return badRequest(`too many organizations: update_many takes at most ${SUPPORT_UPDATE_MANY_LIMIT} per call, got ${changes.length}`);
        }
        const results = db.transaction(() => changes.map((c) => updateOne(c.id, c.attrs)))();
        const id = randomUUID().replaceAll('-', '');
        const now = new Date().toISOString();
        const job = {
          id,
          url: `${baseUrl(headers)}/api/v2/job_statuses/${id}.json`,
          job_type: 'Bulk Update Organizations',
          total: changes.length,
          progress: changes.length,
          status: 'completed',
          message: `Completed at ${now}`,
          results,
        };
        saveJob.run(id, JSON.stringify(job), now);
        return { status: 200, body: { job_status: job }, writes: results.filter((r) => r.success).length };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v2/job_statuses/{id}.json',
      write: false,
      handle: ({ params }) => {
        const row = loadJob.get(params.id!);
        return row ? { status: 200, body: { job_status: JSON.parse(row.job) } } : notFound();
      },
    },
  ];
}
