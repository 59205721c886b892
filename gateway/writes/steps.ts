// Canonical writes as a list of steps, one per owning system, and the runner that sends each step to its owner's subgraph through the gateway's one subgraph client.
//
// Terminology
// - slice: the part of an app's input that one system owns.
// - step: one call to one system (a slice to write, or a ticket to create), with its status and error. A write is
//   a list of steps, so that a worker can run, record and re-run them one by one (the coming queued mode). A step
//   is plain data: it can be stored, and run again by a process that did not build it.
// Guarantees: `StepRunner.run` never throws and never changes the step it is given; it resolves with the step's
// new state, SUCCEEDED or FAILED, the error naming the system. A step is retried only when it carries a key.

import { SYSTEMS, type Owner, type SystemName } from '../../schema/model.js';
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

/** One record of a bulk step: a customer's part of a bulk update that its system owns. */
export interface StepItem {
  /** The canonical customer. */
  customerId: string;
  /** Its record in the step's system. */
  nativeId: string;
  input: Record<string, unknown>;
  status: StepStatus;
  error: StepError | null;
}

export interface WriteStep {
  /** Its name in the workflow's definition; default `<system>.<action>`. */
  name?: string;
  /** When its latest run began (ISO time). */
  startedAt?: string | null;
  system: SystemName;
  action: 'updateCustomer' | 'createTicket' | 'bulkUpdateCustomers';
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
  /** For a bulk step: its records, each with its own outcome (one record the system refuses fails alone). */
  items?: StepItem[];
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

/** The subgraph mutation a step is, and how its answer changes the step. */
interface StepOperation {
  query: string;
  variables: Record<string, unknown>;
  settle(data: any, step: WriteStep): Pick<WriteStep, 'status' | 'error' | 'result' | 'items'>;
}

const succeeded = (result: string | null) => ({ status: 'SUCCEEDED' as const, error: null, result });

/** A bulk step's outcome from its items: SUCCEEDED when every record was written, else FAILED naming how many were not. */
export function bulkSettled(items: StepItem[]): Pick<WriteStep, 'status' | 'error' | 'result' | 'items'> {
  const failed = items.filter((i) => i.status === 'FAILED');
  if (!failed.length) return { status: 'SUCCEEDED', error: null, result: `${items.length} written`, items };
  const first = failed[0]!.error!;
  const message = `${failed.length} of ${items.length} records were not written; the first, ${failed[0]!.customerId}: ${first.message}`;
  return { status: 'FAILED', error: { code: first.code, message, retryable: failed.every((i) => i.error?.retryable) }, result: `${items.length - failed.length} written`, items };
}

function operationOf(step: WriteStep): StepOperation {
  const s = step.system;
  if (step.action === 'updateCustomer') {
    return {
      query: `mutation($id: ID!, $input: ${capitalised(s)}CustomerInput!, $v: String, $key: String) { ${s}UpdateCustomer(${s}Id: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { ${s}Version } }`,
      variables: { id: step.nativeId, input: step.input, v: step.expectedVersion, key: step.idempotencyKey },
      settle: (data) => succeeded(data[`${s}UpdateCustomer`]?.[`${s}Version`] ?? null),
    };
  }
  if (step.action === 'bulkUpdateCustomers') {
    // Records written by an earlier run are not sent again.
    const open = (step.items ?? []).filter((i) => i.status !== 'SUCCEEDED');
    return {
      query: `mutation($u: [${capitalised(s)}BulkUpdateInput!]!, $key: String) { ${s}BulkUpdateCustomers(updates: $u, idempotencyKey: $key) { error { code message retryable } } }`,
      variables: { u: open.map((i) => ({ [`${s}Id`]: i.nativeId, input: i.input })), key: step.idempotencyKey },
      settle: (data, st) => {
        const answers: { error: StepError | null }[] = data[`${s}BulkUpdateCustomers`] ?? [];
        const byItem = new Map(open.map((item, j) => [item, answers[j]]));
        const items = (st.items ?? []).map((item): StepItem => {
          if (!byItem.has(item)) return item;
          const err = byItem.get(item)?.error ?? null;
          return { ...item, status: err ? 'FAILED' : 'SUCCEEDED', error: err ? { code: err.code, message: err.message, retryable: err.retryable } : null };
        });
        return bulkSettled(items);
      },
    };
  }
  return {
    query: 'mutation($id: ID!, $subject: String!, $body: String!, $key: String) { supportCreateTicket(supportId: $id, subject: $subject, body: $body, idempotencyKey: $key) { id } }',
    variables: { id: step.nativeId, subject: step.input.subject, body: step.input.body, key: step.idempotencyKey },
    settle: (data) => succeeded(String(data.supportCreateTicket.id)),
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
    if (!r.ok) {
      const error = stepError(r.error);
      // A call that failed as a whole failed every record it carried that was not written before.
      const items = step.items?.map((i) => (i.status === 'SUCCEEDED' ? i : { ...i, status: 'FAILED' as const, error }));
      return { ...step, status: 'FAILED', error, attempts: step.attempts + r.error.attempts, durationMs, ...(items ? { items } : {}) };
    }
    return { ...step, ...op.settle(r.data, step), attempts: step.attempts + 1, durationMs };
  }

  /**
   * One call of a workflow's own to a subgraph (onboarding's creates, checks and links): the data, or the failure as
   * a value. A write is retried only under `idempotencyKey`.
   */
  call<T = any>(subgraph: Owner, query: string, variables: Record<string, unknown>, write: { idempotencyKey: string | null } | null): Promise<SubgraphResult<T>> {
    return this.client.execute<T>(subgraph, query, variables, write ? { kind: 'write', idempotencyKey: write.idempotencyKey } : { kind: 'read' });
  }

  /** The native ids of many customers in one identity request per 500 (null for one identity does not know), or why identity could not say. */
  async nativeIdsOfMany(customerIds: readonly string[]): Promise<SubgraphResult<(NativeIds | null)[]>> {
    const out: (NativeIds | null)[] = [];
    for (let from = 0; from < customerIds.length; from += 500) {
      const ids = customerIds.slice(from, from + 500);
      const query = `query(${ids.map((_, i) => `$i${i}: ID!`).join(', ')}) { ${ids.map((_, i) => `c${i}: customer(id: $i${i}) { crmId erpId marketingId supportId }`).join(' ')} }`;
      const r = await this.client.execute<Record<string, { crmId: string | null; erpId: string | null; marketingId: string | null; supportId: string | null } | null>>(
        'identity',
        query,
        Object.fromEntries(ids.map((id, i) => [`i${i}`, id])),
        { kind: 'read' },
      );
      if (!r.ok) return r;
      ids.forEach((_, i) => {
        const c = r.data[`c${i}`];
        out.push(c ? { crm: c.crmId, erp: c.erpId, marketing: c.marketingId, support: c.supportId } : null);
      });
    }
    return { ok: true, data: out };
  }
}
