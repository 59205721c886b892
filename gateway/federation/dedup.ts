// In-flight deduplication of identical subgraph reads: while one is on the wire, the same request joins it instead of being sent again.
//
// Terminology
// - flight: one subgraph read on the wire, with the moment it was sent and the callers waiting for it.
// - key: what makes two reads the same request: subgraph URL, the headers that reach the subgraph's resolvers, body.
// Guarantees: a caller joins only a flight sent no earlier than `notBefore` (the caller's own start), so it never
// gets an answer older than its own request; a flight is forgotten the moment it settles, so nothing is cached.

import { performance } from 'node:perf_hooks';

interface Flight<T> {
  sentAt: number;
  outcome: Promise<T>;
}

/**
 * Headers that vary per call without changing the answer. The trace context differs on every request by design;
 * keying on it would make every read unique.
 */
const IGNORED_HEADERS = new Set(['traceparent', 'tracestate', 'content-length']);

/** The dedup key of a subgraph request: its URL, its headers except the trace context, sorted, and its body. */
export function requestKey(url: string, headers: Record<string, string> | undefined, body: string): string {
  let key = url;
  if (headers) {
    const names = Object.keys(headers).sort();
    for (const name of names) {
      const lower = name.toLowerCase();
      if (!IGNORED_HEADERS.has(lower)) key += `\n${lower}:${headers[name]}`;
    }
  }
  return `${key}\n\n${body}`;
}

export class InFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Reads on the wire now (for tests and metrics). */
  get size(): number {
    return this.flights.size;
  }

  /**
   * `send()`'s outcome, or that of an identical flight sent at or after `notBefore`. The outcome is shared as is:
   * `T` should be immutable (a string, a frozen record), and callers build their own objects from it.
   */
  run(key: string, notBefore: number, send: () => Promise<T>): Promise<T> {
    const flight = this.flights.get(key);
    if (flight && flight.sentAt >= notBefore) return flight.outcome;
    const sentAt = performance.now();
    const outcome = send();
    const mine: Flight<T> = { sentAt, outcome };
    // A later flight with the same key replaces an older one that is too old for its callers; each removes only itself.
    this.flights.set(key, mine);
    const forget = () => {
      if (this.flights.get(key) === mine) this.flights.delete(key);
    };
    outcome.then(forget, forget);
    return outcome;
  }
}
