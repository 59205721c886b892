// Owns the ERP sandbox's HTTP API: a subset of an SAP-style OData v4 BusinessPartners service.

import { isRecord, startSandboxServer } from '../../sandbox-kit/server.js';
import type { Route, RunningSandbox, SandboxResponse } from '../../sandbox-kit/server.js';
import {
  ERP_BLOCK_REASONS,
  ERP_PAYMENT_TERMS,
  ERP_PROPERTIES,
  ERP_WRITABLE_PROPERTIES,
  openErpStore,
} from './store.js';
import type { ErpCondition, ErpPartnerRow, ErpProperty, ErpStore, ErpWritableProperty } from './store.js';

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

type Token = { kind: 'ident'; text: string } | { kind: 'string'; text: string } | { kind: 'punct'; text: string };

/** Private: tokenizes the small `$filter` subset; returns an error message for anything else. */
function tokenize(filter: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else if (ch === "'") {
      // OData escapes a quote inside a string literal by doubling it.
      let text = '';
      i++;
      for (;;) {
        if (i >= filter.length) return 'unterminated string literal in $filter';
        if (filter[i] === "'") {
          if (filter[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += filter[i];
        i++;
      }
      tokens.push({ kind: 'string', text });
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(i));
      if (!m) return `unexpected character ${JSON.stringify(ch)} at position ${i} in $filter`;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const FILTER_CONTRACT =
  "the sandbox supports only `<Property> eq '<value>'`, `<Property> in ('a','b',...)` and `and` between them";

/** Parses `$filter` into conditions ANDed together; returns an error message on anything outside the subset. */
export function parseFilter(filter: string): ErpCondition[] | string {
  const tokens = tokenize(filter);
  if (typeof tokens === 'string') return tokens;
  const conditions: ErpCondition[] = [];
  let i = 0;
  const expectString = (): string | null => {
    const t = tokens[i];
    if (t?.kind !== 'string') return null;
    i++;
    return t.text;
  };
  for (;;) {
    const prop = tokens[i++];
    if (prop?.kind !== 'ident' || !PROPERTY_SET.has(prop.text)) {
      return `expected a BusinessPartner property at token ${i} of $filter; ${FILTER_CONTRACT}`;
    }
    const op = tokens[i++];
    if (op?.kind === 'ident' && op.text === 'eq') {
      const value = expectString();
      if (value === null) return `expected a quoted string after "${prop.text} eq"; ${FILTER_CONTRACT}`;
      conditions.push({ property: prop.text as ErpProperty, op: 'eq', value });
    } else if (op?.kind === 'ident' && op.text === 'in') {
      if (tokens[i]?.text !== '(' || tokens[i]?.kind !== 'punct') return `expected "(" after "${prop.text} in"`;
      i++;
      const values: string[] = [];
      for (;;) {
        const value = expectString();
        if (value === null) return `expected a quoted string in the "in" list of ${prop.text}`;
        values.push(value);
        const sep = tokens[i++];
        if (sep?.kind === 'punct' && sep.text === ',') continue;
        if (sep?.kind === 'punct' && sep.text === ')') break;
        return `expected "," or ")" in the "in" list of ${prop.text}`;
      }
      conditions.push({ property: prop.text as ErpProperty, op: 'in', values });
    } else {
      return `unsupported operator ${JSON.stringify(op?.text ?? '')}; ${FILTER_CONTRACT}`;
    }
    if (i === tokens.length) return conditions;
    const and = tokens[i++];
    if (and?.kind !== 'ident' || and.text !== 'and') {
      return `expected "and" or end of $filter, got ${JSON.stringify(and?.text)}; ${FILTER_CONTRACT}`;
    }
  }
}

/** System query options the sandbox understands; any other `$option` is refused rather than ignored. */
const KNOWN_OPTIONS = new Set(['$filter', '$select', '$top', '$skip', '$format']);

/** Runs a collection query from its options (URL query or `$query` body alike). */
function runQuery(store: ErpStore, options: URLSearchParams): SandboxResponse {
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
  const rows = store.query(conditions, top, skip ?? 0);
  return {
    status: 200,
    headers: { 'odata-version': '4.0' },
    body: { '@odata.context': '$metadata#BusinessPartners', value: rows.map((r) => toEntity(r, select)) },
  };
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
      handle: ({ query }) => runQuery(store, query),
    },
    {
      method: 'POST',
      pattern: '/odata/v4/BusinessPartners/$query',
      write: false,
      handle: ({ body }) => {
        if (typeof body !== 'string') {
          return odataError(400, 'InvalidQueryBody', '$query expects a text/plain body of URL-encoded query options, e.g. $filter=...&$select=...');
        }
        return runQuery(store, new URLSearchParams(body.trim()));
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

export interface ErpSandboxOptions {
  /** SQLite file; created with the schema if missing. */
  file: string;
  /** Default 0 (any free port). */
  port?: number;
}

/** Starts the ERP sandbox; closing it also closes its database. */
export async function startErpSandbox(opts: ErpSandboxOptions): Promise<RunningSandbox> {
  const store = openErpStore(opts.file);
  const codes: Record<number, string> = { 404: 'NotFound', 405: 'MethodNotAllowed', 400: 'BadRequest', 429: 'TooManyRequests' };
  let running: RunningSandbox;
  try {
    running = await startSandboxServer({
      name: 'erp',
      routes: erpRoutes(store),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      errorBody: (status, message) => odataError(status, codes[status] ?? (status >= 500 ? 'ServiceUnavailable' : 'Error'), message),
    });
  } catch (err) {
    // A failed listen (e.g. port in use) must not leave the database open.
    store.close();
    throw err;
  }
  return { ...running, close: async () => { await running.close(); store.close(); } };
}
