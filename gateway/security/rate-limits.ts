// Per-app rate limits on rate-limiter-flexible: each app its own budget (its rate, or the gateway's default), counted in memory or in Redis so every gateway counts against one limit.
//
// Terminology
// - rate: requests per second an app may send; its own (`apps create --rate N`) or RATE_LIMIT_PER_SECOND.
// - burst: on top of the rate, an app may send as many again at once (so twice the rate in one second); that extra
//   allowance comes back every BURST_WINDOW_S seconds. Built from two fixed windows with rate-limiter-flexible's
//   BurstyRateLimiter: the per-second window first, the burst pool once it is spent.
// Guarantees: apps never share a budget (the counter is keyed by app name); with Redis, gateways share each app's
// counters; when Redis cannot be reached each gateway falls back to counting in its own memory rather than
// refusing every request or letting every one through.

import { createClient, type RedisClientType } from '@redis/client';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How often the burst allowance renews, in seconds. */
export const BURST_WINDOW_S = 10;

export type RateDecision = { ok: true } | { ok: false; rate: number; burst: number; retryAfterMs: number };

export interface RateLimitsOptions {
  /** Requests per second for apps without a rate of their own. */
  defaultPerSecond: number;
  /** Counters shared by every gateway; default: this process's memory. */
  redis?: RedisClientType;
}

/** Where an app's counters live in Redis, for operators who inspect or reset a limit by hand. */
export function redisKeys(app: string, rate: number): { second: string; burst: string } {
  return { second: `${prefix('second', rate)}:${app}`, burst: `${prefix('burst', rate)}:${app}` };
}

// The rate is part of the prefix: an app given a new rate starts with fresh counters rather than another rate's.
const prefix = (window: 'second' | 'burst', rate: number) => `canon-rate-${window}-${rate}`;

export class RateLimits {
  private readonly limiters = new Map<number, BurstyRateLimiter>();

  constructor(private readonly opts: RateLimitsOptions) {}

  /** Opens the limits the configuration names: in Redis with a URL (its client closed by `close`), else in memory. */
  static async open(config: { rateLimitPerSecond: number; redisUrl: string | undefined }): Promise<RateLimits> {
    if (!config.redisUrl) return new RateLimits({ defaultPerSecond: config.rateLimitPerSecond });
    const client = createClient({ url: config.redisUrl }) as RedisClientType;
    client.on('error', () => undefined); // each call then falls back to memory; the client reconnects on its own
    await client.connect();
    const limits = new RateLimits({ defaultPerSecond: config.rateLimitPerSecond, redis: client });
    limits.closeClient = async () => void (await client.quit());
    return limits;
  }

  private closeClient: () => Promise<void> = async () => undefined;

  private limiterFor(rate: number): BurstyRateLimiter {
    let limiter = this.limiters.get(rate);
    if (limiter) return limiter;
    const make = (window: 'second' | 'burst', duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: prefix(window, rate), points: rate, duration });
      if (!this.opts.redis) return memory;
      return new RateLimiterRedis({ storeClient: this.opts.redis, useRedisPackage: true, rejectIfRedisNotReady: true, keyPrefix: prefix(window, rate), points: rate, duration, insuranceLimiter: memory });
    };
    limiter = new BurstyRateLimiter(make('second', 1), make('burst', BURST_WINDOW_S));
    this.limiters.set(rate, limiter);
    return limiter;
  }

  /** Counts one request of `app`; says whether it may run, and if not, when it may. */
  async take(app: { name: string; ratePerSecond: number | null }): Promise<RateDecision> {
    const rate = app.ratePerSecond ?? this.opts.defaultPerSecond;
    try {
      await this.limiterFor(rate).consume(app.name);
      return { ok: true };
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      return { ok: false, rate, burst: 2 * rate, retryAfterMs: Math.max(1, e.msBeforeNext) };
    }
  }

  async close(): Promise<void> {
    await this.closeClient();
  }
}
