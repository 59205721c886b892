// The only code that talks to the CRM (HubSpot CRM v3 objects API): batched contact reads.

import DataLoader from 'dataloader';
import { InProcessLock, type RecordLock } from '../record-lock.js';
import { staleWriteError, SystemClient } from '../system-client.js';

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

export interface CrmConnectorOptions {
  baseUrl: string;
  timeoutMs?: number;
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
    this.client = new SystemClient({ system: 'crm', baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs });
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
    });
    const byId = new Map(res.body.results.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * PATCHes native properties of one contact. HubSpot has no If-Match, so every canon write to a contact holds
   * its record lock; with `expectedVersion` the contact's lastmodifieddate is read and compared first.
   */
  async updateContact(id: string, properties: Record<string, string | null>, expectedVersion?: string | null): Promise<CrmContact> {
    return this.lock.run(`crm:contact:${id}`, async () => {
      if (expectedVersion) {
        const current = await this.client.request<CrmContact>({ method: 'GET', path: `/crm/v3/objects/contacts/${encodeURIComponent(id)}?properties=lastmodifieddate` });
        const actual = current.body.properties.lastmodifieddate;
        if (actual !== expectedVersion) throw staleWriteError('crm', `contact ${id}`, expectedVersion, actual);
      }
      const res = await this.client.request<CrmContact>({ method: 'PATCH', path: `/crm/v3/objects/contacts/${encodeURIComponent(id)}`, body: { properties } });
      return res.body;
    });
  }
}
