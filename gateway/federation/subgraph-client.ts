// The gateway's one client toward its subgraphs, for reads and writes: one keep-alive pool, each subgraph's resilience policy, identical reads in flight sent once, every failure a SystemError.
//
// Terminology
// - read: a subgraph query. Retried on refused connections, timeouts, 429 and 5xx; may join an identical read in flight.
// - write: a subgraph mutation. Never shared; retried only when it carries an idempotency key (the subgraph then
//   sends its system the same derived key on every attempt, so a repeat is recognised, never applied twice).
// Guarantees: `send` resolves with the subgraph's whole answer when it answered below 500 (429 aside), and
// otherwise rejects with a SystemError from subgraphs/kit/system-error.ts naming the subgraph, with `retryable` and
// the attempts made; `execute` never rejects: a failure, the subgraph's own GraphQL error included, is a value.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import type { SystemPolicy } from '../../subgraphs/kit/resilience.js';
import { fromGraphQLError, headerLookup, SystemError, toSystemError } from '../../subgraphs/kit/system-error.js';
import { injectTrace } from '../../subgraphs/kit/telemetry.js';
import { InFlight, requestKey } from './dedup.js';

/** Where each subgraph listens (its /graphql URL). */
export type SubgraphUrls = Record<Owner, string>;

/** A subgraph's whole answer, read inside the attempt. Immutable, so the callers of one shared read can all hold it. */
export interface Answer {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** How a request may be repeated and shared. */
export type Delivery =
  | {
      kind: 'read';
      /**
       * May join an identical read sent at or after this moment (performance.now()): the caller's own start, so it
       * never gets an answer older than itself. Omitted: the read is always sent on its own.
       */
      joinSince?: number;
    }
  | {
      kind: 'write';
      /** The key the write carries to its system; null for none, and then it is attempted exactly once. */
      idempotencyKey: string | null;
    };

/** A GraphQL operation's outcome: its data, or the failure (transport, the subgraph's own error) as a SystemError. */
export type SubgraphResult<T> = { ok: true; data: T } | { ok: false; error: SystemError };

export interface SubgraphClientOptions {
  /** Where each subgraph listens; `send` may also be given a URL (Apollo passes the supergraph's). */
  urls?: Partial<SubgraphUrls>;
  /** The gateway's resilience policy toward each subgraph: timeouts, retries, breaker. Share one per subgraph. */
  policies: { for(subgraph: Owner): SystemPolicy };
  /**
   * Send identical subgraph reads that overlap in time once, each caller getting its own copy of the answer
   * (Hive Gateway does the same by default). Default true. Safe for canon because:
   * - only subgraph queries are shared, never a subgraph mutation, and no read of a client mutation (those follow
   *   the mutation's own writes and must see them; the caller then gives no `joinSince`);
   * - the key is URL, body and every header but the trace context, so requests that could be answered differently
   *   (another user's credentials, say) are never merged;
   * - a request joins only a read sent after canon first saw that request, so an app that reads after its own
   *   write completed never gets an answer sent before it: read-your-writes holds;
   * - nothing is kept once the read settles: this is no cache, two reads that do not overlap both reach the subgraph.
   * What is shared: the answer, the failure after the policy's retries, and the trace (the subgraph sees the first
   * caller's traceparent).
   */
  dedupeReads?: boolean;
  /**
   * CANON_SERVICE_TOKEN, sent as `Authorization: Bearer …` on every call, for subgraphs served as services of their
   * own (gateway/services/access.ts). Default none: the in-process subgraphs on loopback take no credential.
   */
  serviceToken?: string;
}

/**
 * One pool per protocol for every subgraph (maxSockets counts per host and port). Node's fetch measured ~17% more
 * CPU per request here: web streams, transferable bodies and abort-signal plumbing the gateway does not need.
 */
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

type Target = RequestOptions & { https: boolean };

/** Where a URL's requests go. */
function targetOf(url: string): Target {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  return { https, protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: https ? httpsAgent : httpAgent };
}

/** POSTs `body` and reads the whole answer; rejects if the connection fails, `signal` aborts, or the body is cut short. */
function post(url: string, target: Target, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const send = target.https ? httpsRequest : httpRequest;
    const req = send({ ...target, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ url, status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, text }));
      res.on('error', reject);
      // 'end' never comes for a body cut short; without this the attempt would wait for its timeout.
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the whole answer arrived'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer as a SystemError when it is one: 5xx and 429, which a retry may fix, and any other non-2xx status. */
export function answerError(subgraph: Owner, answer: Answer): SystemError | null {
  if (answer.status >= 200 && answer.status < 300) return null;
  return toSystemError(subgraph, { method: 'POST', path: answer.url }, { response: { status: answer.status, headers: headerLookup(answer.headers), text: answer.text } });
}

export class SubgraphClient {
  private readonly urls: Partial<SubgraphUrls>;
  private readonly policies: SubgraphClientOptions['policies'];
  private readonly dedupe: boolean;
  private readonly inFlight = new InFlight<Answer>();
  private readonly targets = new Map<string, Target>();
  private readonly authorization: string | undefined;

  constructor(opts: SubgraphClientOptions) {
    this.urls = opts.urls ?? {};
    this.authorization = opts.serviceToken ? `Bearer ${opts.serviceToken}` : undefined;
    this.policies = opts.policies;
    this.dedupe = opts.dedupeReads ?? true;
  }

  /**
   * POSTs `body` to `subgraph` under its policy and resolves with the whole answer below 500 (429 aside), whatever
   * its status: a GraphQL server may answer errors with 4xx, and the caller reads them. Rejects with a SystemError.
   */
  send(subgraph: Owner, body: string, headers: Record<string, string>, delivery: Delivery, url = this.urlOf(subgraph)): Promise<Answer> {
    if (delivery.kind === 'read' && this.dedupe && delivery.joinSince !== undefined) {
      return this.inFlight.run(requestKey(url, headers, body), delivery.joinSince, () => this.call(subgraph, url, headers, body, true));
    }
    return this.call(subgraph, url, headers, body, delivery.kind === 'read' || delivery.idempotencyKey !== null);
  }

  /** Runs a GraphQL operation on `subgraph`: its data, or its first error read back as the SystemError it was. */
  async execute<T = any>(subgraph: Owner, query: string, variables: Record<string, unknown>, delivery: Delivery): Promise<SubgraphResult<T>> {
    let answer: Answer;
    try {
      answer = await this.send(subgraph, JSON.stringify({ query, variables }), { 'content-type': 'application/json' }, delivery);
    } catch (e) {
      return { ok: false, error: e instanceof SystemError ? e : new SystemError({ code: ErrorCode.SYSTEM_ERROR, system: subgraph, retryable: false, message: (e as Error).message, cause: e }) };
    }
    let body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    try {
      body = JSON.parse(answer.text);
    } catch {
      return { ok: false, error: answerError(subgraph, answer) ?? new SystemError({ code: ErrorCode.SYSTEM_ERROR, system: subgraph, retryable: false, message: `${subgraph} subgraph answered ${answer.status} with a body that is not JSON: POST ${answer.url}` }) };
    }
    // A GraphQL error is the subgraph's final word: it already retried its system.
    if (body.errors?.length) return { ok: false, error: fromGraphQLError(body.errors[0]!, subgraph) };
    const failed = answerError(subgraph, answer);
    if (failed) return { ok: false, error: failed };
    return { ok: true, data: body.data as T };
  }

  private urlOf(subgraph: Owner): string {
    const url = this.urls[subgraph];
    if (!url) throw new TypeError(`SubgraphClient has no URL for subgraph "${subgraph}"; pass it in options.urls.`);
    return url;
  }

  private targetFor(url: string): Target {
    let target = this.targets.get(url);
    if (!target) {
      target = targetOf(url);
      this.targets.set(url, target);
    }
    return target;
  }

  /** One call under the subgraph's policy: its transport failures, 429 and 5xx are SystemErrors, retried when `retry`. */
  private call(subgraph: Owner, url: string, headers: Record<string, string>, body: string, retry: boolean): Promise<Answer> {
    const target = this.targetFor(url);
    return this.policies.for(subgraph).execute(async (signal) => {
      // The active span's traceparent (Apollo's fetch span, or the write step's), under the app's trace.
      const traceparent = injectTrace({}).traceparent;
      let sent = traceparent ? { ...headers, traceparent } : headers;
      if (this.authorization) sent = { ...sent, authorization: this.authorization };
      let answer: Answer;
      try {
        // The whole body is read here, inside the attempt, so its timeout covers a body that stalls.
        answer = await post(url, target, sent, body, signal);
      } catch (cause) {
        throw toSystemError(subgraph, { method: 'POST', path: url }, { cause, timedOut: signal.aborted });
      }
      if (answer.status >= 500 || answer.status === 429) throw answerError(subgraph, answer)!;
      return answer;
    }, { retry });
  }
}
