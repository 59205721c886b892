// Owns the support sandbox's HTTP API: a subset of the Zendesk Support API v2 (organizations and tickets).

import { isRecord, listParam, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { basicCredentials, sameSecret } from '../../sandbox-kit/credentials.js';
import { defineSandbox } from '../../sandbox-kit/starter.js';
import { SUPPORT_PLANS, TICKET_PRIORITIES, TICKET_STATUSES, openSupportStore } from './store.js';
import type { SupportOrganizationRow, SupportStore, SupportTicketRow, TicketPriority, TicketStatus } from './store.js';
import { supportOrganizationRoutes } from './organizations.js';
import { supportIncrementalRoutes } from './incremental.js';

export { openSupportStore, SUPPORT_PLANS, TICKET_STATUSES, TICKET_PRIORITIES, OPEN_TICKET_STATUSES } from './store.js';
export type { SupportOrganizationRow, SupportTicketRow, SupportStore } from './store.js';

/** Default for the per_org sandbox extension. */
const DEFAULT_PER_ORG = 10;
/** Page size of the unfiltered ticket list, as Zendesk's default page. */
const LIST_PAGE = 100;

const notFound = (): SandboxResponse => ({ status: 404, body: { error: 'RecordNotFound', description: 'Not found' } });

/** Zendesk's validation error: one entry per offending field. */
function invalid(field: string, description: string, error = 'InvalidValue'): SandboxResponse {
  return {
    status: 422,
    body: { error: 'RecordInvalid', description: 'Record validation errors', details: { [field]: [{ description, error }] } },
  };
}

const badRequest = (description: string): SandboxResponse => ({ status: 400, body: { error: 'InvalidParameter', description } });

/** Zendesk urls are absolute; the sandbox derives its base from the Host the client used. */
function baseUrl(headers: Record<string, string | string[] | undefined>): string {
  return `http://${String(headers.host ?? '127.0.0.1')}`;
}

function toOrganization(row: SupportOrganizationRow, base: string) {
  return {
    id: row.id,
    url: `${base}/api/v2/organizations/${row.id}.json`,
    name: row.name,
    external_id: row.external_id,
    details: row.details,
    notes: row.notes,
    organization_fields: JSON.parse(row.organization_fields) as Record<string, unknown>,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toTicket(row: SupportTicketRow, base: string) {
  return {
    id: row.id,
    url: `${base}/api/v2/tickets/${row.id}.json`,
    subject: row.subject,
    description: row.description,
    status: row.status,
    priority: row.priority,
    organization_id: row.organization_id,
    external_id: row.external_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Parses a comma-separated id list; null when absent, a message when malformed. */
function idList(query: URLSearchParams, name: string): number[] | null | string {
  const raw = listParam(query, name);
  if (raw === null) return null;
  const ids = raw.map(Number);
  if (ids.some((n) => !Number.isSafeInteger(n) || n <= 0)) return `${name} must be comma-separated positive integers`;
  return [...new Set(ids)];
}

/** Private: the numeric `{id}` of a `.json` path, or null when it is not a positive integer. */
function pathId(raw: string | undefined): number | null {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The support routes over an open store. */
export function supportRoutes(store: SupportStore): Route[] {
  return [
    {
      // Real Zendesk caps show_many at 100 ids per call; the sandbox does not, so the connector's
      // own chunking is a choice, not something the sandbox forces.
      method: 'GET',
      pattern: '/api/v2/organizations/show_many.json',
      write: false,
      handle: ({ query, headers }) => {
        const ids = idList(query, 'ids');
        if (ids === null) return badRequest('ids is required: ?ids=1,2,3');
        if (typeof ids === 'string') return badRequest(ids);
        const base = baseUrl(headers);
        const found = new Map(store.getOrganizations(ids).map((o) => [o.id, o]));
        const organizations = ids.filter((id) => found.has(id)).map((id) => toOrganization(found.get(id)!, base));
        const body: Record<string, unknown> = { organizations };
        if ((listParam(query, 'include') ?? []).includes('open_ticket_counts')) {
          const counts = store.openTicketCounts([...found.keys()]);
          body.open_ticket_counts = Object.fromEntries([...found.keys()].map((id) => [String(id), counts.get(id) ?? 0]));
        }
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v2/organizations/{id}.json',
      write: false,
      handle: ({ params, headers }) => {
        const id = pathId(params.id);
        const row = id === null ? undefined : store.getOrganization(id);
        return row ? { status: 200, body: { organization: toOrganization(row, baseUrl(headers)) } } : notFound();
      },
    },
    {
      method: 'PUT',
      pattern: '/api/v2/organizations/{id}.json',
      write: true,
      handle: ({ params, headers, body }) => {
        const id = pathId(params.id);
        const current = id === null ? undefined : store.getOrganization(id);
        if (!current) return notFound();
        if (!isRecord(body) || !isRecord(body.organization)) {
          return badRequest('body must be {"organization": {"name"?, "details"?, "notes"?, "external_id"?, "organization_fields"?}}');
        }
        const patch: Parameters<SupportStore['updateOrganization']>[1] = {};
        for (const [key, value] of Object.entries(body.organization)) {
          switch (key) {
            case 'name':
              if (typeof value !== 'string' || value.trim() === '') return invalid('name', 'Name: cannot be blank', 'BlankValue');
              patch.name = value;
              break;
            case 'details':
            case 'notes':
            case 'external_id':
              if (value !== null && typeof value !== 'string') return invalid(key, `${key} must be a string or null`);
              patch[key] = value;
              break;
            case 'organization_fields': {
              if (!isRecord(value)) return invalid(key, 'organization_fields must be an object');
              const merged = { ...(JSON.parse(current.organization_fields) as Record<string, unknown>) };
              for (const [field, fieldValue] of Object.entries(value)) {
                if (field !== 'support_plan') return invalid(field, `organization field ${field} does not exist; known: support_plan`);
                if (fieldValue !== null && !(SUPPORT_PLANS as readonly unknown[]).includes(fieldValue)) {
                  return invalid('support_plan', `support_plan must be one of ${SUPPORT_PLANS.join(', ')} or null, got ${JSON.stringify(fieldValue)}`);
                }
                merged[field] = fieldValue;
              }
              patch.organization_fields = JSON.stringify(merged);
              break;
            }
            default:
              return invalid(key, `organization attribute ${key} cannot be updated through the sandbox`);
          }
        }
        const row = store.updateOrganization(id!, patch)!;
        return { status: 200, body: { organization: toOrganization(row, baseUrl(headers)) } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/v2/tickets.json',
      write: true,
      handle: ({ body, headers }) => {
        if (!isRecord(body) || !isRecord(body.ticket)) {
          return badRequest('body must be {"ticket": {"subject", "comment": {"body"}, "organization_id", "external_id"?, "priority"?}}');
        }
        const t = body.ticket;
        if (typeof t.subject !== 'string' || t.subject.trim() === '') return invalid('subject', 'Subject: cannot be blank', 'BlankValue');
        if (!isRecord(t.comment) || typeof t.comment.body !== 'string' || t.comment.body.trim() === '') {
          return invalid('description', 'Description: cannot be blank (send comment.body)', 'BlankValue');
        }
        const orgId = typeof t.organization_id === 'number' ? t.organization_id : Number(t.organization_id);
        if (!Number.isSafeInteger(orgId) || !store.getOrganization(orgId)) {
          return invalid('organization_id', `organization_id ${JSON.stringify(t.organization_id)} is not an existing organization`);
        }
        if (t.priority !== undefined && t.priority !== null && !(TICKET_PRIORITIES as readonly unknown[]).includes(t.priority)) {
          return invalid('priority', `priority must be one of ${TICKET_PRIORITIES.join(', ')}`);
        }
        if (t.external_id !== undefined && t.external_id !== null && typeof t.external_id !== 'string') {
          return invalid('external_id', 'external_id must be a string');
        }
        const row = store.createTicket({
          organization_id: orgId,
          subject: t.subject,
          description: t.comment.body,
          priority: (t.priority ?? null) as TicketPriority | null,
          external_id: (t.external_id ?? null) as string | null,
        });
        return { status: 201, body: { ticket: toTicket(row, baseUrl(headers)) } };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v2/tickets.json',
      write: false,
      handle: ({ query, headers }) => {
        const base = baseUrl(headers);
        const externalId = query.get('external_id');
        if (externalId !== null) {
          const rows = store.ticketsByExternalId(externalId);
          return { status: 200, body: { tickets: rows.map((r) => toTicket(r, base)), count: rows.length } };
        }
        // SANDBOX EXTENSION: Zendesk has no "latest N tickets of each of these organizations" call
        // (one /organizations/{id}/tickets per org); the sandbox adds one so the connector can batch.
        const orgIds = idList(query, 'organization_ids');
        if (typeof orgIds === 'string') return badRequest(orgIds);
        if (orgIds !== null) {
          const perOrg = query.get('per_org') === null ? DEFAULT_PER_ORG : Number(query.get('per_org'));
          if (!Number.isInteger(perOrg) || perOrg < 1) return badRequest('per_org must be a positive integer');
          const rows = store.ticketsByOrganizations(orgIds, perOrg);
          return { status: 200, body: { tickets: rows.map((r) => toTicket(r, base)), count: rows.length } };
        }
        const { rows, total } = store.listTickets(LIST_PAGE);
        return { status: 200, body: { tickets: rows.map((r) => toTicket(r, base)), count: total } };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v2/tickets/{id}.json',
      write: false,
      handle: ({ params, headers }) => {
        const id = pathId(params.id);
        const row = id === null ? undefined : store.getTicket(id);
        return row ? { status: 200, body: { ticket: toTicket(row, baseUrl(headers)) } } : notFound();
      },
    },
    {
      method: 'PUT',
      pattern: '/api/v2/tickets/{id}.json',
      write: true,
      handle: ({ params, headers, body }) => {
        const id = pathId(params.id);
        const current = id === null ? undefined : store.getTicket(id);
        if (!current) return notFound();
        if (!isRecord(body) || !isRecord(body.ticket)) return badRequest('body must be {"ticket": {"status"?, "priority"?}}');
        // Zendesk freezes closed tickets; follow-ups are new tickets.
        if (current.status === 'closed') return invalid('status', 'Status: closed prevents ticket update', 'ClosedPreventsUpdate');
        const patch: { status?: TicketStatus; priority?: TicketPriority | null } = {};
        for (const [key, value] of Object.entries(body.ticket)) {
          if (key === 'status') {
            if (!(TICKET_STATUSES as readonly unknown[]).includes(value)) return invalid('status', `status must be one of ${TICKET_STATUSES.join(', ')}`);
            patch.status = value as TicketStatus;
          } else if (key === 'priority') {
            if (value !== null && !(TICKET_PRIORITIES as readonly unknown[]).includes(value)) {
              return invalid('priority', `priority must be one of ${TICKET_PRIORITIES.join(', ')} or null`);
            }
            patch.priority = value as TicketPriority | null;
          } else {
            return invalid(key, `ticket attribute ${key} cannot be updated through the sandbox; only status and priority`);
          }
        }
        const row = store.updateTicket(id!, patch)!;
        return { status: 200, body: { ticket: toTicket(row, baseUrl(headers)) } };
      },
    },
  ];
}

const ERROR_NAMES: Record<number, string> = { 404: 'RecordNotFound', 400: 'InvalidParameter', 413: 'RequestTooLarge', 429: 'TooManyRequests' };

/** Starts the support sandbox; closing it also closes its database. */
export const startSupportSandbox = defineSandbox({
  name: 'support',
  openStore: openSupportStore,
  routes: (store) => [...supportRoutes(store), ...supportOrganizationRoutes(store, { toOrganization }), ...supportIncrementalRoutes(store, { toOrganization })],
  errorBody: (status, description) => ({ status, body: { error: ERROR_NAMES[status] ?? (status >= 500 ? 'ServiceUnavailable' : 'Error'), description } }),
  // An API token the way Zendesk takes it: HTTP basic with the user `<agent email>/token` and the token as password.
  authorize: (headers, credentials: { email: string; token: string }) => {
    const given = basicCredentials(headers);
    return given !== null && sameSecret(given.user, `${credentials.email}/token`) && sameSecret(given.password, credentials.token);
  },
  unauthorized: () => ({ status: 401, body: { error: "Couldn't authenticate you" }, headers: { 'www-authenticate': 'Basic realm="Web Password"' } }),
});
