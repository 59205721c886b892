// The /explorer routes: the explorer page and its static files (with the pages' shared ones), voyager's bundle from node_modules, and the model downloads.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataModel } from '../../../schema/data-model.js';
import { contentSecurityPolicy, send, staticPage } from '../static-page.js';
import { modelCsv, modelMarkdown } from './export.js';

/** Resolved once, lazily: a gateway started without graphql-voyager installed still serves everything else. */
let voyagerDist: string | undefined;
function voyagerFile(name: 'voyager.standalone.js' | 'voyager.css'): string {
  voyagerDist ??= join(dirname(createRequire(import.meta.url).resolve('graphql-voyager/package.json')), 'dist');
  return join(voyagerDist, name);
}

/**
 * The browser itself refuses any request leaving the gateway's origin, whatever a bundle tries. Voyager needs inline
 * styles (emotion), a worker started from a blob: URL and WebAssembly (its Graphviz layout) — nothing more.
 */
const CSP = contentSecurityPolicy({
  'script-src': "'self' 'wasm-unsafe-eval'",
  'worker-src': "'self' blob:",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data: blob:",
  'font-src': "'self' data:",
});

const page = staticPage({
  prefix: '/explorer',
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  csp: CSP,
  readOnlyReason: 'the explorer is read-only.',
  // The downloads are computed from dataModel() on each request, so they match what /graphql serves at that moment.
  routes: {
    'model.md': (res, method) =>
      send(res, 200, { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': 'attachment; filename="canon-model.md"', 'cache-control': 'no-store' }, modelMarkdown(dataModel()), method),
    'model.csv': (res, method) =>
      send(res, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="canon-model.csv"', 'cache-control': 'no-store' }, modelCsv(dataModel()), method),
    'vendor/voyager.standalone.js': (_res, _method, sendFile) => sendFile(voyagerFile('voyager.standalone.js'), 'public, max-age=3600'),
    'vendor/voyager.css': (_res, _method, sendFile) => sendFile(voyagerFile('voyager.css'), 'public, max-age=3600'),
  },
});

/**
 * Serves everything under /explorer; returns false for any other path so the server routes it on.
 * Guarantee: every file served comes from gateway/pages/explorer/public, gateway/pages/shared/public (below
 * /explorer/shared/) or graphql-voyager's dist.
 */
export const handleExplorer = page.handle;

/** The file under public/ (or, for shared/…, the pages' shared folder) a request path names, or null when the path tries to leave it. */
export const publicFile = page.file;
