// How the gateway calls a subgraph: node:http over a shared keep-alive pool, under the subgraph's resilience policy, identical concurrent reads sent once, failures shaped as errors naming it.

import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherHeaders, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import type { SystemPolicy } from '../../subgraphs/kit/resilience.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import { injectTrace } from '../../subgraphs/kit/telemetry.js';
import { InFlight, requestKey } from './dedup.js';

/**
 * One pool per protocol for every subgraph (maxSockets counts per host and port). Node's fetch measured ~17% more
 * CPU per request here: web streams, transferable bodies and abort-signal plumbing the gateway does not need.
 */
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

/** The W3C traceparent of the active span (Apollo's own fetch span, under the app's trace). */
function traceparentOf(): string {
  return injectTrace({}).traceparent ?? '';
}

/** The operation keyword a request body sent to a subgraph starts with ('query' for the `{ … }` shorthand), or null. */
function operationOf(body: unknown): string | null {
  if (typeof body !== 'string') return null;
  const m = /"query"\s*:\s*"\s*(\w+|\{)/.exec(body);
  if (!m) return null;
  return m[1] === '{' ? 'query' : m[1]!;
}

/** A subgraph's whole answer, read inside the attempt. Immutable, so in-flight duplicates can share it. */
interface Answer {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** What Apollo's RemoteGraphQLDataSource reads of a response (ok, status, headers.get, json/text), over an Answer. */
class AnswerHeaders implements FetcherHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name)!];
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  // The answer is shared with duplicate callers: it is read-only.
  append(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
  delete(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
  set(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
}

class AnswerResponse implements FetcherResponse {
  readonly redirected = false;
  readonly headers: AnswerHeaders;
  bodyUsed = false;
  constructor(private readonly answer: Answer) {
    this.headers = new AnswerHeaders(answer.headers);
  }
  get url(): string {
    return this.answer.url;
  }
  get status(): number {
    return this.answer.status;
  }
  get ok(): boolean {
    return this.answer.status >= 200 && this.answer.status < 300;
  }
  get statusText(): string {
    return this.answer.statusText;
  }
  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.answer.text;
  }
  async json(): Promise<any> {
    // Parsed per caller: each gets its own objects, which Apollo merges into its own result.
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = Buffer.from(await this.text(), 'utf8');
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }
  clone(): FetcherResponse {
    return new AnswerResponse(this.answer);
  }
}

/** Where a URL's requests go, parsed once per subgraph rather than per call. */
function targetOf(url: string): RequestOptions & { https: boolean } {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  return { https, protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: https ? httpsAgent : httpAgent };
}

/** POSTs `body` and reads the whole answer; rejects if the connection fails, `signal` aborts, or the body is cut short. */
function post(url: string, target: RequestOptions & { https: boolean }, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Answer> {
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

/** Per client request, what decides whether its reads may join identical ones in flight. */
interface ReadScope {
  /** When canon first saw the request: it joins only reads sent since, so it never gets an answer older than itself. */
  since: number;
  /** The client operation is a mutation: its reads follow its own writes and must see them, so they are never shared. */
  write: boolean;
}
const readScope = new AsyncLocalStorage<ReadScope>();
const firstSeen = new WeakMap<object, number>();

export interface SubgraphFetcherOptions {
  /**
   * Send identical subgraph reads that overlap in time once, each caller getting its own copy of the answer.
   * Default true; see CanonDataSource for why this is safe.
   */
  dedupe?: boolean;
}

/**
 * Apollo Gateway has no subgraph timeouts, retries or circuit breaking. This fetcher runs each subgraph call under
 * the subgraph's policy: reads are retried on refused connections, timeouts, 429 and 5xx; an open breaker fails
 * fast; the final failure becomes a GraphQLError with code, system, retryable and attempts, so the rest of the
 * query's data still arrives.
 */
export function subgraphFetcher(system: Owner, policy: SystemPolicy, opts: SubgraphFetcherOptions = {}): Fetcher {
  const dedupe = opts.dedupe ?? true;
  const inFlight = new InFlight<Answer>();
  let lastUrl = '';
  let lastTarget: ReturnType<typeof targetOf> | undefined;

  const call = (url: string, headers: Record<string, string>, body: string, read: boolean): Promise<Answer> => {
    if (url !== lastUrl || !lastTarget) {
      lastTarget = targetOf(url);
      lastUrl = url;
    }
    const target = lastTarget;
    return policy.execute(async (signal) => {
      const traceparent = traceparentOf();
      const sent = traceparent ? { ...headers, traceparent } : headers;
      let answer: Answer;
      try {
        // The whole body is read here, inside the attempt, so its timeout covers a body that stalls.
        answer = await post(url, target, sent, body, signal);
      } catch (cause) {
        const reason = (cause as Error).message;
        throw new SystemError({ code: signal.aborted ? ErrorCode.SYSTEM_TIMEOUT : ErrorCode.SYSTEM_UNAVAILABLE, system, retryable: true, message: signal.aborted ? `${system} subgraph did not answer in time` : `${system} subgraph is unreachable (${reason})`, cause });
      }
      if (answer.status >= 500 || answer.status === 429) {
        throw new SystemError({ code: ErrorCode.SYSTEM_UNAVAILABLE, system, status: answer.status, retryable: true, message: `${system} subgraph answered ${answer.status}` });
      }
      return answer;
    }, { retry: read });
  };

  const fetcher = async (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> => {
    const body = typeof init?.body === 'string' ? init.body : init?.body ? init.body.toString('utf8') : '';
    const headers = init?.headers ?? {};
    // Mutations are never retried (no key travels with them) and never shared.
    const read = operationOf(body) === 'query';
    const scope = readScope.getStore();
    try {
      const answer = dedupe && read && scope && !scope.write
        ? await inFlight.run(requestKey(url, headers, body), scope.since, () => call(url, headers, body, read))
        : await call(url, headers, body, read);
      return new AnswerResponse(answer);
    } catch (e) {
      // A fresh error per caller: joined callers share the failure, not the object Apollo annotates with paths.
      if (e instanceof SystemError) throw new GraphQLError(e.message, { extensions: { code: e.code, system, retryable: e.retryable, attempts: e.attempts } });
      throw e;
    }
  };
  return fetcher;
}

export interface CanonDataSourceOptions {
  name: Owner;
  url: string;
  policy: SystemPolicy;
  /**
   * Send identical reads to this subgraph once while they overlap in time (Hive Gateway does the same by default).
   * Default true. Safe for canon because:
   * - only subgraph queries are shared, never a subgraph mutation, and no read of a client mutation (those follow
   *   the mutation's own writes and must see them);
   * - the key is URL, body and every header but the trace context, so requests that could be answered differently
   *   (another user's credentials, say) are never merged;
   * - a request joins only a read sent after canon first saw that request, so an app that reads after its own
   *   write completed never gets an answer sent before it: read-your-writes holds;
   * - nothing is kept once the read settles: this is no cache, two reads that do not overlap both reach the subgraph.
   * What is shared: the answer, the failure after the policy's retries, and the trace (the subgraph sees the first
   * caller's traceparent).
   */
  dedupe?: boolean;
}

export class CanonDataSource extends RemoteGraphQLDataSource {
  constructor(opts: CanonDataSourceOptions) {
    super({ url: opts.url, fetcher: subgraphFetcher(opts.name, opts.policy, { dedupe: opts.dedupe ?? true }) });
  }

  override process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const ctx = options.context as { receivedAt?: number } | undefined;
    let since = performance.now();
    if (typeof ctx?.receivedAt === 'number') {
      // canon's gateway stamps each request on arrival: even its first fetch may join a read sent since then.
      since = ctx.receivedAt;
    } else if (ctx) {
      const seen = firstSeen.get(ctx);
      if (seen === undefined) firstSeen.set(ctx, since);
      else since = seen;
    }
    const write = 'incomingRequestContext' in options && options.incomingRequestContext.operation?.operation === 'mutation';
    return readScope.run({ since, write }, () => super.process(options));
  }
}
