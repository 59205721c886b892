// Spans leave the process over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set: a real canon process against a local receiver.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { untilSynced } from './support/health.js';

const ROOT = join(import.meta.dirname, '..');
const PORTS = { PORT: '0', CRM_PORT: '0', ERP_PORT: '0', MARKETING_PORT: '0', SUPPORT_PORT: '0', IDENTITY_SUBGRAPH_PORT: '0', CRM_SUBGRAPH_PORT: '0', ERP_SUBGRAPH_PORT: '0', MARKETING_SUBGRAPH_PORT: '0', SUPPORT_SUBGRAPH_PORT: '0' };

describe('OTLP export', () => {
  it('sends the spans of a traced request, gateway and system calls, to the configured endpoint', async () => {
    const received: { path: string; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'canon-otlp-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env: { ...process.env, ...PORTS, DATA_DIR: dataDir, SEED_SIZE: '30', LOG_LEVEL: 'silent', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const gatewayUrl = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /canon gateway\s+(http:\/\/[\d.]+:\d+)\/graphql/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`canon exited before serving:\n${out}`)));
      });
      // Customers exist once the first full sync is done.
      await untilSynced(gatewayUrl);
      const traceId = randomBytes(16).toString('hex');
      const res = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        // The dev app canon created on this first start.
        headers: { 'content-type': 'application/json', authorization: `Bearer ${readFileSync(join(dataDir, 'dev-key'), 'utf8').trim()}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        body: JSON.stringify({ query: '{ customers(first: 2) { edges { node { name legalName } } } }' }),
      }).then((r) => r.json());
      expect(res.extensions.traceId).toBe(traceId);
      process.kill(-child.pid!, 'SIGINT');
      await exited;
      expect(out).toContain('canon stopped.');
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      const spans = traces.flatMap((t) => JSON.parse(t.body).resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
      const ours = spans.filter((s: any) => s.traceId === traceId);
      const names = ours.map((s: any) => s.name);
      expect(names).toContain('POST /graphql');
      expect(names.some((n: string) => n.startsWith('crm POST /crm/v3/objects/contacts/batch/read'))).toBe(true);
      expect(names.some((n: string) => n.startsWith('erp POST /odata/v4/BusinessPartners/$query'))).toBe(true);
      const systems = ours.flatMap((s: any) => s.attributes.filter((a: any) => a.key === 'canon.system').map((a: any) => a.value.stringValue));
      expect(new Set(systems)).toEqual(new Set(['crm', 'erp']));
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
