// The gateway's HTTP server: routes /graphql to Apollo Server on the composed supergraph (through the idempotent flow for keyed mutations), /health, /explorer and /console.
//
// A request to /graphql passes, in order: body read (capped) → JSON → authentication (401) → the app's rate limit
// (429) → trusted documents → query limits → idempotency → Apollo, whose executor applies the app's scopes at plan
// time. Each step before Apollo answers on its own and calls no system. /health, /explorer and /console are public:
// the pages call /graphql with a key like any app.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import { BodyTooLargeError, DEFAULT_BODY_LIMIT_BYTES, readBody, sendJson } from '../../subgraphs/kit/http-io.js';
import { drainable } from '../../subgraphs/kit/drain.js';
import type { SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { activeTraceId, extractTrace, inSpan, SpanKind } from '../../subgraphs/kit/telemetry.js';
import { composeCanon, type SubgraphSource } from '../federation/compose.js';
import type { GatewayContext } from '../federation/context.js';
import { CanonDataSource } from '../federation/datasource.js';
import { CachedLocalDataSource } from '../federation/local-datasource.js';
import type { SubgraphClient } from '../federation/subgraph-client.js';
import type { IdempotencyStore } from '../operations/idempotency.js';
import type { Ledger } from '../operations/ledger.js';
import { operationsPlugin } from '../operations/plugin.js';
import { handleConsole } from '../pages/console/console.js';
import { handleExplorer } from '../pages/explorer/explorer.js';
import type { Authenticator, AppIdentity } from '../security/authenticate.js';
import { ScopedGateway } from '../security/field-filter.js';
import type { RateLimits } from '../security/rate-limits.js';
import { ScopeRules } from '../security/scopes.js';
import type { TrustedDocuments } from '../security/trusted-documents.js';
import { limitsPlugin, type GraphQLParams, type QueryLimiter } from '../security/limits.js';
import { CompositionError, documentErrorStatus, formatError, sendDocumentError, sendError, sendInternalError } from './errors.js';
import { health, type HealthTargets } from './health.js';
import { answerIdempotently, isMutation, sendAnswer, type HttpAnswer } from './idempotent.js';

export interface GatewayOptions {
  port: number;
  host: string;
  /** Remote subgraphs with the URL of their /graphql endpoint. */
  subgraphs: { def: SubgraphDefinition; url: string }[];
  /** Subgraphs served inside the gateway process (canon's control subgraph). */
  localSubgraphs: { def: SubgraphDefinition; url: string }[];
  /** Source systems, for /health. */
  systems: { name: string; url: string }[];
  /** How the sync stands, for /health (absent: the gateway syncs nothing, and /health says nothing of it). */
  sync?: HealthTargets['sync'];
  /** The workflow queues' counts, for /health, where the engine runs in this process. */
  queues?: HealthTargets['queues'];
  /** The one client toward the subgraphs (pool, policies, read dedup), shared with canon's write path. */
  client: SubgraphClient;
  /** Where mutations' idempotency keys are kept. */
  idempotency: IdempotencyStore;
  /** Where operations are recorded. */
  ledger: Ledger;
  /** One JSON line per operation. */
  log: Logger;
  /** Largest request body read, in bytes; a larger one is answered 413 with REQUEST_TOO_LARGE. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Approximate MiB of the parsed-document cache and of the query-plan cache, each. Default 30 (Apollo's). */
  operationCacheMiB?: number;
  /** Who may ask, how often, and what. */
  security: GatewaySecurity;
  /** How long `close` lets requests in flight finish before it cuts them, in ms. Default 10000. */
  shutdownGraceMs?: number;
}

export interface GatewaySecurity {
  /** Turns a request's Authorization header into its app. */
  authenticator: Authenticator;
  /** Each app's budget of requests. */
  rateLimits: RateLimits;
  /** When set, only these operations run. */
  trusted?: TrustedDocuments;
  /** How long, deep, wide and costly one operation may be. */
  limits: QueryLimiter;
  /** Introspection and dataModel need model:read or admin (production). */
  modelNeedsScope: boolean;
}

export interface RunningGateway {
  port: number;
  url: string;
  supergraphSdl: string;
  close(): Promise<void>;
}

/**
 * Lets only trusted documents through: a listed id becomes its listed text (in the body, or a GET's parameters), a
 * listed text goes as it is. Returns why the request may not run, or null when it may.
 */
function admitTrusted(trusted: TrustedDocuments, req: IncomingMessage, url: URL, body: Record<string, unknown> | undefined): string | null {
  if (req.method === 'GET') {
    let extensions: unknown;
    try {
      extensions = url.searchParams.has('extensions') ? JSON.parse(url.searchParams.get('extensions')!) : undefined;
    } catch {
      return 'The extensions parameter is not valid JSON, so no trusted document can be found for this request.';
    }
    const admitted = trusted.admit({ query: url.searchParams.get('query') ?? undefined, extensions, documentId: url.searchParams.get('documentId') ?? undefined });
    if (!admitted.ok) return admitted.message;
    url.searchParams.delete('documentId');
    url.searchParams.set('query', admitted.query);
    if (admitted.extensions) url.searchParams.set('extensions', JSON.stringify(admitted.extensions));
    else url.searchParams.delete('extensions');
    return null;
  }
  const request = body && typeof body === 'object' && !Array.isArray(body) ? body : {};
  const admitted = trusted.admit(request);
  if (!admitted.ok) return admitted.message;
  request.query = admitted.query;
  // Apollo Server does not know documentId; once resolved, the request is an ordinary one.
  delete request.documentId;
  if (admitted.extensions) request.extensions = admitted.extensions;
  else delete request.extensions;
  return null;
}

/** The GraphQL parameters of a request: a GET's from its query string, a POST's from its JSON body. */
function paramsOf(req: IncomingMessage, url: URL, body: unknown): GraphQLParams {
  if (req.method === 'GET') {
    const p = url.searchParams;
    return { query: p.get('query') ?? undefined, variables: p.get('variables') ?? undefined, operationName: p.get('operationName') ?? undefined };
  }
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as GraphQLParams) : {};
}

/** The span a request runs in, named by route (a bounded set, as span names should be). */
function routeOf(pathname: string): string {
  if (pathname === '/graphql' || pathname === '/health') return pathname;
  if (pathname === '/explorer' || pathname.startsWith('/explorer/')) return '/explorer';
  if (pathname === '/console' || pathname.startsWith('/console/')) return '/console';
  return '(no route)';
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const all = [...opts.subgraphs, ...opts.localSubgraphs];
  const sources: SubgraphSource[] = all.map((s) => ({ name: s.def.name, url: s.url, typeDefs: s.def.typeDefs }));
  const composed = composeCanon(sources);
  if (!composed.ok) throw new CompositionError(composed.errors);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const healthTargets: HealthTargets = { subgraphs: opts.subgraphs.map((s) => ({ name: s.def.name, url: s.url })), systems: opts.systems, sync: opts.sync, queues: opts.queues };

  const local = new Map<string, ReturnType<typeof buildSubgraphSchema>>(opts.localSubgraphs.map((s) => [s.def.name, buildSubgraphSchema([{ typeDefs: s.def.typeDefs, resolvers: s.def.resolvers as never }])]));
  const rules = new ScopeRules(composed.supergraphSdl, { modelNeedsScope: opts.security.modelNeedsScope });
  const cacheMiB = opts.operationCacheMiB ?? 30;
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    experimental_approximateQueryPlanStoreMiB: cacheMiB,
    buildService: ({ name, url }) => {
      const schema = local.get(name);
      if (schema) return new CachedLocalDataSource(schema);
      // canon's control subgraph served on its own needs to know who asked: the app, never its credential.
      return new CanonDataSource({ name: name as Owner, url: url!, client: opts.client, forwardContext: name === 'control' });
    },
  });
  // Costs are computed on the API schema apps query.
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => opts.security.limits.useSchema(apiSchema));
  const apollo = new ApolloServer<GatewayContext>({
    // Scopes are decided before the gateway plans: a field the app may not read is never fetched.
    gateway: new ScopedGateway(gateway, rules),
    plugins: [ApolloServerPluginLandingPageDisabled(), operationsPlugin(opts.ledger, opts.log), limitsPlugin(opts.security.limits)],
    includeStacktraceInErrorResponses: false,
    // The explorer's graph and every GraphQL tool need the schema; Apollo would turn introspection off under
    // NODE_ENV=production. canon's own rule (model:read or admin in production) is applied with the other scopes.
    introspection: true,
    // canon stops its whole stack in order on SIGINT/SIGTERM (gateway/main.ts); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    formatError,
    // Apollo's own default store, sized: every new document text an app sends is parsed and kept until evicted.
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: cacheMiB * 2 ** 20, sizeCalculation: InMemoryLRUCache.sizeCalculation }),
  });
  await apollo.start();

  /** Runs one GraphQL request through Apollo and collects its whole answer. */
  async function execute(req: IncomingMessage, url: URL, body: unknown, app: AppIdentity, idempotencyKey: string | null, resume: boolean, receivedAt: number): Promise<HttpAnswer> {
    // The credential stops here: nothing past authentication (plugins, resolvers, logs) can see or echo it.
    const { authorization: _, ...withoutCredential } = req.headers;
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(withoutCredential)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const context: GatewayContext = {
      headers: withoutCredential,
      idempotencyKey,
      resume,
      operationId: randomUUID(),
      traceId: activeTraceId(),
      app: app.name,
      scopes: app.scopes,
      receivedAt,
    };
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => context,
    });
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of result.headers) outHeaders[k] = v;
    let text = '';
    if (result.body.kind === 'complete') text = result.body.string;
    else for await (const chunk of result.body.asyncIterator) text += chunk;
    return { status: documentErrorStatus(result.status ?? 200, outHeaders['content-type'], text), headers: outHeaders, body: text };
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL, receivedAt: number): Promise<void> {
    let text = '';
    if (req.method === 'POST') {
      try {
        text = await readBody(req, { limitBytes: maxBodyBytes });
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e;
        // The rest of the body is never read, so the connection cannot carry another request.
        return sendError(res, 413, ErrorCode.REQUEST_TOO_LARGE, e.message, { extensions: { limitBytes: e.limitBytes }, headers: { connection: 'close' } });
      }
    }
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return sendError(res, 400, ErrorCode.BAD_REQUEST, 'Request body is not valid JSON.');
    }

    const auth = await opts.security.authenticator.authenticate(req.headers.authorization);
    if (!auth.ok) {
      opts.log.info({ traceId: activeTraceId(), refused: ErrorCode.UNAUTHENTICATED, reason: auth.message }, 'request refused');
      // RFC 6750: a request without credentials gets the bare challenge; a bad one is told its token is invalid.
      const challenge = auth.missing ? 'Bearer realm="canon"' : 'Bearer realm="canon", error="invalid_token"';
      return sendError(res, 401, ErrorCode.UNAUTHENTICATED, auth.message, { headers: { 'www-authenticate': challenge } });
    }
    const app = auth.app;

    const limit = await opts.security.rateLimits.take(app);
    if (!limit.ok) {
      const seconds = Math.ceil(limit.retryAfterMs / 1000);
      opts.log.info({ traceId: activeTraceId(), app: app.name, refused: ErrorCode.RATE_LIMITED, retryAfterMs: limit.retryAfterMs }, 'request refused');
      return sendError(res, 429, ErrorCode.RATE_LIMITED, `The app "${app.name}" sent more than its ${limit.rate} requests per second (bursts up to ${limit.burst}); send again in ${seconds} s.`, {
        extensions: { rate: limit.rate, burst: limit.burst, retryAfterMs: limit.retryAfterMs },
        headers: { 'retry-after': String(seconds) },
      });
    }

    if (opts.security.trusted) {
      const refused = admitTrusted(opts.security.trusted, req, url, body);
      if (refused) {
        opts.log.info({ traceId: activeTraceId(), app: app.name, refused: ErrorCode.PERSISTED_QUERY_NOT_IN_LIST }, 'request refused');
        return sendError(res, 400, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, refused);
      }
    }

    // After trusted documents (an id is text by now) and before idempotency: an operation past a limit is refused
    // before anything is claimed, planned or called.
    const over = opts.security.limits.check(paramsOf(req, url, body));
    if (over) {
      opts.log.info({ traceId: activeTraceId(), app: app.name, refused: ErrorCode.QUERY_TOO_COMPLEX, limit: over.limit }, 'request refused');
      return sendDocumentError(res, req.headers.accept, ErrorCode.QUERY_TOO_COMPLEX, over.message, { limit: over.limit });
    }

    const keyHeader = req.headers['idempotency-key'];
    if (typeof keyHeader === 'string' && body && isMutation(body)) {
      return answerIdempotently(res, body, keyHeader, (key, resume) => execute(req, url, body, app, key, resume, receivedAt), { store: opts.idempotency, ledger: opts.ledger, app: app.name });
    }
    sendAnswer(res, await execute(req, url, body, app, null, false, receivedAt));
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, receivedAt: number): Promise<void> {
    if (url.pathname === '/graphql') return graphql(req, res, url, receivedAt);
    if (url.pathname === '/health') return sendJson(res, 200, await health(healthTargets));
    if (await handleExplorer(req, res, url)) return;
    if (await handleConsole(req, res, url)) return;
    sendError(res, 404, ErrorCode.NOT_FOUND, `No route ${url.pathname}; canon serves /graphql, /health, /explorer and /console.`);
  }

  const server: Server = createServer((req, res) => {
    drain.track(req, res);
    const receivedAt = performance.now();
    // The app's traceparent (or a new trace) becomes this request's span; everything below joins it.
    const span = `${req.method} ${routeOf((req.url ?? '/').split('?')[0]!)}`;
    inSpan(span, { kind: SpanKind.SERVER, parent: extractTrace(req.headers) }, async () => {
      try {
        await route(req, res, new URL(req.url ?? '/', 'http://gateway'), receivedAt);
      } catch (e) {
        opts.log.error({ traceId: activeTraceId(), route: req.url, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'gateway request failed');
        sendInternalError(res);
      }
    }).catch(() => res.destroy());
  });
  const drain = drainable(server);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${opts.host}:${port}`,
    supergraphSdl: composed.supergraphSdl,
    async close() {
      // No new connection; requests in flight finish (their answers say Connection: close), then Apollo stops.
      await drain.close(opts.shutdownGraceMs ?? 10_000);
      await apollo.stop();
    },
  };
}
