// The only code that talks to the CRM (HubSpot CRM v3 objects API): batched contact reads.

import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import type { SystemPolicy } from '../kit/resilience.js';
import { holds, SystemClient } from '../kit/system-client.js';
import { staleWriteError } from '../kit/system-error.js';

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
  /** One JSON line per call to the system. Default: none. */
  log?: Logger;
  baseUrl: string;
  timeoutMs?: number;
  /**
   * Most ids in one batch read. HubSpot caps batch/read at 100 inputs, so against the real API set 100 and
   * DataLoader sends ceil(n/100) calls in parallel; the sandbox has no cap, so by default one call per request.
   */
  maxBatchSize?: number;
  /** Serialises writes per contact (HubSpot has no conditional PATCH). Default: in-process. */
  lock?: RecordLock;
  /** Timeouts, retries and circuit breaker for the CRM. */
  policy?: SystemPolicy;
}

export class CrmConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;
  private readonly lock: RecordLock;

  constructor(opts: CrmConnectorOptions) {
    this.client = new SystemClient({ system: 'crm', baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs, policy: opts.policy, log: opts.log });
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
   * PATCHes native properties of one contact. HubSpot has no If-Match, so every canon write to a contact holds
   * its record lock; with `expectedVersion` the contact's lastmodifieddate is read and compared first.
   * With `idempotencyKey` the PATCH is retried (setting the same values twice is harmless), and a version that
   * moved on is accepted when the contact already holds exactly what this write sets: that is our own earlier
   * attempt, which landed before its answer was lost.
   */
  async updateContact(id: string, properties: Record<string, string | null>, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<CrmContact> {
    const path = `/crm/v3/objects/contacts/${encodeURIComponent(id)}`;
    return this.lock.run(`crm:contact:${id}`, async () => {
      if (expectedVersion) {
        const wanted = [...new Set([...CRM_PROPERTIES, ...Object.keys(properties)])].join(',');
        const current = await this.client.request<CrmContact>({ method: 'GET', path: `${path}?properties=${wanted}` });
        const actual = current.body.properties.lastmodifieddate;
        if (actual !== expectedVersion) {
          if (idempotencyKey && holds(current.body.properties, properties)) return current.body;
          throw staleWriteError('crm', `contact ${id}`, expectedVersion, actual);
        }
      }
      const res = await this.client.request<CrmContact>({ method: 'PATCH', path, body: { properties }, retry: Boolean(idempotencyKey), idempotencyKey });
      return res.body;
    });
  }
}
