// Runs one canonical write as a recorded operation: planned, then each step sent to its owner, every outcome in the ledger as it lands.
//
// A write here is an ordinary function of plain inputs (the operation's identity, its plan) that returns its
// outcome; it reads nothing of a GraphQL request, so a durable workflow engine can run the same steps later.
// Guarantees: a refused plan is recorded FAILED with its reason and no system is called; under an idempotency key,
// a run that continues an earlier one (`meta.resume`) does not send again the steps the ledger recorded as succeeded.

import { SystemError } from '../../subgraphs/kit/system-error.js';
import type { Ledger } from '../operations/ledger.js';
import { Recorder, type OperationMeta } from '../operations/recorder.js';
import type { Plan, Refusal } from './plans.js';
import type { StepRunner, WriteStep } from './steps.js';

export type WriteOutcome = { ok: true; operationId: string; steps: WriteStep[] } | { ok: false; operationId: string; refusal: Refusal };

export interface WriteDeps {
  runner: StepRunner;
  ledger: Ledger;
}

/** A refusal as the ledger records it. */
function refusalRecord(r: Refusal): { code: string; message: string; retryable: boolean } {
  return { code: r.code, message: r.message, retryable: r instanceof SystemError ? r.retryable : false };
}

export async function runWrite(meta: OperationMeta, plan: () => Promise<Plan>, deps: WriteDeps): Promise<WriteOutcome> {
  const recorder = new Recorder(deps.ledger, meta);
  const planned = await plan();
  if (!planned.ok) {
    await recorder.failed(refusalRecord(planned.refusal));
    return { ok: false, operationId: recorder.id, refusal: planned.refusal };
  }
  const steps = planned.steps;
  const prior = meta.resume ? await recorder.priorSteps() : [];
  for (const [i, s] of steps.entries()) {
    const done = prior.find((p) => p.system === s.system && p.action === s.action && p.status === 'SUCCEEDED');
    if (done) steps[i] = { ...s, status: 'SUCCEEDED', result: done.result, attempts: done.attempts, durationMs: done.durationMs };
  }
  await recorder.begin(steps);
  await Promise.all(
    steps.map(async (s, i) => {
      if (s.status === 'SUCCEEDED') return;
      steps[i] = await deps.runner.run(s);
      await recorder.progress(steps);
    }),
  );
  return { ok: true, operationId: recorder.id, steps };
}
