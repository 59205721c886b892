// Control subgraph resolvers: the canonical model as data, and canonical writes split by owner.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { MODEL, SYSTEM_RECORDS, type SystemName } from '../../schema/model.js';
import { resolvedFields } from '../../schema/ownership.js';
import { validateUpdate, type UpdateInput } from '../validation.js';
import { sliceByOwner, stepKey, WriteExecutor, type WriteStep } from './writes.js';
import type { GatewayContext } from '../context.js';
import type { IdempotencyStore } from '../idempotency.js';

export function dataModel() {
  return {
    systems: SYSTEM_RECORDS.map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, mapsTo: f.mapsTo ?? [] })) })),
    types: MODEL.types.map((t) =>
      t.kind === 'enum'
        ? { name: t.name, kind: t.kind, description: t.description, owner: t.owner, sourceField: t.sourceField, fields: [], values: t.values.map((v) => ({ name: v.name, description: v.description, sourceValue: v.source })) }
        : {
            name: t.name,
            kind: t.kind,
            description: t.description,
            owner: t.owner,
            sourceField: null,
            values: [],
            fields: resolvedFields(t).map((f) => ({
              name: f.name,
              type: f.type,
              args: f.args ?? null,
              owner: f.owner,
              description: f.description,
              sourceField: f.sourceField,
              writable: f.writable,
              validation: f.validation ?? null,
            })),
          },
    ),
  };
}

function step(system: SystemName, action: WriteStep['action'], nativeId: string, input: Record<string, unknown>, expectedVersion: string | null, operationKey: string | null): WriteStep {
  return { system, action, nativeId, input, expectedVersion, status: 'PENDING', attempts: 0, error: null, result: null, idempotencyKey: operationKey ? stepKey(operationKey, system, action) : null };
}

async function customerNativeIds(executor: WriteExecutor, id: string) {
  const ids = await executor.nativeIds(id);
  if (!ids) throw new GraphQLError(`No customer with id "${id}".`, { extensions: { code: ErrorCode.NOT_FOUND, system: 'identity' } });
  return ids;
}

/**
 * Runs an operation's steps. Under an idempotency key, steps recorded as succeeded by an earlier run of the same
 * operation are not sent again (a replay after a partial failure completes only what failed), and the outcome of
 * every step is recorded for the next run. A step that failed retryably marks the request's outcome retryable.
 */
async function runSteps(steps: WriteStep[], executor: WriteExecutor, idempotency: IdempotencyStore, ctx: GatewayContext): Promise<void> {
  const key = ctx.idempotencyKey;
  const prior = key ? ((await idempotency.steps(key)) ?? []) : [];
  for (const s of steps) {
    const done = prior.find((p) => p.system === s.system && p.action === s.action && p.status === 'SUCCEEDED');
    if (done) {
      s.status = 'SUCCEEDED';
      s.result = done.result;
    }
  }
  await Promise.all(steps.filter((s) => s.status !== 'SUCCEEDED').map((s) => executor.runStep(s)));
  if (key) await idempotency.saveSteps(key, steps.map((s) => ({ system: s.system, action: s.action, status: s.status, result: s.result })));
  if (steps.some((s) => s.status === 'FAILED' && s.error?.retryable)) ctx.outcome.retryable = true;
}

export function createResolvers(executor: WriteExecutor, idempotency: IdempotencyStore) {
  return {
    Query: { dataModel },
    Mutation: {
      async updateCustomer(_: unknown, args: { id: string; input: UpdateInput; expectedVersions?: Partial<Record<SystemName, string | null>> | null }, ctx: GatewayContext) {
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
        const steps = [...slices].map(([system, slice]) => step(system, 'updateCustomer', ids[system]!, slice, args.expectedVersions?.[system] ?? null, ctx.idempotencyKey));
        await runSteps(steps, executor, idempotency, ctx);
        return {
          customer: { id: args.id },
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
        const subject = args.subject.trim();
        const body = args.body.trim();
        if (!subject || !body) {
          throw new GraphQLError(`${!subject ? 'subject' : 'body'} must not be empty.`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: !subject ? 'subject' : 'body' } });
        }
        const ids = await customerNativeIds(executor, args.customerId);
        if (!ids.support) {
          throw new GraphQLError(`Customer ${args.customerId} has no support organization to open a ticket for.`, { extensions: { code: ErrorCode.NOT_FOUND, system: 'support' } });
        }
        const s = step('support', 'createTicket', ids.support, { subject, body }, null, ctx.idempotencyKey);
        await runSteps([s], executor, idempotency, ctx);
        if (s.status === 'FAILED') {
          throw new GraphQLError(s.error!.message, { extensions: { code: s.error!.code, system: 'support', retryable: s.error!.retryable } });
        }
        return { id: s.result };
      },
    },
  };
}
