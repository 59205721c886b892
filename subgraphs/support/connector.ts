// The only code that talks to the support desk (Zendesk Support API v2): batched organization and ticket reads.

import DataLoader from 'dataloader';
import { readKeyByKey } from '../kit/key-by-key.js';
import { InProcessLock, type RecordLock } from '../kit/record-lock.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { versionedWrite } from '../kit/versioned-write.js';

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
  /** Zendesk caps show_many at 100 ids; set 100 against the real API (calls then go out in parallel). The sandbox has no cap. */
  maxBatchSize?: number;
  /** Serialises writes per organization (Zendesk's PUT has no precondition). Default: in-process. */
  lock?: RecordLock;
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

  constructor(opts: SupportConnectorOptions) {
    this.lock = opts.lock ?? new InProcessLock();
    this.client = new SystemClient({ ...opts, system: 'support' });
    this.maxBatchSize = opts.maxBatchSize ?? Infinity;
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
