// Batch writes through a system's own batch API: chunks no larger than the API allows, one result or one Error per input in input order, and a retried chunk that recognises what its earlier attempt already wrote.
//
// Terminology
// - chunk: the inputs sent in one call, at most `size`, each record at most once (batch APIs refuse a record twice).
// - recognise: before a retry under an idempotency key, read back the chunk's records; those that already hold
//   what the chunk sets were written by the attempt whose answer was lost, and are not sent again.
// Guarantees: `batchWrite` never rejects; a failed call fails only its own chunk's inputs, each with that call's
// SystemError; a chunk is retried only under an idempotency key, every attempt carrying the chunk's derived key
// (`<key>:<chunk number>`, stable for the same inputs in the same order).

import type { Owner } from '../../schema/model.js';
import type { SystemClient } from './system-client.js';
import { toGraphQLError, toSystemError, type SystemError } from './system-error.js';

/** How one batch write runs; the client, the call (as logs and errors name it) and the inputs are `batchWrite`'s arguments. */
export interface BatchWrite<I, R> {
  /** Most inputs per call: the API's own limit. */
  size: number;
  /** The record an input writes; two inputs for one record go to different chunks, in input order. Defaults to the input's `id`. */
  recordOf?(input: I): string;
  idempotencyKey?: string | null;
  /** One attempt of one chunk: a result or an Error per input, in chunk order. Throws (a SystemError) when the call failed as a whole. */
  send(chunk: readonly I[], key: string | null, signal: AbortSignal): Promise<(R | Error)[]>;
  /** Before a retry: the result for each input whose record already holds what it sets, else null. */
  recognise?(chunk: readonly I[], signal: AbortSignal): Promise<(R | null)[]>;
}

/** Splits input positions into chunks of at most `size`, no record twice in one chunk, order kept. */
export function chunkPositions<I>(inputs: readonly I[], size: number, recordOf: (input: I) => string): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`a batch size must be a positive integer, got ${size}`);
  const chunks: number[][] = [];
  // Each input joins the first chunk with room after the last one holding its record, so a record's writes go
  // out in input order and no chunk holds a record twice.
  const lastChunkOf = new Map<string, number>();
  inputs.forEach((input, i) => {
    const record = recordOf(input);
    let c = (lastChunkOf.get(record) ?? -1) + 1;
    while (chunks[c] && chunks[c]!.length >= size) c++;
    (chunks[c] ??= []).push(i);
    lastChunkOf.set(record, c);
  });
  return chunks;
}

/**
 * One input's failure inside a batch answer (a 207 entry, a job result, a batch error list), shaped by the same
 * function as a failed call: `status` is what the system said of that input.
 */
export function itemError(system: Owner, call: string, status: number, message: string): SystemError {
  const [method = 'POST', path = call] = call.split(' ');
  return toSystemError(system, { method, path }, { response: { status, headers: new Headers(), text: JSON.stringify({ message }) } });
}

const idOf = (input: unknown): string => String((input as { id?: unknown }).id);

/**
 * Writes `inputs` through `call` (`POST /crm/v3/objects/contacts/batch/update`) chunk by chunk, in order: one result
 * or Error per input, in input order.
 */
export async function batchWrite<I, R>(client: SystemClient, call: string, inputs: readonly I[], w: BatchWrite<I, R>): Promise<(R | Error)[]> {
  const out: (R | Error)[] = new Array(inputs.length);
  const chunks = chunkPositions(inputs, w.size, w.recordOf ?? idOf);
  for (const [n, positions] of chunks.entries()) {
    const key = w.idempotencyKey ? `${w.idempotencyKey}:${n + 1}` : null;
    let attempt = 0;
    try {
      const results = await client.run(async (signal) => {
        attempt++;
        const got = new Map<number, R | Error>();
        let pending = positions;
        if (attempt > 1 && w.recognise) {
          const held = await w.recognise(pending.map((p) => inputs[p]!), signal);
          held.forEach((r, j) => {
            if (r !== null) got.set(pending[j]!, r);
          });
          pending = pending.filter((p) => !got.has(p));
        }
        if (pending.length) {
          const sent = await w.send(pending.map((p) => inputs[p]!), key, signal);
          pending.forEach((p, j) => got.set(p, sent[j] ?? new Error(`${call} answered nothing for input ${p}`)));
        }
        return positions.map((p) => got.get(p)!);
      }, Boolean(key), call);
      positions.forEach((p, j) => (out[p] = results[j]!));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const p of positions) out[p] = err;
    }
  }
  return out;
}

/** Why one write of a bulk update failed, as subgraph bulk results serve it: the code, message and retryable apps see in errors. */
export interface BulkWriteError {
  code: string;
  message: string;
  retryable: boolean;
  /** The system's Retry-After, in seconds, when it sent one. */
  retryAfterSeconds: number | null;
}

/** A batch method's result per input as a subgraph serves it: the record, or why its write failed. */
export function bulkOutcome<R>(result: R | Error): { customer: R | null; error: BulkWriteError | null } {
  if (!(result instanceof Error)) return { customer: result, error: null };
  const g = toGraphQLError(result);
  const wait = g.extensions.retryAfterSeconds;
  return { customer: null, error: { code: String(g.extensions.code), message: g.message, retryable: g.extensions.retryable === true, retryAfterSeconds: typeof wait === 'number' ? wait : null } };
}
