// The ledger as the control subgraph serves it: operations(…) and operation(id), each Operation with the retry plan retryOperation would follow.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { decodeCursor, encodeCursor, type Ledger, type LedgerStep, type OperationRecord, type OperationStatus } from './ledger.js';
import { retryPlan } from './retry-plan.js';

function stepView(s: LedgerStep) {
  return { ...s, name: s.name ?? `${s.system}.${s.action}`, startedAt: s.startedAt ?? null, history: s.history ?? [], system: s.system.toUpperCase() };
}

/** Batch progress as recorded, else the steps that have ended. */
function progressOf(op: OperationRecord) {
  if (op.progress) return op.progress;
  const ended = (s: LedgerStep) => s.status === 'SUCCEEDED' || s.status === 'FAILED' || s.status === 'SKIPPED';
  return { total: op.steps.length, done: op.steps.filter(ended).length, failed: op.steps.filter((s) => s.status === 'FAILED').length };
}

/** An operation as the schema's Operation type serves it (systems in the System enum's spelling). */
export function operationView(op: OperationRecord, now = Date.now()) {
  const plan = retryPlan(op, now);
  return {
    ...op,
    customerId: op.customerId ?? null,
    workflow: op.workflow ?? op.name,
    mode: op.mode ?? 'REALTIME',
    progress: progressOf(op),
    retryTraceIds: op.retryTraceIds ?? [],
    steps: op.steps.map(stepView),
    retry: { possible: plan.possible, reason: plan.reason, steps: plan.steps.map((i) => stepView(op.steps[i]!)) },
  };
}

export interface OperationsArgs {
  status?: OperationStatus[] | null;
  system?: string | null;
  app?: string | null;
  since?: string | null;
  first?: number | null;
  after?: string | null;
}

export function ledgerQueries(ledger: Ledger) {
  return {
    async operations(_: unknown, args: OperationsArgs) {
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
      const now = Date.now();
      const edges = page.records.map((op) => ({ cursor: encodeCursor(op), node: operationView(op, now) }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
    async operation(_: unknown, args: { id: string }) {
      const op = await ledger.get(args.id);
      return op ? operationView(op) : null;
    },
  };
}
