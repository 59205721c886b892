// Per-system resilience on cockatiel: a timeout budget, retries with exponential backoff and jitter that honour Retry-After, and one circuit breaker per system.
//
// Terminology
// - attempt: one call to the system, under `attemptTimeoutMs`.
// - budget: the whole call, attempts and backoff included, under `budgetMs`; past it the caller gets SYSTEM_TIMEOUT.
// - retryable: a failure the same request may not meet again (timeouts, refused or dropped connections, 429, 5xx).
// - clock: where the policy reads the time and sets its timers (breaker wait, backoff, attempt and budget timeouts).
//   Cockatiel reads Date.now() and calls setTimeout itself, so the policy keeps every wait and timer on its own clock
//   and leaves cockatiel the bookkeeping: attempts, which failures are retried, consecutive failures, breaker state.
// Guarantees: a call made with `retry: false` (a write without an idempotency key) is attempted exactly once;
// an open breaker answers CIRCUIT_OPEN without calling the system; every error that leaves `execute` is a
// SystemError carrying the system, `retryable` and the number of attempts made.

import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IHalfOpenAfterBackoffContext,
  type RetryPolicy,
} from 'cockatiel';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import { SystemError } from './system-error.js';

/** A setting given once for all systems, or per system as a function of its name. */
export type PerSystem<T> = T | ((system: Owner) => T);

export interface ResilienceSettings {
  /** Longest wait for one attempt, in ms. Default 2000. */
  attemptTimeoutMs: number;
  /** Longest wait for the whole call, retries and backoff included, in ms. Default 5000. */
  budgetMs: number;
  /** Attempts in all for a retryable call (reads; writes only under an idempotency key). Default 3. */
  maxAttempts: number;
  /** Backoff before the first retry, in ms; doubles per retry, with full jitter so retrying callers spread out. Default 50. */
  initialDelayMs: number;
  /** Longest backoff between attempts, in ms. Default 1000. */
  maxDelayMs: number;
  /** Longest Retry-After honoured, in ms; a system asking for more is out of this call's budget anyway. Default 5000. */
  maxRetryAfterMs: number;
  /** Consecutive failed calls that open the system's breaker. Default 5. */
  breakerThreshold: number;
  /** How long an open breaker fails fast before letting one probe call through (half-open), in ms. Default 5000. */
  halfOpenAfterMs: number;
}

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  attemptTimeoutMs: 2000,
  budgetMs: 5000,
  maxAttempts: 3,
  initialDelayMs: 50,
  maxDelayMs: 1000,
  maxRetryAfterMs: 5000,
  breakerThreshold: 5,
  halfOpenAfterMs: 5000,
};

/** Where a policy reads the time and sets its timers. */
export interface Clock {
  /** Milliseconds since any fixed moment; only differences are read. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock; returns the handle `clearTimeout` takes. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock. The globals are looked up on each call, so code that replaces them (fake timers) is obeyed. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type ResilienceOptions = { [K in keyof ResilienceSettings]?: PerSystem<ResilienceSettings[K]> } & {
  /** The clock of the system's policy: breaker waits, backoff and timeouts run on it. Default systemClock; tests pass one they move by hand. */
  clock?: PerSystem<Clock>;
};

/** The settings in force for `system`: each option's value, or its function applied to the system, or the default. */
export function settingsFor(system: Owner, opts: ResilienceOptions = {}): ResilienceSettings {
  const out = { ...DEFAULT_RESILIENCE };
  for (const key of Object.keys(DEFAULT_RESILIENCE) as (keyof ResilienceSettings)[]) {
    const v = opts[key];
    if (v !== undefined) out[key] = typeof v === 'function' ? v(system) : v;
  }
  return out;
}

/** The clock for `system`: the option's value, or its function applied to the system, or the process's clock. */
function clockFor(system: Owner, opts: ResilienceOptions): Clock {
  const c = opts.clock;
  return c === undefined ? systemClock : typeof c === 'function' ? c(system) : c;
}

export interface ExecuteOptions {
  /** Whether failed attempts may be retried. Writes pass true only when they carry an idempotency key. */
  retry: boolean;
}

/** Why an attempt's signal aborted when its own time ran out. */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`attempt took longer than ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Why the whole call's signal aborted: the budget is spent. */
class BudgetSpent extends Error {
  constructor(ms: number) {
    super(`the call took longer than its ${ms} ms budget`);
    this.name = 'TimeoutError';
  }
}

/**
 * An open breaker's wait before it lets a probe through, measured on the policy's clock. Cockatiel decides with
 * `Date.now() - openedAt < backoff.duration`, reading `duration` when a call reaches the open breaker; this backoff
 * starts its wait when cockatiel opens the breaker (`next`) and answers from the clock: Infinity while the wait lasts,
 * -Infinity once it is over, so cockatiel's own reading of the wall clock never decides.
 */
class HalfOpenWait implements IBackoffFactory<IHalfOpenAfterBackoffContext> {
  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
  ) {}

  next(): IBackoff<IHalfOpenAfterBackoffContext> {
    const { clock, ms } = this;
    const openedAt = clock.now();
    return {
      get duration() {
        return clock.now() - openedAt < ms ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      },
      // Opened again after a failed probe: a fresh wait from then.
      next: () => this.next(),
    };
  }
}

/** Resolves once `ms` have passed on `clock`; rejects with the signal's reason if it aborts first. Leaves no timer or listener behind. */
function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects with the signal's reason when it aborts; never settles otherwise. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/** One system's policy. Share one instance per system: the breaker must see every call to count failures. */
export class SystemPolicy {
  readonly settings: ResilienceSettings;
  private readonly clock: Clock;
  private readonly breaker: CircuitBreakerPolicy;
  /** Built once: cockatiel policies keep no per-call state, so calls can share them. */
  private readonly retrying: RetryPolicy;

  constructor(
    readonly system: Owner,
    opts: ResilienceOptions = {},
    /** Source of jitter; tests pass a seeded one. */
    private readonly random: () => number = Math.random,
  ) {
    this.settings = settingsFor(system, opts);
    this.clock = clockFor(system, opts);
    // Only failures of the system count against it: a 404 or 412 is the system answering correctly.
    this.breaker = circuitBreaker(
      handleWhen((e) => e instanceof SystemError && e.retryable),
      { halfOpenAfter: new HalfOpenWait(this.clock, this.settings.halfOpenAfterMs), breaker: new ConsecutiveBreaker(this.settings.breakerThreshold) },
    );
    // No backoff here: cockatiel would wait with a bare setTimeout. The backoff is waited on the policy's clock at the
    // start of the next attempt, before the breaker is asked, which is where cockatiel would have waited.
    this.retrying = retry(handleWhen((e) => e instanceof SystemError && e.retryable), { maxAttempts: Math.max(0, this.settings.maxAttempts - 1) });
  }

  get state(): 'closed' | 'open' | 'half-open' {
    const s = this.breaker.state;
    return s === CircuitState.Open || s === CircuitState.Isolated ? 'open' : s === CircuitState.HalfOpen ? 'half-open' : 'closed';
  }

  /** Backoff before retry number `attempt`: what Retry-After asked for, else full-jitter exponential. */
  delayBefore(attempt: number, error: unknown): number {
    const { initialDelayMs, maxDelayMs, maxRetryAfterMs } = this.settings;
    if (error instanceof SystemError && error.retryAfterSeconds !== undefined) return Math.min(error.retryAfterSeconds * 1000, maxRetryAfterMs);
    return Math.floor(this.random() * Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)));
  }

  /**
   * Runs `attempt(signal)` under the policy. `signal` aborts when the attempt's or the whole call's time is up;
   * pass it to the request so an abandoned one does not linger. It is never aborted after the attempt settles, so
   * an attempt must finish its own I/O (read the whole body) before it returns.
   */
  async execute<T>(attempt: (signal: AbortSignal) => Promise<T>, opts: ExecuteOptions): Promise<T> {
    const { attemptTimeoutMs, budgetMs } = this.settings;
    const clock = this.clock;
    let attempts = 0;
    let last: unknown;
    // The budget's signal is aborted only when the budget runs out, never when the call returns: each attempt has
    // settled (its body read) by then, so aborting would cancel nothing and only build an abort reason per call.
    const budget = new AbortController();
    const budgetTimer = clock.setTimeout(() => budget.abort(new BudgetSpent(budgetMs)), budgetMs);

    const once = async (): Promise<T> => {
      attempts++;
      // One controller per attempt, aborted by its own timer or by the budget. Timer and listener are removed when
      // the attempt settles: nothing outlives it, and a successful attempt builds no abort reason at all (unlike
      // AbortSignal.timeout, whose timer fires and builds a DOMException even after the attempt succeeded).
      const ctrl = new AbortController();
      const onBudget = () => ctrl.abort(budget.signal.reason);
      const timer = clock.setTimeout(() => ctrl.abort(new AttemptTimeout(attemptTimeoutMs)), attemptTimeoutMs);
      if (budget.signal.aborted) onBudget();
      else budget.signal.addEventListener('abort', onBudget);
      try {
        return await attempt(ctrl.signal);
      } catch (e) {
        last = e;
        throw e;
      } finally {
        clock.clearTimeout(timer);
        budget.signal.removeEventListener('abort', onBudget);
      }
    };
    const step = async ({ attempt: n, signal }: { attempt: number; signal: AbortSignal }): Promise<T> => {
      if (n > 0) await wait(clock, this.delayBefore(n, last), signal);
      return this.breaker.execute(once, signal);
    };

    try {
      const run = opts.retry ? this.retrying.execute(step, budget.signal) : step({ attempt: 0, signal: budget.signal });
      // The budget cuts the call short even when an attempt ignores its signal.
      return await Promise.race([run, aborted(budget.signal)]);
    } catch (e) {
      throw this.shape(e, last, attempts);
    } finally {
      clock.clearTimeout(budgetTimer);
    }
  }

  private shape(error: unknown, last: unknown, attempts: number): unknown {
    if (error instanceof BrokenCircuitError) {
      const err = new SystemError({
        code: ErrorCode.CIRCUIT_OPEN,
        system: this.system,
        retryable: true,
        message: `${this.system} is failing; canon stopped calling it for now (circuit open) and will probe it again within ${this.settings.halfOpenAfterMs} ms.`,
        cause: last,
      });
      err.attempts = attempts;
      return err;
    }
    // A call waiting on a half-open probe when its budget ran out gets cockatiel's TaskCancelledError.
    if (error instanceof BudgetSpent || error instanceof TaskCancelledError) {
      const err = new SystemError({
        code: ErrorCode.SYSTEM_TIMEOUT,
        system: this.system,
        retryable: true,
        message: `${this.system} did not answer within the ${this.settings.budgetMs} ms budget (${attempts} attempt${attempts === 1 ? '' : 's'})${last instanceof Error ? `; last: ${last.message}` : ''}.`,
        cause: last,
      });
      err.attempts = attempts;
      return err;
    }
    if (error instanceof SystemError) error.attempts = attempts;
    return error;
  }
}

/** One policy per system, made on first use. */
export class PolicyRegistry {
  private readonly policies = new Map<Owner, SystemPolicy>();
  constructor(
    private readonly opts: ResilienceOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  for(system: Owner): SystemPolicy {
    let p = this.policies.get(system);
    if (!p) {
      p = new SystemPolicy(system, this.opts, this.random);
      this.policies.set(system, p);
    }
    return p;
  }
}
