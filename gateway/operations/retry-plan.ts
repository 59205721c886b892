// Which steps of a recorded operation a retry sends again, and why none when none: the one rule retryOperation, the Operation.retry field, the console and the idempotent replay all follow.
//
// Guarantee: `retryPlan` is a pure function of the record and the clock: the same record at the same moment gives
// the same plan, so what the console offers is exactly what retryOperation does.

import { ErrorCode } from '../../schema/errors.js';
import type { LedgerStep, OperationRecord } from './ledger.js';

/**
 * How long a PENDING operation may go untouched before it counts as interrupted (its gateway stopped mid-way):
 * longer than a write step's whole budget (subgraph call budget, default 10 s) with a wide margin.
 */
export const INTERRUPTED_AFTER_MS = 2 * 60_000;

export interface RetryPlan {
  /** Whether a retry would send anything. */
  possible: boolean;
  /** Why not, for an operation that did not succeed; null when a retry is possible or nothing failed. */
  reason: string | null;
  /** Set when retryOperation must refuse outright rather than answer the operation unchanged. */
  refusal: typeof ErrorCode.BAD_USER_INPUT | typeof ErrorCode.IDEMPOTENCY_IN_PROGRESS | null;
  /** Positions in `op.steps` of the steps a retry sends again, in order. */
  steps: number[];
}

const none = (reason: string | null, refusal: RetryPlan['refusal'] = null): RetryPlan => ({ possible: false, reason, refusal, steps: [] });

/**
 * Only failed steps whose error a retry may fix are sent again; a step refused for good (STALE_WRITE, bad input)
 * needs a fresh read, not a retry. A PENDING operation touched recently is still running somewhere; one untouched
 * for longer than any write takes (`INTERRUPTED_AFTER_MS`) was left by a gateway that stopped, and its PENDING
 * steps are sent again like failed ones. Steps that succeeded are never sent again.
 */
export function retryPlan(op: OperationRecord, now: number): RetryPlan {
  if (op.kind !== 'mutation') return none(`Operation ${op.id} is a ${op.kind}; only writes are retried: the app sends a read again itself.`, ErrorCode.BAD_USER_INPUT);
  // Onboarding's steps depend on each other and wait durably for hours: it is resumed whole, never step by step.
  if (op.workflow === 'onboardCustomer' && op.status !== 'SUCCEEDED') {
    return none(`Operation ${op.id} is an onboarding: it is not retried step by step. Send onboardCustomer again; its steps find the records an earlier run created.`, ErrorCode.BAD_USER_INPUT);
  }
  // A copy write is sent only under its copy's lock after its claim (gateway/propagation/ordering.ts); a retry
  // sending it again outside that could overwrite a later owner change. Its steps retry from their queues already.
  if (op.workflow === 'propagate' && op.status !== 'SUCCEEDED') {
    return none(`Operation ${op.id} is a propagation: its copy writes were retried from their queues. The owner's next change writes the copy again (and a copy under ENFORCE is set back when it drifts).`, ErrorCode.BAD_USER_INPUT);
  }
  const interrupted = op.status === 'PENDING' && now - Date.parse(op.updatedAt) > INTERRUPTED_AFTER_MS;
  if (op.status === 'PENDING' && !interrupted) return none(`Operation ${op.id} is still running (PENDING); retry it once it has ended.`, ErrorCode.IDEMPOTENCY_IN_PROGRESS);
  if (op.status === 'SUCCEEDED') return none(null);
  const again = (s: LedgerStep) => (Boolean(s.nativeId) || Boolean(s.items?.length)) && ((s.status === 'FAILED' && s.error?.retryable === true) || (interrupted && s.status === 'PENDING'));
  const steps = op.steps.flatMap((s, i) => (again(s) ? [i] : []));
  if (steps.length > 0) return { possible: true, reason: null, refusal: null, steps };
  if (op.steps.every((s) => s.status === 'SUCCEEDED')) return none('Nothing to retry: no system was called. Correct the request and send it again.');
  return none('Nothing to retry: the failed steps were refused for good (e.g. STALE_WRITE, bad input). Read the customer again and send a new write.');
}
