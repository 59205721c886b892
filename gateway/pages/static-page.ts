// Serving canon's offline pages (the explorer, the console): read-only static files under a prefix, each page with its own content-security-policy.
//
// Guarantee: every byte served comes from the page's public folder, the pages' shared folder (below `<prefix>/shared/`)
// or one of the page's declared routes; a path that tries to leave its folder (`..` plain or encoded, backslashes,
// NUL) is refused, checked on the decoded segments and again on the resolved path.

import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every page loads (page.js, base.css), served below each page's own prefix rather than a common path, so each
 * page's policy stays same-origin and its routes stay its own.
 */
const SHARED_DIR = fileURLToPath(new URL('./shared/public', import.meta.url));
const SHARED_PREFIX = 'shared/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The policy every page starts from: nothing from any other origin, no plugins, no `<base>`, forms posted and frames
 * embedded only by the gateway itself. Stricter than any page needs is the default; a page names what it relaxes.
 */
const BASE_POLICY: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'self'",
};

/** A page's content-security-policy: the base policy with the directives in `relax` replaced or added. */
export function contentSecurityPolicy(relax: Record<string, string> = {}): string {
  return Object.entries({ ...BASE_POLICY, ...relax })
    .map(([directive, sources]) => `${directive} ${sources}`)
    .join('; ');
}

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
  /** The file a path below the prefix names (under `shared/`: in the shared folder), or null when it would leave its folder. */
  file(rest: string): string | null;
}

/** The file below `dir` that the URL-encoded relative path `rest` names, or null when it would leave `dir`. */
function fileBelow(dir: string, rest: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '..' || s === '.')) return null;
  const resolved = resolve(dir, ...segments);
  return resolved.startsWith(dir + sep) ? resolved : null;
}

export function staticPage(opts: StaticPageOptions): StaticPage {
  const publicDir = resolve(opts.publicDir);
  const sharedDir = resolve(SHARED_DIR);

  // A page's own folder cannot shadow the shared one: `shared/…` always names the shared folder.
  function file(rest: string): string | null {
    return rest.startsWith(SHARED_PREFIX) ? fileBelow(sharedDir, rest.slice(SHARED_PREFIX.length)) : fileBelow(publicDir, rest);
  }

  /** The path below the prefix a missing file was asked for as, never the folder it was looked for in. */
  function notFoundName(path: string): string {
    for (const [dir, shown] of [[publicDir, ''], [sharedDir, SHARED_PREFIX]] as const) {
      if (path.startsWith(dir + sep)) return shown + path.slice(dir.length + 1).split(sep).join('/');
    }
    return 'asset';
  }

  async function sendFile(res: ServerResponse, path: string, method: string, cache: string): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return sendText(res, 404, `Not found: ${opts.prefix}/${notFoundName(path)}`, method);
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
