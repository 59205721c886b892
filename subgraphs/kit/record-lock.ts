// Per-record write serialisation for systems whose APIs have no conditional write (CRM, marketing, support).
//
// Why: canon's stale-write check is "read the record's version, compare, write". Two canon writers doing that at
// once could both see the old version and both write; one update would be lost. Holding a lock per record around
// read-compare-write makes them take turns, so exactly one wins and the other sees the new version.
// Limits: writers outside canon (someone editing in the CRM's own UI) do not take the lock; the window is the few
// milliseconds between canon's read and write. Systems with native preconditions (the ERP's If-Match) need no lock.

import { randomUUID } from 'node:crypto';
import type { RedisClientType } from '@redis/client';

export interface RecordLock {
  /** Runs `fn` while holding the lock on `key`; callers for the same key run one at a time, in arrival order where possible. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** One gateway process: a promise chain per key. Nothing is held for keys nobody is writing. */
export class InProcessLock implements RecordLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Forget the key once nobody queued behind us, so the map does not grow with every record ever written.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export interface RedisLockOptions {
  /** How long a held lock lives if its holder dies, in ms. Default 10000: longer than any write's timeout budget. */
  ttlMs?: number;
  /** How long to wait for a busy lock before giving up, in ms. Default 15000. */
  waitMs?: number;
  /** Key prefix. Default `canon:lock:`. */
  prefix?: string;
}

// Deletes the lock only if we still hold it: after a TTL expiry another writer may own it now.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Several gateway processes: a Redis key per record, taken with SET NX PX and released with a compare-and-delete,
 * so a writer that outlives its TTL cannot release someone else's lock.
 */
export class RedisLock implements RecordLock {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly prefix: string;

  constructor(
    private readonly client: RedisClientType,
    opts: RedisLockOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.waitMs = opts.waitMs ?? 15_000;
    this.prefix = opts.prefix ?? 'canon:lock:';
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const redisKey = this.prefix + key;
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 2;
    while ((await this.client.set(redisKey, token, { condition: 'NX', expiration: { type: 'PX', value: this.ttlMs } })) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`Timed out after ${this.waitMs} ms waiting for the write lock on ${key}.`);
      // Jittered backoff so waiting writers do not poll Redis in lockstep.
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await fn();
    } finally {
      await this.client.eval(RELEASE, { keys: [redisKey], arguments: [token] });
    }
  }
}
