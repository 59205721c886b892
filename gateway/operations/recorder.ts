// Ledger bookkeeping for canon's writes: one record per operation, kept up to date step by step as it runs, and the record a retry leaves.
//
// Guarantees: saves of one operation land in the order they were made (steps finish in parallel); a step run again
// keeps what failed before in its history; an operation sent again under its idempotency key after a retryable
// failure continues the record of its first run, so the ledger shows one logical operation.

import { createHash } from 'node:crypto';
import { statusOf, type Ledger, type LedgerError, type LedgerStep, type Mode, type OperationRecord } from './ledger.js';

/** What the ledger needs to know of the request a write came from. Plain data: a write may run outside any request. */
export interface OperationMeta {
  /** The id a new record gets. */
  operationId: string;
  /** e.g. updateCustomer */
  name: string;
  traceId: string | null;
  app: string | null;
  idempotencyKey: string | null;
  /** The key's earlier run failed retryably: this run continues that run's record. */
  resume: boolean;
  /** The operation's arguments; only their hash is stored. */
  variables: unknown;
  /** The canonical customer the operation concerns. */
  customerId: string | null;
  /** The workflow that runs it (its definition's name); default `name`. */
  workflow?: string;
  mode?: Mode;
  /** The id of the workflow run recording now: the operation id, or `<id>.r<n>` for a later run. */
  run?: string;
}

/** A step as the ledger takes it (a write step's state); the ledger adds its history. */
export type StepState = Omit<LedgerStep, 'history' | 'error'> & { error: LedgerError | null };

/**
 * The ledger form of a step. `before` is the step's previous record: its history is kept, and when the step is
 * being run again (`rerun`) a failed outcome there moves into the history, so the ledger keeps what failed before.
 */
export function ledgerStep(s: StepState, before?: LedgerStep, rerun = false): LedgerStep {
  const history = [...(before?.history ?? [])];
  if (rerun && before?.status === 'FAILED') history.push({ at: new Date().toISOString(), attempts: before.attempts, error: before.error });
  return {
    history,
    name: s.name ?? `${s.system}.${s.action}`,
    startedAt: s.startedAt ?? null,
    system: s.system,
    action: s.action,
    status: s.status,
    attempts: s.attempts,
    durationMs: s.durationMs,
    idempotencyKey: s.idempotencyKey,
    error: s.error ? { code: s.error.code, message: s.error.message, retryable: s.error.retryable } : null,
    nativeId: s.nativeId,
    input: s.input,
    expectedVersion: s.expectedVersion,
    result: s.result,
    ...(s.items ? { items: s.items.map((i) => ({ ...i, error: i.error ? { code: i.error.code, message: i.error.message, retryable: i.error.retryable } : null })) } : {}),
  };
}

/** Keeps one ledger record per operation up to date as it runs. */
export class Recorder {
  private op: OperationRecord | null = null;
  // Saves are chained so a slower earlier save never lands after a later one (steps finish in parallel).
  private saving: Promise<void> = Promise.resolve();
  /** The steps as begin() recorded them, histories included. */
  private earlier: LedgerStep[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly meta: OperationMeta,
  ) {}

  private async base(): Promise<OperationRecord> {
    if (this.op) return this.op;
    const m = this.meta;
    const now = new Date().toISOString();
    // A resumed run (its key's earlier run failed retryably) continues that run's record, and so does a workflow
    // resumed after a restart (its record has its id); anything else is new.
    const earlier = (m.idempotencyKey && m.resume ? await this.ledger.byIdempotencyKey(m.idempotencyKey) : null) ?? (await this.ledger.get(m.operationId));
    const runs = (op: OperationRecord | null) => [...new Set([...(op?.runs ?? (op ? [op.id] : [])), m.run ?? m.operationId])];
    this.op = earlier
      ? { ...earlier, traceId: m.traceId ?? earlier.traceId, updatedAt: now, runs: runs(earlier), mode: m.mode ?? earlier.mode, workflow: m.workflow ?? earlier.workflow }
      : {
          id: m.operationId,
          traceId: m.traceId,
          name: m.name,
          kind: 'mutation',
          app: m.app,
          idempotencyKey: m.idempotencyKey,
          inputHash: createHash('sha256').update(JSON.stringify(m.variables)).digest('hex'),
          customerId: m.customerId,
          retryTraceIds: [],
          workflow: m.workflow ?? m.name,
          mode: m.mode ?? 'REALTIME',
          runs: runs(null),
          status: 'PENDING',
          createdAt: now,
          updatedAt: now,
          error: null,
          steps: [],
        };
    return this.op;
  }

  private save(op: OperationRecord): Promise<void> {
    const snapshot = structuredClone(op);
    // A failed save rejects its own caller only; the next save still runs (and rewrites the whole record).
    const next = this.saving.catch(() => undefined).then(() => this.ledger.save(snapshot));
    this.saving = next;
    return next;
  }

  /** The ledger id of this operation: the earlier run's, when this run continues it. */
  get id(): string {
    return this.op?.id ?? this.meta.operationId;
  }

  /** The steps an earlier run of this operation (same idempotency key) recorded; none for a new operation. */
  async priorSteps(): Promise<LedgerStep[]> {
    return (await this.base()).steps;
  }

  /** The record of the steps about to run (status PENDING), so the ledger shows what is in flight. */
  private async begun(steps: readonly StepState[]): Promise<OperationRecord> {
    const op = await this.base();
    const earlier = op.steps;
    // Steps of one name (a bulk write's batches) are matched by position, the others by system and action.
    const before = (s: StepState, i: number) => (earlier.length === steps.length && earlier[i]?.name === (s.name ?? `${s.system}.${s.action}`) ? earlier[i] : earlier.find((e) => e.system === s.system && e.action === s.action));
    op.steps = steps.map((s, i) => ledgerStep(s, before(s, i), s.status !== 'SUCCEEDED'));
    this.earlier = op.steps;
    op.status = statusOf(op.steps);
    op.error = null;
    return op;
  }

  /** Records the steps about to run (status PENDING), so the ledger shows what is in flight. */
  async begin(steps: readonly StepState[]): Promise<void> {
    await this.save(await this.begun(steps));
  }

  /**
   * The first record of an operation whose workflow has already been started durably: written only when that
   * workflow has not written its own yet, so this never sets a record back.
   */
  async beginIfAbsent(steps: readonly StepState[]): Promise<void> {
    const op = structuredClone(await this.begun(steps));
    const next = this.saving.catch(() => undefined).then(() => this.ledger.saveIfAbsent(op));
    this.saving = next;
    await next;
  }

  /** Records the steps as they stand now, in the order begin() gave them; `customerId` once the operation knows its customer. */
  async progress(steps: readonly StepState[], customerId?: string | null): Promise<void> {
    const op = await this.base();
    op.steps = steps.map((s, i) => ({ ...ledgerStep(s), history: this.earlier[i]?.history ?? [] }));
    op.status = statusOf(op.steps);
    if (customerId) op.customerId = customerId;
    op.updatedAt = new Date().toISOString();
    await this.save(op);
  }

  /** Records an operation refused or failed before any system was called. */
  async failed(error: LedgerError): Promise<void> {
    const op = await this.base();
    op.status = 'FAILED';
    op.error = { code: error.code, message: error.message, retryable: error.retryable };
    op.updatedAt = new Date().toISOString();
    await this.save(op);
  }
}

/**
 * Records a retry of `op`: `steps` are its steps now, `rerun[i]` says which were sent again. Their earlier failures
 * move into their history, and `traceId` (the retry's own trace) joins the operation's retry traces.
 */
export async function recordRetry(ledger: Ledger, op: OperationRecord, steps: readonly StepState[], rerun: readonly boolean[], traceId: string | null, run?: string): Promise<OperationRecord> {
  const before = op.steps;
  const next: OperationRecord = {
    ...op,
    runs: run ? [...new Set([...(op.runs ?? [op.id]), run])] : op.runs,
    steps: steps.map((s, i) => ledgerStep(s, before[i], rerun[i])),
    updatedAt: new Date().toISOString(),
    retryTraceIds: traceId ? [...(op.retryTraceIds ?? []), traceId] : (op.retryTraceIds ?? []),
  };
  next.status = statusOf(next.steps);
  await ledger.save(next);
  return next;
}
