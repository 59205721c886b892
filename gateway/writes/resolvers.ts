// Control subgraph resolvers: the canonical model as data, canonical writes split by owner, and the operations ledger.
//
// Each resolver only translates: GraphQL arguments and the request context into a write's plain inputs, and the
// write's outcome (or refusal) back into the schema's payload or error. The work itself is in run.ts and retry.ts.

import { GraphQLError } from 'graphql';
import { dataModel } from '../../schema/data-model.js';
import { SystemError, toGraphQLError } from '../../subgraphs/kit/system-error.js';
import type { GatewayContext } from '../federation/context.js';
import type { OperationMeta } from '../operations/recorder.js';
import { ledgerQueries, operationView } from '../operations/queries.js';
import { planTicket, planUpdate, type Refusal, type TicketArgs, type UpdateArgs } from './plans.js';
import { retryOperation, type RetryDeps } from './retry.js';
import { runWrite } from './run.js';
import { failureOf } from './steps.js';


/** The one GraphQL error a refused write gets: an upstream failure shaped by system-error.ts, or canon's own check. */
function refusalError(r: Refusal): GraphQLError {
  if (r instanceof SystemError) return toGraphQLError(r);
  return new GraphQLError(r.message, { extensions: { code: r.code, ...r.extensions } });
}

/** What the ledger records of the request a write came from. */
function metaOf(ctx: GatewayContext, name: string, variables: unknown, customerId: string): OperationMeta {
  return { operationId: ctx.operationId, name, traceId: ctx.traceId, app: ctx.app, idempotencyKey: ctx.idempotencyKey, resume: ctx.resume, variables, customerId };
}

export type ControlDeps = RetryDeps;

export function createResolvers(deps: ControlDeps) {
  const { runner } = deps;
  return {
    Query: {
      dataModel,
      ...ledgerQueries(deps.ledger),
    },
    Mutation: {
      async updateCustomer(_: unknown, args: UpdateArgs, ctx: GatewayContext) {
        const out = await runWrite(metaOf(ctx, 'updateCustomer', args, args.id), () => planUpdate(runner, args, ctx.idempotencyKey), deps);
        if (!out.ok) throw refusalError(out.refusal);
        return {
          customer: { id: args.id },
          operationId: out.operationId,
          results: out.steps.map((s) => ({ system: s.system.toUpperCase(), status: s.status, fields: Object.keys(s.input), version: s.result, error: s.error })),
        };
      },

      async openTicket(_: unknown, args: TicketArgs, ctx: GatewayContext) {
        const out = await runWrite(metaOf(ctx, 'openTicket', args, args.customerId), () => planTicket(runner, args, ctx.idempotencyKey), deps);
        if (!out.ok) throw refusalError(out.refusal);
        const ticket = out.steps[0]!;
        const failure = failureOf(ticket);
        if (failure) throw toGraphQLError(failure);
        return { id: ticket.result };
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
