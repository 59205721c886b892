// The only code that talks to the marketing tool (Mailchimp marketing API 3.0, list members): batched member reads.

import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import { batchWrite, itemError } from '../kit/batch-write.js';
import { drainChanges, watermarkFeed, type ChangePage } from '../kit/change-feed.js';
import { readKeyByKey } from '../kit/key-by-key.js';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { authorizationFor, type SystemCredentials } from '../kit/credentials.js';
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
  /** The contact's own id: unlike `id`, it stays when the member's address changes (identity follows the member by it). */
  contact_id?: string;
}

export interface MarketingContext {
  members: DataLoader<string, MarketingMember | null>;
  connector: MarketingConnector;
}

export interface MarketingConnectorOptions extends ConnectorOptions {
  /** What the marketing takes to let canon in (kit/credentials.ts), sent with every request. */
  credentials: SystemCredentials['marketing'];
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
  /** Most members in one batch subscribe call: Mailchimp's limit is 500. Default 500. */
  maxBatchWrite?: number;
  /** Members per page of the change feed (Mailchimp's `count`, at most 1000). Default 1000. */
  feedPageSize?: number;
}

/** Mailchimp's largest `count` of a member list. */
const MAX_COUNT = 1000;
/**
 * Mailchimp keeps last_changed to the second and does not say whether `since_last_changed` includes its own second:
 * the feed asks from a second before its watermark, and the watermark drops what it had already.
 */
const SINCE_MARGIN_MS = 1000;

/** One member of a batch subscribe: its address, the status to set, and merge fields to set. */
export interface BatchMember {
  email_address: string;
  status: string;
  merge_fields?: Record<string, string>;
}

/** Copies one member keeps of values other systems own: merge fields, and its address (a new one moves the member). */
export interface CopyUpdate {
  hash: string;
  mergeFields?: Record<string, string>;
  emailAddress?: string | null;
}

/** What Mailchimp's batch subscribe answers. */
interface BatchSubscribeAnswer {
  new_members: MarketingMember[];
  updated_members: MarketingMember[];
  errors: { email_address: string; error: string; error_code: string }[];
}

/** Mailchimp's member key: md5 hex of the trimmed, lower-cased email address. */
export function memberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

export class MarketingConnector {
  readonly client: SystemClient;
  readonly listId: string;
  private readonly batch: boolean;
  private readonly concurrency: number;
  private readonly lock: RecordLock;
  private readonly maxBatchWrite: number;
  private readonly feedPageSize: number;

  constructor(opts: MarketingConnectorOptions) {
    this.maxBatchWrite = opts.maxBatchWrite ?? 500;
    this.lock = opts.lock ?? new InProcessLock();
    this.client = new SystemClient({ ...opts, system: 'marketing', authorization: authorizationFor.marketing(opts.credentials) });
    this.listId = opts.listId;
    this.batch = opts.batchRead ?? true;
    this.concurrency = opts.concurrency ?? 8;
    this.feedPageSize = Math.min(opts.feedPageSize ?? MAX_COUNT, MAX_COUNT);
  }

  /**
   * Members changed since `cursor` (null: every member), page by page, each with the cursor to resume after it
   * (kit/change-feed.ts). Read the Mailchimp way: the list's members with `since_last_changed`, sorted by
   * last_changed ascending, `count` per page, paged by `offset` against `total_items` only through members that
   * share one stamp; every other page begins afresh from the watermark.
   */
  changes(cursor: string | null): AsyncGenerator<ChangePage<MarketingMember>> {
    return watermarkFeed<MarketingMember>({
      system: 'marketing',
      cursor,
      stampOf: (m) => Date.parse(m.last_changed),
      idOf: (m) => m.id,
      page: async (since, next) => {
        const offset = next === null ? 0 : Number(next);
        const query = new URLSearchParams({ sort_field: 'last_changed', sort_dir: 'ASC', count: String(this.feedPageSize), offset: String(offset) });
        if (since !== null) query.set('since_last_changed', new Date(since - SINCE_MARGIN_MS).toISOString());
        const res = await this.client.request<{ members: MarketingMember[]; total_items: number }>({ method: 'GET', path: `/3.0/lists/${this.listId}/members?${query}` });
        const end = offset + res.body.members.length;
        return { records: res.body.members, next: res.body.members.length > 0 && end < res.body.total_items ? String(end) : null };
      },
    });
  }

  /** Every member changed since `cursor`, all pages read: the records and the cursor to pass next time. */
  changesSince(cursor: string | null): Promise<{ records: MarketingMember[]; cursor: string | null }> {
    return drainChanges(this.changes(cursor), cursor);
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
   * Creates or updates the member with `email` (Mailchimp's PUT upsert, addressed by the subscriber hash). The same
   * PUT twice sets the same values on the same member, so under a key it is retried: a repeat cannot duplicate, and
   * one that finds the member already as the PUT would leave it sends nothing.
   */
  async upsertMember(email: string, fields: { status?: string; status_if_new?: string; merge_fields?: Record<string, string> }, idempotencyKey?: string | null): Promise<MarketingMember> {
    const path = `/3.0/lists/${this.listId}/members/${memberHash(email)}`;
    const body = { email_address: email.trim(), status_if_new: fields.status_if_new ?? fields.status, ...fields };
    return this.client.run(async (signal) => {
      // Under a key every attempt looks first: when the member already holds what the PUT sets, an earlier attempt
      // (or an earlier run of the same step) landed, and writing it again would only make a change event of nothing.
      if (idempotencyKey) {
        const current = await this.client.attempt<MarketingMember>({ method: 'GET', path, accept: [404] }, signal);
        if (current.status !== 404 && holds(current.body as unknown as Record<string, unknown>, { status: fields.status ?? current.body.status }) && holds(current.body.merge_fields, fields.merge_fields ?? {})) return current.body;
      }
      return (await this.client.attempt<MarketingMember>({ method: 'PUT', path, body, idempotencyKey }, signal)).body;
    }, Boolean(idempotencyKey), `PUT /3.0/lists/${this.listId}/members/{subscriber_hash}`);
  }

  /**
   * Subscribes or updates many members through Mailchimp's batch call (`POST /lists/{id}`, update_existing), at
   * most `maxBatchWrite` (500) per call: one result or one Error per member, in input order. Always with
   * update_existing, so a call repeated under a key updates what its lost attempt created instead of answering
   * ERROR_CONTACT_EXISTS; a retry first reads the chunk back and sends only members that do not hold their values.
   */
  async batchSubscribe(members: readonly BatchMember[], idempotencyKey?: string | null): Promise<(MarketingMember | Error)[]> {
    const call = `POST /3.0/lists/${this.listId}`;
    return batchWrite(this.client, call, members, {
      size: this.maxBatchWrite,
      recordOf: (m) => memberHash(m.email_address),
      idempotencyKey,
      send: async (chunk, key, signal) => {
        const res = await this.client.attempt<BatchSubscribeAnswer>(
          { method: 'POST', path: `/3.0/lists/${this.listId}`, body: { members: chunk.map((m) => ({ ...m, email_address: m.email_address.trim() })), update_existing: true }, idempotencyKey: key },
          signal,
        );
        const done = new Map([...res.body.new_members, ...res.body.updated_members].map((m) => [m.id, m]));
        const failed = new Map(res.body.errors.map((e) => [memberHash(e.email_address), itemError('marketing', call, 400, `${e.error_code}: ${e.error}`)]));
        return chunk.map((m) => {
          const hash = memberHash(m.email_address);
          return done.get(hash) ?? failed.get(hash) ?? itemError('marketing', call, 500, `the batch answered nothing for ${m.email_address}`);
        });
      },
      recognise: async (chunk, signal) => {
        const current = await this.readForWrite(chunk.map((m) => memberHash(m.email_address)), signal);
        return chunk.map((m, i) => {
          const c = current[i];
          return c && !(c instanceof Error) && c.status === m.status && holds(c.merge_fields, m.merge_fields ?? {}) ? c : null;
        });
      },
    });
  }

  /**
   * Sets the status of many members, by subscriber hash, through the batch call. Mailchimp's batch addresses
   * members by email address, so the members are read first (one batch read); a hash the list does not hold is
   * that update's NOT_FOUND alone. One result or one Error per update, in input order.
   */
  async batchUpdateMembers(updates: readonly { hash: string; status: string }[], idempotencyKey?: string | null): Promise<(MarketingMember | Error)[]> {
    const out: (MarketingMember | Error)[] = new Array(updates.length);
    let current: (MarketingMember | Error | null)[];
    try {
      current = await this.client.run((signal) => this.readForWrite(updates.map((u) => u.hash), signal), true, `POST /3.0/lists/${this.listId}/members/batch-read`);
    } catch (e) {
      return updates.map(() => (e instanceof Error ? e : new Error(String(e))));
    }
    const send: { position: number; member: BatchMember }[] = [];
    updates.forEach((u, i) => {
      const c = current[i];
      if (c instanceof Error) out[i] = c;
      else if (!c) out[i] = itemError('marketing', `GET /3.0/lists/${this.listId}/members/{subscriber_hash}`, 404, `The requested resource could not be found: member ${u.hash}`);
      else send.push({ position: i, member: { email_address: c.email_address, status: u.status } });
    });
    const results = await this.batchSubscribe(send.map((s) => s.member), idempotencyKey);
    send.forEach((s, j) => (out[s.position] = results[j]!));
    return out;
  }

  /**
   * Sets the copies a member keeps of other owners' values (merge fields; its address), one PATCH per member, at
   * most `concurrency` at once: Mailchimp's batch subscribe also sets each member's status, which marketing owns and
   * another write may be changing, so copies never go through it. A new address moves the member to that address's
   * subscriber hash (PATCH email_address, as Mailchimp does). Under a key a repeat is recognised: the same PATCH sets
   * the same values, and a move whose answer was lost finds the old hash gone and the member at the new one.
   * One result or one Error per update, in input order.
   */
  async setCopies(updates: readonly CopyUpdate[], idempotencyKey?: string | null): Promise<(MarketingMember | Error)[]> {
    const call = `PATCH /3.0/lists/${this.listId}/members/{subscriber_hash}`;
    return readKeyByKey(updates, this.concurrency, (u) =>
      this.client.run(async (signal) => {
        const path = `/3.0/lists/${this.listId}/members/${encodeURIComponent(u.hash)}`;
        const body = { ...(u.emailAddress ? { email_address: u.emailAddress.trim() } : {}), ...(u.mergeFields ? { merge_fields: u.mergeFields } : {}) };
        const res = await this.client.attempt<MarketingMember>({ method: 'PATCH', path, body, accept: [404], idempotencyKey: idempotencyKey ? `${idempotencyKey}:${u.hash}` : null }, signal);
        if (res.status !== 404) return res.body;
        if (u.emailAddress && memberHash(u.emailAddress) !== u.hash) {
          const moved = await this.client.attempt<MarketingMember>({ method: 'GET', path: `/3.0/lists/${this.listId}/members/${memberHash(u.emailAddress)}`, accept: [404] }, signal);
          if (moved.status !== 404 && holds(moved.body.merge_fields, u.mergeFields ?? {})) return moved.body;
        }
        throw itemError('marketing', call, 404, `The requested resource could not be found: member ${u.hash}`);
      }, Boolean(idempotencyKey), call),
    );
  }

  /** Private: members by hash in one attempt (the sandbox's batch read, or one GET each against the real API); null for one the list does not hold. */
  private async readForWrite(hashes: readonly string[], signal: AbortSignal): Promise<(MarketingMember | Error | null)[]> {
    if (this.batch) {
      const res = await this.client.attempt<{ members: MarketingMember[] }>({ method: 'POST', path: `/3.0/lists/${this.listId}/members/batch-read`, body: { subscriber_hashes: hashes } }, signal);
      const byHash = new Map(res.body.members.map((m) => [m.id, m]));
      return hashes.map((h) => byHash.get(h) ?? null);
    }
    return readKeyByKey(hashes, this.concurrency, async (hash) => {
      const res = await this.client.attempt<MarketingMember>({ method: 'GET', path: `/3.0/lists/${this.listId}/members/${encodeURIComponent(hash)}`, accept: [404] }, signal);
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
