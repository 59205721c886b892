// What every bench phase uses: HTTP calls to gateways and admin endpoints, one autocannon load run, and the arithmetic of medians.

import autocannon, { type AutocannonRequest } from 'autocannon';

const JSON_HEADERS = { 'content-type': 'application/json' };
/**
 * canon's dev app keys (every scope, a rate no load reaches), sent with every GraphQL request: each canon gateway
 * has its own data directory, so its own key; every other URL gets the stack's.
 */
const AUTH_HEADERS: Record<string, string> = {};
const KEY_BY_URL = new Map<string, Record<string, string>>();

/** Sends `key` as the Bearer credential of every later request (to `url` only, when given). */
export function useKey(key: string, url?: string): void {
  if (url) KEY_BY_URL.set(url, { authorization: `Bearer ${key}` });
  else AUTH_HEADERS.authorization = `Bearer ${key}`;
}

const authFor = (url: string) => KEY_BY_URL.get(url) ?? AUTH_HEADERS;

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...authFor(url), ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: { raw: text } };
  }
}

export async function admin(url: string, method: 'GET' | 'DELETE' | 'PUT', body?: unknown): Promise<any> {
  const res = await fetch(url, { method, headers: body ? JSON_HEADERS : undefined, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/** A subgraph's request counters, next to its `/graphql`. */
export const subgraphAdmin = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/_admin/stats');

export const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const t0 = performance.now();
/** Progress goes to stderr, stamped with the seconds since the bench started; stdout carries only the results. */
export const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A timestamp fit for a file name. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

/** Counts GraphQL `errors` in answers without parsing every body: a substring is enough to notice a broken contender. */
function errorCounter() {
  const counter = { withErrors: 0, firstError: null as string | null };
  const onResponse = (_status: number, body: string) => {
    if (!body.includes('"errors"')) return;
    counter.withErrors++;
    counter.firstError ??= body.slice(0, 400);
  };
  return { counter, onResponse };
}

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds of load; or `amount`, a fixed number of requests (every one answered before `load` resolves). */
  duration?: number;
  amount?: number;
  /** A fixed body, or a function giving each request its body and headers. */
  body: string | (() => { body: string; headers?: Record<string, string> });
}

export async function load(spec: LoadSpec) {
  const { counter, onResponse } = errorCounter();
  const auth = authFor(spec.url);
  const request: AutocannonRequest =
    typeof spec.body === 'string'
      ? { method: 'POST', body: spec.body, headers: { ...JSON_HEADERS, ...auth }, onResponse }
      : {
          method: 'POST',
          onResponse,
          setupRequest: (req) => {
            const next = (spec.body as () => { body: string; headers?: Record<string, string> })();
            return { ...req, method: 'POST', body: next.body, headers: { ...JSON_HEADERS, ...auth, ...next.headers } };
          },
        };
  // autocannon rejects an explicit `duration: undefined`, so only the chosen one of duration and amount is passed.
  const length = spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.duration ?? 5 };
  const r = await autocannon({ url: spec.url, connections: spec.connections, ...length, requests: [request], timeout: 60 });
  return {
    requests: r.requests.total,
    /** Sent, answered or not: a timed run stops with requests in flight, which still reach the subgraphs. */
    sent: r.requests.sent,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    graphqlErrors: counter.withErrors,
    /** The first answer that carried errors (its start), so a run with errors says which. */
    firstError: counter.firstError,
  };
}
