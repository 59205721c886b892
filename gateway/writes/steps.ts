// Canonical writes as a list of steps, one per owning system, each sent only to its owner's subgraph.
//
// Terminology
// - slice: the part of an app's input that one system owns.
// - step: one call to one system (a slice to write, or a ticket to create), with its status and error. A write is
//   a list of steps, so that a worker can run, record and re-run them one by one (the coming queued mode).
// Guarantee: `runStep` never throws; it resolves with the step marked SUCCEEDED or FAILED, the error naming the system.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { ownershipMap } from '../../schema/ownership.js';
import type { PolicyRegistry } from '../../subgraphs/kit/resilience.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import { injectTrace } from '../../subgraphs/kit/telemetry.js';
import type { StepStatus } from '../operations/ledger.js';

export interface StepError {
  code: string;
  message: string;
  retryable: boolean;
  /** Calls the connector made toward its system before giving up, when it said. */
  attempts?: number;
}

export interface WriteStep {
  system: SystemName;
  action: 'updateCustomer' | 'createTicket';
  /** The record in the system: its native id. */
  nativeId: string;
  input: Record<string, unknown>;
  expectedVersion: string | null;
  status: StepStatus;
  attempts: number;
  error: StepError | null;
  /** What the system answered: the record's new version token, or the created ticket's id. */
  result: string | null;
  /** The key sent with this step (operation key + system + action), so a repeat of it is recognised; null without one. */
  idempotencyKey: string | null;
  /** How long the last run of the step took, in ms. */
  durationMs: number | null;
}

/** The key a step carries: derived from the operation's key, so every repeat of the operation sends the same one. */
export function stepKey(operationKey: string, system: SystemName, action: WriteStep['action']): string {
  return `${operationKey}:${system}:${action}`;
}

/** Where each subgraph listens (its /graphql URL). */
export type SubgraphUrls = Record<SystemName | 'identity', string>;

export type NativeIds = Record<SystemName, string | null>;

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Splits a validated input by owning system, in system order. Fields of the same owner stay together in one slice. */
export function sliceByOwner(input: Record<string, unknown>): Map<SystemName, Record<string, unknown>> {
  const owners = ownershipMap();
  const slices = new Map<SystemName, Record<string, unknown>>();
  for (const system of SYSTEMS) {
    for (const [field, value] of Object.entries(input)) {
      if (owners.get(field) !== system) continue;
      slices.set(system, { ...(slices.get(system) ?? {}), [field]: value });
    }
  }
  return slices;
}

/** Shapes a subgraph's GraphQL error (its system already named in extensions) as a step error. */
function stepError(err: { message: string; extensions?: Record<string, unknown> }): StepError {
  const attempts = typeof err.extensions?.attempts === 'number' ? err.extensions.attempts : undefined;
  return { code: String(err.extensions?.code ?? ErrorCode.SYSTEM_ERROR), message: err.message, retryable: Boolean(err.extensions?.retryable), ...(attempts ? { attempts } : {}) };
}

export class WriteExecutor {
  constructor(
    private readonly urls: SubgraphUrls,
    /** The gateway's policies toward its subgraphs (timeouts, breaker; retries only for reads and keyed writes). */
    private readonly policies: PolicyRegistry,
  ) {}

  /**
   * Posts an operation to a subgraph under its policy. Transport failures (refused, timed out, 5xx) are retried
   * when `retry` allows; a GraphQL error in the answer is the subgraph's final word (it already retried its system).
   */
  async call(target: SystemName | 'identity', query: string, variables: Record<string, unknown>, retry: boolean): Promise<{ data: any } | { error: StepError }> {
    const url = this.urls[target];
    try {
      const body = await this.policies.for(target).execute(async (signal) => {
        let res: Response;
        try {
          res = await fetch(url, { method: 'POST', headers: injectTrace({ 'content-type': 'application/json' }), body: JSON.stringify({ query, variables }), signal });
        } catch (cause) {
          throw new SystemError({ code: signal.aborted ? ErrorCode.SYSTEM_TIMEOUT : ErrorCode.SYSTEM_UNAVAILABLE, system: target, retryable: true, message: `${target} subgraph ${signal.aborted ? 'did not answer in time' : 'is unreachable'}`, cause });
        }
        if (res.status >= 500 || res.status === 429) throw new SystemError({ code: ErrorCode.SYSTEM_UNAVAILABLE, system: target, retryable: true, status: res.status, message: `${target} subgraph answered ${res.status}` });
        return (await res.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
      }, { retry });
      if (body.errors?.length) return { error: stepError(body.errors[0]!) };
      return { data: body.data };
    } catch (e) {
      const err = e instanceof SystemError ? e : new SystemError({ code: ErrorCode.SYSTEM_ERROR, system: target, retryable: false, message: (e as Error).message });
      return { error: { code: err.code, message: err.message, retryable: err.retryable, attempts: err.attempts } };
    }
  }

  /** The native ids of a canonical customer, or null when identity does not know it. */
  async nativeIds(customerId: string): Promise<NativeIds | null> {
    const r = await this.call('identity', 'query($id: ID!) { customer(id: $id) { crmId erpId marketingId supportId } }', { id: customerId }, true);
    if ('error' in r) throw new GraphQLError(`Could not look up customer ${customerId}: ${r.error.message}`, { extensions: { code: r.error.code, system: 'identity', retryable: r.error.retryable } });
    const c = r.data.customer;
    return c ? { crm: c.crmId, erp: c.erpId, marketing: c.marketingId, support: c.supportId } : null;
  }

  /**
   * Runs one step against its owner's subgraph and records the outcome on it. A step is retried (here and by the
   * connector toward its system) only when it carries an idempotency key.
   */
  async runStep(step: WriteStep): Promise<WriteStep> {
    const started = performance.now();
    const retry = step.idempotencyKey !== null;
    const r =
      step.action === 'updateCustomer'
        ? await this.call(
            step.system,
            `mutation($id: ID!, $input: ${capitalised(step.system)}CustomerInput!, $v: String, $key: String) { ${step.system}UpdateCustomer(${step.system}Id: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { ${step.system}Version } }`,
            { id: step.nativeId, input: step.input, v: step.expectedVersion, key: step.idempotencyKey },
            retry,
          )
        : await this.call(
            'support',
            'mutation($id: ID!, $subject: String!, $body: String!, $key: String) { supportCreateTicket(supportId: $id, subject: $subject, body: $body, idempotencyKey: $key) { id } }',
            { id: step.nativeId, subject: step.input.subject, body: step.input.body, key: step.idempotencyKey },
            retry,
          );
    step.durationMs = Math.round(performance.now() - started);
    if ('error' in r) {
      step.status = 'FAILED';
      step.error = r.error;
      step.attempts += r.error.attempts ?? 1;
    } else {
      step.status = 'SUCCEEDED';
      step.error = null;
      step.attempts += 1;
      step.result = step.action === 'updateCustomer' ? (r.data[`${step.system}UpdateCustomer`]?.[`${step.system}Version`] ?? null) : String(r.data.supportCreateTicket.id);
    }
    return step;
  }
}
