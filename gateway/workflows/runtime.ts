// What a workflow reaches while it runs: the gateway's step runner, ledger and settings, looked up by the runtime key the workflow carries in its input.
//
// Why a registry: DBOS calls a workflow function with its stored input only (after a restart, long after the
// request that started it), so the live objects it needs are found here by name, never passed in. The key is the
// gateway's data directory: a process restarted on the same data finds its workflows' runtime under the same key.

import type { Logger } from 'pino';
import type { WorkflowSettings } from '../config.js';
import type { Ledger } from '../operations/ledger.js';
import type { StepRunner } from '../writes/steps.js';
import type { SyncFeeds } from '../sync/feeds.js';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';

export interface WorkflowRuntime {
  runner: StepRunner;
  ledger: Ledger;
  settings: WorkflowSettings;
  log: Logger;
  /** What sync rounds read and store with (gateway/sync/); absent in a gateway that syncs nothing. */
  sync?: SyncFeeds;
  /** The write lock propagation takes per copy record (in process, or Redis across gateways). */
  lock?: RecordLock;
}

const runtimes = new Map<string, WorkflowRuntime>();

export function registerRuntime(key: string, runtime: WorkflowRuntime): void {
  runtimes.set(key, runtime);
}

export function unregisterRuntime(key: string): void {
  runtimes.delete(key);
}

/** The runtime of `key`; throws when none is registered (a workflow recovered by a process that has not started its gateway). */
export function runtimeOf(key: string): WorkflowRuntime {
  const rt = runtimes.get(key);
  if (!rt) throw new Error(`No workflow runtime is registered under "${key}": the gateway that owns these workflows has not started in this process.`);
  return rt;
}

/**
 * The durable pause before a queued call's `run`+1-th send: QUEUED_RETRY_DELAY_MS doubled each time, or the
 * system's Retry-After if longer.
 */
export function queuedRetryDelayMs(rt: WorkflowRuntime, run: number, error: { retryAfterSeconds?: number } | null): number {
  return Math.max(rt.settings.queuedRetryDelayMs * 2 ** (run - 1), (error?.retryAfterSeconds ?? 0) * 1000);
}
