// Serving canon's offline pages (the explorer, the console): read-only static files under a prefix, each page with its own content-security-policy.
//
// Guarantee: every byte served comes from the page's public folder or one of its declared routes; a path that tries
// to leave the folder (`..` plain or encoded, backslashes, NUL) is refused, checked on the decoded segments and again
// on the resolved path.

import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

export function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, method: string): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'content-length': String(buf.length), 'x-content-type-options': 'nosniff', ...headers });
  res.end(method === 'HEAD' ? undefined : buf);
}

function sendText(res: ServerResponse, status: number, text: string, method: string): void {
  send(res, status, { 'content-type': 'text/plain; charset=utf-8' }, text, method);
}

export interface StaticPageOptions {
  /** e.g. `/console`. */
  prefix: string;
  /** Folder the page's files are served from. */
  publicDir: string;
  /** The content-security-policy sent with the page's HTML. */
  csp: string;
  /** Said to a non-GET/HEAD request, after "<METHOD> is not allowed on <path>: ". */
  readOnlyReason: string;
  /** Paths below the prefix served by the page itself (downloads, vendored bundles); true when handled. */
  routes?: Record<string, (res: ServerResponse, method: string, sendFile: (file: string, cache: string) => Promise<void>) => Promise<void> | void>;
}

export interface StaticPage {
  /** Serves everything under the prefix; returns false for any other path so the server routes it on. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** The file under the public folder a path below the prefix names, or null when it would leave the folder. */
  file(rest: string): string | null;
}

export function staticPage(opts: StaticPageOptions): StaticPage {
  const publicDir = resolve(opts.publicDir);

  function file(rest: string): string | null {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rest);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return null;
    const segments = decoded.split('/').filter((s) => s !== '');
    if (segments.length === 0 || segments.some((s) => s === '..' || s === '.')) return null;
    const resolved = resolve(publicDir, ...segments);
    return resolved.startsWith(publicDir + sep) ? resolved : null;
  }

  async function sendFile(res: ServerResponse, path: string, method: string, cache: string): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return sendText(res, 404, `Not found: ${opts.prefix}/${path.startsWith(publicDir) ? path.slice(publicDir.length + 1).split(sep).join('/') : 'asset'}`, method);
    }
    const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
    // no-cache, not no-store: the browser may keep a copy but must revalidate, so a redeployed page is never stale.
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': cache };
    if (type.startsWith('text/html')) headers['content-security-policy'] = opts.csp;
    send(res, 200, headers, body, method);
  }

  return {
    file,
    async handle(req, res, url) {
      const path = url.pathname;
      if (path !== opts.prefix && !path.startsWith(`${opts.prefix}/`)) return false;
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendText(res, 405, `${method} is not allowed on ${path}: ${opts.readOnlyReason}`, method);
        return true;
      }
      // The URL parser folds plain `..` segments away before we see them; the raw request line may still carry encoded ones.
      const rawPath = (req.url ?? '').split('?')[0]!;
      if (rawPath.includes('..') || /%2e%2e/i.test(rawPath)) {
        sendText(res, 400, 'Paths with ".." are refused.', method);
        return true;
      }
      const rest = path.slice(opts.prefix.length).replace(/^\//, '');
      if (rest === '' || rest === 'index.html') {
        await sendFile(res, join(publicDir, 'index.html'), method, 'no-cache');
        return true;
      }
      const route = opts.routes?.[rest];
      if (route) {
        await route(res, method, (f, cache) => sendFile(res, f, method, cache));
        return true;
      }
      const target = file(rest);
      if (!target) {
        sendText(res, 400, `Paths that leave ${opts.prefix} (.., backslashes, NUL) are refused.`, method);
        return true;
      }
      await sendFile(res, target, method, 'no-cache');
      return true;
    },
  };
}
