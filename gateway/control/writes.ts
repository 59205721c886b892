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

export type StepStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface StepError {
  code: string;
  message: string;
  retryable: boolean;
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

/** Posts a GraphQL operation to a subgraph; failures (network or GraphQL errors) come back as a StepError. */
export async function callSubgraph(url: string, system: SystemName | 'identity', query: string, variables: Record<string, unknown>, timeoutMs: number): Promise<{ data: any } | { error: StepError }> {
  let body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(timeoutMs) });
    body = (await res.json()) as typeof body;
  } catch (e) {
    const timedOut = (e as Error).name === 'TimeoutError';
    return { error: { code: timedOut ? ErrorCode.SYSTEM_TIMEOUT : ErrorCode.SYSTEM_UNAVAILABLE, message: `${system} subgraph ${timedOut ? 'did not answer in time' : `is unreachable (${(e as Error).message})`}`, retryable: true } };
  }
  const err = body.errors?.[0];
  if (err) {
    const code = String(err.extensions?.code ?? ErrorCode.SYSTEM_ERROR);
    return { error: { code, message: err.message, retryable: Boolean(err.extensions?.retryable) } };
  }
  return { data: body.data };
}

export class WriteExecutor {
  constructor(
    private readonly urls: SubgraphUrls,
    private readonly timeoutMs: number,
  ) {}

  /** The native ids of a canonical customer, or null when identity does not know it. */
  async nativeIds(customerId: string): Promise<NativeIds | null> {
    const r = await callSubgraph(this.urls.identity, 'identity', 'query($id: ID!) { customer(id: $id) { crmId erpId marketingId supportId } }', { id: customerId }, this.timeoutMs);
    if ('error' in r) throw new GraphQLError(`Could not look up customer ${customerId}: ${r.error.message}`, { extensions: { code: r.error.code, system: 'identity', retryable: r.error.retryable } });
    const c = r.data.customer;
    return c ? { crm: c.crmId, erp: c.erpId, marketing: c.marketingId, support: c.supportId } : null;
  }

  /** Runs one step against its owner's subgraph and records the outcome on it. */
  async runStep(step: WriteStep): Promise<WriteStep> {
    step.attempts++;
    const r =
      step.action === 'updateCustomer'
        ? await callSubgraph(
            this.urls[step.system],
            step.system,
            `mutation($id: ID!, $input: ${capitalised(step.system)}CustomerInput!, $v: String) { ${step.system}UpdateCustomer(${step.system}Id: $id, input: $input, expectedVersion: $v) { ${step.system}Version } }`,
            { id: step.nativeId, input: step.input, v: step.expectedVersion },
            this.timeoutMs,
          )
        : await callSubgraph(
            this.urls.support,
            'support',
            'mutation($id: ID!, $subject: String!, $body: String!, $ext: String) { supportCreateTicket(supportId: $id, subject: $subject, body: $body, externalId: $ext) { id } }',
            { id: step.nativeId, subject: step.input.subject, body: step.input.body, ext: step.input.externalId ?? null },
            this.timeoutMs,
          );
    if ('error' in r) {
      step.status = 'FAILED';
      step.error = r.error;
    } else {
      step.status = 'SUCCEEDED';
      step.error = null;
      step.result = step.action === 'updateCustomer' ? (r.data[`${step.system}UpdateCustomer`]?.[`${step.system}Version`] ?? null) : String(r.data.supportCreateTicket.id);
    }
    return step;
  }
}
