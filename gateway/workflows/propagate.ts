// The `propagate` workflow: one owner change (a customer's field, the owner's value and version stamp) written to every copy the model declares for the field, each copy on its system's queue, never to the owner.
//
// Started by an owner write canon made (write.ts, after the owner's step succeeded), by an owner change a change
// feed showed (sync.ts), and, under the ENFORCE policy, by a copy that drifted (then only that copy is set back).
// Guarantees: the workflow id is derived from the change (`propagate.<customer>.<field>.<stamp>`), so canon's own
// owner write, seen again by the owner's feed, joins the run it started instead of making a second; each copy is
// written under its record's lock, only if no later owner change claimed it (propagation/ordering.ts), with the
// key `<operation id>:<system>:setCopies`; a copy whose write moves its record (a member's address) moves the
// record in identity's crosswalk too. The operation record is the workflow's projection, as for every workflow.

import { DBOS } from '@dbos-inc/dbos-sdk';
import type { SystemName } from '../../schema/model.js';
import { InProcessLock } from '../../subgraphs/kit/record-lock.js';
import { Recorder, type OperationMeta, type StepState } from '../operations/recorder.js';
import { writeIfNewest } from '../propagation/ordering.js';
import { copiesOf, copyMutation, MOVES_RECORD, nativeValues, unwritable, type CopyTarget } from '../propagation/plan.js';
import { stepError, type NativeIds, type StepError } from '../writes/steps.js';
import { OPERATIONS_QUEUE, systemQueue } from './engine.js';
import { queuedRetryDelayMs, runtimeOf, type WorkflowRuntime } from './runtime.js';

/** One owner change to propagate. */
export interface OwnerChange {
  customerId: string;
  field: string;
  owner: SystemName;
  /** The owner's value, as canon serves it; null when the owner holds none now (its copies are cleared) or one canon cannot read. */
  value: string | null;
  /** The owner's raw value when canon cannot read it (a phone that does not parse): no copy is written, each step says why. */
  unreadable?: string | null;
  /** The owner record's version stamp of the change (schema of subgraphs/identity/copies.ts versionStamp). */
  stamp: number;
  origin: 'write' | 'feed' | 'enforce';
  /** For `enforce`: the copy that drifted (only its system is written) and its version stamp then. */
  drifted?: { system: SystemName; stamp: number | null };
  /**
   * The customer's native ids, when the starter already read them from identity (a write canon made, planned
   * with them): then the workflow has no step of its own to read them. Part of the workflow's checkpointed input,
   * so a recovered run writes the same records.
   */
  nativeIds?: NativeIds;
}

/** The workflow id, and operation id, of a change's propagation. */
export function propagateId(c: OwnerChange): string {
  if (c.drifted) return `enforce.${c.customerId}.${c.field}.${c.drifted.system}.${c.drifted.stamp ?? c.stamp}`;
  return `propagate.${c.customerId}.${c.field}.${c.stamp}`;
}

const CLAIM = 'mutation($c: [CopyClaimInput!]!) { identityClaimCopies(claims: $c) }';
const MOVE = 'mutation($s: System!, $from: ID!, $to: ID!, $f: String!) { identityMoveRecord(system: $s, from: $from, to: $to, fields: $f) { id } }';

/** Writers of one process share this lock when the stack gave none (a runtime built by a test). */
const fallbackLock = new InProcessLock();

interface CopyWrite {
  runtime: string;
  change: OwnerChange;
  operationId: string;
  step: StepState;
}

/** One attempt of a copy's write: claim, send, move the record if it moved; the step's new state (never a throw). */
async function sendCopy(rt: WorkflowRuntime, w: CopyWrite, step: StepState): Promise<StepState> {
  const started = performance.now();
  const system = step.system as SystemName;
  const key = step.idempotencyKey;
  const at = { startedAt: new Date().toISOString(), attempts: step.attempts + 1 };
  const claim = { system, nativeId: step.nativeId!, field: w.change.field, value: w.change.value ?? '', stamp: w.change.stamp, operationId: w.operationId };
  try {
    const out = await writeIfNewest(
      {
        lock: rt.lock ?? fallbackLock,
        claim: async (c) => {
          const r = await rt.runner.call<{ identityClaimCopies: boolean[] }>('identity', CLAIM, { c: [{ ...c, system: c.system.toUpperCase() }] }, { idempotencyKey: `${key}:claim` });
          if (!r.ok) throw r.error;
          return r.data.identityClaimCopies[0] === true;
        },
        send: async (c) => {
          const m = copyMutation(system, [{ nativeId: c.nativeId, values: step.input as Record<string, string> }], key);
          const r = await rt.runner.call(m.subgraph, m.query, m.variables, { idempotencyKey: key });
          if (!r.ok) throw r.error;
          const [result] = m.results(r.data);
          const failed = result!.error;
          if (failed) throw Object.assign(new Error(failed.message), { stepError: { ...failed, retryAfterSeconds: failed.retryAfterSeconds ?? undefined } });
          const moved = MOVES_RECORD[system];
          if (moved && result!.nativeId !== c.nativeId) {
            const fields = JSON.stringify({ id: result!.nativeId, [moved]: (step.input as Record<string, string>)[moved] });
            const mv = await rt.runner.call('identity', MOVE, { s: system.toUpperCase(), from: c.nativeId, to: result!.nativeId, f: fields }, { idempotencyKey: `${key}:move` });
            if (!mv.ok) throw mv.error;
          }
          return result!.nativeId;
        },
      },
      claim,
    );
    const durationMs = Math.round(performance.now() - started);
    if (!out.sent) {
      const message = `Not run: a later change of ${w.change.field} in ${w.change.owner} claimed this copy; it writes the newer value.`;
      return { ...step, ...at, status: 'SKIPPED', durationMs, error: { code: 'PRECONDITION_FAILED', message, retryable: false } };
    }
    return { ...step, ...at, status: 'SUCCEEDED', durationMs, error: null, result: out.result };
  } catch (e) {
    const durationMs = Math.round(performance.now() - started);
    const err = (e as { stepError?: StepError }).stepError;
    const error: StepError = err ?? (e && typeof e === 'object' && 'code' in e && 'retryable' in e ? stepError(e as never) : { code: 'SYSTEM_UNAVAILABLE', message: (e as Error).message, retryable: true });
    const wait = error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {};
    return { ...step, ...at, status: 'FAILED', durationMs, error: { code: error.code, message: error.message, retryable: error.retryable, ...wait } };
  }
}

/**
 * One copy's write, sent again after a retryable failure after a durable pause (as write.ts's queued steps, the
 * system's Retry-After included); run from the copy's system queue.
 */
async function writeCopy(rt: WorkflowRuntime, w: CopyWrite): Promise<StepState> {
  let current = w.step;
  for (let run = 1; ; run++) {
    const before = current;
    current = await DBOS.runStep(() => sendCopy(rt, w, before), { name: current.name ?? `${current.system}.setCopies` });
    if (current.status !== 'FAILED' || !current.error?.retryable || current.attempts >= rt.settings.queuedMaxAttempts) return current;
    await DBOS.sleep(queuedRetryDelayMs(rt, run, current.error));
  }
}

/** A copy's write as a workflow of its own on its system's queue: for a propagation that writes several copies. */
async function copyWriteWorkflow(w: CopyWrite): Promise<StepState> {
  return writeCopy(runtimeOf(w.runtime), w);
}
const copyWrite = DBOS.registerWorkflow(copyWriteWorkflow, { name: 'canon.copyWrite' });

/** The copies a change writes: every copy of the field, or the drifted one alone. */
function targets(rt: WorkflowRuntime, c: OwnerChange) {
  return copiesOf(c.field, rt.settings.copyPolicies).filter((t) => !c.drifted || t.system === c.drifted.system);
}

/** Why a change is not written to a copy that exists (the owner's value is unreadable, or the copy cannot be empty), or null. */
function notWritten(change: OwnerChange, t: CopyTarget): string | null {
  if (change.unreadable) {
    return `Not run: ${change.owner} holds ${change.field} as ${JSON.stringify(change.unreadable)}, which canon cannot read; the ${t.system} copy keeps its value until it is corrected in ${change.owner}.`;
  }
  const required = change.value === null ? unwritable(t) : null;
  return required ? `Not run: ${change.field} was cleared in ${change.owner}, and ${t.system} cannot keep ${required} empty; the copy keeps its value.` : null;
}

/**
 * The system of the one copy a change writes, when that is known before its propagation starts (the starter gave
 * the native ids, and exactly one copy of the field has a record it is written to); null otherwise. Such a propagation runs on that
 * system's queue, under its concurrency, and writes the copy itself: a child workflow there would cost the engine
 * a second workflow, and the parent a poll for its result, for the same one write.
 */
function soleCopy(rt: WorkflowRuntime, c: OwnerChange): SystemName | null {
  if (!c.nativeIds) return null;
  const kept = targets(rt, c).filter((t) => c.nativeIds![t.system] && !notWritten(c, t));
  return kept.length === 1 ? kept[0]!.system : null;
}

/**
 * propagate: the customer's copy records (given, or read from identity), then one write per copy from its system's
 * queue (its own workflow, or this one when it is the sole copy), recorded as they end.
 */
async function propagateWorkflow(runtime: string, change: OwnerChange): Promise<StepState[]> {
  const rt = runtimeOf(runtime);
  const id = DBOS.workflowID!;
  const meta: OperationMeta = { operationId: id, name: 'propagate', traceId: null, app: null, idempotencyKey: null, resume: false, variables: change, customerId: change.customerId, workflow: 'propagate', mode: 'QUEUED', run: id };
  const recorder = new Recorder(rt.ledger, meta);
  const ids = change.nativeIds ??
    (await DBOS.runStep(
      async () => {
        const r = await rt.runner.nativeIds(change.customerId);
        if (!r.ok) throw r.error;
        return r.data;
      },
      { name: 'identity.nativeIds', retriesAllowed: true, intervalSeconds: 0.2, maxAttempts: 8 },
    ));
  const steps: StepState[] = targets(rt, change).map((t) => {
    const nativeId = ids?.[t.system] ?? null;
    const refused = nativeId ? notWritten(change, t) : `Not run: the customer has no ${t.system} record.`;
    return {
      name: `${t.system}.setCopies`,
      startedAt: null,
      system: t.system,
      action: 'setCopies',
      nativeId,
      input: nativeValues(t, change.value ?? ''),
      expectedVersion: null,
      status: refused ? 'SKIPPED' : 'PENDING',
      attempts: 0,
      durationMs: null,
      idempotencyKey: `${id}:${t.system}:setCopies`,
      error: refused ? { code: 'PRECONDITION_FAILED', message: refused, retryable: false } : null,
      result: null,
    };
  });
  await recorder.begin(steps);
  if (soleCopy(rt, change)) {
    // Exactly the step soleCopy found: the one target written, PENDING.
    const i = steps.findIndex((s) => s.status === 'PENDING');
    steps[i] = await writeCopy(rt, { runtime, change, operationId: id, step: steps[i]! });
    await recorder.progress(steps);
    return steps;
  }
  // Started in step order before any is awaited, and read back in that order: a replay makes the same calls.
  const children = steps.map((s) =>
    s.status === 'PENDING' ? DBOS.startWorkflow(copyWrite, { workflowID: `${id}.${s.system}`, queueName: systemQueue(s.system as SystemName) })({ runtime, change, operationId: id, step: s }) : null,
  );
  for (const [i, child] of children.entries()) {
    if (!child) continue;
    // Read as often as the queues look for work (write.ts says why).
    steps[i] = await (await child).getResult({ pollingIntervalMs: rt.settings.queuePollMs });
    await recorder.progress(steps);
  }
  if (!children.some(Boolean)) await recorder.progress(steps);
  return steps;
}
const propagate = DBOS.registerWorkflow(propagateWorkflow, { name: 'canon.propagate' });

/**
 * Starts the propagation of `change` on the operations queue (its sole copy's system queue, see soleCopy), from
 * inside a workflow (write.ts, sync.ts), so that the start is itself durable. A change whose propagation already
 * started (same id) joins it: a feed's change that canon's own write started is left to that run, checked first,
 * since the write may have put it on another queue (DBOS would join it all the same, with a warning).
 */
export async function startPropagation(runtime: string, change: OwnerChange): Promise<void> {
  const rt = runtimeOf(runtime);
  if (!rt.settings.propagateCopies || !targets(rt, change).length) return;
  const workflowID = propagateId(change);
  // Read inside a step: called straight from the sync workflow, DBOS's recorded status read hung the round on the embedded pool.
  if (change.origin === 'feed' && (await DBOS.runStep(async () => (await DBOS.getWorkflowStatus(workflowID)) !== null, { name: 'propagate.started' }))) return;
  const sole = soleCopy(rt, change);
  await DBOS.startWorkflow(propagate, { workflowID, queueName: sole ? systemQueue(sole) : OPERATIONS_QUEUE })(runtime, change);
}

/** Whether a drifted copy is set back: its policy is ENFORCE (the model's, or the configured override). */
export function enforced(runtime: string, field: string, system: SystemName): boolean {
  return copiesOf(field, runtimeOf(runtime).settings.copyPolicies).some((t) => t.system === system && t.policy === 'ENFORCE');
}
