// The HTTP client every connector uses to talk to its system; its failures are shaped by system-error.ts.
//
// Guarantees: `request` resolves only with a 2xx answer (or a status the caller listed in `accept`);
// every other outcome rejects with a SystemError naming the system, the call and whether retrying may help.

import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Owner } from '../../schema/model.js';
import type { SystemPolicy } from './resilience.js';
import { headerLookup, SystemError, toSystemError, type HeaderLookup } from './system-error.js';
import { activeTraceId, inSpan, injectTrace, silentLogger, SpanKind } from './telemetry.js';

export interface SystemRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** JSON-serialised unless it is already a string. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Non-2xx statuses the caller handles itself (e.g. 207 partial batch, 404 for a lookup). */
  accept?: number[];
  /**
   * Whether a failed attempt may be retried. Default: true for GET. Reads sent as POST (batch reads, searches)
   * pass true; writes pass true only under an idempotency key, with the API's own means of making a repeat safe.
   */
  retry?: boolean;
  /** Sent as the Idempotency-Key header, so the system (and its request log) can tell a retry from a new write. */
  idempotencyKey?: string | null;
}

export interface SystemResponse<T = unknown> {
  status: number;
  headers: HeaderLookup;
  body: T;
}

/**
 * One keep-alive pool for every connector's calls. undici's `request` rather than `fetch` (which is undici too):
 * fetch wraps each answer in web streams and transferable objects, 17% of the subgraph process's CPU in the varied
 * profile, and canon reads every answer whole anyway.
 */
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

/** How every connector reaches its system; each connector's options add what is its own (locks, batch sizes). */
export interface ConnectorOptions {
  /** The system's API root: a sandbox, or the real product. */
  baseUrl: string;
  /** Timeouts, retries and the circuit breaker for this system. Without one, a single attempt under `timeoutMs`. */
  policy?: SystemPolicy;
  /** Budget for one attempt when no policy is given, in ms. Default 5000. */
  timeoutMs?: number;
  /** Where the one log line per system call goes. Default: nowhere. */
  log?: Logger;
}

export interface SystemClientOptions extends ConnectorOptions {
  system: Owner;
  /**
   * The Authorization header every request carries (built by the connector from its credentials, the way its
   * product takes them: kit/credentials.ts). Never logged, never part of an error. Default: none.
   */
  authorization?: string;
}

/** Whether a record already holds every value a write would set (so that write, repeated, changes nothing). */
export function holds(current: Record<string, unknown>, intended: Record<string, unknown>): boolean {
  return Object.entries(intended).every(([k, v]) => (current[k] ?? null) === (v ?? null));
}

export class SystemClient {
  readonly system: Owner;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly policy: SystemPolicy | undefined;
  private readonly log: Logger;
  /** Kept private and out of every log line and error: a secret. */
  readonly #authorization: string | undefined;

  constructor(opts: SystemClientOptions) {
    this.#authorization = opts.authorization;
    this.system = opts.system;
    this.baseUrl = opts.baseUrl.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.policy = opts.policy;
    this.log = opts.log ?? silentLogger;
  }

  /** One call under the system's policy: retried (when allowed), failing fast while its breaker is open. */
  async request<T = unknown>(req: SystemRequest): Promise<SystemResponse<T>> {
    return this.run((signal) => this.attempt<T>(req, signal), req.retry ?? req.method === 'GET', `${req.method} ${req.path.split('?')[0]}`);
  }

  /**
   * Runs several requests as one call under the policy (e.g. look up, then create), each attempt given its signal.
   * Leaves one log line for the call: system, call, outcome, attempts, duration and trace id.
   */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, retry: boolean, call: string): Promise<T> {
    const started = performance.now();
    let attempts = 0;
    const counted = (signal: AbortSignal) => {
      attempts++;
      return attempt(signal);
    };
    try {
      const out = this.policy ? await this.policy.execute(counted, { retry }) : await counted(AbortSignal.timeout(this.timeoutMs));
      this.log.info({ traceId: activeTraceId(), system: this.system, call, outcome: 'ok', attempts, durationMs: Math.round(performance.now() - started) }, 'system call');
      return out;
    } catch (e) {
      const err = e as SystemError;
      this.log.warn({ traceId: activeTraceId(), system: this.system, call, outcome: err.code ?? 'ERROR', attempts, durationMs: Math.round(performance.now() - started), error: err.message }, 'system call failed');
      throw e;
    }
  }

  /** One attempt of `req`, no retry, in its own span, carrying the trace to the system in `traceparent`. */
  async attempt<T = unknown>(req: SystemRequest, signal: AbortSignal): Promise<SystemResponse<T>> {
    const path = req.path.split('?')[0]!;
    return inSpan(`${this.system} ${req.method} ${path}`, { kind: SpanKind.CLIENT, attributes: { 'canon.system': this.system, 'http.request.method': req.method, 'url.path': path } }, async (span) => {
      const headers: Record<string, string> = injectTrace({ accept: 'application/json', ...req.headers });
      if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
      if (this.#authorization) headers.authorization = this.#authorization;
      let body: string | undefined;
      if (req.body !== undefined) {
        body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
        headers['content-type'] = req.contentType ?? 'application/json';
      }
      let status: number;
      let answered: HeaderLookup;
      let text: string;
      try {
        const res = await request(this.baseUrl + req.path, { method: req.method, headers, body, signal, dispatcher });
        status = res.statusCode;
        answered = headerLookup(res.headers);
        text = await res.body.text();
      } catch (cause) {
        throw toSystemError(this.system, req, { cause, timedOut: signal.aborted });
      }
      span.setAttribute('http.response.status_code', status);
      if ((status >= 200 && status < 300) || req.accept?.includes(status)) {
        return { status, headers: answered, body: (text ? JSON.parse(text) : null) as T };
      }
      throw toSystemError(this.system, req, { response: { status, headers: answered, text } });
    });
  }
}
