// Apollo's data source interface over canon's one subgraph client: Apollo plans and merges; the client sends under each subgraph's policy, shares identical reads and shapes failures.
//
// Guarantees: a subgraph query is a read (retried, and shared with identical reads sent since canon first saw the
// client request, unless that request is a mutation); anything else is a write sent once, as no idempotency key
// travels with Apollo's fetches. A failure becomes a GraphQLError (code, system, retryable, attempts) built afresh
// for each caller, so the rest of the query's data still arrives. Each caller parses its own copy of a shared answer.

import { performance } from 'node:perf_hooks';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import type { SystemPolicy } from '../../subgraphs/kit/resilience.js';
import { SystemError, toGraphQLError } from '../../subgraphs/kit/system-error.js';
import { answerError, SubgraphClient, type Delivery } from './subgraph-client.js';
import { contextHeaders, type GatewayContext } from './context.js';

/** A subgraph operation Apollo planned is a query when it is `query …` or the `{ … }` shorthand. */
const QUERY = /^\s*(?:\{|query\b)/;

/** Where a client request's reads may join identical ones, for contexts canon's gateway did not stamp (tests, tools). */
const firstSeen = new WeakMap<object, number>();

export type CanonDataSourceOptions = {
  name: Owner;
  url: string;
  /**
   * Send the request's context (the app canon authenticated, its scopes, the idempotency key) as headers: for the
   * control subgraph served on its own, whose resolvers need it (gateway/federation/context.ts). Default false.
   */
  forwardContext?: boolean;
} & (
  | {
      /** The gateway's one subgraph client, shared with canon's write path. */
      client: SubgraphClient;
    }
  | {
      /** A data source with a client of its own (tests, tools): this subgraph's policy. */
      policy: SystemPolicy;
      /** Share identical reads in flight (see SubgraphClientOptions.dedupeReads). Default true. */
      dedupe?: boolean;
    }
);

/**
 * Apollo Gateway has no subgraph timeouts, retries or circuit breaking; canon's client gives them. This replaces
 * Apollo's RemoteGraphQLDataSource, whose fetch plumbing (node-fetch Headers and Request objects per fetch, a
 * Response over each answer) the client makes unnecessary: the body Apollo would send is sent as it is, and the
 * answer's text parsed once for this caller.
 */
export class CanonDataSource implements GraphQLDataSource {
  private readonly client: SubgraphClient;
  private readonly name: Owner;
  private readonly url: string;
  private readonly forwardContext: boolean;

  constructor(opts: CanonDataSourceOptions) {
    this.forwardContext = opts.forwardContext ?? false;
    this.client = 'client' in opts ? opts.client : new SubgraphClient({ policies: { for: () => opts.policy }, dedupeReads: opts.dedupe ?? true });
    this.name = opts.name;
    this.url = opts.url;
  }

  async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const { http, ...payload } = options.request;
    if (!payload.query) throw new Error('Missing query');
    const headers: Record<string, string> = {};
    // Apollo sets headers of its own only for federated tracing (usage reporting, which canon does not turn on).
    if (http?.headers) for (const [name, value] of http.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    if (this.forwardContext && options.context && 'scopes' in options.context) Object.assign(headers, contextHeaders(options.context as GatewayContext));
    const delivery: Delivery = QUERY.test(payload.query) ? { kind: 'read', joinSince: this.joinSince(options) } : { kind: 'write', idempotencyKey: null };
    let answer;
    try {
      answer = await this.client.send(this.name, JSON.stringify(payload), headers, delivery, this.url);
      // Apollo would make a bare "404: Not Found" of any other status; canon's shape names the subgraph and the code.
      const failed = answerError(this.name, answer);
      if (failed) throw failed;
    } catch (e) {
      // A fresh error per caller: joined callers share the failure, not the object Apollo annotates with paths.
      throw toGraphQLError(e);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw toGraphQLError(new SystemError({ code: ErrorCode.SYSTEM_ERROR, system: this.name, retryable: false, message: `${this.name} subgraph answered ${answer.status} with a body that is not a JSON object: POST ${answer.url}` }));
    }
    // canon's subgraphs send no Cache-Control, from which Apollo concludes what this says: the answer is not cacheable.
    if ('incomingRequestContext' in options) {
      const policy = options.incomingRequestContext.overallCachePolicy;
      if (policy && 'restrict' in policy) policy.restrict({ maxAge: 0 });
    }
    return body as GatewayGraphQLResponse;
  }

  /** The moment this fetch's reads may join identical reads sent since, or undefined when they must be sent alone. */
  private joinSince(options: GraphQLDataSourceProcessOptions): number | undefined {
    // Health checks and schema loads (which canon's static supergraph never makes) are sent on their own.
    if (!('incomingRequestContext' in options)) return undefined;
    // A client mutation's reads follow its own writes and must see them.
    if (options.incomingRequestContext.operation?.operation === 'mutation') return undefined;
    const ctx = options.context as { receivedAt?: number } | undefined;
    // canon's gateway stamps each request on arrival: even its first fetch may join a read sent since then.
    if (typeof ctx?.receivedAt === 'number') return ctx.receivedAt;
    if (!ctx) return performance.now();
    let seen = firstSeen.get(ctx);
    if (seen === undefined) {
      seen = performance.now();
      firstSeen.set(ctx, seen);
    }
    return seen;
  }
}
