// Serves one subgraph over GraphQL-over-HTTP on a real port: parse and validation cached per query text, a fresh context per request, and request counters.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, GraphQLError, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { BodyTooLargeError, DEFAULT_BODY_LIMIT_BYTES, readBody, sendJson } from './http-io.js';
import { drainable } from './drain.js';
import type { SubgraphDefinition } from './subgraph.js';
import { toGraphQLError } from './system-error.js';
import { extractTrace, inSpan, SpanKind } from './telemetry.js';

export interface RunningSubgraph {
  name: string;
  port: number;
  url: string;
  /** GraphQL requests served since start (or the last reset). */
  stats(): SubgraphStats;
  close(): Promise<void>;
}

/**
 * Who may call a subgraph served as a service of its own (`canon subgraph NAME`), and with what. Each request's
 * headers are admitted first (a refusal is answered as it is: 401 or 403, one error with its code); `execute`, when
 * given, runs the admitted request (scope rules), else it runs as sent. The caller reaches the subgraph's context.
 */
export interface SubgraphAccess {
  admit(headers: IncomingMessage['headers']): Promise<{ ok: true; caller: unknown } | { ok: false; status: number; code: ErrorCode; message: string; headers?: Record<string, string> }>;
  execute?(args: { schema: GraphQLSchema; document: DocumentNode; variables: Record<string, unknown> | undefined; operationName: string | undefined; contextValue: unknown; caller: unknown }): Promise<ExecutionResult>;
  /**
   * Answers an admitted request itself when it takes it (the control service replays keyed mutations): `run`
   * executes the request as `caller` and gives the whole answer. Resolves false to let the server answer as usual.
   */
  respond?(args: { res: ServerResponse; body: Record<string, unknown>; headers: IncomingMessage['headers']; caller: unknown; run(caller: unknown): Promise<SubgraphAnswer> }): Promise<boolean>;
}

/** One whole answer of the subgraph's /graphql. */
export interface SubgraphAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SubgraphStats {
  requests: number;
  byOperation: Record<string, number>;
}

const DOCUMENT_CACHE_LIMIT = 500;

/**
 * Executes GraphQL requests against a subgraph schema. The gateway sends the same few query texts over and over,
 * so parsing and validation happen once per distinct text (bounded cache, oldest evicted first).
 */
export function createSubgraphExecutor(def: SubgraphDefinition, access?: SubgraphAccess) {
  const schema: GraphQLSchema = buildSubgraphSchema([{ typeDefs: def.typeDefs, resolvers: def.resolvers as never }]);
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

  function prepare(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = documents.get(query);
    if (cached) return cached;
    let prepared: DocumentNode | readonly GraphQLError[];
    try {
      const doc = parse(query);
      const errors = validate(schema, doc);
      prepared = errors.length ? errors : doc;
    } catch (e) {
      prepared = [e instanceof GraphQLError ? e : new GraphQLError(`Could not prepare the query: ${(e as Error).message}`)];
    }
    if (documents.size >= DOCUMENT_CACHE_LIMIT) documents.delete(documents.keys().next().value as string);
    documents.set(query, prepared);
    return prepared;
  }

  return {
    schema,
    async run(body: { query?: string; variables?: Record<string, unknown>; operationName?: string }, headers: IncomingMessage['headers'], caller?: unknown): Promise<ExecutionResult> {
      if (typeof body.query !== 'string') return { errors: [new GraphQLError('Request body must have a "query" string.', { extensions: { code: ErrorCode.BAD_REQUEST } })] };
      const doc = prepare(body.query);
      if (!('kind' in doc)) return { errors: doc };
      const contextValue = def.createContext({ headers, caller });
      if (access?.execute) return access.execute({ schema, document: doc, variables: body.variables, operationName: body.operationName, contextValue, caller });
      return execute({ schema, document: doc, variableValues: body.variables, operationName: body.operationName, contextValue });
    },
  };
}

/**
 * A batch of entities failing for one reason (system down) gives one error per entity; apps need to hear it once.
 * Errors with the same code, system and message are collapsed into the first, with `extensions.count`.
 */
export function collapseErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  const out: GraphQLFormattedError[] = [];
  const seen = new Map<string, GraphQLFormattedError & { extensions: Record<string, unknown> }>();
  for (const raw of errors) {
    const err = raw.originalError ? toGraphQLError(raw.originalError) : raw;
    const formatted = { ...err.toJSON(), path: raw.path, locations: raw.locations };
    const ext = (formatted.extensions ?? {}) as Record<string, unknown>;
    if (!ext.system) {
      out.push(formatted);
      continue;
    }
    const key = `${String(ext.code)}|${String(ext.system)}|${formatted.message}`;
    const first = seen.get(key);
    if (first) {
      first.extensions.count = Number(first.extensions.count ?? 1) + 1;
      continue;
    }
    const entry = { ...formatted, extensions: { ...ext } };
    seen.set(key, entry);
    out.push(entry);
  }
  return out;
}

/** A GraphQL-over-HTTP error answer: one error with its code, so a caller that reads only `errors` still learns why. */
function errorAnswer(res: ServerResponse, status: number, message: string, code: ErrorCode): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export interface SubgraphServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest request body read, in bytes; a larger one is answered 413 REQUEST_TOO_LARGE unread. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Who may call it (a subgraph served on its own). Default: anyone who reaches the port (the in-process stack on loopback). */
  access?: SubgraphAccess;
  /** What GET /health answers, and with which status. Default 200 `{ status: 'ok', subgraph }`. */
  health?: () => Promise<{ status: number; body: unknown }>;
  /** How long `close` lets requests in flight finish, in ms (subgraphs/kit/drain.ts). Default 0: they are cut at once, as the in-process stack wants. */
  shutdownGraceMs?: number;
}

/** Starts `def` on `port` (0 picks a free one) at 127.0.0.1, serving POST /graphql, GET /health and GET|DELETE /_admin/stats. */
export async function startSubgraphServer(def: SubgraphDefinition, opts: SubgraphServerOptions = {}): Promise<RunningSubgraph> {
  const limitBytes = opts.maxBodyBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const executor = createSubgraphExecutor(def, opts.access);
  let stats: SubgraphStats = { requests: 0, byOperation: {} };

  const server: Server = createServer(async (req, res) => {
    drain.track(req, res);
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/health') {
        if (!opts.health) return sendJson(res, 200, { status: 'ok', subgraph: def.name });
        const h = await opts.health();
        return sendJson(res, h.status, h.body);
      }
      if (path === '/_admin/stats') {
        if (req.method === 'DELETE') {
          stats = { requests: 0, byOperation: {} };
          res.writeHead(204).end();
          return;
        }
        return sendJson(res, 200, stats);
      }
      if (path !== '/graphql' || req.method !== 'POST') return errorAnswer(res, 404, `No route ${req.method} ${path}; POST /graphql.`, ErrorCode.NOT_FOUND);
      let text: string;
      try {
        text = await readBody(req, { limitBytes });
      } catch (e) {
        if (!(e instanceof BodyTooLargeError)) throw e;
        // The rest of the body is never read, so the connection cannot carry another request.
        res.setHeader('connection', 'close');
        return errorAnswer(res, 413, e.message, ErrorCode.REQUEST_TOO_LARGE);
      }
      let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        body = JSON.parse(text);
      } catch {
        return errorAnswer(res, 400, 'Request body is not valid JSON.', ErrorCode.BAD_REQUEST);
      }
      let caller: unknown;
      if (opts.access) {
        const admitted = await opts.access.admit(req.headers);
        if (!admitted.ok) {
          for (const [k, v] of Object.entries(admitted.headers ?? {})) res.setHeader(k, v);
          return errorAnswer(res, admitted.status, admitted.message, admitted.code);
        }
        caller = admitted.caller;
      }
      stats.requests++;
      const op = body.operationName ?? 'anonymous';
      stats.byOperation[op] = (stats.byOperation[op] ?? 0) + 1;
      const run = async (who: unknown): Promise<SubgraphAnswer> => {
        // Continue the caller's trace (the gateway's traceparent), so system calls below join the app's trace.
        const result = await inSpan(`subgraph ${def.name} ${op}`, { kind: SpanKind.SERVER, parent: extractTrace(req.headers), attributes: { 'canon.subgraph': def.name } }, () => executor.run(body, req.headers, who));
        const text = JSON.stringify(result.errors ? { data: result.data, errors: collapseErrors(result.errors) } : { data: result.data });
        return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: text };
      };
      if (opts.access?.respond && body && typeof body === 'object' && (await opts.access.respond({ res, body: body as Record<string, unknown>, headers: req.headers, caller, run }))) return;
      const answer = await run(caller);
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
      res.end(answer.body);
    } catch (e) {
      if (!res.headersSent) errorAnswer(res, 500, `Subgraph ${def.name} failed: ${(e as Error).message}`, ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    }
  });
  const drain = drainable(server);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name: def.name,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    stats: () => structuredClone(stats),
    async close() {
      await drain.close(opts.shutdownGraceMs ?? 0);
      await def.close?.();
    },
  };
}
