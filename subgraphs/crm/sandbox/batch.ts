// Owns the CRM sandbox's batch write: HubSpot's `POST /crm/v3/objects/contacts/batch/update`, at most 100 inputs, failing inputs reported one by one in a 207.

import { isRecord, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import type { CrmContactRow, CrmStore, CrmWritableProperty } from './store.js';

/** HubSpot's documented limit for every CRM v3 batch endpoint. */
export const CRM_BATCH_LIMIT = 100;

/** What the batch route shares with the single-contact routes, so each input is checked and rendered exactly as a PATCH would be. */
export interface CrmBatchDeps {
  /** The PATCH body check: the clean properties, or why they are refused. */
  writePatch(body: unknown): Partial<Record<CrmWritableProperty, string | null>> | string;
  /** A contact as HubSpot renders it. */
  toObject(row: CrmContactRow, requested: readonly string[] | null): unknown;
}

function hubspotError(status: number, category: string, message: string): SandboxResponse {
  return { status, body: { status: 'error', category, message, correlationId: crypto.randomUUID() } };
}

/** One failed input, as HubSpot lists it in a batch's `errors`. */
interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
}

/** The CRM's batch update route over an open store. */
export function crmBatchRoutes(store: CrmStore, deps: CrmBatchDeps): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/crm/v3/objects/contacts/batch/update',
      write: true,
      handle: ({ body }) => {
        const startedAt = new Date().toISOString();
        if (!isRecord(body) || !Array.isArray(body.inputs)) {
          return hubspotError(400, 'VALIDATION_ERROR', 'body must be {"inputs": [{"id": "<id>", "properties": {...}}, ...]}');
        }
        if (body.inputs.length > CRM_BATCH_LIMIT) {
          return hubspotError(400, 'VALIDATION_ERROR', `Batch input limit exceeded: got ${body.inputs.length} inputs, at most ${CRM_BATCH_LIMIT} are allowed per call`);
        }
        const inputs: { id: string; body: unknown }[] = [];
        for (const input of body.inputs) {
          if (!isRecord(input) || (typeof input.id !== 'string' && typeof input.id !== 'number')) {
            return hubspotError(400, 'VALIDATION_ERROR', `every input must be {"id": "<id>", "properties": {...}}, got ${JSON.stringify(input)}`);
          }
          inputs.push({ id: String(input.id), body: input });
        }
        // HubSpot refuses the whole call rather than guess which of two updates of one record should win.
        const seen = new Set<string>();
        const duplicates = [...new Set(inputs.filter(({ id }) => seen.has(id) || !seen.add(id)).map(({ id }) => id))];
        if (duplicates.length) return hubspotError(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);

        const errors: BatchError[] = [];
        const results: unknown[] = [];
        store.db.transaction(() => {
          for (const input of inputs) {
            const patch = deps.writePatch(input.body);
            if (typeof patch === 'string') {
              errors.push({ status: 'error', category: 'VALIDATION_ERROR', message: patch, context: { ids: [input.id] } });
              continue;
            }
            const row = store.update(input.id, patch);
            if (!row) {
              errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', message: `resource not found: no CONTACT with id ${JSON.stringify(input.id)}`, context: { ids: [input.id] } });
              continue;
            }
            results.push(deps.toObject(row, null));
          }
        })();
        const completedAt = new Date().toISOString();
        if (errors.length === 0) return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt }, writes: results.length };
        return { status: 207, body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt }, writes: results.length };
      },
    },
  ];
}
