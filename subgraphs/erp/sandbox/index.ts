// Owns the ERP sandbox's HTTP API: a subset of an SAP-style OData v4 BusinessPartners service.

import type { IncomingHttpHeaders } from 'node:http';
import { isRecord, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { basicCredentials, sameSecret } from '../../sandbox-kit/credentials.js';
import { defineSandbox } from '../../sandbox-kit/starter.js';
import { parseFilter } from './filter.js';
import {
  ERP_BLOCK_REASONS,
  ERP_PAYMENT_TERMS,
  ERP_PROPERTIES,
  ERP_WRITABLE_PROPERTIES,
  openErpStore,
} from './store.js';
import type { ErpPartnerRow, ErpProperty, ErpStore, ErpWritableProperty } from './store.js';
import { erpApprovalRoutes, erpBatchRoute, erpCreateRoutes, openErpWrites } from './writes.js';

export { openErpStore, ERP_PAYMENT_TERMS, ERP_BLOCK_REASONS, ERP_PROPERTIES } from './store.js';
export type { ErpPartnerRow, ErpStore } from './store.js';

const PROPERTY_SET = new Set<string>(ERP_PROPERTIES);
const WRITABLE_SET = new Set<string>(ERP_WRITABLE_PROPERTIES);

function odataError(status: number, code: string, message: string): SandboxResponse {
  return { status, body: { error: { code, message } } };
}

const etagOf = (row: ErpPartnerRow) => `W/"${row.RowVersion}"`;

/** Renders an entity: every property (or the `$select`ed ones plus the key) and its ETag. */
function toEntity(row: ErpPartnerRow, select: readonly ErpProperty[] | null) {
  const entity: Record<string, unknown> = { '@odata.etag': etagOf(row) };
  for (const p of select ?? ERP_PROPERTIES) entity[p] = row[p];
  entity.BusinessPartner = row.BusinessPartner;
  return entity;
}

/** System query options the sandbox understands; any other `$option` is refused rather than ignored. */
const KNOWN_OPTIONS = new Set(['$filter', '$select', '$top', '$skip', '$format', '$orderby', '$skiptoken']);

/**
 * Server-driven paging: at most this many entities per answer, then an `@odata.nextLink`; a client may ask for
 * fewer with `Prefer: odata.maxpagesize=N`, as OData v4 defines.
 */
export const ERP_SERVER_PAGE_SIZE = 1000;

/** The page size a request asked for with `Prefer: odata.maxpagesize=N`, if it did. */
function preferredPageSize(headers: IncomingHttpHeaders): number | null {
  const m = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*(\d+)/i.exec(String(headers.prefer ?? ''));
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** A $skiptoken: the (ordering value, key) of the last entity of the page before, so the next page is a keyset read. */
const skiptoken = (value: string | null, key: string) => Buffer.from(JSON.stringify([value, key])).toString('base64url');
function readSkiptoken(token: string): [string | null, string] | null {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && (v[0] === null || typeof v[0] === 'string') && typeof v[1] === 'string') return v as [string | null, string];
  } catch {
    // refused below
  }
  return null;
}

/** Runs a collection query from its options (URL query or `$query` body alike), a page at a time. */
function runQuery(store: ErpStore, options: URLSearchParams, headers: IncomingHttpHeaders): SandboxResponse {
  for (const key of options.keys()) {
    if (key.startsWith('$') && !KNOWN_OPTIONS.has(key)) {
      return odataError(501, 'NotImplemented', `query option ${key} is not supported by the sandbox; supported: ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  const filter = options.get('$filter');
  const conditions = filter === null || filter.trim() === '' ? [] : parseFilter(filter);
  if (typeof conditions === 'string') return odataError(400, 'InvalidFilter', conditions);
  let select: ErpProperty[] | null = null;
  const rawSelect = options.get('$select');
  if (rawSelect !== null && rawSelect.trim() !== '' && rawSelect.trim() !== '*') {
    select = [];
    for (const name of rawSelect.split(',').map((s) => s.trim())) {
      if (!PROPERTY_SET.has(name)) return odataError(400, 'InvalidSelect', `$select names unknown property ${JSON.stringify(name)}`);
      select.push(name as ErpProperty);
    }
  }
  const intOption = (name: string): number | null | string => {
    const raw = options.get(name);
    if (raw === null) return null;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 ? n : `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`;
  };
  const top = intOption('$top');
  const skip = intOption('$skip');
  if (typeof top === 'string') return odataError(400, 'InvalidQueryOption', top);
  if (typeof skip === 'string') return odataError(400, 'InvalidQueryOption', skip);
  let orderBy: ErpProperty | null = null;
  const rawOrder = options.get('$orderby')?.trim();
  if (rawOrder) {
    const [name, direction = 'asc', ...rest] = rawOrder.split(/\s+/);
    if (rest.length || name!.includes(',')) return odataError(501, 'NotImplemented', 'the sandbox orders by one property only: $orderby=<Property> [asc]');
    if (!PROPERTY_SET.has(name!)) return odataError(400, 'InvalidOrderBy', `$orderby names unknown property ${JSON.stringify(name)}`);
    if (direction !== 'asc') return odataError(501, 'NotImplemented', 'the sandbox orders ascending only');
    orderBy = name as ErpProperty;
  }
  const token = options.get('$skiptoken');
  const after = token === null ? undefined : readSkiptoken(token);
  if (after === null) return odataError(400, 'InvalidSkipToken', 'the $skiptoken is not one this service gave; follow @odata.nextLink as given');
  const preferred = preferredPageSize(headers);
  const pageSize = Math.min(preferred ?? ERP_SERVER_PAGE_SIZE, ERP_SERVER_PAGE_SIZE);
  // Client-driven ($top) within one page needs no next link; beyond it the server pages the rest.
  const limit = top === null ? pageSize : Math.min(top, pageSize);
  // One row past the page tells whether a next one exists.
  const rows = store.query(conditions, limit + 1, token === null ? (skip ?? 0) : 0, { by: orderBy, ...(after ? { after } : {}) });
  const page = rows.slice(0, limit);
  const more = rows.length > limit && (top === null || top > limit);
  const body: Record<string, unknown> = { '@odata.context': '$metadata#BusinessPartners', value: page.map((r) => toEntity(r, select)) };
  if (more) {
    const last = page[page.length - 1]!;
    const next = new URLSearchParams(options);
    next.delete('$skip');
    if (top !== null) next.set('$top', String(top - limit));
    next.set('$skiptoken', skiptoken(orderBy ? (last[orderBy] as string | null) : null, last.BusinessPartner));
    body['@odata.nextLink'] = `BusinessPartners?${next.toString().replaceAll('+', '%20').replaceAll('%24', '$')}`;
  }
  const answerHeaders: Record<string, string> = { 'odata-version': '4.0' };
  if (preferred !== null) answerHeaders['preference-applied'] = `odata.maxpagesize=${pageSize}`;
  return { status: 200, headers: answerHeaders, body };
}

/** True when an If-Match header value admits the current ETag (`*` or one of a comma-separated list). */
function ifMatchAdmits(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t === etag);
}

function validatePatch(body: unknown): Partial<Record<ErpWritableProperty, string | null>> | string {
  if (!isRecord(body)) return 'PATCH body must be a JSON object of BusinessPartner properties';
  const patch: Partial<Record<ErpWritableProperty, string | null>> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === 'BusinessPartner') return 'the key property BusinessPartner cannot be changed';
    if (name === 'LastChangeDateTime' || name === 'RowVersion') return `property ${name} is maintained by the server and cannot be set`;
    if (!WRITABLE_SET.has(name)) return `property ${JSON.stringify(name)} does not exist on BusinessPartner`;
    if (value !== null && typeof value !== 'string') return `property ${name} must be a string or null, got ${JSON.stringify(value)}`;
    if (name === 'PaymentTerms' && value !== null && !(ERP_PAYMENT_TERMS as readonly string[]).includes(value)) {
      return `PaymentTerms must be one of ${ERP_PAYMENT_TERMS.join(', ')}, got ${JSON.stringify(value)}`;
    }
    if (name === 'CentralBlockReason' && value !== null && !(ERP_BLOCK_REASONS as readonly string[]).includes(value)) {
      return `CentralBlockReason must be "" (active), "01" (on hold) or "02" (blocked), got ${JSON.stringify(value)}`;
    }
    if ((name === 'CreditLimitAmount' || name === 'OpenBalanceAmount') && value !== null && !/^-?\d+(\.\d{1,2})?$/.test(value)) {
      return `${name} must be a decimal string with at most 2 places, got ${JSON.stringify(value)}`;
    }
    patch[name as ErpWritableProperty] =
      (name === 'CreditLimitAmount' || name === 'OpenBalanceAmount') && value !== null ? Number(value).toFixed(2) : value;
  }
  return patch;
}

/** The ERP routes over an open store. */
export function erpRoutes(store: ErpStore): Route[] {
  const notFound = (id: string) => odataError(404, 'NotFound', `BusinessPartner('${id}') does not exist`);
  return [
    {
      method: 'GET',
      pattern: '/odata/v4/BusinessPartners',
      write: false,
      handle: ({ query, headers }) => runQuery(store, query, headers),
    },
    {
      method: 'POST',
      pattern: '/odata/v4/BusinessPartners/$query',
      write: false,
      handle: ({ body, headers }) => {
        if (typeof body !== 'string') {
          return odataError(400, 'InvalidQueryBody', '$query expects a text/plain body of URL-encoded query options, e.g. $filter=...&$select=...');
        }
        return runQuery(store, new URLSearchParams(body.trim()), headers);
      },
    },
    {
      method: 'GET',
      pattern: "/odata/v4/BusinessPartners('{id}')",
      write: false,
      handle: ({ params, query }) => {
        const row = store.get(params.id!);
        if (!row) return notFound(params.id!);
        const rawSelect = query.get('$select');
        const select = rawSelect ? (rawSelect.split(',').map((s) => s.trim()).filter((s) => PROPERTY_SET.has(s)) as ErpProperty[]) : null;
        return { status: 200, headers: { etag: etagOf(row), 'odata-version': '4.0' }, body: toEntity(row, select) };
      },
    },
    {
      method: 'PATCH',
      pattern: "/odata/v4/BusinessPartners('{id}')",
      write: true,
      handle: ({ params, headers, body }) => {
        const current = store.get(params.id!);
        if (!current) return notFound(params.id!);
        const ifMatch = headers['if-match'];
        if (ifMatch === undefined || ifMatch.trim() === '') {
          return odataError(428, 'PreconditionRequired', 'PATCH requires an If-Match header with the entity ETag (or *)');
        }
        if (!ifMatchAdmits(ifMatch, etagOf(current))) {
          return odataError(412, 'PreconditionFailed', `If-Match ${ifMatch} does not match the current ETag ${etagOf(current)}`);
        }
        const patch = validatePatch(body);
        if (typeof patch === 'string') return odataError(400, 'InvalidProperty', patch);
        const row = store.update(params.id!, patch)!;
        return { status: 200, headers: { etag: etagOf(row), 'odata-version': '4.0' }, body: toEntity(row, null) };
      },
    },
  ];
}

/** Every ERP route: reads and PATCH, creates, and `$batch` over all of them. */
export function erpAllRoutes(store: ErpStore): Route[] {
  const routes = [...erpRoutes(store), ...erpCreateRoutes(openErpWrites(store))];
  return [...routes, erpBatchRoute(routes)];
}

const ERROR_CODES: Record<number, string> = { 404: 'NotFound', 405: 'MethodNotAllowed', 400: 'BadRequest', 413: 'PayloadTooLarge', 429: 'TooManyRequests' };

/** Starts the ERP sandbox; closing it also closes its database. */
export const startErpSandbox = defineSandbox({
  name: 'erp',
  openStore: openErpStore,
  routes: erpAllRoutes,
  adminRoutes: (store) => erpApprovalRoutes(openErpWrites(store)),
  errorBody: (status, message) => odataError(status, ERROR_CODES[status] ?? (status >= 500 ? 'ServiceUnavailable' : 'Error'), message),
  // A communication user and password over HTTP basic, as an SAP Gateway takes them; both compared, so neither alone tells.
  authorize: (headers, credentials: { user: string; password: string }) => {
    const given = basicCredentials(headers);
    return given !== null && sameSecret(given.user, credentials.user) && sameSecret(given.password, credentials.password);
  },
  unauthorized: () => ({
    ...odataError(401, 'Unauthorized', 'Logon failed: send the communication user and password as HTTP basic authentication'),
    headers: { 'www-authenticate': 'Basic realm="canon ERP sandbox"' },
  }),
});
