// `npm start` on an empty data directory: seeds, prints the dev app's key, serves /health as ok, takes that key, and stops cleanly on Ctrl-C.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { untilSynced } from './support/health.js';

const ROOT = join(import.meta.dirname, '..');

describe('npm start', () => {
  it('seeds an empty data directory, prints a dev key it then takes, serves /health as ok, takes a write, and stops cleanly on SIGINT', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'canon-start-')), 'data');
    const ports = { PORT: '0', CRM_PORT: '0', ERP_PORT: '0', MARKETING_PORT: '0', SUPPORT_PORT: '0', IDENTITY_SUBGRAPH_PORT: '0', CRM_SUBGRAPH_PORT: '0', ERP_SUBGRAPH_PORT: '0', MARKETING_SUBGRAPH_PORT: '0', SUPPORT_SUBGRAPH_PORT: '0' };
    const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...ports, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'production' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(code === null ? String(signal) : String(code))));
    // npm may exit on the signal before canon has finished stopping; canon holds the same pipes until it is gone.
    const outputEnded = Promise.all([new Promise((r) => child.stdout.once('close', r)), new Promise((r) => child.stderr.once('close', r))]);
    try {
      const gatewayUrl = await new Promise<string>((resolve, reject) => {
        const onData = () => {
          const m = /canon gateway\s+(http:\/\/[\d.]+:\d+)\/graphql/.exec(out);
          // The banner is printed whole; wait for its last line, the dev key.
          if (m && /dev key/.test(out)) resolve(m[1]);
        };
        child.stdout.on('data', onData);
        void exited.then((code) => reject(new Error(`npm start exited with ${code} before serving:\n${out}`)));
      });
      // The first start creates the app "dev", prints its key once and keeps it in DATA_DIR/dev-key for the owner only.
      const key = /^ {2}dev key {2}(canon_\S+) {3}\(app "dev", every scope; shown once, kept in (.+)\)$/m.exec(out);
      expect(key, out).not.toBeNull();
      expect(key![2]).toBe(join(dataDir, 'dev-key'));
      expect(readFileSync(join(dataDir, 'dev-key'), 'utf8')).toBe(`${key![1]}\n`);
      expect(statSync(join(dataDir, 'dev-key')).mode & 0o777).toBe(0o600);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${key![1]}` };
      const refused = await fetch(`${gatewayUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }) });
      expect(refused.status).toBe(401);
      // canon serves at once and says `starting` until its first full read of every change feed is done.
      const reports = await untilSynced(gatewayUrl);
      const health = reports.at(-1)!;
      expect(health.status).toBe('ok');
      expect(health.sync!.map((s) => s.system)).toEqual(['crm', 'erp', 'marketing', 'support']);
      for (const s of health.sync!) expect(s).toMatchObject({ ok: true, cursor: expect.any(String), lastSyncAt: expect.any(String) });
      expect(health.systems.map((s: { name: string }) => s.name)).toEqual(['crm', 'erp', 'marketing', 'support']);
      for (const f of ['crm', 'erp', 'marketing', 'support', 'identity']) expect(existsSync(join(dataDir, `${f}.sqlite`))).toBe(true);
      const res = await fetch(`${gatewayUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }) }).then((r) => r.json());
      // The customers canon matched from the seeded records: as many as /health counts, close to the seed's truth
      // (its 2000 people and companies) but canon's own, read from no truth file.
      expect(res.data.customers.totalCount).toBe(health.identity!.customers);
      expect(Math.abs(health.identity!.customers - 2000)).toBeLessThan(100);
      // A write (ledger, idempotency store, write connections) before Ctrl-C: all of it must close cleanly too.
      const some = await fetch(`${gatewayUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: '{ customers(first: 50) { edges { node { id sourceIds { erp } } } } }' }) }).then((r) => r.json());
      const withErp = some.data.customers.edges.find((e: { node: { sourceIds: { erp: string | null } } }) => e.node.sourceIds.erp).node.id;
      const write = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': 'start-test-1' },
        body: JSON.stringify({ query: 'mutation($id: ID!) { updateCustomer(id: $id, input: { legalName: "Shutdown Test GmbH" }) { results { status } } }', variables: { id: withErp } }),
      }).then((r) => r.json());
      expect(write.data.updateCustomer.results).toEqual([{ status: 'SUCCEEDED' }]);
      process.kill(-child.pid!, 'SIGINT');
      // npm re-raises the signal it got; canon's own process must have closed everything and said so.
      expect(['0', 'SIGINT']).toContain(await exited);
      await outputEnded;
      expect(out).toContain('canon stopped.');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
