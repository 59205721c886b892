// Injected faults: the settings a test PUTs, and the seeded decisions that apply them to one request at a time.
//
// Guarantee: every decision is drawn from one PRNG seeded by `seed`, and a rate of 0 draws nothing, so a failing
// run replays exactly by PUTting the same settings and seed, and turning one fault on does not shift another's.

import type { Socket } from 'node:net';
import { createRng } from './rng.js';

/** Fault settings; every field is optional in a PUT and merged into the current ones. */
export interface Faults {
  latencyMs: number;
  errorRate: number;
  errorStatus: number;
  timeoutRate: number;
  resetAfterCommitRate: number;
  down: boolean;
  seed: number;
  retryAfterSeconds: number | null;
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  timeoutRate: 0,
  resetAfterCommitRate: 0,
  down: false,
  seed: 1,
  retryAfterSeconds: null,
});

/** How long a request picked by `timeoutRate` is held before its socket is destroyed. */
const HELD_REQUEST_MS = 30_000;

/** Private: validates one PUT /_admin/faults body; the error names the field and the expected type. */
function mergeFaults(current: Faults, patch: unknown): Faults | string {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return 'faults body must be a JSON object with any of: ' + Object.keys(DEFAULT_FAULTS).join(', ');
  }
  const next: Faults = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'latencyMs':
      case 'errorStatus':
      case 'seed':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          return `${key} must be a non-negative integer, got ${JSON.stringify(value)}`;
        }
        if (key === 'errorStatus' && (value < 400 || value > 599)) {
          return `errorStatus must be an HTTP error status 400..599, got ${value}`;
        }
        next[key] = value;
        break;
      case 'errorRate':
      case 'timeoutRate':
      case 'resetAfterCommitRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
          return `${key} must be a probability between 0 and 1, got ${JSON.stringify(value)}`;
        }
        next[key] = value;
        break;
      case 'down':
        if (typeof value !== 'boolean') return `down must be a boolean, got ${JSON.stringify(value)}`;
        next.down = value;
        break;
      case 'retryAfterSeconds':
        if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
          return `retryAfterSeconds must be a non-negative integer or null, got ${JSON.stringify(value)}`;
        }
        next.retryAfterSeconds = value;
        break;
      default:
        return `unknown fault setting ${JSON.stringify(key)}; known: ${Object.keys(DEFAULT_FAULTS).join(', ')}`;
    }
  }
  return next;
}

/** One sandbox's faults: the settings in force, their PRNG, and the timers of requests it is holding. */
export class FaultInjector {
  private current: Faults = { ...DEFAULT_FAULTS };
  private rng = createRng(DEFAULT_FAULTS.seed);
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Pending delays, woken when the sandbox stops so no handler is left waiting forever. */
  private readonly waking = new Map<NodeJS.Timeout, () => void>();

  get settings(): Faults {
    return this.current;
  }

  /** Merges a PUT body into the settings (reseeding only when it names `seed`); a string says what was wrong. */
  update(patch: unknown): Faults | string {
    const merged = mergeFaults(this.current, patch);
    if (typeof merged === 'string') return merged;
    this.current = merged;
    if (typeof patch === 'object' && patch !== null && 'seed' in patch) this.rng = createRng(merged.seed);
    return merged;
  }

  /** Back to no faults and the default seed. */
  clear(): void {
    this.current = { ...DEFAULT_FAULTS };
    this.rng = createRng(this.current.seed);
  }

  /** Whether this request meets the fault of `rate`. Draws only when a rate is set (see the guarantee above). */
  roll(rate: number): boolean {
    return rate > 0 && (rate >= 1 || this.rng() < rate);
  }

  /** Waits `latencyMs`, if set. Resolves at once when the sandbox stops meanwhile: the caller then answers nothing. */
  async delay(): Promise<void> {
    if (this.current.latencyMs <= 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.waking.delete(t);
        resolve();
      }, this.current.latencyMs);
      this.timers.add(t);
      this.waking.set(t, resolve);
    });
  }

  /** Holds a request without an answer until its client gives up (or the sandbox stops); the client's own timeout is what's under test. */
  hold(socket: Socket): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      socket.destroy();
    }, HELD_REQUEST_MS);
    this.timers.add(t);
    socket.once('close', () => {
      clearTimeout(t);
      this.timers.delete(t);
    });
  }

  /** Cancels every pending delay and hold (their sockets are destroyed by the server). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.waking.values()) wake();
    this.waking.clear();
  }
}
