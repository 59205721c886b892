// canon learning the systems as they are: each system's change feed read into the identity store by durable workflows, a full sync on first start and then one incremental sync per system every SYNC_INTERVAL_MS; and what /health says of it.
//
// Terms:
//   round    — one sync of one system: read the feed page by page from the cursor identity holds, until its end.
//              The first round of a system (no cursor yet) is its full sync.
//   round id — `canon.sync.<deployment>.<system>.<n>`, n = floor(now / SYNC_INTERVAL_MS) when it is started: the
//              workflow id, so two gateways sharing their workflow database that start the same round run it once
//              (the second joins the first). `deployment` names the identity subgraph and systems synced.
// Guarantees: each page is one DBOS step that reads the page and stores it with the cursor after it (in one
// identity transaction), so a gateway killed mid-round resumes that round after restart from the last page stored,
// and loses no record; a system that fails leaves its cursor where it was, ends the round, and is named by
// /health until a later round reads it again. Rounds of one system never overlap within a gateway.

import { createHash, randomUUID } from 'node:crypto';
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { Logger } from 'pino';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { ownershipMap } from '../../schema/ownership.js';
import type { WorkflowEngine } from '../workflows/engine.js';
import { runtimeOf } from '../workflows/runtime.js';
import { enforced, startPropagation } from '../workflows/propagate.js';
import type { CopyEvent, PageOutcome, SyncFeeds } from './feeds.js';

/** How a round ended. */
export type RoundOutcome =
  | { ok: true; records: number; changed: number; cursor: string | null; full: boolean }
  | { ok: false; system: string; code: string; message: string; records: number; cursor: string | null; fullSynced: boolean };

/** One round: the cursor identity holds, then one step per page until the feed's end or a failure. */
async function syncRound(runtime: string, system: SystemName): Promise<RoundOutcome> {
  const rt = runtimeOf(runtime);
  const feeds = rt.sync!;
  const start = await DBOS.runStep(() => feeds.cursorOf(system), { name: `${system}.cursor` });
  if (!start.ok) return { ...start, records: 0, cursor: null, fullSynced: false };
  let cursor = start.cursor;
  const full = start.fullSyncAt === null;
  let records = 0;
  let changed = 0;
  for (;;) {
    const page: PageOutcome = await DBOS.runStep(() => feeds.page(system, cursor), { name: `${system}.page` });
    if (!page.ok) return { ...page, records, cursor, fullSynced: !full };
    records += page.records;
    changed += page.changed;
    await propagateEvents(runtime, page.events);
    cursor = page.cursor;
    if (page.records) rt.log.info({ component: 'sync', system, full, records, changed }, full ? 'full sync: page stored' : 'sync: page stored');
    if (page.done) return { ok: true, records, changed, cursor, full };
  }
}
const round = DBOS.registerWorkflow(syncRound, { name: 'canon.sync' });

/**
 * What a page showed for the copies, acted on from the round (so the start is as durable as the page): an owner's
 * change is propagated to its copies; a drifted copy under ENFORCE is set back to the owner's value (under REPORT
 * identity has listed it, and nothing more happens). Nothing ever goes from a copy to the owner.
 */
async function propagateEvents(runtime: string, events: readonly CopyEvent[]): Promise<void> {
  for (const e of events) {
    if (e.kind === 'OWNER_CHANGE') await startPropagation(runtime, { customerId: e.customerId, field: e.field, owner: e.system, value: e.value, unreadable: e.unreadable, stamp: e.stamp, origin: 'feed' });
    else if (e.value !== null && enforced(runtime, e.field, e.system)) {
      const owner = ownerOf(e.field);
      if (owner) await startPropagation(runtime, { customerId: e.customerId, field: e.field, owner, value: e.value, stamp: e.stamp, origin: 'enforce', drifted: { system: e.system, stamp: e.copyStamp } });
    }
  }
}

function ownerOf(field: string): SystemName | null {
  const o = ownershipMap().get(field);
  return o && o !== 'identity' ? o : null;
}

/** What /health reports of one system's sync. */
export interface SyncStatus {
  system: SystemName;
  /** False when its last round failed (the system, or identity, did not answer); the error says which. */
  ok: boolean;
  cursor: string | null;
  /** When its last round ended well (ISO time); null before the first. */
  lastSyncAt: string | null;
  /** How long ago that was, in ms: how far behind the system canon may be. Null before the first. */
  lagMs: number | null;
  /** Whether its full sync (the first round) is done. */
  fullSync: boolean;
  /** Records this gateway has read from its feed since it started, page by page: the full sync's progress while it runs. */
  records: number;
  error?: { system: string; code: string; message: string };
}

export interface SyncOptions {
  engine: WorkflowEngine;
  feeds: SyncFeeds;
  intervalMs: number;
  /** The identity subgraph's URL and each system's: which deployment the round ids belong to. */
  deployment: string;
  log: Logger;
  /** The clock rounds are numbered by; default Date.now. */
  now?: () => number;
  /** How long a finished round's workflow record is kept (default: an hour, or ten intervals when longer). */
  roundRetentionMs?: number;
}

export class SyncScheduler {
  /** What each system's rounds ended with; records and lag are derived when reported. */
  private readonly status = new Map<SystemName, Omit<SyncStatus, 'records' | 'lagMs'>>();
  private readonly prefix: string;
  private readonly now: () => number;
  private stopped = false;
  private readonly wake = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private fullDone!: Promise<void>;
  /** When finished rounds were last deleted (see prune). */
  private prunedAt = -Infinity;
  /** How long a finished round's workflow record is kept: an hour, or ten intervals when those are longer. */
  private readonly retentionMs: number;
  /** Each system's latest round, so that the next waits for it. */
  private readonly chains = new Map<SystemName, Promise<void>>();

  constructor(private readonly opts: SyncOptions) {
    this.prefix = `canon.sync.${createHash('sha256').update(opts.deployment).digest('hex').slice(0, 12)}`;
    this.now = opts.now ?? Date.now;
    this.retentionMs = opts.roundRetentionMs ?? Math.max(3_600_000, 10 * opts.intervalMs);
    for (const system of SYSTEMS) this.status.set(system, { system, ok: true, cursor: null, lastSyncAt: null, fullSync: false });
  }

  /** Starts one loop per system: its rounds one after another, each at the next interval. */
  start(): void {
    const firsts = SYSTEMS.map((system) => new Promise<void>((resolve) => this.loops.push(this.loop(system, resolve))));
    this.fullDone = Promise.all(firsts).then(() => undefined);
  }

  /** Resolves once every system's full sync is done (right away for systems synced before a restart). */
  fullSyncDone(): Promise<void> {
    return this.fullDone;
  }

  get started(): boolean {
    return SYSTEMS.every((s) => this.status.get(s)!.fullSync);
  }

  report(): SyncStatus[] {
    const at = this.now();
    return SYSTEMS.map((s) => {
      const st = this.status.get(s)!;
      return { ...st, records: this.opts.feeds.delivered(s), lagMs: st.lastSyncAt ? Math.max(0, at - Date.parse(st.lastSyncAt)) : null };
    });
  }

  /**
   * Runs one round of every system now, after any round of it already running, and answers when all have ended
   * (how each ended is in report()). For operators and tests that cannot wait for the next interval.
   */
  async syncNow(): Promise<void> {
    await Promise.all(SYSTEMS.map((system) => this.runRound(system, `${this.prefix}.${system}.now.${randomUUID()}`)));
  }

  /**
   * Deletes the workflow records of rounds that ended more than `roundRetentionMs` ago (at most once a minute): a
   * round every few seconds per system would otherwise grow the workflow database without end (69,000 rounds a day at
   * the default interval). What a round did is
   * kept where it matters, in the identity store (records, cursor, sync state).
   */
  private async prune(): Promise<void> {
    const at = this.now();
    if (at - this.prunedAt < Math.min(60_000, this.retentionMs)) return;
    this.prunedAt = at;
    try {
      const old = await DBOS.listWorkflows({ workflowName: 'canon.sync', status: ['SUCCESS', 'ERROR'], completedBefore: new Date(at - this.retentionMs).toISOString(), limit: 1000 });
      if (old.length) await DBOS.deleteWorkflows(old.map((w) => w.workflowID));
    } catch (e) {
      this.opts.log.warn({ component: 'sync', error: (e as Error).message }, 'could not delete finished sync rounds');
    }
  }

  /** One round of `system` under the workflow id `id`, queued behind the system's round in progress. */
  private runRound(system: SystemName, id: string): Promise<void> {
    const run = (this.chains.get(system) ?? Promise.resolve()).then(async () => {
      if (this.stopped) return;
      try {
        const handle = await this.opts.engine.start(round, id, [this.opts.engine.key, system]);
        this.record(system, await handle.getResult());
        await this.prune();
      } catch (e) {
        if (this.stopped) return;
        this.record(system, { ok: false, system, code: 'SYSTEM_ERROR', message: (e as Error).message, records: 0, cursor: this.status.get(system)!.cursor, fullSynced: false });
      }
    });
    this.chains.set(system, run);
    return run;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const w of this.wake) w();
    await Promise.allSettled(this.loops);
  }

  private async loop(system: SystemName, fullSynced: () => void): Promise<void> {
    // A round this gateway left unfinished (killed mid-way) is resumed by DBOS as it starts: wait for it first.
    await this.unfinished(system);
    while (!this.stopped) {
      const n = Math.floor(this.now() / this.opts.intervalMs);
      await this.runRound(system, `${this.prefix}.${system}.${n}`);
      if (this.stopped) return;
      if (this.status.get(system)!.fullSync) fullSynced();
      await this.until((n + 1) * this.opts.intervalMs);
    }
  }

  private async unfinished(system: SystemName): Promise<void> {
    try {
      // By its input (runtime key and system) rather than its id: after a restart the stack's URLs may differ.
      const pending = await DBOS.listWorkflows({ workflowName: 'canon.sync', status: ['PENDING', 'ENQUEUED'], loadInput: true });
      for (const w of pending) {
        if (w.input?.[0] !== this.opts.engine.key || w.input?.[1] !== system) continue;
        this.record(system, await DBOS.retrieveWorkflow<RoundOutcome>(w.workflowID).getResult());
      }
    } catch (e) {
      this.opts.log.warn({ component: 'sync', system, error: (e as Error).message }, 'could not wait for an unfinished sync round');
    }
  }

  private record(system: SystemName, outcome: RoundOutcome): void {
    const st = this.status.get(system)!;
    if (outcome.ok) {
      Object.assign(st, { ok: true, cursor: outcome.cursor, lastSyncAt: new Date(this.now()).toISOString(), fullSync: true, error: undefined });
      if (outcome.full) this.opts.log.info({ component: 'sync', system, records: outcome.records }, 'full sync done');
    } else {
      Object.assign(st, { ok: false, cursor: outcome.cursor ?? st.cursor, fullSync: st.fullSync || outcome.fullSynced, error: { system: outcome.system, code: outcome.code, message: outcome.message } });
      this.opts.log.warn({ component: 'sync', system, failed: outcome.system, code: outcome.code }, 'sync round failed; the cursor stays where it was');
    }
  }

  /** Waits until the clock reaches `at`, or the scheduler stops. */
  private until(at: number): Promise<void> {
    const ms = Math.max(0, at - this.now());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
