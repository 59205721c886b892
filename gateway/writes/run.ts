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

export async function runWrite(meta: OperationMeta, plan: () => Promise<Plan>, deps: WriteDeps): Promise<WriteOutcome> {
  const planned = await plan();
  if (!planned.ok) {
    const recorder = new Recorder(deps.ledger, meta);
    await recorder.failed(refusalRecord(planned.refusal));
    return { ok: false, operationId: recorder.id, refusal: planned.refusal };
  }
  const steps = planned.steps;
  const prior = meta.resume ? await new Recorder(deps.ledger, meta).priorSteps() : [];
  for (const [i, s] of steps.entries()) {
    const done = prior.find((p) => p.system === s.system && p.action === s.action && p.status === 'SUCCEEDED');
    if (done) steps[i] = { ...s, status: 'SUCCEEDED', result: done.result, attempts: done.attempts, durationMs: done.durationMs };
  }
  const started = await startWrite(deps.engine, { runtime: deps.engine.key, meta, steps });
  return started.done ? { ok: true, ...started.result } : { ok: true, operationId: started.operationId, steps: started.steps };
}
