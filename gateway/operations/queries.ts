// The ledger as the control subgraph serves it: operations(…) and operation(id), each Operation with the retry plan retryOperation would follow.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { decodeCursor, encodeCursor, type Ledger, type LedgerStep, type OperationRecord, type OperationStatus } from './ledger.js';
import { retryPlan } from './retry-plan.js';

/** A step as OperationStep serves it: systems in the System enum's spelling, null for canon's own identity step. */
function stepView(s: LedgerStep) {
  return {
    ...s,
    name: s.name ?? `${s.system}.${s.action}`,
    startedAt: s.startedAt ?? null,
    history: s.history ?? [],
    system: s.system === 'identity' ? null : s.system.toUpperCase(),
    items: s.items ?? [],
    // A propagate step's input is the copy's native fields and the values it sets: what the console shows of it.
    copies: s.action === 'setCopies' && s.nativeId ? Object.entries(s.input ?? {}).map(([sourceField, value]) => ({ nativeId: s.nativeId!, sourceField, value: String(value) })) : [],
  };
}

const ended = (status: string) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'SKIPPED';

/** Batch progress as recorded; for bulk work its records; else the steps that have ended. */
function progressOf(op: OperationRecord) {
  if (op.progress) return op.progress;
  const units = op.steps.some((s) => s.items?.length) ? op.steps.flatMap((s) => (s.items ?? []).map((i) => i.status)) : op.steps.map((s) => s.status);
  return { total: units.length, done: units.filter(ended).length, failed: units.filter((u) => u === 'FAILED').length };
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
