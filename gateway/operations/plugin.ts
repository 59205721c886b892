// An Apollo Server plugin that makes every operation visible: the trace id on every response and error, a ledger record for writes and partly failed reads, and one log line.

import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import type { GatewayContext } from '../federation/context.js';
import { ErrorCode } from '../../schema/errors.js';
import type { Ledger, LedgerStep, OperationRecord } from './ledger.js';

function kindOf(query: string | undefined, known: 'query' | 'mutation' | 'subscription' | undefined): 'query' | 'mutation' {
  if (known) return known === 'mutation' ? 'mutation' : 'query';
  return /^\s*(#[^\n]*\n\s*)*mutation\b/.test(query ?? '') ? 'mutation' : 'query';
}

/** One failed step per system named in the errors: what a partly failed read looks like in the ledger. */
function readSteps(errors: readonly GraphQLFormattedError[]): LedgerStep[] {
  const bySystem = new Map<string, LedgerStep>();
  for (const e of errors) {
    const ext = (e.extensions ?? {}) as Record<string, unknown>;
    if (typeof ext.system !== 'string' || bySystem.has(ext.system)) continue;
    bySystem.set(ext.system, {
      system: ext.system,
      action: 'read',
      status: 'FAILED',
      attempts: typeof ext.attempts === 'number' ? ext.attempts : 1,
      durationMs: null,
      idempotencyKey: null,
      error: { code: String(ext.code ?? ErrorCode.SYSTEM_ERROR), message: e.message, retryable: Boolean(ext.retryable) },
      nativeId: null,
      input: null,
      expectedVersion: null,
      result: null,
    });
  }
  return [...bySystem.values()];
}

/** The customer an identity operation answered, when it answered one. */
function customerOf(data: unknown): string | null {
  const root = Object.values((data ?? {}) as Record<string, { id?: unknown } | null>)[0];
  return typeof root?.id === 'string' && root.id.startsWith('cus_') ? root.id : null;
}

/**
 * Identity's operator mutations: run by the identity subgraph itself in one transaction, recorded here as operations
 * with no step (OperationStep.system is a source system, and identity is none), SUCCEEDED or FAILED with the error.
 */
const IDENTITY_OPERATIONS = new Set(['mergeCustomers', 'unlinkRecord', 'resolveMatch']);

export function operationsPlugin(ledger: Ledger, log: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue: ctx, operation, request }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const traceId = ctx.traceId;
          if (traceId) {
            result.extensions = { ...result.extensions, traceId };
            if (result.errors) result.errors = result.errors.map((e) => ({ ...e, extensions: { ...e.extensions, traceId } }));
          }
          const kind = kindOf(request.query, operation?.operation);
          const name = request.operationName ?? operation?.selectionSet.selections.map((s) => ('name' in s ? s.name.value : '')).join(',') ?? kind;
          const errors = result.errors ?? [];
          // A write refused before it ran never reached a system: its errors name owners, not calls.
          const roots = operation?.selectionSet.selections.map((s) => ('name' in s ? s.name.value : '')) ?? [];
          const identityOp = kind === 'mutation' && roots.length === 1 && IDENTITY_OPERATIONS.has(roots[0]!) && errors.every((e) => e.path);
          const steps = kind === 'query' ? readSteps(errors) : [];
          const outcome = errors.length === 0 ? 'ok' : result.data ? 'partial' : 'failed';
          log.info({ traceId, operation: name, kind, app: ctx.app, outcome, errors: errors.map((e) => e.extensions?.code), durationMs: Math.round(performance.now() - started) }, 'operation');

          // canon's own mutations record themselves step by step once a resolver runs; here: writes refused before any
          // did, and reads that failed in part. A field's resolver leaves its path on every error it raises; an error
          // without one (parse, validation, variable coercion) means execution never reached a field.
          const record = identityOp || (kind === 'mutation' ? errors.length > 0 && errors.every((e) => !e.path) : steps.length > 0);
          if (!record) return;
          const now = new Date().toISOString();
          const first = errors[0];
          const op: OperationRecord = {
            id: ctx.operationId,
            traceId,
            name: name || kind,
            kind,
            app: ctx.app,
            idempotencyKey: ctx.idempotencyKey,
            inputHash: createHash('sha256').update(JSON.stringify(request.variables ?? {})).digest('hex'),
            customerId: identityOp ? customerOf(result.data) : null,
            retryTraceIds: [],
            status: identityOp && errors.length === 0 ? 'SUCCEEDED' : kind === 'query' && result.data ? 'PARTIAL' : 'FAILED',
            createdAt: now,
            updatedAt: now,
            workflow: identityOp ? `identity.${roots[0]}` : undefined,
            error: kind === 'mutation' && first ? { code: String(first.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR), message: first.message, retryable: Boolean(first.extensions?.retryable) } : null,
            steps,
          };
          try {
            await ledger.save(op);
          } catch (e) {
            // A ledger outage must not fail the app's request; it is logged loudly instead.
            log.error({ traceId, operation: name, error: (e as Error).message }, 'ledger write failed');
          }
        },
      };
    },
  };
}
