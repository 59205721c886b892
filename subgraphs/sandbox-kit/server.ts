// Owns the HTTP machinery every sandbox shares: routing, JSON bodies, admin endpoints, injected faults, stats and the request log.
//
// Terms used below:
//   route     — one (method, pattern) a sandbox answers; `write: true` only when it changes state.
//   admin     — anything under /_admin/: never counted, never faulted, never logged, so tests can
//               observe and steer a sandbox without disturbing what they observe.
//   fault     — a deliberate misbehaviour decided per request by a seeded PRNG, so a failing run
//               can be replayed exactly by PUTting the same seed.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Database from 'better-sqlite3';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route handler sees: path params (decoded), query, parsed body and raw headers. */
export interface SandboxRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON when the content-type says JSON; the raw string otherwise; undefined when there is no body. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

/** What a route handler answers; `body` undefined means no body (e.g. 204). */
export interface SandboxResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One endpoint of a sandbox. `pattern` placeholders `{name}` may sit anywhere inside a segment. */
export interface Route {
  method: HttpMethod;
  pattern: string;
  write: boolean;
  handle(req: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
}

export interface RunningSandbox {
  name: string;
  port: number;
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  /** Stops listening, drops every open socket (held ones included) and resolves when the server is closed. */
  close(): Promise<void>;
}

export interface SandboxServerOptions {
  name: string;
  routes: Route[];
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Shapes error bodies (unknown route, bad JSON, injected faults) in the system's own error format.
   * Default: `{"error": message}`.
   */
  errorBody?: (status: number, message: string) => SandboxResponse;
}

/** Fault settings; every field is optional in a PUT and merged into the current ones. */
export interface Faults {
  latencyMs: number;
  errorRate: number;
  errorStatus: number;
  timeoutRate: number;
  resetAfterCommitRate: number;
  down: boolean;
  seed: number;
  retryAfterSeconds: number | null;
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  timeoutRate: 0,
  resetAfterCommitRate: 0,
  down: false,
  seed: 1,
  retryAfterSeconds: null,
});

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

/** How long a request picked by `timeoutRate` is held before its socket is destroyed. */
const HELD_REQUEST_MS = 30_000;
/** Request log capacity; older entries fall off. */
const REQUEST_LOG_CAPACITY = 2000;

/** mulberry32: tiny, fast, good enough for reproducible test data and fault decisions (not for secrets). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The next modified stamp of a record: max(now, previous + 1 ms), so stamps strictly increase per
 * record even when two writes land in the same millisecond (canon derives version tokens from them).
 */
export function nextStamp(previous: string | null | undefined, now: number = Date.now()): string {
  const prev = previous ? Date.parse(previous) : Number.NaN;
  const next = Number.isNaN(prev) ? now : Math.max(now, prev + 1);
  return new Date(next).toISOString();
}

/** Opens a sandbox SQLite file in WAL mode; every store goes through here so pragmas are set once. */
export function openSqlite(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode, which is all a sandbox needs.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Private: a route compiled to one regex per path segment. */
interface CompiledRoute {
  route: Route;
  key: string;
  segments: { regex: RegExp; names: string[] }[];
  /** Fewer placeholders wins, so `/organizations/show_many.json` beats `/organizations/{id}.json`. */
  paramCount: number;
  literalLength: number;
}

function compileRoute(route: Route): CompiledRoute {
  if (!route.pattern.startsWith('/')) {
    throw new TypeError(`Route pattern must start with "/", got: ${JSON.stringify(route.pattern)}`);
  }
  let paramCount = 0;
  let literalLength = 0;
  const segments = route.pattern
    .split('/')
    .slice(1)
    .map((segment) => {
      const names: string[] = [];
      let source = '';
      let last = 0;
      for (const m of segment.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        const literal = segment.slice(last, m.index);
        source += escapeRegex(literal);
        literalLength += literal.length;
        source += '(.+?)';
        names.push(m[1]!);
        paramCount++;
        last = m.index! + m[0].length;
      }
      source += escapeRegex(segment.slice(last));
      literalLength += segment.length - last;
      return { regex: new RegExp(`^${source}$`), names };
    });
  return { route, key: `${route.method} ${route.pattern}`, segments, paramCount, literalLength };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matchRoute(compiled: CompiledRoute, pathSegments: string[]): Record<string, string> | null {
  if (compiled.segments.length !== pathSegments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pathSegments.length; i++) {
    const { regex, names } = compiled.segments[i]!;
    const m = regex.exec(pathSegments[i]!);
    if (!m) return null;
    names.forEach((name, j) => {
      params[name] = m[j + 1]!;
    });
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

function send(res: ServerResponse, response: SandboxResponse): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  let payload: string | undefined;
  if (response.body !== undefined) {
    if (typeof response.body === 'string' && hasContentType) {
      payload = response.body;
    } else {
      payload = JSON.stringify(response.body);
      if (!hasContentType) headers['content-type'] = 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
  } else {
    headers['content-length'] = '0';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

/** Private: validates one PUT /_admin/faults body; the error names the field and the expected type. */
function mergeFaults(current: Faults, patch: unknown): Faults | string {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return 'faults body must be a JSON object with any of: ' + Object.keys(DEFAULT_FAULTS).join(', ');
  }
  const next: Faults = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'latencyMs':
      case 'errorStatus':
      case 'seed':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          return `${key} must be a non-negative integer, got ${JSON.stringify(value)}`;
        }
        if (key === 'errorStatus' && (value < 400 || value > 599)) {
          return `errorStatus must be an HTTP error status 400..599, got ${value}`;
        }
        next[key] = value;
        break;
      case 'errorRate':
      case 'timeoutRate':
      case 'resetAfterCommitRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
          return `${key} must be a probability between 0 and 1, got ${JSON.stringify(value)}`;
        }
        next[key] = value;
        break;
      case 'down':
        if (typeof value !== 'boolean') return `down must be a boolean, got ${JSON.stringify(value)}`;
        next.down = value;
        break;
      case 'retryAfterSeconds':
        if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
          return `retryAfterSeconds must be a non-negative integer or null, got ${JSON.stringify(value)}`;
        }
        next.retryAfterSeconds = value;
        break;
      default:
        return `unknown fault setting ${JSON.stringify(key)}; known: ${Object.keys(DEFAULT_FAULTS).join(', ')}`;
    }
  }
  return next;
}

/**
 * Starts one sandbox on loopback. Resolves once listening; never rejects for a request-level problem
 * (handler exceptions become 500s in the system's error format).
 */
export function startSandboxServer(opts: SandboxServerOptions): Promise<RunningSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const compiled = opts.routes.map(compileRoute);
  const errorBody =
    opts.errorBody ?? ((status: number, message: string): SandboxResponse => ({ status, body: { error: message } }));

  let faults: Faults = { ...DEFAULT_FAULTS };
  let rng = createRng(faults.seed);
  let stats = { requests: 0, reads: 0, writes: 0, byRoute: {} as Record<string, number> };
  let log: RequestLogEntry[] = [];
  const heldTimers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closing = false;

  // Draw only when a rate is set, so turning one fault on does not shift the sequence of another's
  // decisions when replaying with the same seed.
  const roll = (rate: number): boolean => rate > 0 && (rate >= 1 || rng() < rate);

  const handleAdmin = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => {
    const method = req.method ?? 'GET';
    if (path === '/_admin/stats') {
      if (method === 'GET') return send(res, { status: 200, body: stats });
      if (method === 'DELETE') {
        stats = { requests: 0, reads: 0, writes: 0, byRoute: {} };
        log = [];
        return send(res, { status: 204 });
      }
      return send(res, { status: 405, body: { error: 'use GET or DELETE on /_admin/stats' } });
    }
    if (path === '/_admin/requests') {
      if (method !== 'GET') return send(res, { status: 405, body: { error: 'use GET on /_admin/requests' } });
      const raw = query.get('limit');
      const limit = raw === null ? 50 : Number(raw);
      if (!Number.isInteger(limit) || limit < 0) {
        return send(res, { status: 400, body: { error: `limit must be a non-negative integer, got ${raw}` } });
      }
      return send(res, { status: 200, body: log.slice(Math.max(0, log.length - limit)).reverse() });
    }
    if (path === '/_admin/faults') {
      if (method === 'GET') return send(res, { status: 200, body: faults });
      if (method === 'DELETE') {
        faults = { ...DEFAULT_FAULTS };
        rng = createRng(faults.seed);
        return send(res, { status: 204 });
      }
      if (method === 'PUT') {
        const text = await readBody(req);
        let parsed: unknown;
        try {
          parsed = text === '' ? {} : JSON.parse(text);
        } catch {
          return send(res, { status: 400, body: { error: 'faults body must be valid JSON' } });
        }
        const merged = mergeFaults(faults, parsed);
        if (typeof merged === 'string') return send(res, { status: 400, body: { error: merged } });
        const reseed = typeof parsed === 'object' && parsed !== null && 'seed' in parsed;
        faults = merged;
        if (reseed) rng = createRng(faults.seed);
        return send(res, { status: 200, body: faults });
      }
      return send(res, { status: 405, body: { error: 'use GET, PUT or DELETE on /_admin/faults' } });
    }
    return send(res, { status: 404, body: { error: `no admin endpoint ${path}; known: /_admin/stats, /_admin/requests, /_admin/faults` } });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if (path.startsWith('/_admin/')) return handleAdmin(req, res, path, url.searchParams);

    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = {
      method,
      path: path + url.search,
      route: null,
      status: 0,
      traceparent: headerValue(req.headers, 'traceparent'),
      idempotencyKey: headerValue(req.headers, 'idempotency-key'),
      at: new Date().toISOString(),
    };
    log.push(entry);
    if (log.length > REQUEST_LOG_CAPACITY) log.splice(0, log.length - REQUEST_LOG_CAPACITY);
    const answer = (response: SandboxResponse) => {
      entry.status = response.status;
      send(res, response);
    };

    // A down system answers nothing at all, not even 404s.
    if (faults.down) {
      req.socket.destroy();
      return;
    }

    const segments = path.split('/').slice(1).map(safeDecode);
    let best: { c: CompiledRoute; params: Record<string, string> } | null = null;
    let pathMatched = false;
    for (const c of compiled) {
      const params = matchRoute(c, segments);
      if (!params) continue;
      pathMatched = true;
      if (c.route.method !== method) continue;
      if (
        !best ||
        c.paramCount < best.c.paramCount ||
        (c.paramCount === best.c.paramCount && c.literalLength > best.c.literalLength)
      ) {
        best = { c, params };
      }
    }
    if (!best) {
      if (pathMatched) {
        const allowed = compiled.filter((c) => matchRoute(c, segments)).map((c) => c.route.method);
        const r = errorBody(405, `${method} is not allowed on ${path}; allowed: ${[...new Set(allowed)].join(', ')}`);
        return answer({ ...r, headers: { ...(r.headers ?? {}), allow: [...new Set(allowed)].join(', ') } });
      }
      return answer(errorBody(404, `no route for ${method} ${path} in the ${opts.name} sandbox`));
    }

    const { c, params } = best;
    entry.route = c.key;
    stats.requests++;
    if (!c.route.write) stats.reads++;
    stats.byRoute[c.key] = (stats.byRoute[c.key] ?? 0) + 1;

    if (faults.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          heldTimers.delete(t);
          resolve();
        }, faults.latencyMs);
        heldTimers.add(t);
      });
      if (closing) return;
    }
    if (roll(faults.errorRate)) {
      const r = errorBody(faults.errorStatus, `injected fault: ${opts.name} answered ${faults.errorStatus}`);
      const headers = { ...(r.headers ?? {}) };
      if (faults.retryAfterSeconds !== null) headers['retry-after'] = String(faults.retryAfterSeconds);
      return answer({ ...r, headers });
    }
    if (roll(faults.timeoutRate)) {
      // Hold the request without running the handler; the client's own timeout is what's under test.
      const socket = req.socket;
      const t = setTimeout(() => {
        heldTimers.delete(t);
        socket.destroy();
      }, HELD_REQUEST_MS);
      heldTimers.add(t);
      socket.once('close', () => {
        clearTimeout(t);
        heldTimers.delete(t);
      });
      return;
    }

    let text: string;
    try {
      text = await readBody(req);
    } catch {
      return;
    }
    let body: unknown = undefined;
    if (text !== '') {
      if (isJsonContentType(req.headers['content-type'])) {
        try {
          body = JSON.parse(text);
        } catch {
          return answer(errorBody(400, 'request body is not valid JSON'));
        }
      } else {
        body = text;
      }
    }

    let response: SandboxResponse;
    try {
      response = await c.route.handle({ params, query: url.searchParams, body, headers: req.headers });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return answer(errorBody(500, `${opts.name} sandbox handler failed: ${message}`));
    }
    // `writes` counts writes that changed state: a refused write (412, 422) or an injected fault left the system as it was.
    if (c.route.write && response.status >= 200 && response.status < 300) stats.writes++;
    // The write is committed by now; dropping the answer is how "did my write land?" ambiguity is produced.
    if (c.route.write && roll(faults.resetAfterCommitRate)) {
      req.socket.destroy();
      return;
    }
    answer(response);
  };

  const server = createServer({ maxHeaderSize: 64 * 1024, keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only reachable if writing the response itself failed; the socket is unusable then.
      if (!res.headersSent) {
        try {
          send(res, { status: 500, body: { error: String(err) } });
          return;
        } catch {
          /* fall through */
        }
      }
      req.socket.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`${opts.name} sandbox did not get a TCP address`));
        return;
      }
      const port = address.port;
      resolve({
        name: opts.name,
        port,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            closing = true;
            for (const t of heldTimers) clearTimeout(t);
            heldTimers.clear();
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

/** Small helpers the sandboxes share for reading request bodies safely. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a comma-separated query value (also accepting repeated keys), dropping empties. */
export function listParam(query: URLSearchParams, name: string): string[] | null {
  const all = query.getAll(name);
  if (all.length === 0) return null;
  return all
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
