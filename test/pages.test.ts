// Tests for what canon's pages share: the shared files served below each page's prefix, and pages that take the systems from the server.

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { consoleFile, handleConsole } from '../gateway/pages/console/console.js';
import { handleExplorer, publicFile } from '../gateway/pages/explorer/explorer.js';

const PAGES = join(import.meta.dirname, '..', 'gateway', 'pages');
const SHARED = join(PAGES, 'shared', 'public');

/** A raw request whose path reaches the server byte for byte (fetch would normalise `..` away first). */
function rawGet(base: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Only the two page handlers, on a loopback port: what they serve needs no gateway behind them.
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if ((await handleExplorer(req, res, url)) || (await handleConsole(req, res, url))) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe('shared page files', () => {
  it('serves page.js and base.css below both /explorer/shared/ and /console/shared/ when requested', async () => {
    const expected = { 'page.js': 'text/javascript; charset=utf-8', 'base.css': 'text/css; charset=utf-8' };
    for (const prefix of ['/explorer', '/console']) {
      for (const [file, type] of Object.entries(expected)) {
        const res = await rawGet(base, `${prefix}/shared/${file}`);
        expect(res.status, `${prefix}/shared/${file}`).toBe(200);
        expect(res.type).toBe(type);
        expect(res.body).toBe(readFileSync(join(SHARED, file), 'utf8'));
      }
    }
  });

  it('resolves shared/ paths to the shared folder and every other path to the page’s own', () => {
    expect(publicFile('shared/page.js')).toMatch(/gateway[/\\]pages[/\\]shared[/\\]public[/\\]page\.js$/);
    expect(consoleFile('shared/base.css')).toMatch(/gateway[/\\]pages[/\\]shared[/\\]public[/\\]base\.css$/);
    expect(consoleFile('console.js')).toMatch(/gateway[/\\]pages[/\\]console[/\\]public[/\\]console\.js$/);
  });

  it('refuses paths that climb out of the shared folder when they carry .., encoded or not', async () => {
    for (const rest of ['shared/..%2fconsole%2fpublic%2fconsole.js', 'shared/%2e%2e/%2e%2e/static-page.ts', 'shared/..%5cpage.js', 'shared/', 'shared/%00page.js']) {
      expect(consoleFile(rest), rest).toBeNull();
      expect(publicFile(rest), rest).toBeNull();
    }
    for (const path of ['/console/shared/..%2f..%2fstatic-page.ts', '/explorer/shared/%2e%2e%2f%2e%2e%2fstatic-page.ts']) {
      const res = await rawGet(base, path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain('staticPage');
    }
  });

  it('answers 404 naming the path asked for when a shared file is missing', async () => {
    const res = await rawGet(base, '/console/shared/nope.js');
    expect(res.status).toBe(404);
    expect(res.body).toBe('Not found: /console/shared/nope.js');
  });

  it('is what both pages load, with no page keeping its own copy of the helpers', () => {
    for (const page of ['explorer', 'console']) {
      const dir = join(PAGES, page, 'public');
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain(`<link rel="stylesheet" href="/${page}/shared/base.css">`);
      const js = readFileSync(join(dir, `${page}.js`), 'utf8');
      expect(js).toMatch(/^import \{[^}]*\} from '\.\/shared\/page\.js';$/m);
      for (const helper of ['function h(', 'const $ =', 'async function graphql(', 'const PALETTE', ':root {']) {
        expect(js + readFileSync(join(dir, `${page}.css`), 'utf8'), `${page} defines ${helper}`).not.toContain(helper);
      }
    }
  });
});

describe('pages and the model', () => {
  it('name no system by hand: the systems, their labels and colours come from the served model', () => {
    const named: [string, string][] = [];
    for (const page of ['explorer', 'console', 'shared']) {
      const dir = join(PAGES, page, 'public');
      for (const file of readdirSync(dir).filter((f) => /\.(js|html|css)$/.test(f))) {
        const text = readFileSync(join(dir, file), 'utf8');
        for (const s of SYSTEMS) if (new RegExp(`["'\`]${s}["'\`]`, 'i').test(text)) named.push([`${page}/${file}`, s]);
      }
    }
    // The one left is a sample argument of an example query (an ERP partner number), as an app would send it.
    expect(named).toEqual([['explorer/explorer.js', 'erp']]);
  });
});
