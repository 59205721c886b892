// Owns the ERP sandbox's writes beyond PATCH: creating business partners (validated by the ERP itself), the credit check that may hold new ones, and OData 4.01 JSON `$batch`.
//
// Terminology
// - credit check: what a real ERP runs on a new customer before it may order. With `holdNewPartners` on, every new
//   partner is created ON_HOLD (CentralBlockReason "01") until finance releases it (`/_admin/approvals/release`).
// - change: one committed create or update; a `$batch` counts its committed changes as writes, not itself.
// Guarantees: a refused create changes nothing; the tax-number check and the insert run in one SQLite
// transaction, so two creates cannot both take the same TaxNumber; each `$batch` request is processed alone, in
// order, through the same routes as a request of its own, so one bad request fails alone.

import type Database from 'better-sqlite3';
import { createRouter, isRecord, type HttpMethod, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { nextStamp } from '../../sandbox-kit/stamps.js';
import { ERP_BLOCK_REASONS, ERP_PAYMENT_TERMS, ERP_PROPERTIES } from './store.js';
import type { ErpPartnerRow, ErpStore } from './store.js';

/** One entry of an OData error's `details`. */
export interface ODataErrorDetail {
  code: string;
  message: string;
  target: string | null;
}

/**
 * An OData v4 JSON error (`{"error": {"code", "message", "target", "details"}}`). As SAP Gateway does, the first
 * problem is the error itself and `details` lists every problem found, so a client fixes them all at once.
 */
export function odataProblem(status: number, problems: readonly ODataErrorDetail[]): SandboxResponse {
  const first = problems[0]!;
  return { status, headers: { 'odata-version': '4.0' }, body: { error: { code: first.code, message: first.message, target: first.target, details: problems.map((p) => ({ ...p })) } } };
}

const problem = (code: string, message: string, target: string | null = null): ODataErrorDetail => ({ code, message, target });

/** The number range of business partners: 7 digits. */
const FIRST_PARTNER = 1000001;
const LAST_PARTNER = 9999999;

/** The account currency a new partner gets from its country when none is given (the sandbox's company codes). */
const COUNTRY_CURRENCY: Record<string, string> = {
  AT: 'EUR', BE: 'EUR', DE: 'EUR', ES: 'EUR', FI: 'EUR', FR: 'EUR', IE: 'EUR', IT: 'EUR', LU: 'EUR', NL: 'EUR', PT: 'EUR',
  GB: 'GBP', US: 'USD', SE: 'SEK', DK: 'DKK', NO: 'NOK', CH: 'CHF', PL: 'PLN', CZ: 'CZK', CA: 'CAD', AU: 'AUD', JP: 'JPY',
};

/** Properties a create sets; the key comes from the number range, LastChangeDateTime from the server, the open balance from open items. */
const CREATABLE = new Set<string>([
  'BusinessPartnerName', 'TaxNumber', 'StreetName', 'AdditionalStreetName', 'CityName', 'PostalCode', 'Country',
  'PaymentTerms', 'CreditLimitAmount', 'Currency', 'CentralBlockReason', 'ExternalID',
]);
const MANDATORY = ['BusinessPartnerName', 'Country', 'CityName'] as const;

/** Tax numbers compare as the tax office prints them: upper case, no spaces or dots. */
function normalizedTaxNumber(value: string): string {
  return value.replace(/[\s.]/g, '').toUpperCase();
}

const SETTINGS_DDL = `
CREATE TABLE IF NOT EXISTS credit_check_settings (id INTEGER PRIMARY KEY CHECK (id = 1), hold_new_partners INTEGER NOT NULL);
INSERT OR IGNORE INTO credit_check_settings (id, hold_new_partners) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS credit_check_holds (BusinessPartner TEXT PRIMARY KEY, held_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS business_partners_tax_number ON business_partners (upper(replace(replace(TaxNumber, ' ', ''), '.', '')));
`;

/** The ERP's create and credit check over an open store (its own tables live in the same file). */
export interface ErpWrites {
  /** Validates and inserts a partner: the new row, or the problems that refused it (nothing written). */
  create(body: unknown): { row: ErpPartnerRow } | { problems: ODataErrorDetail[] };
  /** Whether new partners are held for the credit check, and the ids held by it now. */
  approvals(): { holdNewPartners: boolean; held: string[] };
  setHoldNewPartners(hold: boolean): void;
  /** Lifts the on-hold block of a partner: the released row, 'missing', or 'not-held' when it is not on hold. */
  release(id: string): ErpPartnerRow | 'missing' | 'not-held';
}

/** Private: validates a create body; the partner's properties, or every problem found. */
function creatable(body: unknown): Record<string, string | null> | ODataErrorDetail[] {
  if (!isRecord(body)) return [problem('InvalidBody', 'POST BusinessPartners expects a JSON object of BusinessPartner properties')];
  const problems: ODataErrorDetail[] = [];
  const props: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith('@odata.')) continue;
    if (name === 'BusinessPartner') {
      problems.push(problem('KeyNotAllowed', 'BusinessPartner is assigned from the number range on create and cannot be given', name));
      continue;
    }
    if (name === 'LastChangeDateTime' || name === 'RowVersion' || name === 'OpenBalanceAmount') {
      problems.push(problem('ReadOnlyProperty', `property ${name} is maintained by the server and cannot be set`, name));
      continue;
    }
    if (!CREATABLE.has(name)) {
      problems.push(problem('InvalidProperty', `property ${JSON.stringify(name)} does not exist on BusinessPartner`, name));
      continue;
    }
    if (value !== null && typeof value !== 'string') {
      problems.push(problem('InvalidPropertyValue', `property ${name} must be a string or null, got ${JSON.stringify(value)}`, name));
      continue;
    }
    props[name] = value === null ? null : value.trim();
  }
  for (const name of MANDATORY) {
    if (!props[name]) problems.push(problem('MandatoryPropertyMissing', `${name} is mandatory for a business partner`, name));
  }
  const country = props.Country;
  if (country && !/^[A-Z]{2}$/.test(country)) problems.push(problem('InvalidPropertyValue', `Country must be an ISO 3166-1 alpha-2 code such as DE, got ${JSON.stringify(country)}`, 'Country'));
  const terms = props.PaymentTerms;
  if (terms && !(ERP_PAYMENT_TERMS as readonly string[]).includes(terms)) {
    problems.push(problem('InvalidPropertyValue', `PaymentTerms must be one of ${ERP_PAYMENT_TERMS.join(', ')}, got ${JSON.stringify(terms)}`, 'PaymentTerms'));
  }
  const block = props.CentralBlockReason;
  if (block != null && !(ERP_BLOCK_REASONS as readonly string[]).includes(block)) {
    problems.push(problem('InvalidPropertyValue', `CentralBlockReason must be "" (active), "01" (on hold) or "02" (blocked), got ${JSON.stringify(block)}`, 'CentralBlockReason'));
  }
  const limit = props.CreditLimitAmount;
  if (limit != null && !/^\d+(\.\d{1,2})?$/.test(limit)) {
    problems.push(problem('InvalidPropertyValue', `CreditLimitAmount must be a non-negative decimal string with at most 2 places, got ${JSON.stringify(limit)}`, 'CreditLimitAmount'));
  }
  const currency = props.Currency;
  if (currency && !/^[A-Z]{3}$/.test(currency)) problems.push(problem('InvalidPropertyValue', `Currency must be an ISO 4217 code such as EUR, got ${JSON.stringify(currency)}`, 'Currency'));
  return problems.length ? problems : props;
}

/** Opens the ERP's create and credit check on `store`'s database (creating their tables if needed). */
export function openErpWrites(store: ErpStore): ErpWrites {
  const db: Database.Database = store.db;
  db.exec(SETTINGS_DDL);
  const maxId = db.prepare<[], { m: number | null }>('SELECT MAX(CAST(BusinessPartner AS INTEGER)) AS m FROM business_partners');
  // Served by the expression index business_partners_tax_number (the same expression, or SQLite would not use it).
  const taxHolder = db.prepare<[string], { BusinessPartner: string }>(
    "SELECT BusinessPartner FROM business_partners WHERE upper(replace(replace(TaxNumber, ' ', ''), '.', '')) = ? ORDER BY BusinessPartner LIMIT 1",
  );
  const columns = [...ERP_PROPERTIES, 'RowVersion'];
  const insert = db.prepare(`INSERT INTO business_partners (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`);
  const getHold = db.prepare<[], { hold_new_partners: number }>('SELECT hold_new_partners FROM credit_check_settings WHERE id = 1');
  const setHold = db.prepare<[number]>('UPDATE credit_check_settings SET hold_new_partners = ? WHERE id = 1');
  const addHold = db.prepare<[string, string]>('INSERT OR REPLACE INTO credit_check_holds (BusinessPartner, held_at) VALUES (?, ?)');
  const dropHold = db.prepare<[string]>('DELETE FROM credit_check_holds WHERE BusinessPartner = ?');
  // Held by the credit check and still on hold: a partner unblocked some other way is no longer waiting.
  const held = db.prepare<[], { BusinessPartner: string }>(
    "SELECT h.BusinessPartner FROM credit_check_holds h JOIN business_partners p USING (BusinessPartner) WHERE p.CentralBlockReason = '01' ORDER BY h.held_at, h.BusinessPartner",
  );

  const create = db.transaction((body: unknown): { row: ErpPartnerRow } | { problems: ODataErrorDetail[] } => {
    const props = creatable(body);
    if (Array.isArray(props)) return { problems: props };
    if (props.TaxNumber) {
      const holder = taxHolder.get(normalizedTaxNumber(props.TaxNumber));
      if (holder) {
        return { problems: [problem('DuplicateTaxNumber', `Tax number ${props.TaxNumber} is already assigned to business partner ${holder.BusinessPartner}`, 'TaxNumber')] };
      }
    }
    const next = Math.max(FIRST_PARTNER - 1, maxId.get()?.m ?? 0) + 1;
    if (next > LAST_PARTNER) return { problems: [problem('NumberRangeExhausted', `the business partner number range ${FIRST_PARTNER}-${LAST_PARTNER} is exhausted`)] };
    const holdNew = getHold.get()?.hold_new_partners === 1;
    const now = nextStamp(null);
    const row: ErpPartnerRow = {
      BusinessPartner: String(next),
      BusinessPartnerName: props.BusinessPartnerName ?? null,
      TaxNumber: props.TaxNumber ? normalizedTaxNumber(props.TaxNumber) : null,
      StreetName: props.StreetName ?? null,
      AdditionalStreetName: props.AdditionalStreetName || null,
      CityName: props.CityName ?? null,
      PostalCode: props.PostalCode ?? null,
      Country: props.Country ?? null,
      PaymentTerms: props.PaymentTerms || null,
      // Finance sets the real limit after the credit check; until then the partner may not owe anything.
      CreditLimitAmount: props.CreditLimitAmount ? Number(props.CreditLimitAmount).toFixed(2) : '0.00',
      OpenBalanceAmount: '0.00',
      Currency: props.Currency || COUNTRY_CURRENCY[props.Country!] || null,
      CentralBlockReason: holdNew ? '01' : (props.CentralBlockReason ?? ''),
      ExternalID: props.ExternalID || null,
      LastChangeDateTime: now,
      RowVersion: 1,
    };
    insert.run(row);
    if (holdNew) addHold.run(row.BusinessPartner, now);
    return { row };
  });

  const release = db.transaction((id: string): ErpPartnerRow | 'missing' | 'not-held' => {
    const current = store.get(id);
    if (!current) return 'missing';
    if (current.CentralBlockReason !== '01') return 'not-held';
    dropHold.run(id);
    return store.update(id, { CentralBlockReason: '' })!;
  });

  return {
    create: (body) => create(body),
    approvals: () => ({ holdNewPartners: getHold.get()?.hold_new_partners === 1, held: held.all().map((r) => r.BusinessPartner) }),
    setHoldNewPartners: (hold) => void setHold.run(hold ? 1 : 0),
    release: (id) => release(id),
  };
}

const etagOf = (row: ErpPartnerRow) => `W/"${row.RowVersion}"`;

/** An entity as a create answers it: every property, its ETag and context. */
function createdEntity(row: ErpPartnerRow): Record<string, unknown> {
  const entity: Record<string, unknown> = { '@odata.context': '$metadata#BusinessPartners/$entity', '@odata.etag': etagOf(row) };
  for (const p of ERP_PROPERTIES) entity[p] = row[p];
  return entity;
}

/** Whether the client asked for no representation back (`Prefer: return=minimal`). */
function prefersMinimal(prefer: string | string[] | undefined): boolean {
  return String(prefer ?? '').split(',').some((p) => p.trim().toLowerCase() === 'return=minimal');
}

/** The ERP's create route over an open store. */
export function erpCreateRoutes(writes: ErpWrites): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/odata/v4/BusinessPartners',
      write: true,
      handle: ({ body, headers }) => {
        const out = writes.create(body);
        if ('problems' in out) return odataProblem(400, out.problems);
        const { row } = out;
        const location = `http://${String(headers.host ?? '127.0.0.1')}/odata/v4/BusinessPartners('${row.BusinessPartner}')`;
        const common = { location, etag: etagOf(row), 'odata-version': '4.0' };
        if (prefersMinimal(headers.prefer)) return { status: 204, headers: { ...common, 'odata-entityid': location } };
        return { status: 201, headers: common, body: createdEntity(row) };
      },
    },
  ];
}

/** Private: an answer to a plain admin call, in the shared admin format. */
const adminError = (status: number, error: string): SandboxResponse => ({ status, body: { error } });

/** The ERP's credit-check approvals under /_admin/: see and set the hold on new partners, and release a held one. */
export function erpApprovalRoutes(writes: ErpWrites): Route[] {
  return [
    { method: 'GET', pattern: '/_admin/approvals', write: false, handle: () => ({ status: 200, body: writes.approvals() }) },
    {
      method: 'PUT',
      pattern: '/_admin/approvals',
      write: false,
      handle: ({ body }) => {
        if (!isRecord(body) || typeof body.holdNewPartners !== 'boolean' || Object.keys(body).length !== 1) {
          return adminError(400, 'approvals body must be {"holdNewPartners": true|false}');
        }
        writes.setHoldNewPartners(body.holdNewPartners);
        return { status: 200, body: writes.approvals() };
      },
    },
    {
      method: 'POST',
      pattern: '/_admin/approvals/release',
      write: false,
      handle: ({ body }) => {
        if (!isRecord(body) || typeof body.id !== 'string') return adminError(400, 'release body must be {"id": "<BusinessPartner>"}');
        const out = writes.release(body.id);
        if (out === 'missing') return adminError(404, `BusinessPartner('${body.id}') does not exist`);
        if (out === 'not-held') return adminError(409, `BusinessPartner('${body.id}') is not on hold`);
        return { status: 200, body: { id: out.BusinessPartner, CentralBlockReason: out.CentralBlockReason } };
      },
    },
  ];
}

const BATCH_METHODS = new Set<string>(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
const SERVICE_ROOT = '/odata/v4/';

interface BatchRequest {
  id: string;
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Private: checks the batch envelope before any request runs; the requests, or why the whole batch is refused. */
function batchRequests(body: unknown): BatchRequest[] | string {
  if (typeof body === 'string') return 'the sandbox speaks only the OData 4.01 JSON batch format: send Content-Type: application/json, not multipart/mixed';
  if (!isRecord(body) || !Array.isArray(body.requests)) return 'a JSON batch is {"requests": [{"id", "method", "url", "headers"?, "body"?}, ...]}';
  const ids = new Set<string>();
  const out: BatchRequest[] = [];
  for (const [i, r] of body.requests.entries()) {
    if (!isRecord(r)) return `requests[${i}] must be an object`;
    if (typeof r.id !== 'string' || r.id === '') return `requests[${i}].id must be a non-empty string`;
    if (ids.has(r.id)) return `request id ${JSON.stringify(r.id)} is used twice; ids must be unique in a batch`;
    ids.add(r.id);
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!BATCH_METHODS.has(method)) return `requests[${i}].method must be one of ${[...BATCH_METHODS].join(', ')}, got ${JSON.stringify(r.method)}`;
    if (typeof r.url !== 'string' || r.url === '') return `requests[${i}].url must be a URL relative to the service root, e.g. BusinessPartners('1000001')`;
    // Every request stands alone here; refusing these keeps a client from relying on guarantees it would not get.
    if (r.atomicityGroup !== undefined) return `requests[${i}].atomicityGroup is not supported by the sandbox: each request is processed alone`;
    if (r.dependsOn !== undefined) return `requests[${i}].dependsOn is not supported by the sandbox: requests run in order, each alone`;
    const headers: Record<string, string> = {};
    if (r.headers !== undefined) {
      if (!isRecord(r.headers)) return `requests[${i}].headers must be an object of header names to strings`;
      for (const [k, v] of Object.entries(r.headers)) {
        if (typeof v !== 'string') return `requests[${i}].headers.${k} must be a string`;
        headers[k.toLowerCase()] = v;
      }
    }
    out.push({ id: r.id, method: method as HttpMethod, url: r.url, headers, body: r.body });
  }
  return out;
}

/** The path and query of a batch request's url: relative to the service root, an absolute path, or an absolute URL. */
function resolveBatchUrl(url: string): { path: string; query: URLSearchParams } | null {
  let target: URL;
  try {
    target = /^https?:\/\//i.test(url) ? new URL(url) : new URL(url.startsWith('/') ? url : SERVICE_ROOT + url, 'http://erp');
  } catch {
    return null;
  }
  return target.pathname.startsWith(SERVICE_ROOT) ? { path: target.pathname, query: target.searchParams } : null;
}

const errorDetail = (status: number, code: string, message: string) => odataProblem(status, [problem(code, message)]);

/**
 * `POST /odata/v4/$batch` over `routes` (every other ERP route): each request of an OData 4.01 JSON batch runs
 * through the route that serves it alone, in order, and its answer becomes one entry of `responses`. The batch
 * answers 200 whatever its requests did, counting each committed change as one write.
 */
export function erpBatchRoute(routes: readonly Route[]): Route {
  const match = createRouter(routes);
  const runOne = async (r: BatchRequest, host: string | undefined): Promise<{ response: SandboxResponse; write: boolean }> => {
    const target = resolveBatchUrl(r.url);
    if (!target) return { response: errorDetail(400, 'InvalidUrl', `request url ${JSON.stringify(r.url)} is not inside the service root ${SERVICE_ROOT}`), write: false };
    if (target.path === `${SERVICE_ROOT}$batch`) return { response: errorDetail(400, 'NestedBatch', 'a batch cannot contain another $batch'), write: false };
    const m = match(r.method, target.path);
    if (m.kind === 'none') return { response: errorDetail(404, 'NotFound', `no resource ${target.path} in the ERP sandbox`), write: false };
    if (m.kind === 'method-not-allowed') return { response: errorDetail(405, 'MethodNotAllowed', `${r.method} is not allowed on ${target.path}; allowed: ${m.allowed.join(', ')}`), write: false };
    try {
      const response = await m.route.handle({ params: m.params, query: target.query, body: r.body, headers: { ...r.headers, host } });
      return { response, write: m.route.write };
    } catch (err) {
      return { response: errorDetail(500, 'InternalError', `ERP sandbox handler failed: ${err instanceof Error ? err.message : String(err)}`), write: false };
    }
  };
  return {
    method: 'POST',
    pattern: '/odata/v4/$batch',
    write: true,
    handle: async ({ body, headers }) => {
      const requests = batchRequests(body);
      if (typeof requests === 'string') return { ...errorDetail(400, 'InvalidBatch', requests), writes: 0 };
      let writes = 0;
      const responses: Record<string, unknown>[] = [];
      for (const r of requests) {
        const { response, write } = await runOne(r, headers.host);
        if (write) writes += response.writes ?? (response.status >= 200 && response.status < 300 ? 1 : 0);
        const entry: Record<string, unknown> = { id: r.id, status: response.status, headers: { 'content-type': 'application/json', ...(response.headers ?? {}) } };
        if (response.body !== undefined) entry.body = response.body;
        else delete (entry.headers as Record<string, string>)['content-type'];
        responses.push(entry);
      }
      return { status: 200, headers: { 'odata-version': '4.0' }, body: { responses }, writes };
    },
  };
}
