// What one sync step does: reads one page of a system's change feed from a cursor and hands its records, with the cursor after them, to the identity subgraph (through the gateway's subgraph client), which stores both in one transaction.
//
// Guarantees: `page` never throws; a system or identity that fails is an outcome naming it, and then nothing was
// stored, so the cursor in the identity store is where it was. A page stored and then read again (a step run twice
// after a crash) is stored again unchanged: the identity store recognises records it holds already.

import type { SystemName } from '../../schema/model.js';
import type { PropagationEvent } from '../../subgraphs/identity/copies.js';
import type { ChangePage } from '../../subgraphs/kit/change-feed.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import type { SubgraphClient } from '../federation/subgraph-client.js';

/** What a stored page means for the copies: an owner change, or a copy that drifted (subgraphs/identity/copies.ts). */
export type CopyEvent = PropagationEvent;

/** A connector's change feed, as each one offers it (subgraphs/<system>/connector.ts). */
export interface ChangeFeed {
  changes(cursor: string | null): AsyncGenerator<ChangePage<object>>;
}

/** What one step of a sync did. */
export type PageOutcome =
  | { ok: true; records: number; changed: number; cursor: string | null; done: boolean; events: CopyEvent[] }
  | { ok: false; system: string; code: string; message: string };

/** Each system's native id of a record its feed delivered. */
const NATIVE_ID: Record<SystemName, (record: any) => string> = {
  crm: (r) => String(r.id),
  erp: (r) => String(r.BusinessPartner),
  marketing: (r) => String(r.id),
  support: (r) => String(r.id),
};

const APPLY = `mutation($system: System!, $records: [SourceRecordInput!]!, $cursor: String, $complete: Boolean) {
  identityApplyRecords(system: $system, records: $records, cursor: $cursor, complete: $complete) { changed events { kind customerId field system value unreadable stamp copyStamp } }
}`;

type Failure = Extract<PageOutcome, { ok: false }>;

function failure(e: unknown, system: string): Failure {
  if (e instanceof SystemError) return { ok: false, system: e.system ?? system, code: e.code, message: e.message };
  return { ok: false, system, code: 'SYSTEM_ERROR', message: (e as Error).message };
}

export class SyncFeeds {
  private readonly read = new Map<SystemName, number>();

  constructor(
    private readonly feeds: Record<SystemName, ChangeFeed>,
    private readonly client: SubgraphClient,
  ) {}

  /** Records this process read from `system`'s feed and stored, page by page (a page replayed from its checkpoint after a restart is not read again, so not counted). */
  delivered(system: SystemName): number {
    return this.read.get(system) ?? 0;
  }

  /** The cursor identity stored for `system` (null: never read), or why identity could not say. */
  async cursorOf(system: SystemName): Promise<{ ok: true; cursor: string | null; fullSyncAt: string | null } | Failure> {
    const r = await this.client.execute<{ identitySync: { system: string; cursor: string | null; fullSyncAt: string | null }[] }>('identity', '{ identitySync { system cursor fullSyncAt } }', {}, { kind: 'read' });
    if (!r.ok) return failure(r.error, 'identity');
    const row = r.data.identitySync.find((s) => s.system.toLowerCase() === system);
    return { ok: true, cursor: row?.cursor ?? null, fullSyncAt: row?.fullSyncAt ?? null };
  }

  /** Reads the page after `cursor` and stores it; at the feed's end, records that the feed was read through. */
  async page(system: SystemName, cursor: string | null): Promise<PageOutcome> {
    const feed = this.feeds[system].changes(cursor);
    let page: ChangePage<object> | null;
    try {
      const next = await feed.next();
      page = next.done ? null : next.value;
    } catch (e) {
      return failure(e, system);
    } finally {
      await feed.return(undefined).catch(() => undefined);
    }
    const records = (page?.records ?? []).map((r) => ({ nativeId: NATIVE_ID[system](r), fields: JSON.stringify(r) }));
    const after = page ? page.cursor : cursor;
    // An idempotent write: the same page stored twice is stored once, so the client may retry it.
    const r = await this.client.execute<{ identityApplyRecords: { changed: number; events: (Omit<CopyEvent, 'system'> & { system: string })[] } }>(
      'identity',
      APPLY,
      { system: system.toUpperCase(), records, cursor: after, complete: page === null },
      { kind: 'write', idempotencyKey: `sync:${system}:${after ?? ''}` },
    );
    if (!r.ok) return failure(r.error, 'identity');
    this.read.set(system, (this.read.get(system) ?? 0) + records.length);
    const events = r.data.identityApplyRecords.events.map((e) => ({ ...e, system: e.system.toLowerCase() as SystemName }));
    return { ok: true, records: records.length, changed: r.data.identityApplyRecords.changed, cursor: after, done: page === null, events };
  }
}
