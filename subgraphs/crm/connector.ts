// The only code that talks to the CRM (HubSpot CRM v3 objects API): batched contact reads.

import DataLoader from 'dataloader';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { authorizationFor, type SystemCredentials } from '../kit/credentials.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { versionedWrite } from '../kit/versioned-write.js';
import { batchWrite, itemError } from '../kit/batch-write.js';
import { drainChanges, watermarkFeed, type ChangePage } from '../kit/change-feed.js';

/** A contact as the CRM returns it: string properties, as people typed them. */
export interface CrmContact {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: string;
}

export interface CrmContext {
  contacts: DataLoader<string, CrmContact | null>;
  connector: CrmConnector;
}

/** The contact properties canon reads; `country` gives the region for national phone formats. */
export const CRM_PROPERTIES = ['firstname', 'lastname', 'email', 'phone', 'country', 'lifecyclestage', 'lastmodifieddate'] as const;

export interface CrmConnectorOptions extends ConnectorOptions {
  /** What the crm takes to let canon in (kit/credentials.ts), sent with every request. */
  credentials: SystemCredentials['crm'];
  /**
   * Most ids in one batch read. HubSpot caps batch/read at 100 inputs, so against the real API set 100 and
   * DataLoader sends ceil(n/100) calls in parallel; the sandbox has no cap, so by default one call per request.
   */
  maxBatchSize?: number;
  /** Serialises writes per contact (HubSpot has no conditional PATCH). Default: in-process. */
  lock?: RecordLock;
  /** Most contacts in one batch update: HubSpot's limit is 100. Default 100. */
  maxBatchWrite?: number;
  /** Contacts per page of the change feed's search (HubSpot allows 1..200). Default 100. */
  feedPageSize?: number;
}

/** What the change feed reads of each contact: what canon serves, and what matching compares. */
export const CRM_FEED_PROPERTIES = [...CRM_PROPERTIES, 'company', 'zip', 'city', 'mobilephone', 'createdate', 'canon_external_id'] as const;

/** HubSpot pages a search with `after` only up to its 10,000th result. */
const SEARCH_RESULT_CAP = 10_000;

/** What HubSpot's batch endpoints answer: the records done, and (with 207) what failed, per category. */
interface BatchAnswer {
  results: CrmContact[];
  errors?: { category: string; message: string; context?: { ids?: string[] } }[];
}

export class CrmConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;
  private readonly lock: RecordLock;
  private readonly maxBatchWrite: number;
  private readonly feedPageSize: number;

  constructor(opts: CrmConnectorOptions) {
    this.client = new SystemClient({ ...opts, system: 'crm', authorization: authorizationFor.crm(opts.credentials) });
    this.maxBatchSize = opts.maxBatchSize ?? Infinity;
    this.lock = opts.lock ?? new InProcessLock();
    this.maxBatchWrite = opts.maxBatchWrite ?? 100;
    this.feedPageSize = opts.feedPageSize ?? 100;
  }

  /**
   * Contacts changed since `cursor` (null: every contact), page by page, each page with the cursor to resume after it
   * (kit/change-feed.ts). Read with HubSpot's search: `lastmodifieddate GTE` the watermark, sorted by it ascending,
   * begun afresh from the watermark after each page, so neither a contact changed meanwhile nor the 10,000-result cap
   * of one search makes it skip a contact; `after` pages only through contacts sharing one stamp.
   */
  changes(cursor: string | null): AsyncGenerator<ChangePage<CrmContact>> {
    return watermarkFeed<CrmContact>({
      system: 'crm',
      cursor,
      stampOf: (c) => Date.parse(c.properties.lastmodifieddate ?? c.updatedAt),
      idOf: (c) => c.id,
      page: async (since, next) => {
        if (next !== null && Number(next) >= SEARCH_RESULT_CAP) {
          throw itemError('crm', 'POST /crm/v3/objects/contacts/search', 400, `more than ${SEARCH_RESULT_CAP} contacts share lastmodifieddate ${new Date(since!).toISOString()}; one search cannot page through them`);
        }
        const res = await this.client.request<{ results: CrmContact[]; paging?: { next?: { after: string } } }>({
          method: 'POST',
          path: '/crm/v3/objects/contacts/search',
          body: {
            filterGroups: since === null ? [] : [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(since) }] }],
            sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
            properties: CRM_FEED_PROPERTIES,
            limit: this.feedPageSize,
            ...(next !== null ? { after: next } : {}),
          },
          retry: true,
        });
        return { records: res.body.results, next: res.body.paging?.next?.after ?? null };
      },
    });
  }

  /** Every contact changed since `cursor`, all pages read: the records and the cursor to pass next time. */
  changesSince(cursor: string | null): Promise<{ records: CrmContact[]; cursor: string | null }> {
    return drainChanges(this.changes(cursor), cursor);
  }

  /** Fresh loaders for one request: every contact the request needs goes out in one batch read. */
  createContext(): CrmContext {
    return { contacts: new DataLoader((ids) => this.batchRead(ids), { maxBatchSize: this.maxBatchSize }), connector: this };
  }

  /** One result per id, in order: the contact, or null when the CRM has none (HubSpot answers 207 for those). */
  async batchRead(ids: readonly string[]): Promise<(CrmContact | null)[]> {
    const res = await this.client.request<{ results: CrmContact[] }>({
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/read',
      body: { properties: CRM_PROPERTIES, inputs: ids.map((id) => ({ id })) },
      accept: [207],
      retry: true,
    });
    const byId = new Map(res.body.results.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * The contact HubSpot finds for `email` (search `EQ`, which matches case-insensitively), or null; of several
   * (the near-duplicates a CRM collects) the oldest, which is the one people kept using. One attempt when `signal`
   * is given (the caller's policy retries), else a retried read of its own.
   */
  async findContactByEmail(email: string, signal?: AbortSignal): Promise<CrmContact | null> {
    const req = {
      method: 'POST' as const,
      path: '/crm/v3/objects/contacts/search',
      body: { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email.trim() }] }], properties: [...CRM_PROPERTIES, 'canon_external_id'], limit: 1 },
      retry: true,
    };
    const res = signal ? await this.client.attempt<{ results: CrmContact[] }>(req, signal) : await this.client.request<{ results: CrmContact[] }>(req);
    return res.body.results[0] ?? null;
  }

  /**
   * Finds the contact with `properties.email` or creates it. HubSpot has no idempotency keys, so under a key every
   * attempt first searches by email: a create whose answer was lost (or a repeat of the whole step) finds the
   * contact it made instead of making a second. Without a key: one attempt.
   */
  async findOrCreateContact(properties: Record<string, string | null> & { email: string }, idempotencyKey?: string | null): Promise<CrmContact> {
    const post = { method: 'POST' as const, path: '/crm/v3/objects/contacts', body: { properties }, idempotencyKey };
    return this.client.run(async (signal) => {
      const existing = await this.findContactByEmail(properties.email, signal);
      if (existing) return existing;
      return (await this.client.attempt<CrmContact>(post, signal)).body;
    }, Boolean(idempotencyKey), 'POST /crm/v3/objects/contacts');
  }

  /**
   * Updates many contacts through HubSpot's batch update, at most `maxBatchWrite` (100) per call: one result or one
   * Error per update, in input order. Values are absolute, so under a key a failed call is retried; a retry first
   * reads the chunk back and sends only the contacts that do not hold their values yet.
   */
  async batchUpdateContacts(updates: readonly { id: string; properties: Record<string, string | null> }[], idempotencyKey?: string | null): Promise<(CrmContact | Error)[]> {
    const call = 'POST /crm/v3/objects/contacts/batch/update';
    const propertiesOf = (chunk: readonly { properties: Record<string, string | null> }[]) => [...new Set([...CRM_PROPERTIES, ...chunk.flatMap((u) => Object.keys(u.properties))])];
    return batchWrite(this.client, call, updates, {
      size: this.maxBatchWrite,
      idempotencyKey,
      send: async (chunk, key, signal) => {
        const res = await this.client.attempt<BatchAnswer>(
          { method: 'POST', path: '/crm/v3/objects/contacts/batch/update', body: { inputs: chunk.map((u) => ({ id: u.id, properties: u.properties })) }, accept: [207], idempotencyKey: key },
          signal,
        );
        const byId = new Map(res.body.results.map((c) => [c.id, c]));
        const failed = new Map<string, Error>();
        for (const e of res.body.errors ?? []) {
          const status = e.category === 'OBJECT_NOT_FOUND' ? 404 : 400;
          for (const id of e.context?.ids ?? []) failed.set(id, itemError('crm', call, status, e.message));
        }
        return chunk.map((u) => byId.get(u.id) ?? failed.get(u.id) ?? itemError('crm', call, 500, `the batch answered nothing for contact ${u.id}`));
      },
      recognise: async (chunk, signal) => {
        const res = await this.client.attempt<{ results: CrmContact[] }>(
          { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body: { properties: propertiesOf(chunk), inputs: chunk.map((u) => ({ id: u.id })) }, accept: [207] },
          signal,
        );
        const byId = new Map(res.body.results.map((c) => [c.id, c]));
        return chunk.map((u) => {
          const current = byId.get(u.id);
          return current && holds(current.properties, u.properties) ? current : null;
        });
      },
    });
  }

  /**
   * PATCHes native properties of one contact as a version-checked write (kit/versioned-write.ts): HubSpot has no
   * If-Match, so the version compared is the contact's lastmodifieddate, read under the record lock. With
   * `idempotencyKey` the PATCH is retried: setting the same values twice is harmless.
   */
  async updateContact(id: string, properties: Record<string, string | null>, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<CrmContact> {
    const path = `/crm/v3/objects/contacts/${encodeURIComponent(id)}`;
    const wanted = [...new Set([...CRM_PROPERTIES, ...Object.keys(properties)])].join(',');
    return versionedWrite({
      system: 'crm',
      kind: 'contact',
      id,
      lock: this.lock,
      expectedVersion,
      idempotencyKey,
      read: async () => (await this.client.request<CrmContact>({ method: 'GET', path: `${path}?properties=${wanted}` })).body,
      versionOf: (current) => current.properties.lastmodifieddate,
      holds: (current) => holds(current.properties, properties),
      write: async () => (await this.client.request<CrmContact>({ method: 'PATCH', path, body: { properties }, retry: Boolean(idempotencyKey), idempotencyKey })).body,
    });
  }
}
