// The /explorer routes: the explorer page and its static files, voyager's bundle from node_modules, and the model downloads.

import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataModel } from '../control/resolvers.js';
import { modelCsv, modelMarkdown } from './export.js';

const PREFIX = '/explorer';
const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'public');

/** Resolved once, lazily: a gateway started without graphql-voyager installed still serves everything else. */
let voyagerDist: string | undefined;
function voyagerFile(name: 'voyager.standalone.js' | 'voyager.css'): string {
  voyagerDist ??= join(dirname(createRequire(import.meta.url).resolve('graphql-voyager/package.json')), 'dist');
  return join(voyagerDist, name);
}

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
 * The browser itself refuses any request leaving the gateway's origin, whatever a bundle tries. Voyager needs inline
 * styles (emotion), a worker started from a blob: URL and WebAssembly (its Graphviz layout) — nothing more.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
].join('; ');

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, method: string): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'content-length': String(buf.length), 'x-content-type-options': 'nosniff', ...headers });
  res.end(method === 'HEAD' ? undefined : buf);
}

function sendText(res: ServerResponse, status: number, text: string, method: string): void {
  send(res, status, { 'content-type': 'text/plain; charset=utf-8' }, text, method);
}

async function sendFile(res: ServerResponse, file: string, method: string, cache: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return sendText(res, 404, `Not found: ${file.startsWith(PUBLIC_DIR) ? file.slice(PUBLIC_DIR.length) : 'explorer asset'}`, method);
  }
  const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
  const headers: Record<string, string> = { 'content-type': type, 'cache-control': cache };
  if (type.startsWith('text/html')) headers['content-security-policy'] = CSP;
  send(res, 200, headers, body, method);
}

/**
 * The file under public/ a request path names, or null when the path tries to leave it (`..`, encoded or not,
 * backslashes, NUL). Checked on the decoded segments and again on the resolved path.
 */
export function publicFile(rest: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const file = resolve(PUBLIC_DIR, ...segments);
  return file.startsWith(PUBLIC_DIR + sep) ? file : null;
}

/**
 * Serves everything under /explorer; returns false for any other path so the server routes it on.
 * Guarantee: every file served comes from gateway/explorer/public or graphql-voyager's dist, and the downloads are
 * computed from dataModel() on each request, so they match what /graphql serves at that moment.
 */
export async function handleExplorer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, `${method} is not allowed on ${path}: the explorer is read-only.`, method);
    return true;
  }
  // The URL parser already folds plain `..` segments away; the raw request line may still carry encoded ones.
  const rawPath = (req.url ?? '').split('?')[0]!;
  if (rawPath.includes('..') || /%2e%2e/i.test(rawPath)) {
    sendText(res, 400, 'Paths with ".." are refused.', method);
    return true;
  }

  const rest = path.slice(PREFIX.length).replace(/^\//, '');
  switch (rest) {
    case '':
    case 'index.html':
      await sendFile(res, join(PUBLIC_DIR, 'index.html'), method, 'no-cache');
      return true;
    case 'model.md':
      send(res, 200, { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': 'attachment; filename="canon-model.md"', 'cache-control': 'no-store' }, modelMarkdown(dataModel()), method);
      return true;
    case 'model.csv':
      send(res, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="canon-model.csv"', 'cache-control': 'no-store' }, modelCsv(dataModel()), method);
      return true;
    case 'vendor/voyager.standalone.js':
      await sendFile(res, voyagerFile('voyager.standalone.js'), method, 'public, max-age=3600');
      return true;
    case 'vendor/voyager.css':
      await sendFile(res, voyagerFile('voyager.css'), method, 'public, max-age=3600');
      return true;
  }
  const file = publicFile(rest);
  if (!file) {
    sendText(res, 400, 'Paths with ".." are refused.', method);
    return true;
  }
  await sendFile(res, file, method, 'no-cache');
  return true;
}
