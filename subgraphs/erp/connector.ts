// The only code that talks to the ERP (an OData v4 business-partner service, SAP-style): batched partner reads.

import DataLoader from 'dataloader';
import { ErrorCode } from '../../schema/errors.js';
import { authorizationFor, type SystemCredentials } from '../kit/credentials.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { SystemError } from '../kit/system-error.js';
import { batchWrite, itemError } from '../kit/batch-write.js';
import { drainChanges, type ChangePage } from '../kit/change-feed.js';
import { decodeCursor, encodeCursor } from '../kit/cursor.js';

/** A business partner as the ERP returns it, with its OData ETag. */
export interface ErpPartner {
  BusinessPartner: string;
  '@odata.etag': string;
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
  /** Selected by the change feed only. */
  ExternalID?: string | null;
  LastChangeDateTime?: string | null;
}

export interface ErpContext {
  partners: DataLoader<string, ErpPartner | null>;
  connector: ErpConnector;
}

export const ERP_SELECT = [
  'BusinessPartner', 'BusinessPartnerName', 'TaxNumber', 'StreetName', 'AdditionalStreetName', 'CityName',
  'PostalCode', 'Country', 'PaymentTerms', 'CreditLimitAmount', 'OpenBalanceAmount', 'Currency', 'CentralBlockReason',
] as const;

export interface ErpConnectorOptions extends ConnectorOptions {
  /** What the erp takes to let canon in (kit/credentials.ts), sent with every request. */
  credentials: SystemCredentials['erp'];
  /**
   * Most ids in one `$filter=BusinessPartner in (...)` (the query goes in the body, so URL length is no bound).
   * Default 1000: the service pages its answers (server-driven paging) at 1000 entities.
   */
  maxBatchSize?: number;
  /** Entities per page of the change feed, asked for with `Prefer: odata.maxpagesize`; the service may send fewer. Default: the service's own page size. */
  feedPageSize?: number;
  /** Most PATCHes in one `$batch`; OData sets no limit, gateways in front of an ERP do. Default 100. */
  maxBatchWrite?: number;
}

/** One request of an OData 4.01 JSON batch; `url` is relative to the service root, e.g. `BusinessPartners('1000001')`. */
export interface ErpBatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One response of a JSON batch, for the request with the same id. */
export interface ErpBatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** OData string literal: single quotes doubled. */
function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export class ErpConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;
  private readonly maxBatchWrite: number;
  private readonly feedPageSize: number | undefined;

  constructor(opts: ErpConnectorOptions) {
    this.client = new SystemClient({ ...opts, system: 'erp', authorization: authorizationFor.erp(opts.credentials) });
    this.maxBatchSize = opts.maxBatchSize ?? 1000;
    this.maxBatchWrite = opts.maxBatchWrite ?? 100;
    this.feedPageSize = opts.feedPageSize;
  }

  /**
   * Partners changed since `cursor` (null: every partner), page by page, each with the cursor to resume after it.
   * Read the OData way: `$filter=LastChangeDateTime gt <last change seen>&$orderby=LastChangeDateTime`, following
   * the service's `@odata.nextLink` (server-driven paging). Mid-way a cursor holds that next link, whose skiptoken
   * the service made to resume exactly; once a read ends, it holds the latest LastChangeDateTime delivered.
   */
  async *changes(cursor: string | null): AsyncGenerator<ChangePage<ErpPartner>> {
    let [since, next] = cursor === null ? ['', ''] : decodeCursor(cursor, ['string', 'string'], 'erp changes');
    const prefer = this.feedPageSize ? { prefer: `odata.maxpagesize=${this.feedPageSize}` } : undefined;
    for (;;) {
      let path: string;
      if (next) {
        // A next link is relative to the service root (or absolute); the client takes a path from the base URL.
        const url = new URL(next, `${this.client.baseUrl}/odata/v4/`);
        path = url.href.slice(this.client.baseUrl.length);
      } else {
        const options = new URLSearchParams({ $select: [...ERP_SELECT, 'ExternalID', 'LastChangeDateTime'].join(','), $orderby: 'LastChangeDateTime' });
        if (since) options.set('$filter', `LastChangeDateTime gt ${since}`);
        path = `/odata/v4/BusinessPartners?${options.toString().replaceAll('+', '%20')}`;
      }
      const res = await this.client.request<{ value: ErpPartner[]; '@odata.nextLink'?: string }>({ method: 'GET', path, ...(prefer ? { headers: prefer } : {}) });
      const records = res.body.value;
      next = res.body['@odata.nextLink'] ?? '';
      if (!next && records.length) since = records[records.length - 1]!.LastChangeDateTime ?? since;
      // An empty last page moves nothing: the cursor given still stands.
      if (records.length || next) yield { records, cursor: encodeCursor([since, next]) };
      if (!next) return;
    }
  }

  /** Every partner changed since `cursor`, all pages read: the records and the cursor to pass next time. */
  changesSince(cursor: string | null): Promise<{ records: ErpPartner[]; cursor: string | null }> {
    return drainChanges(this.changes(cursor), cursor);
  }

  createContext(): ErpContext {
    return { partners: new DataLoader((ids) => this.batchRead(ids), { maxBatchSize: this.maxBatchSize }), connector: this };
  }

  /**
   * One OData 4.01 `$query` call (query options in the body) for all ids: a GET with a thousand ids in `$filter`
   * would outgrow the URL limits of most gateways in front of an ERP.
   */
  async batchRead(ids: readonly string[]): Promise<(ErpPartner | null)[]> {
    const options = new URLSearchParams({
      $filter: `BusinessPartner in (${ids.map(odataString).join(',')})`,
      $select: ERP_SELECT.join(','),
    });
    const res = await this.client.request<{ value: ErpPartner[] }>({
      method: 'POST',
      path: '/odata/v4/BusinessPartners/$query',
      body: options.toString(),
      contentType: 'text/plain',
      retry: true,
    });
    const byId = new Map(res.body.value.map((p) => [p.BusinessPartner, p]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The partner created under `externalId` (its ExternalID), or null. One attempt when `signal` is given (the caller's policy retries). */
  async findPartnerByExternalId(externalId: string, signal?: AbortSignal): Promise<ErpPartner | null> {
    const query = new URLSearchParams({ $filter: `ExternalID eq ${odataString(externalId)}`, $select: ERP_SELECT.join(','), $top: '1' });
    const req = { method: 'GET' as const, path: `/odata/v4/BusinessPartners?${query.toString().replaceAll('+', '%20')}` };
    const res = signal ? await this.client.attempt<{ value: ErpPartner[] }>(req, signal) : await this.client.request<{ value: ErpPartner[] }>(req);
    return res.body.value[0] ?? null;
  }

  /**
   * Creates a business partner carrying `externalId` as its ExternalID; the ERP validates it itself and refuses
   * (400, BAD_USER_INPUT, with the ERP's message) missing mandatory data or a TaxNumber another partner holds.
   * Under a key every attempt first looks the ExternalID up, so a create whose answer was lost (or a repeat of the
   * whole step) finds the partner it made instead of making a second. Without a key: one attempt.
   */
  async createPartner(properties: Partial<ErpPartner>, externalId: string, idempotencyKey?: string | null): Promise<ErpPartner> {
    const post = { method: 'POST' as const, path: '/odata/v4/BusinessPartners', body: { ...properties, ExternalID: externalId }, idempotencyKey };
    return this.client.run(async (signal) => {
      const existing = await this.findPartnerByExternalId(externalId, signal);
      if (existing) return existing;
      return (await this.client.attempt<ErpPartner>(post, signal)).body;
    }, Boolean(idempotencyKey), 'POST /odata/v4/BusinessPartners');
  }

  /** A partner's CentralBlockReason ("" active, "01" on hold, "02" blocked), read fresh; null when the ERP has no such partner. */
  async partnerStatus(id: string): Promise<string | null> {
    const res = await this.client.request<Pick<ErpPartner, 'CentralBlockReason'>>({
      method: 'GET',
      path: `/odata/v4/BusinessPartners(${encodeURIComponent(odataString(id))})?$select=CentralBlockReason`,
      accept: [404],
    });
    return res.status === 404 ? null : (res.body.CentralBlockReason ?? '');
  }

  /**
   * Sends requests as one OData 4.01 JSON `$batch` call: one response per request, in request order, each
   * processed alone by the ERP. A failed call rejects; a refused request is only its own response.
   */
  async batch(requests: readonly ErpBatchRequest[], idempotencyKey?: string | null, signal?: AbortSignal): Promise<ErpBatchResponse[]> {
    const req = { method: 'POST' as const, path: '/odata/v4/$batch', body: { requests }, idempotencyKey, retry: Boolean(idempotencyKey) };
    const res = signal ? await this.client.attempt<{ responses: ErpBatchResponse[] }>(req, signal) : await this.client.request<{ responses: ErpBatchResponse[] }>(req);
    const byId = new Map(res.body.responses.map((r) => [r.id, r]));
    return requests.map((r) => byId.get(r.id) ?? { id: r.id, status: 500, headers: {}, body: { error: { code: 'NoResponse', message: `the batch answered nothing for request ${r.id}` } } });
  }

  /**
   * PATCHes many partners through `$batch`, at most `maxBatchWrite` (default 100) per call: one result or one Error
   * per update, in input order. Each PATCH carries If-Match (the version given, else `*`), so the ERP refuses a
   * stale one alone (STALE_WRITE). Under a key a failed call is retried; a retry first reads the chunk back and
   * sends only the partners that do not hold their values yet.
   */
  async batchUpdatePartners(updates: readonly { id: string; properties: Partial<ErpPartner>; expectedVersion?: string | null }[], idempotencyKey?: string | null): Promise<(ErpPartner | Error)[]> {
    const call = 'POST /odata/v4/$batch';
    return batchWrite(this.client, call, updates, {
      size: this.maxBatchWrite,
      idempotencyKey,
      send: async (chunk, key, signal) => {
        const responses = await this.batch(
          chunk.map((u, i) => ({ id: String(i + 1), method: 'PATCH', url: `BusinessPartners(${odataString(u.id)})`, headers: { 'if-match': u.expectedVersion || '*', prefer: 'return=representation' }, body: u.properties })),
          key,
          signal,
        );
        return responses.map((r) => (r.status >= 200 && r.status < 300 ? (r.body as ErpPartner) : itemError('erp', call, r.status, (r.body as { error?: { message?: string } } | undefined)?.error?.message ?? `answered ${r.status}`)));
      },
      recognise: async (chunk, signal) => {
        const options = new URLSearchParams({ $filter: `BusinessPartner in (${chunk.map((u) => odataString(u.id)).join(',')})`, $select: ERP_SELECT.join(',') });
        const res = await this.client.attempt<{ value: ErpPartner[] }>({ method: 'POST', path: '/odata/v4/BusinessPartners/$query', body: options.toString(), contentType: 'text/plain' }, signal);
        const byId = new Map(res.body.value.map((p) => [p.BusinessPartner, p]));
        return chunk.map((u) => {
          const p = byId.get(u.id);
          return p && holds(p as unknown as Record<string, unknown>, u.properties) ? p : null;
        });
      },
    });
  }

  /**
   * PATCHes one business partner under the ERP's own precondition: If-Match with the ETag the app read, so the ERP
   * itself refuses (412) a write over a newer change; no lock is needed. Without a version, `If-Match: *`.
   * With `idempotencyKey` the PATCH is retried; a 412 then may be our own earlier attempt that landed before its
   * answer was lost, so the partner is read back and accepted when it already holds exactly what this write sets.
   */
  async updatePartner(id: string, properties: Partial<ErpPartner>, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<ErpPartner> {
    const path = `/odata/v4/BusinessPartners(${encodeURIComponent(odataString(id))})`;
    try {
      const res = await this.client.request<ErpPartner>({
        method: 'PATCH',
        path,
        body: properties,
        headers: { 'if-match': expectedVersion || '*', prefer: 'return=representation' },
        retry: Boolean(idempotencyKey),
        idempotencyKey,
      });
      return res.body;
    } catch (e) {
      if (!(idempotencyKey && e instanceof SystemError && e.code === ErrorCode.STALE_WRITE)) throw e;
      const current = await this.client.request<ErpPartner>({ method: 'GET', path });
      if (holds(current.body as unknown as Record<string, unknown>, properties)) return current.body;
      throw e;
    }
  }
}
