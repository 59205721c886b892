// What a sandbox has received and how tests steer it: the counters and request log, and the /_admin/ endpoints that serve them and set faults.
//
// Admin calls are never counted, never faulted and never logged, so tests can observe and steer a sandbox
// without disturbing what they observe.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from '../kit/http-io.js';
import type { FaultInjector } from './faults.js';

export interface RequestLogEntry {
  method: string;
  path: string;
  /** "METHOD pattern" of the matched route, or null when no route matched. */
  route: string | null;
  /** What was answered; 0 while unanswered or when the connection was dropped. */
  status: number;
  traceparent: string | null;
  idempotencyKey: string | null;
  at: string;
}

export interface SandboxStats {
  /** Requests that matched a route. */
  requests: number;
  reads: number;
  /** Writes that changed state: a refused write (412, 422) or an injected fault left the system as it was. */
  writes: number;
  byRoute: Record<string, number>;
}

/** Request log capacity; older entries fall off. */
const REQUEST_LOG_CAPACITY = 20_000;

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

const emptyStats = (): SandboxStats => ({ requests: 0, reads: 0, writes: 0, byRoute: {} });

/** One sandbox's counters and request log. */
export class RequestRecorder {
  private counters = emptyStats();
  private log: RequestLogEntry[] = [];

  get stats(): SandboxStats {
    return this.counters;
  }

  /** Logs a request as it arrives; the caller fills in its route and status as it is handled. */
  arrive(method: string, pathAndQuery: string, headers: IncomingHttpHeaders): RequestLogEntry {
    const entry: RequestLogEntry = {
      method,
      path: pathAndQuery,
      route: null,
      status: 0,
      traceparent: headerValue(headers, 'traceparent'),
      idempotencyKey: headerValue(headers, 'idempotency-key'),
      at: new Date().toISOString(),
    };
    this.log.push(entry);
    if (this.log.length > REQUEST_LOG_CAPACITY) this.log.splice(0, this.log.length - REQUEST_LOG_CAPACITY);
    return entry;
  }

  /** Counts a request that matched the route `key`. */
  routed(entry: RequestLogEntry, key: string, write: boolean): void {
    entry.route = key;
    this.counters.requests++;
    if (!write) this.counters.reads++;
    this.counters.byRoute[key] = (this.counters.byRoute[key] ?? 0) + 1;
  }

  /** Counts a write that changed state. */
  wrote(): void {
    this.counters.writes++;
  }

  /** The latest `limit` entries, newest first. */
  latest(limit: number): RequestLogEntry[] {
    return this.log.slice(Math.max(0, this.log.length - limit)).reverse();
  }

  reset(): void {
    this.counters = emptyStats();
    this.log = [];
  }
}

function noContent(res: ServerResponse): void {
  res.writeHead(204, { 'content-length': '0' });
  res.end();
}

/** Serves one /_admin/ request: GET|DELETE stats (DELETE also clears the log), GET requests?limit=N, GET|PUT|DELETE faults. */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  recorder: RequestRecorder,
  faults: FaultInjector,
  limitBytes: number,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (path === '/_admin/stats') {
    if (method === 'GET') return sendJson(res, 200, recorder.stats);
    if (method === 'DELETE') {
      recorder.reset();
      return noContent(res);
    }
    return sendJson(res, 405, { error: 'use GET or DELETE on /_admin/stats' });
  }
  if (path === '/_admin/requests') {
    if (method !== 'GET') return sendJson(res, 405, { error: 'use GET on /_admin/requests' });
    const raw = url.searchParams.get('limit');
    const limit = raw === null ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 0) return sendJson(res, 400, { error: `limit must be a non-negative integer, got ${raw}` });
    return sendJson(res, 200, recorder.latest(limit));
  }
  if (path === '/_admin/faults') {
    if (method === 'GET') return sendJson(res, 200, faults.settings);
    if (method === 'DELETE') {
      faults.clear();
      return noContent(res);
    }
    if (method === 'PUT') {
      let text: string;
      try {
        text = await readBody(req, { limitBytes });
      } catch (e) {
        if (e instanceof BodyTooLargeError) return sendJson(res, 413, { error: e.message }, { connection: 'close' });
        throw e;
      }
      let parsed: unknown;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        return sendJson(res, 400, { error: 'faults body must be valid JSON' });
      }
      const merged = faults.update(parsed);
      if (typeof merged === 'string') return sendJson(res, 400, { error: merged });
      return sendJson(res, 200, merged);
    }
    return sendJson(res, 405, { error: 'use GET, PUT or DELETE on /_admin/faults' });
  }
  return sendJson(res, 404, { error: `no admin endpoint ${path}; known: /_admin/stats, /_admin/requests, /_admin/faults` });
}
