// The only code that talks to the marketing tool (Mailchimp marketing API 3.0, list members): batched member reads.

import DataLoader from 'dataloader';
import { readKeyByKey } from '../kit/key-by-key.js';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { versionedWrite } from '../kit/versioned-write.js';

/** A list member as the marketing tool returns it; its id is the subscriber hash (md5 of the lower-cased email). */
export interface MarketingMember {
  id: string;
  email_address: string;
  status: string;
  merge_fields: Record<string, string>;
  last_changed: string;
  list_id: string;
}

export interface MarketingContext {
  members: DataLoader<string, MarketingMember | null>;
  connector: MarketingConnector;
}

export interface MarketingConnectorOptions extends ConnectorOptions {
  /** The audience canon's customers are members of. */
  listId: string;
  /**
   * Mailchimp has no synchronous batch read by subscriber hash; the sandbox adds `members/batch-read` so canon
   * makes one call per request. With `batchRead: false` (the real API) the connector GETs each member instead,
   * at most `concurrency` at a time (default 8) so a page of 1000 customers does not hit the API's connection limit.
   */
  batchRead?: boolean;
  concurrency?: number;
  /** Serialises writes per member (Mailchimp has no conditional PATCH). Default: in-process. */
  lock?: RecordLock;
}

export class MarketingConnector {
  readonly client: SystemClient;
  readonly listId: string;
  private readonly batch: boolean;
  private readonly concurrency: number;
  private readonly lock: RecordLock;

  constructor(opts: MarketingConnectorOptions) {
    this.lock = opts.lock ?? new InProcessLock();
    this.client = new SystemClient({ ...opts, system: 'marketing' });
    this.listId = opts.listId;
    this.batch = opts.batchRead ?? true;
    this.concurrency = opts.concurrency ?? 8;
  }

  createContext(): MarketingContext {
    return { members: new DataLoader((hashes) => (this.batch ? this.batchRead(hashes) : this.readEach(hashes))), connector: this };
  }

  async batchRead(hashes: readonly string[]): Promise<(MarketingMember | null)[]> {
    const res = await this.client.request<{ members: MarketingMember[] }>({
      method: 'POST',
      path: `/3.0/lists/${this.listId}/members/batch-read`,
      body: { subscriber_hashes: hashes },
      retry: true,
    });
    const byHash = new Map(res.body.members.map((m) => [m.id, m]));
    return hashes.map((h) => byHash.get(h) ?? null);
  }

  /** One GET per member, `concurrency` in flight; a failure is that member's error alone. */
  async readEach(hashes: readonly string[]): Promise<(MarketingMember | Error | null)[]> {
    return readKeyByKey(hashes, this.concurrency, async (hash) => {
      const res = await this.client.request<MarketingMember>({ method: 'GET', path: `/3.0/lists/${this.listId}/members/${encodeURIComponent(hash)}`, accept: [404] });
      return res.status === 404 ? null : res.body;
    });
  }

  /**
   * PATCHes one member as a version-checked write (kit/versioned-write.ts) on its last_changed. A member is
   * addressed by its subscriber hash, so repeating the same PATCH (with `idempotencyKey`, it is retried) sets the
   * same status on the same member: a repeat cannot create or duplicate anything.
   */
  async updateMember(hash: string, body: { status?: string }, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<MarketingMember> {
    const path = `/3.0/lists/${this.listId}/members/${encodeURIComponent(hash)}`;
    return versionedWrite({
      system: 'marketing',
      kind: 'member',
      id: hash,
      lock: this.lock,
      expectedVersion,
      idempotencyKey,
      read: async () => (await this.client.request<MarketingMember>({ method: 'GET', path })).body,
      versionOf: (current) => current.last_changed,
      holds: (current) => holds(current as unknown as Record<string, unknown>, body),
      write: async () => (await this.client.request<MarketingMember>({ method: 'PATCH', path, body, retry: Boolean(idempotencyKey), idempotencyKey })).body,
    });
  }
}
