// canon's writes as durable workflows: updateCustomer and openTicket (one step per owning system, in parallel), their queued form, and retryOperation.
//
// A workflow here only decides; every call to a system is a DBOS step (its outcome checkpointed) carrying its
// derived idempotency key, since a step interrupted by a crash runs again. Workflow code reads neither the clock
// nor the ledger to decide: what a run must send is in its input, fixed before it starts.
// Guarantees: a workflow id names one run (the operation id, then `<id>.r<n>`): starting it again joins it; the
// ledger record is the workflow's projection, saved as steps end (whole-record upserts, so a replay rewrites
// the same record); a queued step runs on its system's queue and is retried durably, honouring Retry-After.

import { DBOS } from '@dbos-inc/dbos-sdk';
import type { Ledger, OperationRecord } from '../operations/ledger.js';
import { recordRetry, Recorder, type OperationMeta, type StepState } from '../operations/recorder.js';
import type { NativeIds, WriteStep } from '../writes/steps.js';
import { OPERATIONS_QUEUE, systemQueue, type WorkflowEngine } from './engine.js';
import { queuedRetryDelayMs, runtimeOf, type WorkflowRuntime } from './runtime.js';
import { startPropagation } from './propagate.js';
import { versionStamp } from '../../subgraphs/identity/copies.js';

export interface WriteRun {
  /** The runtime key (runtime.ts). */
  runtime: string;
  meta: OperationMeta;
  /** The steps to send; those already SUCCEEDED (an earlier run's) are kept as they are. */
  steps: WriteStep[];
  /** The customer's native ids the plan read from identity: handed to the propagations the write starts. */
  nativeIds?: NativeIds;
}

export interface WriteResult {
  operationId: string;
  steps: WriteStep[];
}

export const stepName = (s: WriteStep) => s.name ?? `${s.system}.${s.action}`;

/** One call of a step to its system, as a DBOS step: its outcome (never a throw) is what DBOS checkpoints. */
function sendStep(rt: WorkflowRuntime, step: WriteStep): Promise<WriteStep> {
  return DBOS.runStep(async () => ({ ...(await rt.runner.run(step)), startedAt: new Date().toISOString() }), { name: stepName(step) });
}

/**
 * A queued step: sent from its system's queue, and sent again after a retryable failure (only under a key) after a
 * durable pause (a restart does not lose it) that doubles each time, or the system's Retry-After if longer.
 */
async function queuedStepWorkflow(runtime: string, step: WriteStep): Promise<WriteStep> {
  const rt = runtimeOf(runtime);
  let current = step;
  for (let run = 1; ; run++) {
    current = await sendStep(rt, current);
    if (current.status === 'SUCCEEDED' || !current.error?.retryable || !current.idempotencyKey || current.attempts >= rt.settings.queuedMaxAttempts) return current;
    await DBOS.sleep(queuedRetryDelayMs(rt, run, current.error));
  }
}
const queuedStep = DBOS.registerWorkflow(queuedStepWorkflow, { name: 'canon.queuedStep' });

/**
 * updateCustomer, openTicket and bulkUpdateCustomers: every step not yet succeeded sent in parallel, the record kept
 * up to date as each ends.
 *
 * Why the order: DBOS numbers a workflow's calls as they are made and a replay must make them in the same order, so
 * every call is started (synchronously, in step order) before any is awaited, and queued steps' results, which are
 * themselves numbered calls, are read in step order; the record's saves are not DBOS calls and follow each end.
 */
async function writeWorkflow(run: WriteRun): Promise<WriteResult> {
  const rt = runtimeOf(run.runtime);
  const recorder = new Recorder(rt.ledger, { ...run.meta, run: DBOS.workflowID ?? run.meta.operationId });
  const steps = run.steps.map((s) => ({ ...s }));
  const id = DBOS.workflowID!;
  await recorder.begin(steps);
  const ended = async (i: number, step: WriteStep) => {
    steps[i] = step;
    await recorder.progress(steps);
  };
  if (run.meta.mode === 'QUEUED') {
    const children = steps.map((s, i) =>
      s.status === 'SUCCEEDED' ? null : DBOS.startWorkflow(queuedStep, { workflowID: `${id}.${s.system}.${s.action}${s.items ? `.${i + 1}` : ''}`, queueName: systemQueue(s.system) })(run.runtime, s),
    );
    // Read as often as the queues look for work: DBOS's own default, once a second, kept every queued operation
    // PENDING up to a second after its step had ended, holding a place on the operations queue all that time.
    const polled = { pollingIntervalMs: rt.settings.queuePollMs };
    for (const [i, child] of children.entries()) if (child) await ended(i, await (await child).getResult(polled));
  } else {
    await Promise.all(steps.map(async (s, i) => (s.status === 'SUCCEEDED' ? undefined : ended(i, await sendStep(rt, s)))));
  }
  await propagateOwnerWrites(run.runtime, run.meta.customerId, steps, run.nativeIds ?? null);
  return { operationId: recorder.id, steps };
}

/**
 * Each field an owner step wrote, propagated to its copies (propagate.ts), stamped with the owner's new version.
 * The owner's feed shows the same change later under the same stamp, and then joins this propagation. The native
 * ids the write was planned with go along, so the propagation does not ask identity for them a second time.
 */
async function propagateOwnerWrites(runtime: string, customerId: string | null, steps: readonly WriteStep[], nativeIds: NativeIds | null): Promise<void> {
  if (!customerId) return;
  for (const s of steps) {
    if (s.action !== 'updateCustomer' || s.status !== 'SUCCEEDED') continue;
    const stamp = versionStamp(s.system, s.result);
    if (stamp === null) continue;
    for (const [field, value] of Object.entries(s.input)) {
      // A field cleared (null, or empty text) clears its copies; an object (an address) has no copies.
      if (value === null || typeof value === 'string') await startPropagation(runtime, { customerId, field, owner: s.system, value: value || null, stamp, origin: 'write', ...(nativeIds ? { nativeIds } : {}) });
    }
  }
}
const write = DBOS.registerWorkflow(writeWorkflow, { name: 'canon.write' });

/** retryOperation: the steps the retry plan named sent again as one more run of the operation, then recorded with their history. */
async function retryWorkflow(runtime: string, op: OperationRecord, steps: WriteStep[], rerun: number[], traceId: string | null): Promise<OperationRecord> {
  const rt = runtimeOf(runtime);
  const out = steps.map((s) => ({ ...s }));
  await Promise.all(rerun.map(async (i) => void (out[i] = await sendStep(rt, out[i]!))));
  return recordRetry(rt.ledger, op, out, out.map((_, i) => rerun.includes(i)), traceId, DBOS.workflowID);
}
const retry = DBOS.registerWorkflow(retryWorkflow, { name: 'canon.retry' });

/** The id of the next run of an operation: `<id>.r<n>` after `n` runs. */
export function nextRunId(op: OperationRecord): string {
  return `${op.id}.r${(op.runs ?? [op.id]).length}`;
}

/**
 * Which workflow run an operation's request belongs to: a new operation's first run; the run still going of one
 * left PENDING (a gateway died mid-way, and the app sends its key again): it joins; else the next run.
 */
async function runIdFor(ledger: Ledger, meta: OperationMeta): Promise<{ id: string; joins: boolean }> {
  const existing = meta.idempotencyKey ? await ledger.get(meta.operationId) : null;
  if (!existing || !existing.runs?.length) return { id: meta.operationId, joins: false };
  if (existing.status === 'PENDING') return { id: existing.runs.at(-1)!, joins: true };
  return { id: nextRunId(existing), joins: false };
}

export type StartedWrite = { done: true; result: WriteResult } | { done: false; operationId: string; steps: WriteStep[] };

/**
 * Starts an operation's workflow run `fn(input with meta.run)`: REALTIME waits for it up to `realtimeWaitMs`;
 * QUEUED puts it on the operations queue and answers at once. Either way a workflow not done yet goes on by itself.
 *
 * Why this order: a new operation's workflow is started (durably) before the request writes its first record, and
 * that record is written only if the workflow has not written its own, so a crash in between leaves a workflow
 * that recovery finishes and records, never a PENDING record with no workflow behind it.
 */
export async function startOperation<I extends { meta: OperationMeta }, R>(
  engine: WorkflowEngine,
  fn: (input: I) => Promise<R>,
  input: I,
  steps: readonly StepState[],
): Promise<{ done: true; result: R } | { done: false }> {
  const rt = runtimeOf(engine.key);
  const { id, joins } = await runIdFor(rt.ledger, input.meta);
  const meta = { ...input.meta, run: id };
  const recorder = new Recorder(rt.ledger, meta);
  // A later run of a recorded operation shows PENDING again before it starts (the record is there already).
  const continues = !joins && id !== meta.operationId;
  if (continues) await recorder.begin(steps);
  const handle = await engine.start(fn, id, [{ ...input, meta }], meta.mode === 'QUEUED' ? OPERATIONS_QUEUE : undefined);
  if (!joins && !continues) await recorder.beginIfAbsent(steps);
  if (meta.mode === 'QUEUED') return { done: false };
  return engine.wait(handle, rt.settings.realtimeWaitMs);
}

/** Runs a planned write as a workflow (see startOperation). */
export async function startWrite(engine: WorkflowEngine, run: WriteRun): Promise<StartedWrite> {
  const r = await startOperation(engine, write, run, run.steps);
  return r.done ? { done: true, result: r.result } : { done: false, operationId: run.meta.operationId, steps: run.steps };
}

/** Runs retryOperation's steps as the operation's next run and waits for the record it leaves. */
export async function startRetry(engine: WorkflowEngine, op: OperationRecord, steps: WriteStep[], rerun: number[], traceId: string | null): Promise<OperationRecord> {
  const handle = await engine.start(retry, nextRunId(op), [engine.key, op, steps, rerun, traceId]);
  return handle.getResult();
}
