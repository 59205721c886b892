// The only code that talks to the CRM (HubSpot CRM v3 objects API): batched contact reads.

import DataLoader from 'dataloader';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { versionedWrite } from '../kit/versioned-write.js';

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
  /**
   * Most ids in one batch read. HubSpot caps batch/read at 100 inputs, so against the real API set 100 and
   * DataLoader sends ceil(n/100) calls in parallel; the sandbox has no cap, so by default one call per request.
   */
  maxBatchSize?: number;
  /** Serialises writes per contact (HubSpot has no conditional PATCH). Default: in-process. */
  lock?: RecordLock;
}

export class CrmConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;
  private readonly lock: RecordLock;

  constructor(opts: CrmConnectorOptions) {
    this.client = new SystemClient({ ...opts, system: 'crm' });
    this.maxBatchSize = opts.maxBatchSize ?? Infinity;
    this.lock = opts.lock ?? new InProcessLock();
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
