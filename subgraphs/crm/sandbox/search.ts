// Owns the CRM sandbox's search: HubSpot's `POST /crm/v3/objects/contacts/search`, with its filter operators, one sort, `after` paging and its cap of 10,000 results per query.

import { isRecord, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import type { CrmContactRow, CrmFilter, CrmStore } from './store.js';

/** Default and maximum page size of a search, as HubSpot documents them. */
const SEARCH_DEFAULT_LIMIT = 10;
export const CRM_SEARCH_MAX_LIMIT = 200;
/** HubSpot returns at most this many results of one query; paging past it is refused with a 400. */
export const CRM_SEARCH_RESULT_CAP = 10_000;

const OPERATORS = new Set<CrmFilter['op']>(['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE']);
/** Datetime properties: HubSpot takes their filter values as epoch milliseconds or ISO 8601. */
const DATETIMES = new Set(['createdate', 'lastmodifieddate']);

/** What the search shares with the other contact routes, so a contact renders and a body is read as everywhere else. */
export interface CrmSearchDeps {
  toObject(row: CrmContactRow, requested: readonly string[] | null): unknown;
  bodyProperties(body: Record<string, unknown>): string[] | null | string;
  validation(message: string): SandboxResponse;
  allProperties: readonly string[];
}

/** A filter value as stored: datetimes normalised to the ISO form the store holds, so they compare as text. */
function storedValue(property: string, value: string): string | null {
  if (!DATETIMES.has(property)) return value;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Parses `filterGroups` into store filters; a message when any is outside what HubSpot accepts. */
function parseGroups(body: Record<string, unknown>, deps: CrmSearchDeps): CrmFilter[][] | string {
  const groupsIn = body.filterGroups ?? [];
  if (!Array.isArray(groupsIn)) return '"filterGroups" must be an array';
  const groups: CrmFilter[][] = [];
  for (const g of groupsIn) {
    if (!isRecord(g) || !Array.isArray(g.filters)) return 'each filter group must be {"filters": [...]}';
    const filters: CrmFilter[] = [];
    for (const f of g.filters) {
      if (!isRecord(f) || typeof f.propertyName !== 'string') return 'each filter needs "propertyName"';
      if (typeof f.operator !== 'string' || !OPERATORS.has(f.operator as CrmFilter['op'])) {
        return `operator ${JSON.stringify(f.operator)} is not supported by the sandbox; supported: ${[...OPERATORS].join(', ')}`;
      }
      if (typeof f.value !== 'string' && typeof f.value !== 'number') return `filter on "${f.propertyName}" needs a string "value"`;
      const column = f.propertyName === 'hs_object_id' ? 'id' : deps.allProperties.includes(f.propertyName) ? f.propertyName : null;
      if (!column) return `Property "${f.propertyName}" does not exist on CONTACT`;
      const value = storedValue(column, String(f.value));
      if (value === null) return `filter on "${f.propertyName}" needs a datetime as epoch milliseconds or ISO 8601, got ${JSON.stringify(f.value)}`;
      filters.push({ column, op: f.operator as CrmFilter['op'], value });
    }
    groups.push(filters);
  }
  return groups;
}

/** Parses `sorts`: HubSpot takes one, `{"propertyName", "direction": "ASCENDING" | "DESCENDING"}`. */
function parseSort(body: Record<string, unknown>, deps: CrmSearchDeps): { column: string; ascending: boolean } | undefined | string {
  if (body.sorts === undefined) return undefined;
  if (!Array.isArray(body.sorts) || body.sorts.length > 1) return '"sorts" must be an array of at most one {"propertyName", "direction"}';
  const [sort] = body.sorts as unknown[];
  if (sort === undefined) return undefined;
  if (!isRecord(sort) || typeof sort.propertyName !== 'string') return 'a sort needs "propertyName"';
  const column = sort.propertyName === 'hs_object_id' ? 'id' : deps.allProperties.includes(sort.propertyName) ? sort.propertyName : null;
  if (!column) return `Property "${sort.propertyName}" does not exist on CONTACT`;
  const direction = sort.direction ?? 'ASCENDING';
  if (direction !== 'ASCENDING' && direction !== 'DESCENDING') return `sort direction must be ASCENDING or DESCENDING, got ${JSON.stringify(direction)}`;
  return { column, ascending: direction === 'ASCENDING' };
}

/** The search route over an open store. */
export function crmSearchRoute(store: CrmStore, deps: CrmSearchDeps): Route {
  return {
    method: 'POST',
    pattern: '/crm/v3/objects/contacts/search',
    write: false,
    handle: ({ body }) => {
      if (!isRecord(body)) return deps.validation('body must be a search request object');
      const props = deps.bodyProperties(body);
      if (typeof props === 'string') return deps.validation(props);
      const limit = body.limit ?? SEARCH_DEFAULT_LIMIT;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > CRM_SEARCH_MAX_LIMIT) {
        return deps.validation(`"limit" must be an integer 1..${CRM_SEARCH_MAX_LIMIT}, got ${JSON.stringify(limit)}`);
      }
      const after = body.after === undefined ? 0 : Number(body.after);
      if (!Number.isInteger(after) || after < 0) return deps.validation(`"after" must be a non-negative integer offset`);
      if (after >= CRM_SEARCH_RESULT_CAP) {
        return deps.validation(`a search returns at most ${CRM_SEARCH_RESULT_CAP} results; "after" ${after} pages past them. Narrow the filters (e.g. lastmodifieddate GTE the last value seen) and search again`);
      }
      const groups = parseGroups(body, deps);
      if (typeof groups === 'string') return deps.validation(groups);
      const sort = parseSort(body, deps);
      if (typeof sort === 'string') return deps.validation(sort);
      const rows = store.search(groups, sort);
      const end = Math.min(after + limit, rows.length, CRM_SEARCH_RESULT_CAP);
      const page = rows.slice(after, end);
      const next = end < Math.min(rows.length, CRM_SEARCH_RESULT_CAP) ? { paging: { next: { after: String(end) } } } : {};
      return { status: 200, body: { total: rows.length, results: page.map((r) => deps.toObject(r, props)), ...next } };
    },
  };
}
