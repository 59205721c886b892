// Re-runs the steps of a recorded write that the retry plan names, with the keys they carried, and records the result on the same operation.
//
// Guarantees: retries of one operation run one at a time (in process, or across gateways through Redis); only the
// steps `retryPlan` names are sent; a step sent first without a key gets one derived from the operation id, so its
// system can recognise this retry and any after it.

import { ErrorCode } from '../../schema/errors.js';
import type { SystemName } from '../../schema/model.js';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';
import type { Ledger, LedgerStep, OperationRecord } from '../operations/ledger.js';
import { retryPlan } from '../operations/retry-plan.js';
import type { WorkflowEngine } from '../workflows/engine.js';
import { startRetry } from '../workflows/write.js';
import { stepKey, type StepRunner, type WriteStep } from './steps.js';

export interface RetryDeps {
  runner: StepRunner;
  ledger: Ledger;
  /** Serialises retries of one operation. */
  lock: RecordLock;
  engine: WorkflowEngine;
}

/** Refused: an unknown operation, a query, or one still running (`retryable`: ask again once it has ended). */
export type RetryOutcome = { ok: true; operation: OperationRecord } | { ok: false; code: ErrorCode; message: string; retryable: boolean };

/** A recorded step as a step to run again. */
function writeStep(s: LedgerStep): WriteStep {
  return {
    system: s.system as SystemName,
    action: s.action as WriteStep['action'],
    nativeId: s.nativeId ?? '',
    input: s.input ?? {},
    expectedVersion: s.expectedVersion,
    status: s.status,
    attempts: s.attempts,
    error: s.error,
    result: s.result,
    idempotencyKey: s.idempotencyKey,
    durationMs: s.durationMs,
    ...(s.items ? { items: s.items.map((i) => ({ ...i })) } : {}),
  };
}

/** Retries operation `id`; `traceId` is the retry's own trace, kept on the operation. Nothing to retry: the operation as it is. */
export function retryOperation(id: string, traceId: string | null, deps: RetryDeps): Promise<RetryOutcome> {
  return deps.lock.run(`operation:${id}`, async (): Promise<RetryOutcome> => {
    const op = await deps.ledger.get(id);
    if (!op) return { ok: false, code: ErrorCode.NOT_FOUND, message: `No operation with id "${id}".`, retryable: false };
    const plan = retryPlan(op, Date.now());
    if (plan.refusal) return { ok: false, code: plan.refusal, message: plan.reason!, retryable: plan.refusal === ErrorCode.IDEMPOTENCY_IN_PROGRESS };
    if (!plan.possible) return { ok: true, operation: op };
    const steps = op.steps.map(writeStep);
    for (const i of plan.steps) {
      const s = steps[i]!;
      steps[i] = { ...s, idempotencyKey: s.idempotencyKey ?? stepKey(`op-${op.id}`, s.system, s.action) };
    }
    // One more run of the operation's workflow (`<id>.r<n>`); an app replaying its key later finds these steps
    // succeeded and does not send them again.
    return { ok: true, operation: await startRetry(deps.engine, op, steps, plan.steps, traceId) };
  });
}
