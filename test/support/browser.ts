// Test support: finds (or, as root, installs) Debian's Chromium for browser tests and launches it headless through playwright-core.

import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's package puts its launcher here; we drive that binary rather than a downloaded Playwright build (the machine may be offline). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** apt-get fetches ~100 MB on a cold machine; give it minutes, not the default test timeout. */
const INSTALL_TIMEOUT_MS = 8 * 60_000;

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command to completion and hands back everything it printed, so a failed install can say why. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` });
    });
  });
}

/** Keeps the end of a long apt log: that is where the reason for a failure is. */
function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Where Chromium is, installing Debian's package when it is missing and we may (root, apt-get present).
 * Never throws: when no browser can be had it returns the reason, which the caller prints and skips on.
 */
export async function findChromium(): Promise<{ path: string } | { skip: string }> {
  if (await executable(CHROMIUM_PATH)) return { path: CHROMIUM_PATH };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    return { skip: `Chromium not found at ${CHROMIUM_PATH} and cannot install it (not root): browser tests skipped; install Debian's chromium to run them` };
  }
  if (!(await executable('/usr/bin/apt-get'))) {
    return { skip: `Chromium not found at ${CHROMIUM_PATH} and cannot install it (no apt-get): browser tests skipped; install Debian's chromium to run them` };
  }
  const update = await run('apt-get', ['update'], INSTALL_TIMEOUT_MS);
  if (!update.ok) return { skip: `Chromium not found at ${CHROMIUM_PATH}; apt-get update failed: browser tests skipped.\n${tail(update.output)}` };
  const install = await run('apt-get', ['install', '-y', 'chromium'], INSTALL_TIMEOUT_MS);
  if (!install.ok || !(await executable(CHROMIUM_PATH))) {
    return { skip: `Chromium not found at ${CHROMIUM_PATH}; apt-get install chromium failed: browser tests skipped.\n${tail(install.output)}` };
  }
  return { path: CHROMIUM_PATH };
}

/** Headless Chromium with everything that would phone home turned off, so tests see only the page's own traffic. */
export async function launchBrowser(path: string): Promise<Browser> {
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface OpenPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every URL the page (and its workers) requested, in order. */
  requested: string[];
  /** Uncaught page errors and console errors, other than failed resource loads the test provokes on purpose. */
  pageErrors: string[];
}

/**
 * Opens `url` in a fresh headless Chromium, with `key` as the tab's app key when given, and waits for the page to say
 * it is ready (`body[data-ready="true"]`),
 * recording every request on the context (not the page, so workers' requests count too) and every page error.
 */
export async function openPage(chromiumPath: string, url: string, opts: { key?: string } = {}): Promise<OpenPage> {
  const browser = await launchBrowser(chromiumPath);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  // The key an operator would have typed in, in the tab's sessionStorage before any page script runs.
  if (opts.key) await context.addInitScript((key) => sessionStorage.setItem('canon.appKey', key), opts.key);
  const requested: string[] = [];
  const pageErrors: string[] = [];
  context.on('request', (r) => requested.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // A request the test refuses or aborts on purpose is logged by Chromium as a failed resource: not a page fault.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { browser, context, page, requested, pageErrors };
}
