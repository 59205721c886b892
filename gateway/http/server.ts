// The gateway's HTTP server: Apollo Server on the composed supergraph at /graphql, and /health.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { Owner } from '../../schema/model.js';
import type { PolicyRegistry } from '../../subgraphs/kit/resilience.js';
import type { GatewayContext } from '../federation/context.js';
import { fingerprintOf, parseIdempotencyKey, type IdempotencyStore } from '../operations/idempotency.js';
import type { Ledger } from '../operations/ledger.js';
import { operationsPlugin } from '../operations/plugin.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { activeTraceId, extractTrace, inSpan, SpanKind } from '../../subgraphs/kit/telemetry.js';
import { composeCanon, type SubgraphSource } from '../federation/compose.js';
import { ErrorCode } from '../../schema/errors.js';
import { customerFields } from '../../schema/ownership.js';
import { CanonDataSource } from '../federation/datasource.js';
import { handleExplorer } from '../pages/explorer/explorer.js';
import { handleConsole } from '../pages/console/console.js';
import type { SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';

export interface GatewayOptions {
  port: number;
  host: string;
  /** Remote subgraphs with the URL of their /graphql endpoint. */
  subgraphs: { def: SubgraphDefinition; url: string }[];
  /** Subgraphs served inside the gateway process (canon's control subgraph). */
  localSubgraphs: { def: SubgraphDefinition; url: string }[];
  /** Source systems, for /health. */
  systems: { name: string; url: string }[];
  /** Resilience policies toward each subgraph (shared with canon's write path). */
  policies: PolicyRegistry;
  /** Where mutations' idempotency keys are kept. */
  idempotency: IdempotencyStore;
  /** Where operations are recorded. */
  ledger: Ledger;
  /** One JSON line per operation. */
  log: Logger;
  /** Send identical subgraph reads that overlap in time once (see CanonDataSource). Default true. */
  dedupeReads?: boolean;
}

export interface RunningGateway {
  port: number;
  url: string;
  supergraphSdl: string;
  close(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  subgraphs: { name: string; url: string; ok: boolean }[];
  systems: { name: string; url: string; ok: boolean }[];
}

/** Thrown when the subgraphs do not compose; `errors` name each field, subgraph and owner at fault. */
export class CompositionError extends Error {
  constructor(readonly errors: string[]) {
    super(`The supergraph does not compose:\n- ${errors.join('\n- ')}`);
    this.name = 'CompositionError';
  }
}

const PROBE_TIMEOUT_MS = 1000;

/** Any HTTP answer means the server is up; a refused or dropped connection or no answer in time means it is not. */
async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function health(opts: Pick<GatewayOptions, 'subgraphs' | 'systems'>): Promise<HealthReport> {
  const [subgraphs, systems] = await Promise.all([
    Promise.all(opts.subgraphs.map(async (s) => ({ name: s.def.name, url: s.url, ok: await reachable(s.url.replace(/\/graphql$/, '/health')) }))),
    Promise.all(opts.systems.map(async (s) => ({ name: s.name, url: s.url, ok: await reachable(`${s.url}/`) }))),
  ]);
  const ok = subgraphs.every((s) => s.ok) && systems.every((s) => s.ok);
  return { status: ok ? 'ok' : 'degraded', subgraphs, systems };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function send(res: ServerResponse, answer: HttpAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

/** Whether a GraphQL request body holds a mutation (the only operations idempotency keys apply to). */
function isMutation(body: Record<string, unknown>): boolean {
  // Most requests are reads: only a text that mentions the word at all is worth parsing.
  if (typeof body.query !== 'string' || !body.query.includes('mutation')) return false;
  try {
    const doc = parse(body.query);
    const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const op = typeof body.operationName === 'string' ? ops.find((o) => o.name?.value === body.operationName) : ops[0];
    return op?.operation === 'mutation';
  } catch {
    return false;
  }
}

/** Codes that mean the request was refused before it ran, or may succeed if sent again: such answers are not replayed. */
const NOT_FINAL = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.FIELD_NOT_WRITABLE, 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND']);

function isFinal(responseBody: string): boolean {
  try {
    const parsed = JSON.parse(responseBody) as { errors?: { extensions?: { code?: string; retryable?: boolean } }[] };
    return !(parsed.errors ?? []).some((e) => e.extensions?.retryable || NOT_FINAL.has(String(e.extensions?.code)));
  } catch {
    return false;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const UNKNOWN_INPUT_FIELD = /Field "(\w+)" is not defined by type "UpdateCustomerInput"/;

/**
 * An app naming a canonical field it may not write (creditLimit, openTickets, id, …) gets FIELD_NOT_WRITABLE with
 * the field and its owner, not GraphQL's bare unknown-field error. (A custom validation rule cannot do this:
 * Apollo Server overwrites its code.) Covers literals and variables; unknown non-canonical names stay as they are.
 */
export function notWritable(formatted: GraphQLFormattedError): GraphQLFormattedError | null {
  const m = UNKNOWN_INPUT_FIELD.exec(formatted.message);
  const spec = m ? customerFields().get(m[1]!) : undefined;
  if (!spec || spec.writable) return null;
  return {
    message: `Customer.${spec.name} is not writable by apps: its owner is ${spec.owner}, where it is maintained. Nothing was written.`,
    locations: formatted.locations,
    extensions: { code: ErrorCode.FIELD_NOT_WRITABLE, field: spec.name, owner: spec.owner, system: spec.owner },
  };
}

export function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const refused = notWritable(formatted);
  if (refused) return refused;
  const ext = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  // The gateway adds the subgraph's name; apps need the system, which our subgraphs already set.
  if (ext.system === undefined && typeof ext.serviceName === 'string' && ext.serviceName !== 'control') ext.system = ext.serviceName;
  delete ext.serviceName;
  delete ext.stacktrace;
  return { ...formatted, extensions: ext };
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const all = [...opts.subgraphs, ...opts.localSubgraphs];
  const sources: SubgraphSource[] = all.map((s) => ({ name: s.def.name, url: s.url, typeDefs: s.def.typeDefs }));
  const composed = composeCanon(sources);
  if (!composed.ok) throw new CompositionError(composed.errors);

  const local = new Map<string, ReturnType<typeof buildSubgraphSchema>>(opts.localSubgraphs.map((s) => [s.def.name, buildSubgraphSchema([{ typeDefs: s.def.typeDefs, resolvers: s.def.resolvers as never }])]));
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ name, url }) => {
      const schema = local.get(name);
      if (schema) return new LocalGraphQLDataSource(schema);
      return new CanonDataSource({ name: name as Owner, url: url!, policy: opts.policies.for(name as Owner), dedupe: opts.dedupeReads });
    },
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled(), operationsPlugin(opts.ledger, opts.log)],
    includeStacktraceInErrorResponses: false,
    // The explorer's graph and every GraphQL tool need the schema; Apollo turns introspection off under NODE_ENV=production.
    introspection: true,
    // canon stops its whole stack in order on SIGINT/SIGTERM (gateway/main.ts); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    formatError,
  });
  await apollo.start();

  /** Runs one GraphQL request through Apollo and collects its answer. */
  async function execute(req: IncomingMessage, url: URL, body: unknown, idempotencyKey: string | null, resume = false): Promise<HttpAnswer & { context: GatewayContext }> {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const app = req.headers['apollographql-client-name'];
    const context: GatewayContext = {
      headers: req.headers,
      idempotencyKey,
      resume,
      outcome: { retryable: false },
      operationId: randomUUID(),
      traceId: activeTraceId(),
      app: typeof app === 'string' && app ? app : null,
      recorded: false,
      receivedAt: performance.now(),
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
    return { status: result.status ?? 200, headers: outHeaders, body: text, context };
  }

  /**
   * A mutation under an Idempotency-Key: replayed, refused, or run once. Its response is stored for replay unless
   * the run ended in a retryable failure or refused the input; then the key is freed, and a repeat runs again,
   * skipping the steps that already succeeded.
   */
  async function idempotent(req: IncomingMessage, res: ServerResponse, url: URL, body: Record<string, unknown>, header: string): Promise<void> {
    const parsed = parseIdempotencyKey(header);
    const traceId = activeTraceId();
    if ('error' in parsed) return sendJson(res, 400, { errors: [{ message: parsed.error, extensions: { code: ErrorCode.BAD_USER_INPUT, traceId } }] });
    const fingerprint = fingerprintOf(body);
    const claim = await opts.idempotency.claim(parsed.key, fingerprint);
    if (claim.kind === 'replay') return send(res, { status: claim.response.status, headers: { 'content-type': 'application/json; charset=utf-8', 'idempotent-replayed': 'true' }, body: claim.response.body });
    if (claim.kind === 'reused') {
      return sendJson(res, 422, { errors: [{ message: `Idempotency-Key "${parsed.key}" was already used for a different request; use a new key for a new operation.`, extensions: { code: ErrorCode.IDEMPOTENCY_KEY_REUSED, traceId } }] });
    }
    if (claim.kind === 'in-progress') {
      return sendJson(res, 409, { errors: [{ message: `A request with Idempotency-Key "${parsed.key}" is still running; send it again once that one has answered.`, extensions: { code: ErrorCode.IDEMPOTENCY_IN_PROGRESS, retryable: true, traceId } }] });
    }
    let out: (HttpAnswer & { context: GatewayContext }) | undefined;
    try {
      out = await execute(req, url, body, parsed.key, claim.resume);
    } finally {
      if (!out || out.status >= 500 || out.context.outcome.retryable || !isFinal(out.body)) {
        await opts.idempotency.release(parsed.key, fingerprint, { resumable: Boolean(out?.context.outcome.retryable) || claim.resume });
      } else await opts.idempotency.complete(parsed.key, fingerprint, { status: out.status, body: out.body });
    }
    send(res, out);
  }

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      if (url.pathname === '/health') return sendJson(res, 200, await health(opts));
      if (await handleExplorer(req, res, url)) return;
      if (await handleConsole(req, res, url)) return;
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `No route ${url.pathname}; canon serves /graphql, /health, /explorer and /console.` });
      const text = req.method === 'POST' ? await readBody(req) : '';
      let body: Record<string, unknown> | undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
      }
      // The app's traceparent (or a new trace) becomes this request's span; everything below joins it.
      await inSpan(`${req.method} /graphql`, { kind: SpanKind.SERVER, parent: extractTrace(req.headers) }, async () => {
        const keyHeader = req.headers['idempotency-key'];
        if (typeof keyHeader === 'string' && body && isMutation(body)) return await idempotent(req, res, url, body, keyHeader);
        send(res, await execute(req, url, body, null));
      });
    } catch (e) {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `Gateway failed: ${(e as Error).message}` }] });
      else res.end();
    }
  });
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
