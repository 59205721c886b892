// Per-system resilience on cockatiel: a timeout budget, retries with exponential backoff and jitter that honour Retry-After, and one circuit breaker per system.
//
// Terminology
// - attempt: one call to the system, under `attemptTimeoutMs`.
// - budget: the whole call, attempts and backoff included, under `budgetMs`; past it the caller gets SYSTEM_TIMEOUT.
// - retryable: a failure the same request may not meet again (timeouts, refused or dropped connections, 429, 5xx).
// Guarantees: a call made with `retry: false` (a write without an idempotency key) is attempted exactly once;
// an open breaker answers CIRCUIT_OPEN without calling the system; every error that leaves `execute` is a
// SystemError carrying the system, `retryable` and the number of attempts made.

import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
  type IRetryBackoffContext,
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

export type ResilienceOptions = { [K in keyof ResilienceSettings]?: PerSystem<ResilienceSettings[K]> };

/** The settings in force for `system`: each option's value, or its function applied to the system, or the default. */
export function settingsFor(system: Owner, opts: ResilienceOptions = {}): ResilienceSettings {
  const out = { ...DEFAULT_RESILIENCE };
  for (const key of Object.keys(DEFAULT_RESILIENCE) as (keyof ResilienceSettings)[]) {
    const v = opts[key];
    if (v !== undefined) out[key] = typeof v === 'function' ? v(system) : v;
  }
  return out;
}

export interface ExecuteOptions {
  /** Whether failed attempts may be retried. Writes pass true only when they carry an idempotency key. */
  retry: boolean;
}

/** Why an attempt's signal aborted when its own time ran out (the budget's carries cockatiel's reason). */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`attempt took longer than ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** One system's policy. Share one instance per system: the breaker must see every call to count failures. */
export class SystemPolicy {
  readonly settings: ResilienceSettings;
  private readonly breaker: CircuitBreakerPolicy;
  /** Budget, retries and breaker, built once: cockatiel policies keep no per-call state, so calls can share them. */
  private readonly retrying: IPolicy;
  private readonly once: IPolicy;

  constructor(
    readonly system: Owner,
    opts: ResilienceOptions = {},
    /** Source of jitter; tests pass a seeded one. */
    private readonly random: () => number = Math.random,
  ) {
    this.settings = settingsFor(system, opts);
    // Only failures of the system count against it: a 404 or 412 is the system answering correctly.
    this.breaker = circuitBreaker(
      handleWhen((e) => e instanceof SystemError && e.retryable),
      { halfOpenAfter: this.settings.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.settings.breakerThreshold) },
    );
    this.retrying = this.build(Math.max(0, this.settings.maxAttempts - 1));
    this.once = this.build(0);
  }

  private build(retries: number): IPolicy {
    const retryPolicy = retry(
      handleWhen((e) => e instanceof SystemError && e.retryable),
      { maxAttempts: retries, backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => this.delayBefore(ctx.attempt, 'error' in ctx.result ? ctx.result.error : undefined)) },
    );
    // abortOnReturn off: each attempt has settled (its body read) by the time the call returns, so aborting the
    // budget signal then cancels nothing and only costs an AbortError (a DOMException) per call.
    return wrap(timeout(this.settings.budgetMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }), retryPolicy, this.breaker);
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
    const attemptTimeoutMs = this.settings.attemptTimeoutMs;
    let attempts = 0;
    let last: unknown;
    try {
      return await (opts.retry ? this.retrying : this.once).execute(async ({ signal: budget }) => {
        attempts++;
        // One controller per attempt, aborted by its own timer or by the budget. Timer and listener are removed when
        // the attempt settles: nothing outlives it, and a successful attempt builds no abort reason at all (unlike
        // AbortSignal.timeout, whose timer fires and builds a DOMException even after the attempt succeeded).
        const ctrl = new AbortController();
        const onBudget = () => ctrl.abort(budget.reason);
        const timer = setTimeout(() => ctrl.abort(new AttemptTimeout(attemptTimeoutMs)), attemptTimeoutMs);
        if (budget.aborted) onBudget();
        else budget.addEventListener('abort', onBudget);
        try {
          return await attempt(ctrl.signal);
        } catch (e) {
          last = e;
          throw e;
        } finally {
          clearTimeout(timer);
          budget.removeEventListener('abort', onBudget);
        }
      });
    } catch (e) {
      throw this.shape(e, last, attempts);
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
    if (error instanceof TaskCancelledError) {
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
