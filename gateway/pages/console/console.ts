// The /console routes: the operations console page and its static files, served from gateway/pages/console/public with the pages' shared ones.

import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy, staticPage } from '../static-page.js';

/**
 * The page reads and retries operations through this gateway's /graphql and nothing else, so the browser is told to
 * refuse everything from any other origin: the base policy as it is, since no bundle here needs inline styles,
 * workers or WebAssembly.
 */
export const CONSOLE_CSP = contentSecurityPolicy();

const page = staticPage({
  prefix: '/console',
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  csp: CONSOLE_CSP,
  readOnlyReason: "the console's files are read-only; operations are retried through POST /graphql.",
});

/**
 * Serves everything under /console; returns false for any other path so the server routes it on.
 * Guarantee: every byte served comes from gateway/pages/console/public or gateway/pages/shared/public (below
 * /console/shared/), and the page is read-only on the wire: its one write (retryOperation) goes through /graphql like
 * any app's.
 */
export const handleConsole = page.handle;

/** The file under public/ (or, for shared/…, the pages' shared folder) that a path below /console names, or null when the path would leave its folder. */
export const consoleFile = page.file;
