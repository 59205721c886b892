// The HTTP server every sandbox runs on: one request's way from socket to route handler, with its faults, counting and logging, and a clean close.
//
// Terms used below:
//   route  — one (method, pattern) a sandbox answers (./router.ts); `write: true` only when it changes state.
//   admin  — anything under /_admin/ (./admin.ts): never counted, never faulted, never logged.
//   auth   — every non-admin request must present the system's credentials (./credentials.ts); without them it is
//            answered 401 in the system's own format, after routing (so it is counted) and before any handler runs.
//   fault  — a deliberate misbehaviour decided per request by a seeded PRNG (./faults.ts), so a failing run
//            can be replayed exactly by PUTting the same seed.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BodyTooLargeError, DEFAULT_BODY_LIMIT_BYTES, readBody, sendJson } from '../kit/http-io.js';
import { handleAdmin, RequestRecorder } from './admin.js';
import { FaultInjector } from './faults.js';
import { createRouter, type Route, type SandboxResponse } from './router.js';

// Its home is ./rng.ts; still served here for the tests that draw the same numbers as the sandboxes.
export { createRng } from './rng.js';

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
   * Shapes error bodies (unknown route, bad JSON, a body too large, injected faults) in the system's own error
   * format. Default: `{"error": message}`.
   */
  errorBody?: (status: number, message: string) => SandboxResponse;
  /** Largest request body read, in bytes; a larger one is answered 413 in the system's error format. Default 1 MiB. */
  maxBodyBytes?: number;
  /** The system's own endpoints under /_admin/, served before the shared ones; never counted, faulted or logged. */
  adminRoutes?: Route[];
  /**
   * Whether a request presents the system's credentials. Default: every request is let in (only servers built
   * for a single test do without). Admin endpoints never ask.
   */
  authorize?: (headers: IncomingHttpHeaders) => boolean;
  /** The system's own 401 answer, for a request `authorize` refused. Default: `{"error": "unauthorized"}`. */
  unauthorized?: () => SandboxResponse;
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

/** Answers a handler's response: JSON unless the handler gave a string body with its own content-type. */
function send(res: ServerResponse, response: SandboxResponse): void {
  const headers = response.headers ?? {};
  if (response.body === undefined) {
    res.writeHead(response.status, { ...headers, 'content-length': '0' });
    res.end();
    return;
  }
  const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  if (typeof response.body === 'string' && hasContentType) {
    res.writeHead(response.status, { ...headers, 'content-length': String(Buffer.byteLength(response.body)) });
    res.end(response.body);
    return;
  }
  sendJson(res, response.status, response.body, headers);
}

/** The request body: undefined when empty, parsed when JSON, the text otherwise; a string error when it is not JSON though it says so. */
function parseBody(text: string, contentType: string | undefined): { body: unknown } | { error: string } {
  if (text === '') return { body: undefined };
  if (!isJsonContentType(contentType)) return { body: text };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { error: 'request body is not valid JSON' };
  }
}

/** Serves a system's own admin endpoint: its body read and parsed like any request's, its answer sent as is; nothing counted or logged. */
async function serveAdminRoute(req: IncomingMessage, res: ServerResponse, route: Route, params: Record<string, string>, url: URL, limitBytes: number): Promise<void> {
  let text: string;
  try {
    text = await readBody(req, { limitBytes });
  } catch (e) {
    if (e instanceof BodyTooLargeError) return sendJson(res, 413, { error: e.message }, { connection: 'close' });
    throw e;
  }
  const parsed = parseBody(text, req.headers['content-type']);
  if ('error' in parsed) return sendJson(res, 400, { error: parsed.error });
  send(res, await route.handle({ params, query: url.searchParams, body: parsed.body, headers: req.headers }));
}

/**
 * Starts one sandbox on loopback. Resolves once listening; never rejects for a request-level problem
 * (handler exceptions become 500s in the system's error format).
 */
export function startSandboxServer(opts: SandboxServerOptions): Promise<RunningSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const limitBytes = opts.maxBodyBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const route = createRouter(opts.routes);
  const adminRoute = createRouter(opts.adminRoutes ?? []);
  const errorBody = opts.errorBody ?? ((status: number, message: string): SandboxResponse => ({ status, body: { error: message } }));
  const faults = new FaultInjector();
  const recorder = new RequestRecorder();
  const sockets = new Set<Socket>();
  let closing = false;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if (path.startsWith('/_admin/')) {
      const own = adminRoute(req.method ?? 'GET', path);
      if (own.kind === 'route') return serveAdminRoute(req, res, own.route, own.params, url, limitBytes);
      if (own.kind === 'method-not-allowed') return sendJson(res, 405, { error: `use ${own.allowed.join(' or ')} on ${path}` }, { allow: own.allowed.join(', ') });
      return handleAdmin(req, res, url, recorder, faults, limitBytes);
    }

    const method = (req.method ?? 'GET').toUpperCase();
    const entry = recorder.arrive(method, path + url.search, req.headers);
    const answer = (response: SandboxResponse) => {
      entry.status = response.status;
      send(res, response);
    };
    // A down system answers nothing at all, not even 404s.
    if (faults.settings.down) {
      req.socket.destroy();
      return;
    }

    const match = route(method, path);
    if (opts.authorize && !opts.authorize(req.headers)) {
      if (match.kind === 'route') recorder.routed(entry, match.key, match.route.write);
      return answer(opts.unauthorized?.() ?? { status: 401, body: { error: 'unauthorized' } });
    }
    if (match.kind === 'method-not-allowed') {
      const allow = match.allowed.join(', ');
      const r = errorBody(405, `${method} is not allowed on ${path}; allowed: ${allow}`);
      return answer({ ...r, headers: { ...(r.headers ?? {}), allow } });
    }
    if (match.kind === 'none') return answer(errorBody(404, `no route for ${method} ${path} in the ${opts.name} sandbox`));
    recorder.routed(entry, match.key, match.route.write);

    if (faults.settings.latencyMs > 0) {
      await faults.delay();
      if (closing) return;
    }
    // Read after the delay: settings PUT meanwhile apply to this request.
    const f = faults.settings;
    if (faults.roll(f.errorRate)) {
      const r = errorBody(f.errorStatus, `injected fault: ${opts.name} answered ${f.errorStatus}`);
      const headers = { ...(r.headers ?? {}) };
      if (f.retryAfterSeconds !== null) headers['retry-after'] = String(f.retryAfterSeconds);
      return answer({ ...r, headers });
    }
    if (faults.roll(f.timeoutRate)) {
      // Hold the request without running the handler; the client's own timeout is what's under test.
      faults.hold(req.socket);
      return;
    }

    let text: string;
    try {
      text = await readBody(req, { limitBytes });
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) return;
      const r = errorBody(413, e.message);
      // The rest of the body is never read, so the connection cannot carry another request.
      return answer({ ...r, headers: { ...(r.headers ?? {}), connection: 'close' } });
    }
    const parsed = parseBody(text, req.headers['content-type']);
    if ('error' in parsed) return answer(errorBody(400, parsed.error));

    let response: SandboxResponse;
    try {
      response = await match.route.handle({ params: match.params, query: url.searchParams, body: parsed.body, headers: req.headers });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return answer(errorBody(500, `${opts.name} sandbox handler failed: ${message}`));
    }
    if (match.route.write) {
      const committed = response.writes ?? (response.status >= 200 && response.status < 300 ? 1 : 0);
      for (let i = 0; i < committed; i++) recorder.wrote();
    }
    // The write is committed by now; dropping the answer is how "did my write land?" ambiguity is produced.
    if (match.route.write && faults.roll(faults.settings.resetAfterCommitRate)) {
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
          sendJson(res, 500, { error: String(err) });
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
            faults.stop();
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
