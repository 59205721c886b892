// Control subgraph resolvers: the canonical model as data, canonical writes split by owner, and the operations ledger.

import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { dataModel } from '../../schema/data-model.js';
import type { SystemName } from '../../schema/model.js';
import type { GatewayContext } from '../federation/context.js';
import { decodeCursor, encodeCursor, statusOf, type Ledger, type LedgerStep, type OperationRecord, type OperationStatus } from '../operations/ledger.js';
import { validateUpdate, type UpdateInput } from './validation.js';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';
import { sliceByOwner, stepKey, WriteExecutor, type WriteStep } from './steps.js';

function step(system: SystemName, action: WriteStep['action'], nativeId: string, input: Record<string, unknown>, expectedVersion: string | null, operationKey: string | null): WriteStep {
  return { system, action, nativeId, input, expectedVersion, status: 'PENDING', attempts: 0, error: null, result: null, idempotencyKey: operationKey ? stepKey(operationKey, system, action) : null, durationMs: null };
}

async function customerNativeIds(executor: WriteExecutor, id: string) {
  const ids = await executor.nativeIds(id);
  if (!ids) throw new GraphQLError(`No customer with id "${id}".`, { extensions: { code: ErrorCode.NOT_FOUND, system: 'identity' } });
  return ids;
}

/**
 * The ledger form of a step. `before` is the step's previous record: its history is kept, and when the step is
 * being run again (`rerun`) a failed outcome there moves into the history, so the ledger keeps what failed before.
 */
function ledgerStep(s: WriteStep, before?: LedgerStep, rerun = false): LedgerStep {
  const history = [...(before?.history ?? [])];
  if (rerun && before?.status === 'FAILED') history.push({ at: new Date().toISOString(), attempts: before.attempts, error: before.error });
  return {
    history,
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
  };
}

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
  };
}

/**
 * Keeps one ledger record per operation up to date as it runs. An operation sent again under the same
 * idempotency key continues the record of its first run, so the ledger shows one logical operation.
 */
class Recorder {
  private op: OperationRecord | null = null;
  // Saves are chained so a slower earlier save never lands after a later one (steps finish in parallel).
  private saving: Promise<void> = Promise.resolve();
  /** The steps as begin() recorded them, histories included. */
  private earlier: LedgerStep[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly ctx: GatewayContext,
    private readonly name: string,
    private readonly variables: unknown,
    private readonly customerId: string | null,
  ) {}

  private async base(): Promise<OperationRecord> {
    if (this.op) return this.op;
    const now = new Date().toISOString();
    // A resumed run (its key's earlier run failed retryably) continues that run's record; anything else is new.
    const earlier = this.ctx.idempotencyKey && this.ctx.resume ? await this.ledger.byIdempotencyKey(this.ctx.idempotencyKey) : null;
    this.ctx.recorded = true;
    this.op = earlier
      ? { ...earlier, traceId: this.ctx.traceId ?? earlier.traceId, updatedAt: now }
      : {
          id: this.ctx.operationId,
          traceId: this.ctx.traceId,
          name: this.name,
          kind: 'mutation',
          app: this.ctx.app,
          idempotencyKey: this.ctx.idempotencyKey,
          inputHash: createHash('sha256').update(JSON.stringify(this.variables)).digest('hex'),
          customerId: this.customerId,
          retryTraceIds: [],
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
    this.saving = this.saving.then(() => this.ledger.save(snapshot));
    return this.saving;
  }

  /** The ledger id of this operation: the earlier run's, when this run continues it. */
  get id(): string {
    return this.op?.id ?? this.ctx.operationId;
  }

  /** The steps an earlier run of this operation (same idempotency key) recorded; none for a new operation. */
  async priorSteps(): Promise<LedgerStep[]> {
    return (await this.base()).steps;
  }

  /** Records the steps about to run (status PENDING), so the ledger shows what is in flight. */
  async begin(steps: WriteStep[]): Promise<void> {
    const op = await this.base();
    const earlier = op.steps;
    op.steps = steps.map((s) => ledgerStep(s, earlier.find((e) => e.system === s.system && e.action === s.action), s.status !== 'SUCCEEDED'));
    this.earlier = op.steps;
    op.status = statusOf(op.steps);
    op.error = null;
    await this.save(op);
  }

  async progress(steps: WriteStep[]): Promise<void> {
    const op = await this.base();
    op.steps = steps.map((s, i) => ({ ...ledgerStep(s), history: this.earlier[i]?.history ?? [] }));
    op.status = statusOf(op.steps);
    op.updatedAt = new Date().toISOString();
    await this.save(op);
  }

  /** Records an operation refused or failed before any system was called. */
  async failed(error: GraphQLError): Promise<void> {
    const op = await this.base();
    op.status = 'FAILED';
    op.error = { code: String(error.extensions?.code ?? ErrorCode.SYSTEM_ERROR), message: error.message, retryable: Boolean(error.extensions?.retryable) };
    op.updatedAt = new Date().toISOString();
    await this.save(op);
  }
}

export interface ControlDeps {
  executor: WriteExecutor;
  ledger: Ledger;
  /** Serialises retries of one operation (in process, or across gateways through Redis). */
  lock: RecordLock;
}

/**
 * Runs an operation's steps. Under an idempotency key, steps the ledger recorded as succeeded for an earlier run
 * of the same operation are not sent again (a replay after a partial failure completes only what failed); every
 * step's outcome is recorded as it lands. A step that failed retryably marks the request's outcome retryable.
 */
async function runSteps(steps: WriteStep[], deps: ControlDeps, ctx: GatewayContext, recorder: Recorder): Promise<void> {
  const prior = ctx.resume ? await recorder.priorSteps() : [];
  for (const s of steps) {
    const done = prior.find((p) => p.system === s.system && p.action === s.action && p.status === 'SUCCEEDED');
    if (done) Object.assign(s, { status: 'SUCCEEDED', result: done.result, attempts: done.attempts, durationMs: done.durationMs });
  }
  await recorder.begin(steps);
  await Promise.all(
    steps
      .filter((s) => s.status !== 'SUCCEEDED')
      .map(async (s) => {
        await deps.executor.runStep(s);
        await recorder.progress(steps);
      }),
  );
  if (steps.some((s) => s.status === 'FAILED' && s.error?.retryable)) ctx.outcome.retryable = true;
}

/** Records a failure that happened before any system was called, then rethrows it. */
async function refused<T>(recorder: Recorder, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof GraphQLError) await recorder.failed(e);
    throw e;
  }
}

/**
 * How long a PENDING operation may go untouched before it counts as interrupted (its gateway stopped mid-way):
 * longer than a write step's whole budget (subgraph call budget, default 10 s) with a wide margin.
 */
export const INTERRUPTED_AFTER_MS = 2 * 60_000;

function operationView(op: OperationRecord) {
  return { ...op, customerId: op.customerId ?? null, retryTraceIds: op.retryTraceIds ?? [], steps: op.steps.map((s) => ({ ...s, history: s.history ?? [], system: s.system.toUpperCase() })) };
}

export function createResolvers(deps: ControlDeps) {
  const { executor, ledger } = deps;
  return {
    Query: {
      dataModel,
      async operations(_: unknown, args: { status?: OperationStatus[] | null; system?: string | null; app?: string | null; since?: string | null; first?: number | null; after?: string | null }) {
        const first = args.first ?? 20;
        if (first < 0 || first > 200) throw new GraphQLError(`operations(first:) must be between 0 and 200; got ${first}.`, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
        if (args.since && Number.isNaN(Date.parse(args.since))) throw new GraphQLError(`since "${args.since}" is not an ISO 8601 time.`, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
        if (args.after) {
          try {
            decodeCursor(args.after);
          } catch (e) {
            throw new GraphQLError((e as Error).message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
          }
        }
        const page = await ledger.list(
          { status: args.status ?? undefined, system: args.system?.toLowerCase(), app: args.app ?? undefined, since: args.since ? new Date(args.since).toISOString() : undefined },
          first,
          args.after,
        );
        const edges = page.records.map((op) => ({ cursor: encodeCursor(op), node: operationView(op) }));
        return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
      },
      async operation(_: unknown, args: { id: string }) {
        const op = await ledger.get(args.id);
        return op ? operationView(op) : null;
      },
    },
    Mutation: {
      async updateCustomer(_: unknown, args: { id: string; input: UpdateInput; expectedVersions?: Partial<Record<SystemName, string | null>> | null }, ctx: GatewayContext) {
        const recorder = new Recorder(ledger, ctx, 'updateCustomer', args, args.id);
        const steps = await refused(recorder, async () => {
          const checked = validateUpdate(args.input);
          if (!checked.ok) {
            const first = checked.problems[0]!;
            throw new GraphQLError(checked.problems.map((p) => p.message).join(' '), {
              extensions: { code: ErrorCode.BAD_USER_INPUT, field: first.field, fields: checked.problems.map((p) => p.field) },
            });
          }
          const ids = await customerNativeIds(executor, args.id);
          const slices = sliceByOwner(checked.value);
          // Every owner must hold the customer before anything is written, or the write would land half.
          for (const system of slices.keys()) {
            if (ids[system] === null) {
              throw new GraphQLError(`Customer ${args.id} has no ${system} record, so ${[...Object.keys(slices.get(system)!)].join(', ')} cannot be written; nothing was changed.`, {
                extensions: { code: ErrorCode.NOT_FOUND, system },
              });
            }
          }
          return [...slices].map(([system, slice]) => step(system, 'updateCustomer', ids[system]!, slice, args.expectedVersions?.[system] ?? null, ctx.idempotencyKey));
        });
        await runSteps(steps, deps, ctx, recorder);
        return {
          customer: { id: args.id },
          operationId: recorder.id,
          results: steps.map((s) => ({
            system: s.system.toUpperCase(),
            status: s.status,
            fields: Object.keys(s.input),
            version: s.result,
            error: s.error,
          })),
        };
      },

      async openTicket(_: unknown, args: { customerId: string; subject: string; body: string }, ctx: GatewayContext) {
        const recorder = new Recorder(ledger, ctx, 'openTicket', args, args.customerId);
        const s = await refused(recorder, async () => {
          const subject = args.subject.trim();
          const body = args.body.trim();
          if (!subject || !body) {
            throw new GraphQLError(`${!subject ? 'subject' : 'body'} must not be empty.`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: !subject ? 'subject' : 'body' } });
          }
          const ids = await customerNativeIds(executor, args.customerId);
          if (!ids.support) {
            throw new GraphQLError(`Customer ${args.customerId} has no support organization to open a ticket for.`, { extensions: { code: ErrorCode.NOT_FOUND, system: 'support' } });
          }
          return step('support', 'createTicket', ids.support, { subject, body }, null, ctx.idempotencyKey);
        });
        await runSteps([s], deps, ctx, recorder);
        if (s.status === 'FAILED') {
          throw new GraphQLError(s.error!.message, { extensions: { code: s.error!.code, system: 'support', retryable: s.error!.retryable } });
        }
        return { id: s.result };
      },

      /**
       * Re-runs the failed steps of a recorded write whose errors a retry may fix, with the keys they carried (a step
       * sent without one gets a key derived from the operation id, so the system can recognise this retry). Steps that
       * succeeded are not sent; a step refused for good (STALE_WRITE, bad input) stays failed: it needs a fresh read.
       * Retries of one operation run one at a time; an operation still PENDING is not touched.
       */
      async retryOperation(_: unknown, args: { id: string }, ctx: GatewayContext) {
        ctx.recorded = true;
        return deps.lock.run(`operation:${args.id}`, async () => {
          const op = await ledger.get(args.id);
          if (!op) throw new GraphQLError(`No operation with id "${args.id}".`, { extensions: { code: ErrorCode.NOT_FOUND } });
          if (op.kind !== 'mutation') throw new GraphQLError(`Operation ${op.id} is a ${op.kind}; only writes are retried (send the query again).`, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
          // PENDING and recently touched: still running somewhere. PENDING and untouched for longer than any write's
          // budget: its gateway stopped mid-way, and the steps it left PENDING are retried like failed ones.
          const interrupted = op.status === 'PENDING' && Date.now() - Date.parse(op.updatedAt) > INTERRUPTED_AFTER_MS;
          if (op.status === 'PENDING' && !interrupted) throw new GraphQLError(`Operation ${op.id} is still running (PENDING); retry it once it has ended.`, { extensions: { code: ErrorCode.IDEMPOTENCY_IN_PROGRESS, retryable: true } });
          const steps = op.steps.map(writeStep);
          const retryable = steps.filter((s) => s.nativeId && ((s.status === 'FAILED' && s.error?.retryable) || (interrupted && s.status === 'PENDING')));
          if (retryable.length === 0) return operationView(op);
          await Promise.all(
            retryable.map(async (s) => {
              s.idempotencyKey ??= stepKey(`op-${op.id}`, s.system, s.action);
              await executor.runStep(s);
            }),
          );
          const before = op.steps;
          op.steps = steps.map((s, i) => ledgerStep(s, before[i], retryable.includes(s)));
          op.status = statusOf(op.steps);
          op.updatedAt = new Date().toISOString();
          if (ctx.traceId) op.retryTraceIds = [...(op.retryTraceIds ?? []), ctx.traceId];
          // An app replaying its key later finds these steps succeeded here and does not send them again.
          await ledger.save(op);
          return operationView(op);
        });
      },
    },
  };
}
