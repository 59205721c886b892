// Control subgraph resolvers: the canonical model as data, canonical writes split by owner, and the operations ledger.
//
// Each resolver only translates: GraphQL arguments and the request context into a write's plain inputs, and the
// write's outcome (or refusal) back into the schema's payload or error. The work itself is in run.ts and retry.ts.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { dataModel } from '../../schema/data-model.js';
import { SystemError, toGraphQLError } from '../../subgraphs/kit/system-error.js';
import type { GatewayContext } from '../federation/context.js';
import type { OperationMeta } from '../operations/recorder.js';
import { ledgerQueries, operationView } from '../operations/queries.js';
import type { Mode } from '../operations/ledger.js';
import { planOnboarding, planTicket, planUpdate, type OnboardInput, type Refusal, type TicketArgs, type UpdateArgs } from './plans.js';
import { planBulk, type BulkUpdate } from './bulk.js';
import { retryOperation, type RetryDeps } from './retry.js';
import { recordRefusal, runWrite } from './run.js';
import { startOnboarding } from '../workflows/onboard-customer.js';
import { failureOf } from './steps.js';
import { operationIdFor } from './operation-id.js';
import { WORKFLOWS } from '../workflows/definitions.js';


/** The one GraphQL error a refused write gets: an upstream failure shaped by system-error.ts, or canon's own check. */
function refusalError(r: Refusal): GraphQLError {
  if (r instanceof SystemError) return toGraphQLError(r);
  return new GraphQLError(r.message, { extensions: { code: r.code, ...r.extensions } });
}

/** What the ledger records of the request a write came from; under an idempotency key the operation id derives from it. */
function metaOf(ctx: GatewayContext, name: string, variables: Record<string, unknown>, customerId: string | null, mode: Mode): OperationMeta {
  const { mode: _mode, ...args } = variables;
  return { operationId: operationIdFor(ctx), name, traceId: ctx.traceId, app: ctx.app, idempotencyKey: ctx.idempotencyKey, resume: ctx.resume, variables: args, customerId, workflow: name, mode };
}

/**
 * The key a step carries: the app's, or under QUEUED one derived from the operation id, since queued steps are
 * retried durably and a write is retried only under a key.
 */
function stepsKey(ctx: GatewayContext, meta: OperationMeta): string | null {
  return ctx.idempotencyKey ?? (meta.mode === 'QUEUED' ? `op-${meta.operationId}` : null);
}

export type ControlDeps = RetryDeps;

export function createResolvers(deps: ControlDeps) {
  const { runner } = deps;
  const operation = async (id: string) => {
    const op = await deps.ledger.get(id);
    if (!op) throw new GraphQLError(`Operation ${id} is not in the ledger (pruned, or its record could not be written).`, { extensions: { code: ErrorCode.NOT_FOUND } });
    return operationView(op);
  };
  return {
    Query: {
      dataModel,
      workflows: () => WORKFLOWS,
      ...ledgerQueries(deps.ledger),
    },
    Mutation: {
      async updateCustomer(_: unknown, args: UpdateArgs & { mode?: Mode | null }, ctx: GatewayContext) {
        const meta = metaOf(ctx, 'updateCustomer', { ...args }, args.id, args.mode ?? 'REALTIME');
        const out = await runWrite(meta, () => planUpdate(runner, args, stepsKey(ctx, meta)), deps);
        if (!out.ok) throw refusalError(out.refusal);
        return {
          customer: { id: args.id },
          operationId: out.operationId,
          operation: () => operation(out.operationId),
          results: out.steps.map((s) => ({ system: s.system.toUpperCase(), status: s.status === 'SUCCEEDED' || s.status === 'FAILED' ? s.status : 'PENDING', fields: Object.keys(s.input), version: s.result, error: s.error })),
        };
      },

      async openTicket(_: unknown, args: TicketArgs & { mode?: Mode | null }, ctx: GatewayContext) {
        const meta = metaOf(ctx, 'openTicket', { ...args }, args.customerId, args.mode ?? 'REALTIME');
        const out = await runWrite(meta, () => planTicket(runner, args, stepsKey(ctx, meta)), deps);
        if (!out.ok) throw refusalError(out.refusal);
        const ticket = out.steps[0]!;
        const failure = failureOf(ticket);
        if (failure) throw toGraphQLError(failure);
        return { ticket: ticket.status === 'SUCCEEDED' ? { id: ticket.result } : null, operation: () => operation(out.operationId) };
      },

      async bulkUpdateCustomers(_: unknown, args: { updates: BulkUpdate[]; mode?: Mode | null }, ctx: GatewayContext) {
        const meta = metaOf(ctx, 'bulkUpdateCustomers', { ...args }, null, args.mode ?? 'QUEUED');
        const out = await runWrite(meta, () => planBulk(runner, args.updates, stepsKey(ctx, meta)), deps);
        if (!out.ok) throw refusalError(out.refusal);
        return { operation: () => operation(out.operationId) };
      },

      async onboardCustomer(_: unknown, args: { input: OnboardInput; mode?: Mode | null }, ctx: GatewayContext) {
        const meta = metaOf(ctx, 'onboardCustomer', { ...args }, null, args.mode ?? 'REALTIME');
        // Creates are repeated after a crash, so every step carries a key, derived from the operation when the app sent none.
        const planned = planOnboarding(args.input, ctx.idempotencyKey ?? `op-${meta.operationId}`);
        if (!planned.ok) {
          await recordRefusal(meta, planned.refusal, deps.ledger);
          throw refusalError(planned.refusal);
        }
        const out = await startOnboarding(deps.engine, { meta, plan: { ...planned.plan, externalId: meta.operationId } });
        const customerId = out.done ? out.result.customerId : null;
        return { customer: customerId ? { id: customerId } : null, operation: () => operation(meta.operationId) };
      },

      /** Re-runs the failed steps of a recorded write whose errors a retry may fix (see operations/retry-plan.ts). */
      async retryOperation(_: unknown, args: { id: string }, ctx: GatewayContext) {
        const out = await retryOperation(args.id, ctx.traceId, deps);
        if (!out.ok) throw new GraphQLError(out.message, { extensions: { code: out.code, ...(out.retryable ? { retryable: true } : {}) } });
        return operationView(out.operation);
      },
    },
  };
}
