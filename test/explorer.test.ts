// Tests for the schema explorer: the review export against dataModel, the /explorer routes, and the page itself in headless Chromium.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dataModel } from '../schema/data-model.js';
import { MODEL } from '../schema/model.js';
import { CSV_COLUMNS, modelCsv, modelMarkdown, type DataModel } from '../gateway/pages/explorer/export.js';
import { publicFile } from '../gateway/pages/explorer/explorer.js';
import { findChromium, openPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/** Every canonical field as `Type.field` → owner, straight from the value the gateway serves. */
function expectedFields(dm: DataModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of dm.types) for (const f of t.fields) out.set(`${t.name}.${f.name}`, f.owner);
  return out;
}

/** A minimal RFC 4180 reader, so the test checks the CSV the way a spreadsheet would read it, not by splitting on commas. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

/** Splits a Markdown table row on its unescaped pipes. */
function markdownCells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** The field-table rows of the Markdown export: the ones whose first cell is a `Type.field` code span. */
function markdownFieldRows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => /^\| `[A-Z]\w*\.\w+` \|/.test(l))
    .map(markdownCells);
}

function checkCsv(csv: string, dm: DataModel): void {
  const [head, ...rows] = parseCsv(csv);
  expect(head).toEqual([...CSV_COLUMNS]);
  const expected = expectedFields(dm);
  expect(rows.map((r) => r[0])).toEqual([...expected.keys()]);
  for (const r of rows) {
    expect(r).toHaveLength(CSV_COLUMNS.length);
    expect(r[3], `owner of ${r[0]}`).toBe(expected.get(r[0]!));
  }
}

function checkMarkdown(md: string, dm: DataModel): void {
  const rows = markdownFieldRows(md);
  const expected = expectedFields(dm);
  expect(rows.map((r) => r[0]!.replace(/`/g, ''))).toEqual([...expected.keys()]);
  for (const r of rows) {
    // Field, Type, Meaning, Owner, Source field, Writable, Validation: an unescaped pipe in any text would shift these.
    expect(r, `cells of ${r[0]}`).toHaveLength(7);
    expect(r[3], `owner of ${r[0]}`).toBe(expected.get(r[0]!.replace(/`/g, '')));
  }
}

/** A raw request whose path reaches the server byte for byte (fetch would normalise the `..` away first). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('modelCsv', () => {
  it('lists every canonical field exactly once with its owner when built from dataModel', () => {
    const dm = dataModel();
    checkCsv(modelCsv(dm), dm);
    const rows = parseCsv(modelCsv(dm));
    expect(rows.find((r) => r[0] === 'Customer.creditLimit')?.[5]).toBe('no');
    expect(rows.find((r) => r[0] === 'Customer.phone')?.slice(3, 6)).toEqual(['crm', 'contact.properties.phone (region from contact.properties.country)', 'yes']);
  });

  it('round-trips commas, quotes, line breaks and formula-like text when the model holds them', () => {
    const tricky = 'a, "quoted"\r\nsecond line';
    const dm = {
      systems: [],
      types: [
        {
          name: 'T',
          kind: 'object',
          description: '',
          owner: 'crm',
          sourceField: null,
          values: [],
          fields: [{ name: 'f', type: 'String', owner: 'crm', description: tricky, sourceField: '=HYPERLINK("x")', writable: true, validation: ' padded ' }],
        },
      ],
    } as unknown as DataModel;
    const [, row] = parseCsv(modelCsv(dm));
    expect(row).toEqual(['T.f', 'String', tricky, 'crm', `'=HYPERLINK("x")`, 'yes', ' padded ']);
  });
});

describe('modelMarkdown', () => {
  it('lists every canonical field exactly once with its owner when built from dataModel', () => {
    const dm = dataModel();
    const md = modelMarkdown(dm);
    checkMarkdown(md, dm);
    // The one source field holding pipes stays one cell.
    expect(md).toContain('status new\\|open\\|pending\\|hold');
  });

  it('marks native fields that feed nothing as not exposed when describing each system', () => {
    const dm = dataModel();
    const md = modelMarkdown(dm);
    for (const s of dm.systems) {
      expect(md).toContain(`### ${s.system}: ${s.record}`);
      for (const f of s.fields.filter((f) => f.mapsTo.length === 0)) expect(md).toContain(`| \`${f.name}\` | ${f.description.replace(/\|/g, '\\|')} | *not exposed* |`);
    }
  });
});

describe('model:export CLI', () => {
  it('writes model.md and model.csv equal to the export functions when run with --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canon-export-'));
    try {
      const out = join(dir, 'nested');
      await promisify(execFile)('npx', ['tsx', 'gateway/pages/explorer/export-cli.ts', '--out', out], { cwd: join(import.meta.dirname, '..') });
      const dm = dataModel();
      expect(readFileSync(join(out, 'model.md'), 'utf8')).toBe(modelMarkdown(dm));
      expect(readFileSync(join(out, 'model.csv'), 'utf8')).toBe(modelCsv(dm));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ seedSize: 50 });
});
afterAll(() => stack?.stop());

describe('handleExplorer', () => {
  it('serves the page with a same-origin content policy when /explorer is requested', async () => {
    for (const path of ['/explorer', '/explorer/']) {
      const res = await fetch(`${stack.gateway.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(await res.text()).toContain('<script type="module" src="/explorer/explorer.js">');
    }
    const js = await fetch(`${stack.gateway.url}/explorer/explorer.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const css = await fetch(`${stack.gateway.url}/explorer/explorer.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it("serves voyager's bundle and stylesheet from node_modules when the vendor paths are requested", async () => {
    const js = await fetch(`${stack.gateway.url}/explorer/vendor/voyager.standalone.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('renderVoyager');
    const css = await fetch(`${stack.gateway.url}/explorer/vendor/voyager.css`);
    expect(css.status).toBe(200);
    expect(await css.text()).toContain('.graphql-voyager');
  });

  it('serves each field\'s copies with their policy in dataModel, REPORT where the model names none', async () => {
    const dm = (await stack.gql<{ dataModel: any }>('{ dataModel { types { name fields { name copies { system sourceField policy } } } } }')).data!.dataModel;
    const customer = dm.types.find((t: any) => t.name === 'Customer');
    const withCopies = customer.fields.filter((f: any) => f.copies.length).map((f: any) => [f.name, f.copies]);
    expect(withCopies).toEqual(
      MODEL.types.flatMap((t) => (t.name === 'Customer' && t.kind === 'object' ? t.fields : [])).filter((f) => f.copies?.length).map((f) => [f.name, f.copies!.map((c) => ({ system: c.system, sourceField: c.sourceField, policy: c.policy ?? 'REPORT' }))]),
    );
    expect(withCopies.find(([name]: [string]) => name === 'name')).toEqual(['name', [{ system: 'marketing', sourceField: 'merge_fields.FNAME + merge_fields.LNAME', policy: 'REPORT' }]]);
  });

  it('downloads the model as attachments equal to dataModel when model.md and model.csv are requested', async () => {
    const dm = (await stack.gql<{ dataModel: DataModel }>('{ dataModel { types { name kind fields { name owner } } systems { system } } }')).data!.dataModel;
    const csv = await fetch(`${stack.gateway.url}/explorer/model.csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="canon-model.csv"');
    const csvText = await csv.text();
    checkCsv(csvText, dm);
    expect(csvText).toBe(modelCsv(dataModel()));
    const md = await fetch(`${stack.gateway.url}/explorer/model.md`);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(md.headers.get('content-disposition')).toBe('attachment; filename="canon-model.md"');
    const mdText = await md.text();
    checkMarkdown(mdText, dm);
    expect(mdText).toBe(modelMarkdown(dataModel()));
  });

  it('refuses paths climbing out of the public folder when they carry .., encoded or not', async () => {
    // Plain and %2e-encoded `..` segments are folded away by the URL parser before routing: the request becomes
    // /package.json, which nothing serves. Encoded slashes survive parsing and reach the explorer, which refuses them.
    for (const path of ['/explorer/../package.json', '/explorer/%2e%2e/%2e%2e/package.json']) {
      const res = await rawGet(stack.gateway.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"name": "canon"');
    }
    for (const path of ['/explorer/..%2f..%2fpackage.json', '/explorer/%2e%2e%2f%2e%2e%2fpackage.json', '/explorer/vendor/..%5c..%5cpackage.json']) {
      const res = await rawGet(stack.gateway.url, path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain('"name": "canon"');
    }
    expect(publicFile('..%2f..%2fpackage.json')).toBeNull();
    expect(publicFile('a/%2E%2E/%2E%2E/package.json')).toBeNull();
    expect(publicFile('%00explorer.js')).toBeNull();
    expect(publicFile('explorer.js')).toMatch(/gateway[/\\]pages[/\\]explorer[/\\]public[/\\]explorer\.js$/);
  });

  it('answers 404 for a missing file and 405 for a write when the path is under /explorer', async () => {
    expect((await fetch(`${stack.gateway.url}/explorer/nope.js`)).status).toBe(404);
    const post = await fetch(`${stack.gateway.url}/explorer/model.csv`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('leaves other paths to the gateway when they are not under /explorer', async () => {
    expect((await fetch(`${stack.gateway.url}/explorerx`)).status).toBe(404);
    expect((await stack.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

describe.skipIf('skip' in chromium)('explorer page', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let requested: string[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    origin = new URL(stack.gateway.url).origin;
    // Requests are recorded on the context, so those of voyager's worker count too.
    ({ browser, context, page, requested, pageErrors } = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/explorer`, { key: stack.devKey }));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows phone owned by the CRM with its source field, and creditLimit read-only, when the model loads', async () => {
    const phone = page.locator('#model-types tr[data-field="Customer.phone"]');
    await expect.poll(() => phone.locator('td.owner-cell .owner').getAttribute('data-owner')).toBe('crm');
    expect(await phone.locator('td.owner-cell .owner').textContent()).toBe('CRM');
    expect(await phone.locator('td.source').textContent()).toMatch(/^contact\.properties\.phone /);
    expect(await phone.locator('td.writable').textContent()).toBe('Writable');
    // The copy marketing keeps of it, with its policy, as dataModel serves it.
    expect(await phone.locator('td.source .copy').evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.system, (e as HTMLElement).dataset.policy, e.querySelector('code')!.textContent]))).toEqual([['marketing', 'REPORT', 'merge_fields.PHONE']]);
    const credit = page.locator('#model-types tr[data-field="Customer.creditLimit"]');
    expect(await credit.locator('td.writable').textContent()).toBe('Read-only');
    expect(await credit.locator('td.owner-cell .owner').getAttribute('data-owner')).toBe('erp');
    // Every canonical field is on the page, once.
    const onPage = await page.locator('#model-types tr[data-field]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.field));
    expect(onPage).toEqual([...expectedFields(dataModel()).keys()]);
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-model.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-model-full.png'), fullPage: true });
  });

  it('keeps only ERP-owned fields visible when filtered to the ERP', async () => {
    await page.click('#model-filter .chip[data-owner="erp"]');
    const visible = await page.locator('#model-types tr[data-field]:visible').evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.field, (r as HTMLElement).dataset.owner]));
    const erpFields = [...expectedFields(dataModel())].filter(([, o]) => o === 'erp');
    expect(visible).toEqual(erpFields);
    expect(await page.locator('#model-types tr[data-field="Customer.phone"]').isVisible()).toBe(false);
    expect(await page.locator('#model-count').textContent()).toBe(`Showing ${erpFields.length} of ${expectedFields(dataModel()).size} fields`);
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-model-erp.png'), fullPage: true });
  });

  it('narrows to matching fields when searching by source field text', async () => {
    await page.click('#model-filter .chip[data-owner="all"]');
    await page.fill('#model-search', 'lifecyclestage');
    const visible = await page.locator('#model-types tr[data-field]:visible').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.field));
    expect(visible).toEqual(['Customer.lifecycleStage']);
    await page.fill('#model-search', '');
  });

  it("shows each system's native record with unmapped fields marked not exposed when the Systems tab is opened", async () => {
    await page.click('.tabs [data-tab="systems"]');
    const dm = dataModel();
    for (const s of dm.systems) {
      const rows = page.locator(`#system-${s.system} tbody tr`);
      expect(await rows.count()).toBe(s.fields.length);
    }
    const company = page.locator('#system-crm tr[data-native="properties.company"]');
    expect(await company.locator('td.maps-to').textContent()).toBe('not exposed');
    const phone = page.locator('#system-crm tr[data-native="properties.phone"]');
    expect(await phone.locator('td.maps-to').textContent()).toBe('Customer.phone');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-systems.png'), fullPage: true });
  });

  it('draws the supergraph with voyager when the Graph tab is opened', async () => {
    await page.click('.tabs [data-tab="graph"]');
    await page.waitForSelector('#voyager svg g.node', { timeout: 30_000 });
    const nodes = await page.locator('#voyager svg g.node').allTextContents();
    expect(nodes.some((t) => t.includes('Customer'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-graph.png') });
  });

  it('runs a query against /graphql and shows the result when Run is pressed in the console', async () => {
    await page.click('.tabs [data-tab="console"]');
    await page.fill('#console-query', '{ customers(first: 2) { edges { node { id name } } } }');
    await page.fill('#console-variables', '{}');
    await page.click('#console-run');
    await page.waitForSelector('#console-result[data-state]');
    const shown = JSON.parse((await page.locator('#console-result').textContent())!);
    const direct = await stack.gql('{ customers(first: 2) { edges { node { id name } } } }');
    // Each request is its own trace, so only the data must match.
    expect(shown.data).toEqual(direct.data);
    expect(shown.extensions.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(shown.data.customers.edges).toHaveLength(2);
    expect(await page.locator('#console-result').getAttribute('data-state')).toBe('ok');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-console.png') });
  });

  it('highlights errors when a query is refused', async () => {
    await page.selectOption('#console-example', { label: 'Refused write: creditLimit is read-only (nothing is written)' });
    await page.click('#console-run');
    await expect.poll(() => page.locator('#console-result').getAttribute('data-state')).toBe('error');
    expect(await page.locator('#console-errors').textContent()).toContain('FIELD_NOT_WRITABLE');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-console-error.png') });
  });

  it('answers every built-in example without a parse or validation error when each is run', async () => {
    const labels = await page.locator('#console-example option').allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(3);
    for (const label of labels) {
      await page.selectOption('#console-example', { label });
      await page.evaluate(() => document.querySelector('#console-result')!.removeAttribute('data-state'));
      await page.click('#console-run');
      await page.waitForSelector('#console-result[data-state]');
      const body = JSON.parse((await page.locator('#console-result').textContent())!);
      const codes = (body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
      // The refused-write example is meant to fail, with the code that says why.
      if (label.startsWith('Refused write')) expect(codes, label).toEqual(['FIELD_NOT_WRITABLE']);
      else expect(codes, label).toEqual([]);
    }
  });

  it('offers both downloads and a preview when the Export tab is opened', async () => {
    await page.click('.tabs [data-tab="export"]');
    expect(await page.locator('#export-md').getAttribute('href')).toBe('/explorer/model.md');
    expect(await page.locator('#export-csv').getAttribute('href')).toBe('/explorer/model.csv');
    await expect.poll(() => page.locator('#export-preview').textContent()).toContain('| `Customer.phone` |');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-export.png') });
  });

  it('asks for a key when it has none and loads the model once one is typed in', async () => {
    const fresh = await browser.newContext();
    const tab = await fresh.newPage();
    await tab.goto(`${stack.gateway.url}/explorer`);
    await tab.waitForSelector('body[data-ready="error"]');
    await tab.waitForSelector('#key-form[data-state="missing"]');
    await tab.fill('#key-input', stack.devKey);
    await Promise.all([tab.waitForEvent('load'), tab.click('#key-save')]);
    await tab.waitForSelector('body[data-ready="true"]');
    expect(await tab.locator('#model-types tr[data-field="Customer.phone"]').count()).toBe(1);
    await fresh.close();
  });

  it("made no request outside the gateway's origin and raised no page errors during the session", () => {
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.some((u) => u.endsWith('/explorer/vendor/voyager.standalone.js'))).toBe(true);
    // Voyager starts its layout worker from a blob: URL the page itself minted; its origin is the page's.
    const foreign = requested.filter((u) => new URL(u).origin !== origin);
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
