// bulkUpdateCustomers planned: every update validated as a whole, the customers' native ids read in one identity request, then each system's part cut into batch steps of at most 100 records.
//
// Terminology
// - item: one customer's part of one update that one system owns (an update of name and legalName is two items).
// - batch step: one call of a system's bulk subgraph mutation (HubSpot batch update, OData $batch, Mailchimp batch
//   subscribe, Zendesk update_many) carrying at most BULK_BATCH_SIZE items, each with its own outcome.
// Guarantee: a refusal (any update invalid, a customer unknown, an owner without the customer's record) means
// nothing was enqueued or written; past planning, a record its system refuses fails alone, as its item.

import { ErrorCode } from '../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import type { Plan } from './plans.js';
import { sliceByOwner, type StepItem, type StepRunner, type WriteStep } from './steps.js';
import { validateUpdate, type UpdateInput } from './validation.js';

/** Most records of one system in one batch step: HubSpot's batch limit, which the other systems' APIs allow too. */
export const BULK_BATCH_SIZE = 100;
/** Most updates in one bulkUpdateCustomers call. */
export const MAX_BULK_UPDATES = 10_000;
/** Problems quoted in a refusal's message; `extensions.problems` lists them all. */
const QUOTED = 5;

export interface BulkUpdate {
  id: string;
  input: UpdateInput;
}

const refuse = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): Plan => ({ ok: false, refusal: { code, message, extensions } });

function quoted(messages: string[]): string {
  return messages.slice(0, QUOTED).join(' ') + (messages.length > QUOTED ? ` (and ${messages.length - QUOTED} more)` : '');
}

/** The key batch `n` (1-based) of a system carries: derived from the operation's key, so a repeat sends the same one. */
export const batchKey = (operationKey: string, system: SystemName, n: number) => `${operationKey}:${system}:bulkUpdateCustomers:${n}`;

/** bulkUpdateCustomers: each update valid, no customer twice, every owner holding its customer; then batch steps in system order. */
export async function planBulk(runner: StepRunner, updates: readonly BulkUpdate[], operationKey: string | null): Promise<Plan> {
  if (updates.length === 0) return refuse(ErrorCode.BAD_USER_INPUT, 'updates is empty: send at least one update.', { field: 'updates' });
  if (updates.length > MAX_BULK_UPDATES) return refuse(ErrorCode.BAD_USER_INPUT, `updates holds ${updates.length} updates; at most ${MAX_BULK_UPDATES} are taken in one call.`, { field: 'updates' });
  const problems: { index: number; field: string; message: string }[] = [];
  const seen = new Map<string, number>();
  const inputs: UpdateInput[] = [];
  updates.forEach((u, index) => {
    const first = seen.get(u.id);
    if (first !== undefined) problems.push({ index, field: 'id', message: `updates[${index}] names customer ${u.id} again (first at updates[${first}]); send one update per customer.` });
    seen.set(u.id, first ?? index);
    const checked = validateUpdate(u.input);
    if (checked.ok) inputs[index] = checked.value;
    else for (const p of checked.problems) problems.push({ index, field: p.field, message: `updates[${index}]: ${p.message}` });
  });
  if (problems.length) {
    return refuse(ErrorCode.BAD_USER_INPUT, `Nothing was enqueued: ${quoted(problems.map((p) => p.message))}`, { index: problems[0]!.index, field: problems[0]!.field, problems: problems.map(({ index, field }) => ({ index, field })) });
  }
  const found = await runner.nativeIdsOfMany(updates.map((u) => u.id));
  if (!found.ok) {
    const e = found.error;
    const refusal = new SystemError({ code: e.code, system: 'identity', status: e.status, retryable: e.retryable, message: `Could not look up the customers: ${e.message}`, cause: e });
    refusal.attempts = e.attempts;
    return { ok: false, refusal };
  }
  const items = new Map<SystemName, StepItem[]>(SYSTEMS.map((s) => [s, []]));
  const missing: { index: number; message: string; system: SystemName | 'identity' }[] = [];
  updates.forEach((u, index) => {
    const ids = found.data[index];
    if (!ids) return void missing.push({ index, system: 'identity', message: `updates[${index}]: no customer with id "${u.id}".` });
    for (const [system, slice] of sliceByOwner(inputs[index]!)) {
      const nativeId = ids[system];
      if (nativeId === null) missing.push({ index, system, message: `updates[${index}]: customer ${u.id} has no ${system} record, so ${Object.keys(slice).join(', ')} cannot be written.` });
      else items.get(system)!.push({ customerId: u.id, nativeId, input: slice, status: 'PENDING', error: null });
    }
  });
  if (missing.length) return refuse(ErrorCode.NOT_FOUND, `Nothing was enqueued: ${quoted(missing.map((m) => m.message))}`, { index: missing[0]!.index, system: missing[0]!.system });
  const steps: WriteStep[] = [];
  for (const [system, list] of items) {
    for (let from = 0, n = 1; from < list.length; from += BULK_BATCH_SIZE, n++) {
      steps.push({
        name: `${system}.bulkUpdateCustomers`,
        system,
        action: 'bulkUpdateCustomers',
        nativeId: '',
        input: {},
        expectedVersion: null,
        status: 'PENDING',
        attempts: 0,
        error: null,
        result: null,
        idempotencyKey: operationKey ? batchKey(operationKey, system, n) : null,
        durationMs: null,
        items: list.slice(from, from + BULK_BATCH_SIZE),
      });
    }
  }
  return { ok: true, steps };
}
