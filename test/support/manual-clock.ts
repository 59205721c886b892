// Test support: a clock that moves only when a test moves it, for SystemPolicy's breaker waits, backoff and timeouts.

import type { Clock } from '../../subgraphs/kit/resilience.js';

interface Timer {
  id: number;
  /** When it falls due, on this clock. */
  at: number;
  /** The delay it was set with, so a test can wait for "the 50 ms backoff" by name. */
  ms: number;
  fn: () => void;
}

/**
 * Time starts at 0 and stands still until `advance`. Timers fire only inside `advance`, in the order they fall due
 * (ties in the order they were set), so a test decides exactly which timeout or backoff has run out.
 */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();
  private readonly watchers: { ms: number; resolve: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), ms, fn };
    this.timers.set(timer.id, timer);
    for (const w of this.watchers.filter((w) => w.ms === ms)) {
      this.watchers.splice(this.watchers.indexOf(w), 1);
      w.resolve();
    }
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves the time on by `ms`, running every timer that falls due on the way, each at its own moment. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.timers.values()) if (t.at <= target && (!due || t.at < due.at)) due = t;
      if (!due) break;
      this.timers.delete(due.id);
      this.time = due.at;
      due.fn();
    }
    this.time = target;
  }

  /** Resolves once a timer set with a delay of `ms` is waiting (at once if one already is). */
  scheduled(ms: number): Promise<void> {
    if ([...this.timers.values()].some((t) => t.ms === ms)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ ms, resolve }));
  }

  /** The delays of the timers still waiting, in the order they were set. */
  get pending(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }
}
