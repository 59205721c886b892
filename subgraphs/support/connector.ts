// The only code that talks to the support desk (Zendesk Support API v2): batched organization and ticket reads.

import DataLoader from 'dataloader';
import { readKeyByKey } from '../kit/key-by-key.js';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { authorizationFor, type SystemCredentials } from '../kit/credentials.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { versionedWrite } from '../kit/versioned-write.js';
import { batchWrite, itemError } from '../kit/batch-write.js';
import { drainChanges, watermarkFeed, type ChangePage } from '../kit/change-feed.js';

export interface SupportOrganization {
  id: number;
  name: string | null;
  external_id: string | null;
  organization_fields: { support_plan?: string | null };
  updated_at: string;
  /** From the `open_ticket_counts` sideload of the same call. */
  openTickets: number;
}

export interface SupportTicket {
  id: number;
  subject: string | null;
  description: string | null;
  status: string;
  priority: string | null;
  organization_id: number;
  external_id: string | null;
  created_at: string;
}

export interface SupportContext {
  organizations: DataLoader<string, SupportOrganization | null>;
  /** Newest tickets per organization, one loader per page size asked for. */
  tickets(first: number): DataLoader<string, SupportTicket[]>;
  ticketById: DataLoader<string, SupportTicket | null>;
  connector: SupportConnector;
}

export interface SupportConnectorOptions extends ConnectorOptions {
  /** What the support takes to let canon in (kit/credentials.ts), sent with every request. */
  credentials: SystemCredentials['support'];
  /** Zendesk caps show_many at 100 ids; set 100 against the real API (calls then go out in parallel). The sandbox has no cap. */
  maxBatchSize?: number;
  /** Serialises writes per organization (Zendesk's PUT has no precondition). Default: in-process. */
  lock?: RecordLock;
  /** Most organizations in one update_many: Zendesk's limit is 100. Default 100. */
  maxBatchWrite?: number;
  /** Polls of an update_many job that has not completed yet, and the pause between them in ms. Defaults 20 and 250. */
  maxJobPolls?: number;
  jobPollMs?: number;
  /** The clock the change feed keeps Zendesk's "start_time at least a minute old" rule by, in ms. Default Date.now. */
  now?: () => number;
}

/**
 * Zendesk refuses an incremental export whose start_time is less than a minute old; the feed asks from at least
 * this many seconds back (a few more than 60, for clocks that differ), and the watermark drops what it had already.
 */
const EXPORT_MIN_AGE_S = 65;

/** What an organization write may set, in Zendesk's words. */
export interface OrganizationChange {
  name?: string;
  external_id?: string | null;
  domain_names?: string[];
  organization_fields?: Record<string, unknown>;
}

/** One organization's outcome in a Zendesk job. */
interface JobResult {
  id: number;
  success: boolean;
  status?: string;
  errors?: string;
}

/** A Zendesk background job, as update_many answers it and `job_statuses/{id}` serves it. */
interface JobStatus {
  id: string;
  status: 'queued' | 'working' | 'failed' | 'completed' | string;
  message?: string | null;
  results?: JobResult[] | null;
}

/** Ticket reads by id have no batch endpoint in the sandbox; at most this many GETs run at once. */
const TICKET_READ_CONCURRENCY = 8;

/**
 * Zendesk ids are positive integers. Anything else names no record, so it is answered null without asking: the API
 * would refuse a whole show_many for one such id, and one bad key must not fail the batch.
 */
function isZendeskId(id: string): boolean {
  return /^[0-9]{1,15}$/.test(id) && Number(id) > 0;
}

export class SupportConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;
  private readonly lock: RecordLock;
  private readonly maxBatchWrite: number;
  private readonly maxJobPolls: number;
  private readonly jobPollMs: number;
  private readonly now: () => number;

  constructor(opts: SupportConnectorOptions) {
    this.maxBatchWrite = opts.maxBatchWrite ?? 100;
    this.maxJobPolls = opts.maxJobPolls ?? 20;
    this.jobPollMs = opts.jobPollMs ?? 250;
    this.lock = opts.lock ?? new InProcessLock();
    this.client = new SystemClient({ ...opts, system: 'support', authorization: authorizationFor.support(opts.credentials) });
    this.maxBatchSize = opts.maxBatchSize ?? Infinity;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Organizations changed since `cursor` (null: every organization), page by page, each with the cursor to resume
   * after it (kit/change-feed.ts). Read with Zendesk's time-based incremental export: `start_time` in seconds,
   * never less than a minute old, pages followed by their `end_time` until `end_of_stream`; the organizations of a
   * boundary second that come twice, and those re-read because of the minute, are dropped by the watermark.
   */
  changes(cursor: string | null): AsyncGenerator<ChangePage<Omit<SupportOrganization, 'openTickets'>>> {
    const newest = () => Math.floor(this.now() / 1000) - EXPORT_MIN_AGE_S;
    return watermarkFeed<Omit<SupportOrganization, 'openTickets'>>({
      system: 'support',
      cursor,
      stampOf: (o) => Date.parse(o.updated_at),
      idOf: (o) => String(o.id),
      page: async (since, next) => {
        const start = next !== null ? Number(next) : Math.max(0, Math.min(since === null ? 0 : Math.floor(since / 1000), newest()));
        const res = await this.client.request<{ organizations: Omit<SupportOrganization, 'openTickets'>[]; end_time: number; end_of_stream: boolean }>({
          method: 'GET',
          path: `/api/v2/incremental/organizations.json?start_time=${start}`,
        });
        // A next start_time under a minute old would be refused: what is left is read on the next call.
        const more = !res.body.end_of_stream && res.body.end_time > start && res.body.end_time <= newest();
        return { records: res.body.organizations, next: more ? String(res.body.end_time) : null };
      },
    });
  }

  /** Every organization changed since `cursor`, all pages read: the records and the cursor to pass next time. */
  changesSince(cursor: string | null): Promise<{ records: Omit<SupportOrganization, 'openTickets'>[]; cursor: string | null }> {
    return drainChanges(this.changes(cursor), cursor);
  }

  createContext(): SupportContext {
    const ticketLoaders = new Map<number, DataLoader<string, SupportTicket[]>>();
    return {
      connector: this,
      organizations: new DataLoader((ids) => this.showMany(ids), { maxBatchSize: this.maxBatchSize }),
      ticketById: new DataLoader((ids) => this.ticketsById(ids)),
      tickets: (first) => {
        let loader = ticketLoaders.get(first);
        if (!loader) {
          loader = new DataLoader((ids) => this.ticketsOf(ids, first), { maxBatchSize: this.maxBatchSize });
          ticketLoaders.set(first, loader);
        }
        return loader;
      },
    };
  }

  /** Organizations and their open-ticket counts in one call (`include=open_ticket_counts` sideload). */
  async showMany(ids: readonly string[]): Promise<(SupportOrganization | null)[]> {
    const valid = ids.filter(isZendeskId);
    if (!valid.length) return ids.map(() => null);
    const res = await this.client.request<{ organizations: Omit<SupportOrganization, 'openTickets'>[]; open_ticket_counts?: Record<string, number> }>({
      method: 'GET',
      path: `/api/v2/organizations/show_many.json?ids=${valid.join(',')}&include=open_ticket_counts`,
    });
    const counts = res.body.open_ticket_counts ?? {};
    const byId = new Map(res.body.organizations.map((o) => [String(o.id), { ...o, openTickets: counts[String(o.id)] ?? 0 }]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The newest `first` tickets of each organization, in one call. */
  async ticketsOf(orgIds: readonly string[], first: number): Promise<SupportTicket[][]> {
    const valid = orgIds.filter(isZendeskId);
    if (!valid.length) return orgIds.map(() => []);
    const res = await this.client.request<{ tickets: SupportTicket[] }>({
      method: 'GET',
      path: `/api/v2/tickets.json?organization_ids=${valid.join(',')}&per_org=${first}`,
    });
    const byOrg = new Map<string, SupportTicket[]>();
    for (const t of res.body.tickets) {
      const list = byOrg.get(String(t.organization_id)) ?? [];
      list.push(t);
      byOrg.set(String(t.organization_id), list);
    }
    return orgIds.map((id) => byOrg.get(id) ?? []);
  }

  /** One GET per ticket (Zendesk's show_many for tickets is not in the sandbox); a failed GET is that ticket's error alone. */
  async ticketsById(ids: readonly string[]): Promise<(SupportTicket | Error | null)[]> {
    return readKeyByKey(ids, TICKET_READ_CONCURRENCY, async (id) => {
      if (!isZendeskId(id)) return null;
      const res = await this.client.request<{ ticket: SupportTicket }>({ method: 'GET', path: `/api/v2/tickets/${id}.json`, accept: [404] });
      return res.status === 404 ? null : res.body.ticket;
    });
  }

  /** Organizations found by exact name (as Zendesk compares names: case-insensitively) or by external_id. One attempt when `signal` is given. */
  async searchOrganizations(by: { name: string } | { externalId: string }, signal?: AbortSignal): Promise<Omit<SupportOrganization, 'openTickets'>[]> {
    const query = 'name' in by ? `name=${encodeURIComponent(by.name)}` : `external_id=${encodeURIComponent(by.externalId)}`;
    const req = { method: 'GET' as const, path: `/api/v2/organizations/search.json?${query}` };
    const res = signal
      ? await this.client.attempt<{ organizations: Omit<SupportOrganization, 'openTickets'>[] }>(req, signal)
      : await this.client.request<{ organizations: Omit<SupportOrganization, 'openTickets'>[] }>(req);
    return res.body.organizations;
  }

  /**
   * Finds the organization whose external_id is `externalId`, or creates it. Zendesk has no idempotency keys, so
   * under a key every attempt first searches by external_id: a create whose answer was lost (or a repeat of the
   * whole step) finds the organization it made. A name another organization holds is refused by Zendesk (422,
   * BAD_USER_INPUT) and not retried. Without a key: one attempt.
   */
  async findOrCreateOrganization(
    org: { name: string; externalId: string; domainNames?: string[]; organizationFields?: Record<string, unknown> },
    idempotencyKey?: string | null,
  ): Promise<SupportOrganization> {
    const organization = {
      name: org.name,
      external_id: org.externalId,
      ...(org.domainNames ? { domain_names: org.domainNames } : {}),
      ...(org.organizationFields ? { organization_fields: org.organizationFields } : {}),
    };
    const post = { method: 'POST' as const, path: '/api/v2/organizations.json', body: { organization }, idempotencyKey };
    const found = await this.client.run(async (signal) => {
      const [existing] = await this.searchOrganizations({ externalId: org.externalId }, signal);
      if (existing) return { organization: existing, created: false };
      return { organization: (await this.client.attempt<{ organization: Omit<SupportOrganization, 'openTickets'> }>(post, signal)).body.organization, created: true };
    }, Boolean(idempotencyKey), 'POST /api/v2/organizations.json');
    // A new organization has no tickets yet; one found may, and the Customer type serves the count.
    return found.created ? { ...found.organization, openTickets: 0 } : ((await this.showMany([String(found.organization.id)]))[0] ?? { ...found.organization, openTickets: 0 });
  }

  /**
   * Updates many organizations through Zendesk's `update_many` (each its own change), at most `maxBatchWrite` (100)
   * per call, following the job it answers with until it completes (at most `maxJobPolls` polls): one result or one
   * Error per update, in input order. Values are absolute, so under a key a failed call is retried; a retry first
   * reads the chunk back and sends only organizations that do not hold their values yet.
   */
  async updateManyOrganizations(updates: readonly { id: string; organization: OrganizationChange }[], idempotencyKey?: string | null): Promise<(SupportOrganization | Error)[]> {
    const call = 'PUT /api/v2/organizations/update_many.json';
    return batchWrite(this.client, call, updates, {
      size: this.maxBatchWrite,
      idempotencyKey,
      send: async (chunk, key, signal) => {
        const valid = chunk.filter((u) => isZendeskId(u.id));
        let results: JobResult[] = [];
        if (valid.length) {
          const res = await this.client.attempt<{ job_status: JobStatus }>(
            { method: 'PUT', path: '/api/v2/organizations/update_many.json', body: { organizations: valid.map((u) => ({ id: Number(u.id), ...u.organization })) }, idempotencyKey: key },
            signal,
          );
          results = (await this.completedJob(res.body.job_status, signal)).results ?? [];
        }
        const outcome = new Map(results.map((r) => [String(r.id), r]));
        const done = [...outcome.values()].filter((r) => r.success).map((r) => String(r.id));
        const orgs = new Map((await this.showManyAttempt(done, signal)).map((o) => [String(o.id), o]));
        return chunk.map((u) => {
          const r = outcome.get(u.id);
          if (!r) return itemError('support', call, 404, `RecordNotFound: organization ${u.id} does not exist`);
          if (!r.success) return itemError('support', call, /RecordNotFound/.test(r.errors ?? '') ? 404 : 422, r.errors ?? 'update failed');
          return orgs.get(u.id) ?? itemError('support', call, 404, `organization ${u.id} was updated but cannot be read back`);
        });
      },
      recognise: async (chunk, signal) => {
        const byId = new Map((await this.showManyAttempt(chunk.map((u) => u.id).filter(isZendeskId), signal)).map((o) => [String(o.id), o]));
        return chunk.map((u) => {
          const o = byId.get(u.id);
          if (!o) return null;
          const { organization_fields: fields, ...rest } = u.organization;
          return holds(o as unknown as Record<string, unknown>, rest) && holds(o.organization_fields, fields ?? {}) ? o : null;
        });
      },
    });
  }

  /** Private: the job once Zendesk says it is completed (or failed), polling its url at most `maxJobPolls` times. */
  private async completedJob(job: JobStatus, signal: AbortSignal): Promise<JobStatus> {
    let current = job;
    for (let polls = 0; current.status === 'queued' || current.status === 'working'; polls++) {
      if (polls >= this.maxJobPolls) throw itemError('support', 'GET /api/v2/job_statuses/{id}.json', 503, `job ${job.id} did not complete after ${polls} polls`);
      await new Promise((resolve) => setTimeout(resolve, this.jobPollMs));
      if (signal.aborted) throw signal.reason;
      current = (await this.client.attempt<{ job_status: JobStatus }>({ method: 'GET', path: `/api/v2/job_statuses/${encodeURIComponent(job.id)}.json` }, signal)).body.job_status;
    }
    if (current.status !== 'completed') throw itemError('support', 'GET /api/v2/job_statuses/{id}.json', 500, `job ${job.id} ended ${current.status}: ${current.message ?? ''}`);
    return current;
  }

  /** Private: show_many with open-ticket counts, as one attempt of the caller's policy. */
  private async showManyAttempt(ids: readonly string[], signal: AbortSignal): Promise<SupportOrganization[]> {
    if (!ids.length) return [];
    const res = await this.client.attempt<{ organizations: Omit<SupportOrganization, 'openTickets'>[]; open_ticket_counts?: Record<string, number> }>(
      { method: 'GET', path: `/api/v2/organizations/show_many.json?ids=${ids.join(',')}&include=open_ticket_counts` },
      signal,
    );
    const counts = res.body.open_ticket_counts ?? {};
    return res.body.organizations.map((o) => ({ ...o, openTickets: counts[String(o.id)] ?? 0 }));
  }

  /**
   * Updates one organization as a version-checked write (kit/versioned-write.ts) on its updated_at. With
   * `idempotencyKey` the PUT (absolute values) is retried.
   */
  async updateOrganization(id: string, organization: { organization_fields?: Record<string, unknown> }, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<SupportOrganization> {
    const path = `/api/v2/organizations/${encodeURIComponent(id)}.json`;
    // The PUT answers without the open-ticket count the Customer type serves; read the organization back.
    const readBack = async () => (await this.showMany([id]))[0]!;
    return versionedWrite({
      system: 'support',
      kind: 'organization',
      id,
      lock: this.lock,
      expectedVersion,
      idempotencyKey,
      read: async () => (await this.client.request<{ organization: SupportOrganization }>({ method: 'GET', path })).body.organization,
      versionOf: (current) => current.updated_at,
      holds: (current) => holds(current.organization_fields, organization.organization_fields ?? {}),
      write: async () => {
        await this.client.request({ method: 'PUT', path, body: { organization }, retry: Boolean(idempotencyKey), idempotencyKey });
        return readBack();
      },
      repeated: readBack,
    });
  }

  /** The ticket canon created under `key` (its external_id), if any. One attempt: the caller's policy retries. */
  private async ticketByKey(key: string, signal: AbortSignal): Promise<SupportTicket | null> {
    const res = await this.client.attempt<{ tickets: SupportTicket[] }>({ method: 'GET', path: `/api/v2/tickets.json?external_id=${encodeURIComponent(key)}` }, signal);
    return res.body.tickets[0] ?? null;
  }

  /**
   * Creates a ticket. Zendesk has no idempotency keys, so under a key canon writes the key onto the ticket as its
   * external_id and, before every attempt, looks for a ticket carrying it: a create whose answer was lost (or a
   * replay of the whole operation) finds the first ticket instead of making a second. Without a key: one attempt.
   */
  async createTicket(ticket: { organizationId: string; subject: string; body: string }, idempotencyKey?: string | null): Promise<SupportTicket> {
    const post = {
      method: 'POST' as const,
      path: '/api/v2/tickets.json',
      body: { ticket: { subject: ticket.subject, comment: { body: ticket.body }, organization_id: Number(ticket.organizationId), external_id: idempotencyKey ?? undefined } },
      idempotencyKey,
    };
    return this.client.run(async (signal) => {
      if (idempotencyKey) {
        const existing = await this.ticketByKey(idempotencyKey, signal);
        if (existing) return existing;
      }
      return (await this.client.attempt<{ ticket: SupportTicket }>(post, signal)).body.ticket;
    }, Boolean(idempotencyKey), 'POST /api/v2/tickets.json');
  }
}
