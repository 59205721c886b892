// Runs one canonical write as a recorded operation: planned in the request, then its steps run as a durable workflow (gateway/workflows/write.ts).
//
// Guarantees: a refused plan is recorded FAILED with its reason, no system is called and nothing is enqueued (so
// QUEUED refuses bad input at once, like REALTIME); under an idempotency key, a run that continues an earlier one
// (`meta.resume`) does not send again the steps the ledger recorded as succeeded. The steps returned are those
// the workflow ended with, or the planned ones, PENDING, when it has not ended (QUEUED, or REALTIME past its wait).

import { SystemError } from '../../subgraphs/kit/system-error.js';
import type { Ledger } from '../operations/ledger.js';
import { Recorder, type OperationMeta } from '../operations/recorder.js';
import type { WorkflowEngine } from '../workflows/engine.js';
import { startWrite } from '../workflows/write.js';
import type { Plan, Refusal } from './plans.js';
import type { StepRunner, WriteStep } from './steps.js';

export type WriteOutcome = { ok: true; operationId: string; steps: WriteStep[] } | { ok: false; operationId: string; refusal: Refusal };

export interface WriteDeps {
  runner: StepRunner;
  ledger: Ledger;
  engine: WorkflowEngine;
}

/** A refusal as the ledger records it. */
function refusalRecord(r: Refusal): { code: string; message: string; retryable: boolean } {
  return { code: r.code, message: r.message, retryable: r instanceof SystemError ? r.retryable : false };
}

/** Records a write refused before any system was called (FAILED, with its reason); the operation's id. */
export async function recordRefusal(meta: OperationMeta, refusal: Refusal, ledger: Ledger): Promise<string> {
  const recorder = new Recorder(ledger, meta);
  await recorder.failed(refusalRecord(refusal));
  return recorder.id;
}

export async function runWrite(meta: OperationMeta, plan: () => Promise<Plan>, deps: WriteDeps): Promise<WriteOutcome> {
  const planned = await plan();
  if (!planned.ok) return { ok: false, operationId: await recordRefusal(meta, planned.refusal, deps.ledger), refusal: planned.refusal };
  const steps = planned.steps;
  const prior = meta.resume ? await new Recorder(deps.ledger, meta).priorSteps() : [];
  for (const [i, s] of steps.entries()) {
    // The same step of the earlier run: the one that carried the same key (a bulk write has several per system).
    const before = prior.find((p) => (s.idempotencyKey ? p.idempotencyKey === s.idempotencyKey : p.system === s.system && p.action === s.action));
    if (before?.status === 'SUCCEEDED') steps[i] = { ...s, status: 'SUCCEEDED', result: before.result, attempts: before.attempts, durationMs: before.durationMs, ...(before.items ? { items: before.items } : {}) };
    // Records an earlier run wrote are not sent again.
    else if (before?.items && s.items) steps[i] = { ...s, items: s.items.map((item, j) => (before.items![j]?.status === 'SUCCEEDED' ? { ...item, status: 'SUCCEEDED' } : item)) };
  }
  const started = await startWrite(deps.engine, { runtime: deps.engine.key, meta, steps, ...(planned.nativeIds ? { nativeIds: planned.nativeIds } : {}) });
  return started.done ? { ok: true, ...started.result } : { ok: true, operationId: started.operationId, steps: started.steps };
}
