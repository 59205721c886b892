// Tests for the operations console: the /console routes, and the page itself in headless Chromium against a whole stack.

import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_CSP, consoleFile } from '../gateway/pages/console/console.js';
import { findChromium, openPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/** A raw request whose path reaches the server byte for byte (fetch would normalise `..` away first). */
function rawRequest(base: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface CustomerIds {
  id: string;
  sourceIds: { crm: string | null; erp: string | null; marketing: string | null; support: string | null };
}

let stack: TestStack;
let customers: CustomerIds[];
beforeAll(async () => {
  stack = await startTestStack({ seedSize: 60 });
  const res = await stack.gql<{ customers: { edges: { node: CustomerIds }[] } }>('{ customers(first: 50) { edges { node { id sourceIds { crm erp marketing support } } } } }');
  customers = res.data!.customers.edges.map((e) => e.node);
});
afterAll(() => stack?.stop());

describe('consoleFile', () => {
  it('resolves to a file under public/ when the path names one', () => {
    expect(consoleFile('console.js')).toMatch(/gateway[/\\]pages[/\\]console[/\\]public[/\\]console\.js$/);
  });

  it('returns null when the path would leave public/', () => {
    for (const rest of ['..%2f..%2fpackage.json', 'a/%2E%2E/%2E%2E/package.json', '%00console.js', '..%5cconsole.ts', '%E0%A4%A', '', './console.js']) {
      expect(consoleFile(rest), rest).toBeNull();
    }
  });
});

describe('handleConsole', () => {
  it('serves the page with a same-origin content policy when /console is requested', async () => {
    for (const path of ['/console', '/console/', '/console/index.html']) {
      const res = await fetch(`${stack.gateway.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).toContain("default-src 'self'");
      expect(CONSOLE_CSP).toContain("connect-src 'self'");
      expect(await res.text()).toContain('<script type="module" src="/console/console.js">');
    }
  });

  it('serves the script, stylesheet and icon with their content types when requested', async () => {
    const expected: Record<string, string> = { 'console.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8', 'favicon.svg': 'image/svg+xml' };
    for (const [file, type] of Object.entries(expected)) {
      const res = await fetch(`${stack.gateway.url}/console/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('refuses paths climbing out of the public folder when they carry .., encoded or not', async () => {
    // Plain and %2e-encoded `..` segments are folded away by the URL parser: the request becomes a path nothing serves.
    for (const path of ['/console/../package.json', '/console/%2e%2e/%2e%2e/package.json']) {
      const res = await rawRequest(stack.gateway.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"name": "canon"');
    }
    // Encoded slashes and backslashes survive parsing and reach the console, which refuses them.
    for (const path of ['/console/..%2f..%2fpackage.json', '/console/%2e%2e%2f%2e%2e%2fpackage.json', '/console/..%5c..%5cpackage.json', '/console/%2e%2e%5cconsole.ts']) {
      const res = await rawRequest(stack.gateway.url, path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain('"name": "canon"');
      expect(res.body, path).not.toContain('handleConsole');
    }
  });

  it('answers 405 with Allow when a write method is used on /console', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${stack.gateway.url}/console`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('answers HEAD without a body and 404 for a missing file when the path is under /console', async () => {
    const head = await rawRequest(stack.gateway.url, '/console/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect((await fetch(`${stack.gateway.url}/console/nope.js`)).status).toBe(404);
  });

  it('leaves other paths to the gateway when they are not under /console', async () => {
    expect((await fetch(`${stack.gateway.url}/consolex`)).status).toBe(404);
    expect((await fetch(`${stack.gateway.url}/explorer`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await stack.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

const UPDATE = `mutation ConsoleTestWrite($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { operationId results { system status error { code message } } }
}`;

describe.skipIf('skip' in chromium)('console page', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let requested: string[] = [];
  let pageErrors: string[] = [];
  /** The PARTIAL write the operator retries: CRM took its part, the ERP was down. */
  let partialId: string;
  /** Writes that all succeeded, more than one page of them, for paging. */
  const seedIds: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Enough plain CRM writes from one app that the list needs a second page.
    const crmOnly = customers.filter((c) => c.sourceIds.crm);
    expect(crmOnly.length).toBeGreaterThanOrEqual(22);
    for (const c of crmOnly.slice(0, 22)) {
      const res = await stack.gql(UPDATE, { id: c.id, input: { name: `Console Seed ${seedIds.length}` } }, await stack.appHeaders('console-seed'));
      seedIds.push(res.data.updateCustomer.operationId);
    }
    // A write refused before any system was called: the ledger keeps it FAILED with an operation-level error.
    const refused = await stack.gql(UPDATE, { id: crmOnly[0]!.id, input: { email: 'not an email' } }, await stack.appHeaders('console-refused'));
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const target = customers.find((c) => c.sourceIds.crm && c.sourceIds.erp && c.sourceIds.marketing && c.sourceIds.support);
    expect(target, 'a customer present in every system').toBeDefined();
    await stack.setFaults('erp', { errorRate: 1 });
    try {
      const res = await stack.gql(UPDATE, { id: target!.id, input: { name: 'Console Test', legalName: 'Console Test GmbH' } }, await stack.appHeaders('console-test'));
      const results = res.data.updateCustomer.results as { system: string; status: string; error: { code: string } | null }[];
      expect(results.map((r) => [r.system, r.status, r.error?.code ?? null])).toEqual([
        ['CRM', 'SUCCEEDED', null],
        ['ERP', 'FAILED', 'SYSTEM_UNAVAILABLE'],
      ]);
      partialId = res.data.updateCustomer.operationId;
    } finally {
      await stack.clearFaults();
    }

    origin = new URL(stack.gateway.url).origin;
    ({ browser, context, page, requested, pageErrors } = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/console`, { key: stack.devKey }));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Waits until the list has answered the latest request, whatever it held before. */
  async function listSettled(): Promise<string> {
    await page.waitForSelector('#list:not([data-state="loading"])');
    return (await page.locator('#list').getAttribute('data-state'))!;
  }

  it('lists operations newest first with the partial write on top when the page opens', async () => {
    expect(await listSettled()).toBe('ready');
    const ids = await page.locator('#op-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.opId));
    const direct = await stack.gql('{ operations(first: 20) { edges { node { id } } } }');
    expect(ids).toEqual(direct.data.operations.edges.map((e: { node: { id: string } }) => e.node.id));
    expect(ids[0]).toBe(partialId);
    const top = page.locator(`#op-rows tr[data-op-id="${partialId}"]`);
    expect(await top.locator('.status').textContent()).toBe('PARTIAL');
    expect(await top.locator('td.app').textContent()).toBe('console-test');
    expect(await top.locator('td.kind').textContent()).toBe('mutation');
    expect(await top.locator('.sys').evaluateAll((chips) => chips.map((c) => (c as HTMLElement).dataset.system))).toEqual(['CRM', 'ERP']);
    // The trace id is shortened in the cell and whole in its tooltip.
    const trace = top.locator('td.trace .copy');
    const full = (await trace.getAttribute('data-trace'))!;
    expect(full).toMatch(/^[0-9a-f]{32}$/);
    expect(await trace.textContent()).toBe(`${full.slice(0, 8)}…`);
    expect(await trace.getAttribute('title')).toContain(full);
    expect(await page.locator('#auto-refresh').isChecked()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'console-list.png') });
  });

  it('shows FAILED and PARTIAL operations and says so when the Failed filter is pressed', async () => {
    await page.click('[data-status-filter="failed"]');
    expect(await listSettled()).toBe('ready');
    expect(await page.locator('[data-status-filter="failed"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#filter-note').textContent()).toContain('Failed includes PARTIAL');
    const statuses = await page.locator('#op-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status));
    expect(new Set(statuses)).toEqual(new Set(['FAILED', 'PARTIAL']));
    await page.waitForSelector(`#op-rows tr[data-op-id="${partialId}"]`);
    await page.screenshot({ path: join(ARTIFACTS, 'console-list-failed.png') });
  });

  it('shows the step timeline with the ERP step failed and the CRM step succeeded when the row is opened', async () => {
    await page.click(`#op-rows tr[data-op-id="${partialId}"] td.name`);
    await page.waitForSelector(`#detail[data-op-id="${partialId}"][data-state="ready"]`);
    expect(new URL(page.url()).hash).toBe(`#op=${partialId}`);
    expect(await page.locator('#detail').getAttribute('data-status')).toBe('PARTIAL');
    const steps = await page.locator('#steps .step').evaluateAll((items) => items.map((i) => [(i as HTMLElement).dataset.system, (i as HTMLElement).dataset.status]));
    expect(steps).toEqual([
      ['CRM', 'SUCCEEDED'],
      ['ERP', 'FAILED'],
    ]);
    const erp = page.locator('#steps .step[data-system="ERP"]');
    expect(await erp.locator('.error-code').textContent()).toBe('SYSTEM_UNAVAILABLE');
    expect(await erp.locator('.action').textContent()).toBe('updateCustomer');
    expect(await erp.locator('.error-message').textContent()).not.toBe('');
    expect(await page.locator('#steps .step[data-system="CRM"] .step-error').count()).toBe(0);
    expect(await page.locator('#retry').isEnabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'console-detail-before-retry.png') });
  });

  it('re-sends only the ERP step and shows SUCCEEDED when Retry is clicked', async () => {
    await stack.resetStats();
    await page.click('#retry');
    await page.waitForSelector(`#detail[data-op-id="${partialId}"][data-retry="done"]`);
    expect(await page.locator('#detail').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await page.locator('#detail .detail-head .status').textContent()).toBe('SUCCEEDED');
    const steps = await page.locator('#steps .step').evaluateAll((items) => items.map((i) => [(i as HTMLElement).dataset.system, (i as HTMLElement).dataset.status]));
    expect(steps).toEqual([
      ['CRM', 'SUCCEEDED'],
      ['ERP', 'SUCCEEDED'],
    ]);
    expect(await page.locator('#retry').count()).toBe(0);
    expect(await page.locator('#retry-result').textContent()).toContain('every step has now succeeded');
    // The list row follows without a reload.
    expect(await page.locator(`#op-rows tr[data-op-id="${partialId}"] .status`).textContent()).toBe('SUCCEEDED');
    const stats = await stack.systemStats();
    expect(stats.erp.writes).toBe(1);
    expect(stats.crm.writes).toBe(0);
    expect((await stack.gql(`{ operation(id: "${partialId}") { status } }`)).data.operation.status).toBe('SUCCEEDED');
    await page.screenshot({ path: join(ARTIFACTS, 'console-detail-after-retry.png') });
  });

  it('shows the operation-level error and no Retry when a write was refused before any step', async () => {
    await page.fill('#filter-app', 'console-refused');
    await page.press('#filter-app', 'Enter');
    expect(await listSettled()).toBe('ready');
    expect(await page.locator('#op-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status))).toEqual(['FAILED']);
    await page.click('#op-rows tr td.name');
    await page.waitForSelector('#detail[data-state="ready"] #op-error');
    expect(await page.locator('#op-error .error-code').textContent()).toBe('BAD_USER_INPUT');
    expect(await page.locator('#steps-empty').isVisible()).toBe(true);
    expect(await page.locator('#retry').count()).toBe(0);
    expect(await page.locator('.retry-bar .why').textContent()).toContain('Nothing to retry');
    await page.screenshot({ path: join(ARTIFACTS, 'console-detail-refused.png') });
  });

  it('pages with the cursor when Load more is pressed', async () => {
    await page.click('[data-status-filter="all"]');
    await page.fill('#filter-app', 'console-seed');
    await page.press('#filter-app', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#op-rows tr').length === 20 && document.querySelector('#list')?.getAttribute('data-state') === 'ready');
    expect(await page.locator('#load-more').isVisible()).toBe(true);
    await page.click('#load-more');
    await page.waitForFunction(() => document.querySelectorAll('#op-rows tr').length === 22);
    const ids = await page.locator('#op-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.opId));
    expect(ids).toEqual([...seedIds].reverse());
    expect(await page.locator('#load-more').isVisible()).toBe(false);
  });

  it('says no operations match when the filters exclude everything', async () => {
    await page.selectOption('#filter-system', 'SUPPORT');
    expect(await listSettled()).toBe('empty');
    expect(await page.locator('#list-empty').textContent()).toBe('No operations match these filters.');
    expect(await page.locator('#op-table').isVisible()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'console-empty.png') });
    await page.selectOption('#filter-system', '');
    await page.fill('#filter-app', '');
    await page.press('#filter-app', 'Enter');
    expect(await listSettled()).toBe('ready');
    // Nothing can have been created after a time in the future.
    await page.fill('#filter-since', '2099-01-01T00:00:00');
    expect(await listSettled()).toBe('empty');
    expect(await page.locator('#filter-note').textContent()).toContain('Created at or after 2099-01-01 00:00:00');
    await page.fill('#filter-since', '');
    expect(await listSettled()).toBe('ready');
  });

  it('opens the linked operation directly when the page is loaded with #op=<id>', async () => {
    const linked = await context.newPage();
    linked.on('pageerror', (e) => pageErrors.push(e.message));
    await linked.goto(`${stack.gateway.url}/console#op=${partialId}`);
    await linked.waitForSelector(`#detail[data-op-id="${partialId}"][data-state="ready"]`);
    expect(await linked.locator('#detail').getAttribute('data-status')).toBe('SUCCEEDED');
    await linked.waitForSelector(`#op-rows tr[data-op-id="${partialId}"][aria-selected="true"]`);
    await linked.close();
  });

  it('says the gateway is unreachable when /graphql cannot be reached', async () => {
    const down = await context.newPage();
    await down.route('**/graphql', (route) => route.abort('connectionrefused'));
    await down.goto(`${stack.gateway.url}/console`);
    await down.waitForSelector('#list[data-state="error"]');
    expect(await down.locator('#list-error').textContent()).toContain('Gateway unreachable');
    expect(await down.locator('#endpoint').getAttribute('class')).toContain('bad');
    expect(await down.locator('#list-empty').isVisible()).toBe(false);
    await down.screenshot({ path: join(ARTIFACTS, 'console-unreachable.png') });
    // Once the gateway answers again, Refresh recovers without a reload.
    await down.unroute('**/graphql');
    await down.click('#refresh');
    await down.waitForSelector('#list[data-state="ready"]');
    expect(await down.locator('#list-error').isHidden()).toBe(true);
    await down.close();
  });

  it('asks for a key, says when it is refused, and loads once a valid one is typed in, keeping it for the tab only', async () => {
    // A tab of its own, with no key given beforehand.
    const fresh = await browser.newContext();
    const tab = await fresh.newPage();
    await tab.goto(`${stack.gateway.url}/console`);
    await tab.waitForSelector('#key-form[data-state="missing"]');
    expect(await tab.locator('#key-reason').textContent()).toMatch(/^This page reads canon through \/graphql as an app: enter an app key\. canon needs to know which app is asking\./);
    await tab.waitForSelector('#list[data-state="error"]');
    await tab.screenshot({ path: join(ARTIFACTS, 'console-key-missing.png') });

    await tab.fill('#key-input', `canon_0123456789abcdef_${'x'.repeat(43)}`);
    await Promise.all([tab.waitForEvent('load'), tab.click('#key-save')]);
    await tab.waitForSelector('#key-form[data-state="refused"]');
    expect(await tab.locator('#key-reason').textContent()).toMatch(/^The gateway refused this page's key: The key is not valid: it belongs to no app/);
    await tab.screenshot({ path: join(ARTIFACTS, 'console-key-refused.png') });

    await tab.fill('#key-input', stack.devKey);
    await Promise.all([tab.waitForEvent('load'), tab.click('#key-save')]);
    await tab.waitForSelector('#list[data-state="ready"]');
    expect(await tab.locator('#key-form').count()).toBe(0);
    expect(await tab.locator('#key-button').textContent()).toBe('Key ✓');
    expect(await tab.evaluate(() => [sessionStorage.getItem('canon.appKey'), localStorage.length, document.cookie, location.href.includes('canon_')])).toEqual([stack.devKey, 0, '', false]);
    await fresh.close();
  });

  it("made no request outside the gateway's origin and raised no page errors during the session", () => {
    expect(requested.some((u) => u.endsWith('/console/console.js'))).toBe(true);
    expect(requested.some((u) => u.endsWith('/graphql'))).toBe(true);
    const foreign = requested.filter((u) => new URL(u).origin !== origin);
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
