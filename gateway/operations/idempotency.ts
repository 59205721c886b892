// Idempotency keys for mutations, after the IETF httpapi Idempotency-Key draft and Stripe's practice, stored with keyv.
//
// Terminology
// - key: the client's `Idempotency-Key` header; it names one logical operation, however often it is sent.
// - fingerprint: a hash of the request (query, variables, operation name); a key is bound to the first one.
// - claim: the first request with a key owns it while it runs (IN_PROGRESS); later ones replay, wait or are refused.
// Guarantees
// - Same key, same request, earlier one finished → its stored response, replayed; nothing runs again.
// - Same key, different request → IDEMPOTENCY_KEY_REUSED. Same key while the first still runs → IDEMPOTENCY_IN_PROGRESS.
// - A request that ended in a retryable failure, or was refused as bad input, stores no response: sending the key
//   again runs it again, and that run skips the steps the ledger recorded as succeeded under the key.
// - Claiming is atomic across gateways: the check-and-mark runs under the record lock (in process, or Redis).

import { createHash } from 'node:crypto';
import type Keyv from 'keyv';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';

export interface StoredResponse {
  status: number;
  body: string;
}

interface KeyRecord {
  fingerprint: string;
  /** RESUMABLE: an earlier run ended in a retryable failure; the next run continues it. */
  state: 'IN_PROGRESS' | 'COMPLETE' | 'RESUMABLE';
  response?: StoredResponse;
}

/** `resume`: an earlier run of this operation failed retryably, so the new run skips the steps that succeeded then. */
export type Claim = { kind: 'execute'; resume: boolean } | { kind: 'replay'; response: StoredResponse } | { kind: 'reused' } | { kind: 'in-progress' };

export interface IdempotencyOptions {
  /** How long a key and its response are kept, in ms. Default 24 hours. */
  ttlMs?: number;
  /**
   * How long a key stays claimed by a request that never finished, in ms. Default 60000: longer than any
   * mutation's time budget, so only a gateway that died mid-request leaves a claim to expire.
   */
  inProgressTtlMs?: number;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const MAX_KEY_LENGTH = 255;

/**
 * The key in an Idempotency-Key header, or an error message. The draft defines the value as a structured-field
 * string ("…"); a bare token is accepted too, as most clients send one.
 */
export function parseIdempotencyKey(header: string): { key: string } | { error: string } {
  let key = header.trim();
  if (key.startsWith('"') && key.endsWith('"') && key.length >= 2) key = key.slice(1, -1);
  if (!key) return { error: 'Idempotency-Key is empty; send a unique string per operation, e.g. a UUID.' };
  if (key.length > MAX_KEY_LENGTH) return { error: `Idempotency-Key is ${key.length} characters; at most ${MAX_KEY_LENGTH}.` };
  if (!/^[\x21-\x7e]+$/.test(key)) return { error: 'Idempotency-Key must be printable ASCII without spaces.' };
  return { key };
}

/** The request's identity for a key: the same query text, variables and operation name give the same fingerprint. */
export function fingerprintOf(body: { query?: unknown; variables?: unknown; operationName?: unknown }): string {
  return createHash('sha256').update(JSON.stringify([body.query ?? null, body.variables ?? null, body.operationName ?? null])).digest('hex');
}

export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly inProgressTtlMs: number;

  constructor(
    private readonly keyv: Keyv,
    private readonly lock: RecordLock,
    opts: IdempotencyOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.inProgressTtlMs = opts.inProgressTtlMs ?? 60_000;
  }

  /** Decides what a request carrying `key` may do; when the answer is `execute`, the caller must `complete` or `release`. */
  claim(key: string, fingerprint: string): Promise<Claim> {
    return this.lock.run(`idempotency:${key}`, async () => {
      const rec = (await this.keyv.get(`key:${key}`)) as KeyRecord | undefined;
      if (rec) {
        if (rec.fingerprint !== fingerprint) return { kind: 'reused' };
        if (rec.state === 'IN_PROGRESS') return { kind: 'in-progress' };
        if (rec.state === 'COMPLETE') return { kind: 'replay', response: rec.response! };
      }
      await this.keyv.set(`key:${key}`, { fingerprint, state: 'IN_PROGRESS' } satisfies KeyRecord, this.inProgressTtlMs);
      return { kind: 'execute', resume: rec?.state === 'RESUMABLE' };
    });
  }

  /** Stores the final response under the key, for replay until the key expires. */
  async complete(key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    await this.keyv.set(`key:${key}`, { fingerprint, state: 'COMPLETE', response } satisfies KeyRecord, this.ttlMs);
  }

  /**
   * Frees the key without a stored response: the next request with it runs again. After a retryable failure
   * (`resumable`), that run continues this one, skipping the steps that succeeded, for as long as the key lives;
   * after refused input nothing ran, and the key is simply forgotten.
   */
  async release(key: string, fingerprint: string, opts: { resumable: boolean }): Promise<void> {
    if (opts.resumable) await this.keyv.set(`key:${key}`, { fingerprint, state: 'RESUMABLE' } satisfies KeyRecord, this.ttlMs);
    else await this.keyv.delete(`key:${key}`);
  }

}
