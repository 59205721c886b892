// Canonical writes as a list of steps, one per owning system, and the runner that sends each step to its owner's subgraph through the gateway's one subgraph client.
//
// Terminology
// - slice: the part of an app's input that one system owns.
// - step: one call to one system (a slice to write, or a ticket to create), with its status and error. A write is
//   a list of steps, so that a worker can run, record and re-run them one by one (the coming queued mode). A step
//   is plain data: it can be stored, and run again by a process that did not build it.
// Guarantees: `StepRunner.run` never throws and never changes the step it is given; it resolves with the step's
// new state, SUCCEEDED or FAILED, the error naming the system. A step is retried only when it carries a key.

import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { ownershipMap } from '../../schema/ownership.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import type { ErrorCode } from '../../schema/errors.js';
import type { SubgraphClient, SubgraphResult } from '../federation/subgraph-client.js';
import type { StepStatus } from '../operations/ledger.js';

/** Why a step failed: a SystemError's plain form, as the ledger stores it and the payload shows it. */
export interface StepError {
  code: string;
  message: string;
  retryable: boolean;
  /** Calls made toward the system before giving up, when the connector said. */
  attempts?: number;
  /** The system's Retry-After, when it sent one: a queued retry waits at least this long. */
  retryAfterSeconds?: number;
}

export interface WriteStep {
  /** Its name in the workflow's definition; default `<system>.<action>`. */
  name?: string;
  /** When its latest run began (ISO time). */
  startedAt?: string | null;
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

export type NativeIds = Record<SystemName, string | null>;

/** The key a step carries: derived from the operation's key, so every repeat of the operation sends the same one. */
export function stepKey(operationKey: string, system: SystemName, action: WriteStep['action']): string {
  return `${operationKey}:${system}:${action}`;
}

/** A step not run yet; with an operation key it carries its derived key. */
export function newStep(system: SystemName, action: WriteStep['action'], nativeId: string, input: Record<string, unknown>, expectedVersion: string | null, operationKey: string | null): WriteStep {
  return { system, action, nativeId, input, expectedVersion, status: 'PENDING', attempts: 0, error: null, result: null, idempotencyKey: operationKey ? stepKey(operationKey, system, action) : null, durationMs: null };
}

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

/** A SystemError as a step keeps it. */
export function stepError(err: SystemError): StepError {
  return { code: err.code, message: err.message, retryable: err.retryable, attempts: err.attempts, ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) };
}

/** A failed step's error as the SystemError it was, for system-error.ts to shape as apps see it; null when it did not fail. */
export function failureOf(step: WriteStep): SystemError | null {
  if (!step.error) return null;
  const err = new SystemError({ code: step.error.code as ErrorCode, system: step.system, retryable: step.error.retryable, message: step.error.message });
  err.attempts = step.error.attempts ?? 1;
  return err;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The subgraph mutation a step is, and how to read its result from the answer. */
function operationOf(step: WriteStep): { query: string; variables: Record<string, unknown>; result(data: any): string | null } {
  if (step.action === 'updateCustomer') {
    const s = step.system;
    return {
      query: `mutation($id: ID!, $input: ${capitalised(s)}CustomerInput!, $v: String, $key: String) { ${s}UpdateCustomer(${s}Id: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { ${s}Version } }`,
      variables: { id: step.nativeId, input: step.input, v: step.expectedVersion, key: step.idempotencyKey },
      result: (data) => data[`${s}UpdateCustomer`]?.[`${s}Version`] ?? null,
    };
  }
  return {
    query: 'mutation($id: ID!, $subject: String!, $body: String!, $key: String) { supportCreateTicket(supportId: $id, subject: $subject, body: $body, idempotencyKey: $key) { id } }',
    variables: { id: step.nativeId, subject: step.input.subject, body: step.input.body, key: step.idempotencyKey },
    result: (data) => String(data.supportCreateTicket.id),
  };
}

export class StepRunner {
  constructor(private readonly client: SubgraphClient) {}

  /** The native ids of a canonical customer (null: identity does not know it), or why identity could not say. */
  async nativeIds(customerId: string): Promise<SubgraphResult<NativeIds | null>> {
    const r = await this.client.execute<{ customer: { crmId: string | null; erpId: string | null; marketingId: string | null; supportId: string | null } | null }>(
      'identity',
      'query($id: ID!) { customer(id: $id) { crmId erpId marketingId supportId } }',
      { id: customerId },
      // Part of a write: never shared with another request's read, as it must see what was written before it.
      { kind: 'read' },
    );
    if (!r.ok) return r;
    const c = r.data.customer;
    return { ok: true, data: c ? { crm: c.crmId, erp: c.erpId, marketing: c.marketingId, support: c.supportId } : null };
  }

  /**
   * The country the customer's records keep: the CRM contact's, else the ERP billing address's; null when neither
   * holds one, or neither system could say (a national phone number then needs the input's country).
   */
  async storedCountry(ids: NativeIds): Promise<string | null> {
    if (ids.crm) {
      const r = await this.client.execute<{ crmContactCountry: string | null }>('crm', 'query($id: ID!) { crmContactCountry(crmId: $id) }', { id: ids.crm }, { kind: 'read' });
      if (r.ok && r.data.crmContactCountry) return r.data.crmContactCountry;
    }
    if (ids.erp) {
      const r = await this.client.execute<{ _entities: ({ billingAddress: { country: string | null } | null } | null)[] }>(
        'erp',
        'query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { billingAddress { country } } } }',
        { r: [{ __typename: 'Customer', erpId: ids.erp }] },
        { kind: 'read' },
      );
      if (r.ok) return r.data._entities[0]?.billingAddress?.country?.trim().toUpperCase() || null;
    }
    return null;
  }

  /**
   * Runs one step against its owner's subgraph: the step's new state. Retried (here, and by the connector toward
   * its system) only when the step carries an idempotency key.
   */
  async run(step: WriteStep): Promise<WriteStep> {
    const started = performance.now();
    const op = operationOf(step);
    const r = await this.client.execute(step.system, op.query, op.variables, { kind: 'write', idempotencyKey: step.idempotencyKey });
    const durationMs = Math.round(performance.now() - started);
    if (!r.ok) return { ...step, status: 'FAILED', error: stepError(r.error), attempts: step.attempts + r.error.attempts, durationMs };
    return { ...step, status: 'SUCCEEDED', error: null, attempts: step.attempts + 1, result: op.result(r.data), durationMs };
  }
}
