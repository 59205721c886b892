// The gateway's HTTP server: Apollo Server on the composed supergraph at /graphql, and /health.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLFormattedError } from 'graphql';
import { composeCanon, type SubgraphSource } from './compose.js';
import { ErrorCode } from '../schema/errors.js';
import { customerFields } from '../schema/ownership.js';
import { CanonDataSource } from './datasource.js';
import type { SubgraphDefinition } from '../subgraphs/subgraph.js';

export interface GatewayOptions {
  port: number;
  host: string;
  /** Remote subgraphs with the URL of their /graphql endpoint. */
  subgraphs: { def: SubgraphDefinition; url: string }[];
  /** Subgraphs served inside the gateway process (canon's control subgraph). */
  localSubgraphs: { def: SubgraphDefinition; url: string }[];
  /** Source systems, for /health. */
  systems: { name: string; url: string }[];
  subgraphTimeoutMs: number;
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
      return new CanonDataSource({ name, url: url!, timeoutMs: opts.subgraphTimeoutMs });
    },
  });
  const apollo = new ApolloServer({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    includeStacktraceInErrorResponses: false,
    formatError,
  });
  await apollo.start();

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      if (url.pathname === '/health') return sendJson(res, 200, await health(opts));
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `No route ${url.pathname}; see /graphql and /health.` });
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const text = req.method === 'POST' ? await readBody(req) : '';
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
      }
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => ({ headers: req.headers }),
      });
      const outHeaders: Record<string, string> = {};
      for (const [k, v] of result.headers) outHeaders[k] = v;
      res.writeHead(result.status ?? 200, outHeaders);
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
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
