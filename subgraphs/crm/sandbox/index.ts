// Owns the CRM sandbox's HTTP API: a subset of HubSpot CRM v3 contacts over the store in ./store.ts.

import { isRecord, listParam, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { bearerToken, sameSecret } from '../../sandbox-kit/credentials.js';
import { defineSandbox } from '../../sandbox-kit/starter.js';
import {
  CRM_READ_ONLY_PROPERTIES,
  CRM_WRITABLE_PROPERTIES,
  openCrmStore,
} from './store.js';
import type { CrmContactRow, CrmStore, CrmWritableProperty } from './store.js';
import { crmBatchRoutes } from './batch.js';
import { crmSearchRoute } from './search.js';

export { openCrmStore, CRM_LIFECYCLE_STAGES, CRM_WRITABLE_PROPERTIES } from './store.js';
export type { CrmContactRow, CrmStore } from './store.js';

/** Default and maximum page sizes of the list, as HubSpot documents them (search has its own: ./search.ts). */
const LIST_DEFAULT_LIMIT = 10;
const LIST_MAX_LIMIT = 100;

const ALL_PROPERTIES: readonly string[] = [...CRM_WRITABLE_PROPERTIES, 'hs_object_id', 'createdate', 'lastmodifieddate'];
const WRITABLE = new Set<string>(CRM_WRITABLE_PROPERTIES);
const READ_ONLY = new Set<string>(CRM_READ_ONLY_PROPERTIES);

function hubspotError(status: number, category: string, message: string): SandboxResponse {
  return { status, body: { status: 'error', category, message, correlationId: crypto.randomUUID() } };
}

const validation = (message: string) => hubspotError(400, 'VALIDATION_ERROR', message);
const notFound = (id: string) =>
  hubspotError(404, 'OBJECT_NOT_FOUND', `resource not found: no CONTACT with id ${JSON.stringify(id)}`);

/** Renders a contact the way HubSpot does; unknown requested properties are ignored, as HubSpot does. */
function toObject(row: CrmContactRow, requested: readonly string[] | null) {
  const properties: Record<string, string | null> = {};
  const wanted = requested ?? ALL_PROPERTIES;
  for (const p of wanted) {
    if (WRITABLE.has(p)) properties[p] = row[p as CrmWritableProperty];
  }
  properties.hs_object_id = row.id;
  properties.createdate = row.createdate;
  properties.lastmodifieddate = row.lastmodifieddate;
  return {
    id: row.id,
    properties,
    createdAt: row.createdate,
    updatedAt: row.lastmodifieddate,
    archived: false,
  };
}

/** Reads `properties` from a body: absent means all; otherwise an array of strings. */
function bodyProperties(body: Record<string, unknown>): string[] | null | string {
  if (body.properties === undefined) return null;
  if (!Array.isArray(body.properties) || !body.properties.every((p) => typeof p === 'string')) {
    return '"properties" must be an array of property names';
  }
  return body.properties as string[];
}

/** Checks a write's `properties` object; returns the error message or the clean patch. */
function writePatch(body: unknown): Partial<Record<CrmWritableProperty, string | null>> | string {
  if (!isRecord(body) || !isRecord(body.properties)) {
    return 'body must be {"properties": {<name>: <string or null>, ...}}';
  }
  const patch: Partial<Record<CrmWritableProperty, string | null>> = {};
  for (const [name, value] of Object.entries(body.properties)) {
    if (READ_ONLY.has(name)) return `Property "${name}" is read-only and cannot be set`;
    if (!WRITABLE.has(name)) return `Property "${name}" does not exist on CONTACT; writable: ${CRM_WRITABLE_PROPERTIES.join(', ')}`;
    if (value !== null && typeof value !== 'string') {
      return `Property "${name}" must be a string or null, got ${JSON.stringify(value)}`;
    }
    patch[name as CrmWritableProperty] = value;
  }
  return patch;
}

/** The CRM routes over an open store; exported so tests or a gateway can mount them in-process. */
export function crmRoutes(store: CrmStore): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/crm/v3/objects/contacts/batch/read',
      write: false,
      handle: ({ body }) => {
        const startedAt = new Date().toISOString();
        if (!isRecord(body) || !Array.isArray(body.inputs)) {
          return validation('body must be {"properties": [...], "inputs": [{"id": "<id>"}, ...]}');
        }
        const props = bodyProperties(body);
        if (typeof props === 'string') return validation(props);
        const ids: string[] = [];
        for (const input of body.inputs) {
          if (!isRecord(input) || (typeof input.id !== 'string' && typeof input.id !== 'number')) {
            return validation(`every input must be {"id": "<id>"}, got ${JSON.stringify(input)}`);
          }
          ids.push(String(input.id));
        }
        const unique = [...new Set(ids)];
        const found = new Map(store.getMany(unique).map((r) => [r.id, r]));
        const results = unique.filter((id) => found.has(id)).map((id) => toObject(found.get(id)!, props));
        const missing = unique.filter((id) => !found.has(id));
        const completedAt = new Date().toISOString();
        if (missing.length === 0) {
          return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
        }
        return {
          status: 207,
          body: {
            status: 'COMPLETE',
            results,
            numErrors: missing.length,
            errors: [
              {
                status: 'error',
                category: 'OBJECT_NOT_FOUND',
                message: 'Could not get some CONTACT objects, they may be deleted or not exist.',
                context: { ids: missing },
              },
            ],
            startedAt,
            completedAt,
          },
        };
      },
    },
    crmSearchRoute(store, { toObject, bodyProperties, validation, allProperties: ALL_PROPERTIES }),
    {
      method: 'GET',
      pattern: '/crm/v3/objects/contacts/{id}',
      write: false,
      handle: ({ params, query }) => {
        const row = store.get(params.id!);
        if (!row) return notFound(params.id!);
        return { status: 200, body: toObject(row, listParam(query, 'properties')) };
      },
    },
    {
      method: 'GET',
      pattern: '/crm/v3/objects/contacts',
      write: false,
      handle: ({ query }) => {
        const rawLimit = query.get('limit');
        const limit = rawLimit === null ? LIST_DEFAULT_LIMIT : Number(rawLimit);
        if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
          return validation(`limit must be an integer 1..${LIST_MAX_LIMIT}, got ${rawLimit}`);
        }
        const rawAfter = query.get('after');
        const after = rawAfter === null ? 0 : Number(rawAfter);
        if (!Number.isInteger(after) || after < 0) return validation(`after must be a contact id, got ${rawAfter}`);
        // One extra row tells us whether a next page exists without a COUNT.
        const rows = store.listAfter(after, limit + 1);
        const page = rows.slice(0, limit);
        const props = listParam(query, 'properties');
        const body: Record<string, unknown> = { results: page.map((r) => toObject(r, props)) };
        if (rows.length > limit) body.paging = { next: { after: page[page.length - 1]!.id } };
        return { status: 200, body };
      },
    },
    {
      method: 'PATCH',
      pattern: '/crm/v3/objects/contacts/{id}',
      write: true,
      handle: ({ params, body }) => {
        const patch = writePatch(body);
        if (typeof patch === 'string') return validation(patch);
        const row = store.update(params.id!, patch);
        if (!row) return notFound(params.id!);
        return { status: 200, body: toObject(row, null) };
      },
    },
    {
      method: 'POST',
      pattern: '/crm/v3/objects/contacts',
      write: true,
      // Real HubSpot answers 409 for an exact duplicate email; the sandbox accepts it, because the
      // seeded data deliberately contains near-duplicates and canon must cope with both.
      handle: ({ body }) => {
        const patch = writePatch(body);
        if (typeof patch === 'string') return validation(patch);
        return { status: 201, body: toObject(store.create(patch), null) };
      },
    },
  ];
}

/** Starts the CRM sandbox; closing it also closes its database. */
export const startCrmSandbox = defineSandbox({
  name: 'crm',
  openStore: openCrmStore,
  routes: (store) => [...crmRoutes(store), ...crmBatchRoutes(store, { writePatch, toObject })],
  errorBody: (status, message) =>
    hubspotError(status, status === 404 ? 'OBJECT_NOT_FOUND' : status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR', message),
  // A private-app token as a Bearer credential, as HubSpot takes it.
  authorize: (headers, credentials: { token: string }) => {
    const token = bearerToken(headers);
    return token !== null && sameSecret(token, credentials.token);
  },
  unauthorized: () =>
    hubspotError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports private app access tokens: send Authorization: Bearer <token>.'),
});
