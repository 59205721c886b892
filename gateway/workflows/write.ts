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
import { recordRetry, Recorder, type OperationMeta } from '../operations/recorder.js';
import type { WriteStep } from '../writes/steps.js';
import { OPERATIONS_QUEUE, systemQueue, type WorkflowEngine } from './engine.js';
import { runtimeOf, type WorkflowRuntime } from './runtime.js';

export interface WriteRun {
  /** The runtime key (runtime.ts). */
  runtime: string;
  meta: OperationMeta;
  /** The steps to send; those already SUCCEEDED (an earlier run's) are kept as they are. */
  steps: WriteStep[];
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
  const { queuedMaxAttempts, queuedRetryDelayMs } = rt.settings;
  let current = step;
  for (let run = 1; ; run++) {
    current = await sendStep(rt, current);
    if (current.status === 'SUCCEEDED' || !current.error?.retryable || !current.idempotencyKey || current.attempts >= queuedMaxAttempts) return current;
    await DBOS.sleep(Math.max(queuedRetryDelayMs * 2 ** (run - 1), (current.error.retryAfterSeconds ?? 0) * 1000));
  }
}
const queuedStep = DBOS.registerWorkflow(queuedStepWorkflow, { name: 'canon.queuedStep' });

/** updateCustomer and openTicket: every step not yet succeeded sent in parallel, the record kept up to date as each ends. */
async function writeWorkflow(run: WriteRun): Promise<WriteResult> {
  const rt = runtimeOf(run.runtime);
  const recorder = new Recorder(rt.ledger, { ...run.meta, run: DBOS.workflowID ?? run.meta.operationId });
  const steps = run.steps.map((s) => ({ ...s }));
  const id = DBOS.workflowID!;
  await recorder.begin(steps);
  await Promise.all(
    steps.map(async (s, i) => {
      if (s.status === 'SUCCEEDED') return;
      if (run.meta.mode === 'QUEUED') {
        const child = await DBOS.startWorkflow(queuedStep, { workflowID: `${id}.${s.system}.${s.action}`, queueName: systemQueue(s.system) })(run.runtime, s);
        steps[i] = await child.getResult();
      } else {
        steps[i] = await sendStep(rt, s);
      }
      await recorder.progress(steps);
    }),
  );
  return { operationId: recorder.id, steps };
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
 * Runs a planned write as a workflow. REALTIME waits for it up to `realtimeWaitMs`; QUEUED records it PENDING and
 * puts it on the operations queue, answering at once. Either way a workflow not done yet goes on by itself.
 */
export async function startWrite(engine: WorkflowEngine, run: WriteRun): Promise<StartedWrite> {
  const rt = runtimeOf(run.runtime);
  const { id, joins } = await runIdFor(rt.ledger, run.meta);
  const meta = { ...run.meta, run: id };
  if (!joins) await new Recorder(rt.ledger, meta).begin(run.steps);
  const handle = await engine.start(write, id, [{ ...run, meta }], run.meta.mode === 'QUEUED' ? OPERATIONS_QUEUE : undefined);
  const pending: StartedWrite = { done: false, operationId: run.meta.operationId, steps: run.steps };
  if (run.meta.mode === 'QUEUED') return pending;
  const r = await engine.wait(handle, rt.settings.realtimeWaitMs);
  return r.done ? { done: true, result: r.result } : pending;
}

/** Runs retryOperation's steps as the operation's next run and waits for the record it leaves. */
export async function startRetry(engine: WorkflowEngine, op: OperationRecord, steps: WriteStep[], rerun: number[], traceId: string | null): Promise<OperationRecord> {
  const handle = await engine.start(retry, nextRunId(op), [engine.key, op, steps, rerun, traceId]);
  return handle.getResult();
}
