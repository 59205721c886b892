// /health: whether every subgraph and every source system answers, as `ok` or `degraded` with each one named; `starting` until the first full sync is done; the identity store in numbers, each system's sync, and the work waiting on each workflow queue.

export interface SyncHealth {
  system: string;
  ok: boolean;
  cursor: string | null;
  lastSyncAt: string | null;
  lagMs: number | null;
  /** Records this gateway's rounds delivered; the full sync's progress while it runs. */
  records: number;
  /** What failed in its last round (the system, or identity), when it did; never a secret. */
  error?: { system: string; code: string; message: string };
}

/** One workflow queue: its workflows waiting for a place, and those running from it now (engine.ts). */
export interface QueueHealth {
  name: string;
  enqueued: number;
  running: number;
}

/** The queues' counts; `countedUpTo` is there when more workflows wait or run than were counted (the counts are then lower bounds). */
export interface QueuesHealth {
  queues: QueueHealth[];
  countedUpTo?: number;
}

export interface HealthReport {
  status: 'starting' | 'ok' | 'degraded';
  subgraphs: { name: string; url: string; ok: boolean }[];
  systems: { name: string; url: string; ok: boolean }[];
  identity?: { customers: number; records: number; pendingReview: number } | null;
  sync?: SyncHealth[];
  /** Where the workflow engine runs (with the sync): what waits on its queues, e.g. propagations behind a copy system's concurrency. */
  queues?: QueueHealth[];
  countedUpTo?: number;
}

export interface HealthTargets {
  /** Remote subgraphs with the URL of their /graphql endpoint; each is probed at its /health. */
  subgraphs: { name: string; url: string }[];
  /** Source systems with their base URL. */
  systems: { name: string; url: string }[];
  /** How the sync stands, when the gateway syncs (gateway/sync/sync.ts). */
  sync?: {
    started(): boolean;
    report(): SyncHealth[];
    /** The identity store's counts; null when identity does not answer. */
    identity(): Promise<{ customers: number; records: number; pendingReview: number } | null>;
  };
  /** The workflow queues' counts, where the engine runs here; null when they could not be read. */
  queues?: () => Promise<QueuesHealth | null>;
}

const PROBE_TIMEOUT_MS = 1000;

/** Any HTTP answer means the server is up; a refused or dropped connection or no answer in time means it is not. */
async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function health(targets: HealthTargets): Promise<HealthReport> {
  const [subgraphs, systems, identity, queues] = await Promise.all([
    Promise.all(targets.subgraphs.map(async (s) => ({ name: s.name, url: s.url, ok: await reachable(s.url.replace(/\/graphql$/, '/health')) }))),
    Promise.all(targets.systems.map(async (s) => ({ name: s.name, url: s.url, ok: await reachable(`${s.url}/`) }))),
    targets.sync?.identity() ?? Promise.resolve(undefined),
    targets.queues?.().catch(() => null) ?? Promise.resolve(undefined),
  ]);
  const sync = targets.sync?.report();
  const ok = subgraphs.every((s) => s.ok) && systems.every((s) => s.ok) && (sync ?? []).every((s) => s.ok);
  const status = targets.sync && !targets.sync.started() ? 'starting' : ok ? 'ok' : 'degraded';
  return { status, subgraphs, systems, ...(targets.sync ? { identity: identity ?? null, sync } : {}), ...(queues ?? {}) };
}
