// The /console routes: the operations console page and its static files, served from gateway/pages/console/public.

import { fileURLToPath } from 'node:url';
import { staticPage } from '../static-page.js';

/**
 * The page reads and retries operations through this gateway's /graphql and nothing else, so the browser is told to
 * refuse everything from any other origin. Stricter than the explorer's: no bundle here needs inline styles,
 * workers or WebAssembly.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

const page = staticPage({
  prefix: '/console',
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  csp: CONSOLE_CSP,
  readOnlyReason: "the console's files are read-only; operations are retried through POST /graphql.",
});

/**
 * Serves everything under /console; returns false for any other path so the server routes it on.
 * Guarantee: every byte served comes from gateway/pages/console/public, and the page is read-only on the wire: its one
 * write (retryOperation) goes through /graphql like any app's.
 */
export const handleConsole = page.handle;

/** The file under public/ that a path below /console names, or null when the path would leave that folder. */
export const consoleFile = page.file;
