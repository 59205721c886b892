// Apollo's RemoteGraphQLDataSource over canon's one subgraph client: Apollo plans, sends and merges; the client sends under each subgraph's policy, shares identical reads and shapes failures.

import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Owner } from '../../schema/model.js';
import type { SystemPolicy } from '../../subgraphs/kit/resilience.js';
import { toGraphQLError } from '../../subgraphs/kit/system-error.js';
import { AnswerResponse } from './answer-response.js';
import { answerError, SubgraphClient, type Delivery } from './subgraph-client.js';

/** The operation keyword a request body sent to a subgraph starts with ('query' for the `{ … }` shorthand), or null. */
function operationOf(body: string): string | null {
  const m = /"query"\s*:\s*"\s*(\w+|\{)/.exec(body);
  if (!m) return null;
  return m[1] === '{' ? 'query' : m[1]!;
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

/**
 * Apollo Gateway has no subgraph timeouts, retries or circuit breaking; canon's client gives them. A subgraph query
 * is a read (retried, shared within the request's read scope); anything else is a write sent once, as no
 * idempotency key travels with Apollo's fetches. A failure becomes a GraphQLError (code, system, retryable,
 * attempts) built afresh for each caller, so the rest of the query's data still arrives.
 */
function clientFetcher(client: SubgraphClient, subgraph: Owner): Fetcher {
  return async (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> => {
    const body = typeof init?.body === 'string' ? init.body : init?.body ? init.body.toString('utf8') : '';
    const scope = readScope.getStore();
    const delivery: Delivery = operationOf(body) === 'query' ? { kind: 'read', joinSince: scope && !scope.write ? scope.since : undefined } : { kind: 'write', idempotencyKey: null };
    try {
      const answer = await client.send(subgraph, body, init?.headers ?? {}, delivery, url);
      // Apollo would make a bare "404: Not Found" of any other status; canon's shape names the subgraph and the code.
      const failed = answerError(subgraph, answer);
      if (failed) throw failed;
      return new AnswerResponse(answer);
    } catch (e) {
      // A fresh error per caller: joined callers share the failure, not the object Apollo annotates with paths.
      throw toGraphQLError(e);
    }
  };
}

export type CanonDataSourceOptions = {
  name: Owner;
  url: string;
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

export class CanonDataSource extends RemoteGraphQLDataSource {
  constructor(opts: CanonDataSourceOptions) {
    const client = 'client' in opts ? opts.client : new SubgraphClient({ policies: { for: () => opts.policy }, dedupeReads: opts.dedupe ?? true });
    super({ url: opts.url, fetcher: clientFetcher(client, opts.name) });
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
