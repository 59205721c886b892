// The gateway's one subgraph client: what a subgraph receives for reads and writes, retried or not, shared or not, and how its failures come back.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SubgraphClient } from '../gateway/federation/subgraph-client.js';
import { SystemPolicy } from '../subgraphs/kit/resilience.js';

interface Scripted {
  status: number;
  body: string;
}

/** A subgraph stand-in that answers from a script (then 200 with data), and can hold answers until released. */
class ScriptedSubgraph {
  received: { body: string; headers: IncomingMessage['headers'] }[] = [];
  script: Scripted[] = [];
  hold = false;
  private held: (() => void)[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.received.push({ body, headers: req.headers });
        const next = this.script.shift() ?? { status: 200, body: JSON.stringify({ data: { n: this.received.length } }) };
        const answer = () => res.writeHead(next.status, { 'content-type': 'application/json' }).end(next.body);
        if (this.hold) this.held.push(answer);
        else answer();
        for (const w of this.waiters.filter((w) => this.received.length >= w.n)) w.resolve();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }

  arrived(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  release() {
    for (const answer of this.held.splice(0)) answer();
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const subgraph = new ScriptedSubgraph();
beforeAll(() => subgraph.start());
afterAll(() => subgraph.stop());
beforeEach(() => {
  subgraph.received = [];
  subgraph.script = [];
  subgraph.hold = false;
});

/** A client toward the stand-in as `crm`, retrying at once (no jitter wait) up to three attempts. */
function client(dedupeReads = true) {
  const policy = new SystemPolicy('crm', { maxAttempts: 3, initialDelayMs: 0, breakerThreshold: 1000 }, () => 0);
  return new SubgraphClient({ urls: { crm: subgraph.url }, policies: { for: () => policy }, dedupeReads });
}

const unavailable: Scripted = { status: 503, body: '{"errors":[{"message":"busy"}]}' };

describe('SubgraphClient retries', () => {
  it('retries a read on 503 and answers with the data once the subgraph does', async () => {
    subgraph.script = [unavailable];
    const r = await client().execute('crm', '{ a }', {}, { kind: 'read' });
    expect(r).toEqual({ ok: true, data: { n: 2 } });
    expect(subgraph.received).toHaveLength(2);
  });

  it('attempts a write without an idempotency key exactly once', async () => {
    subgraph.script = [unavailable, unavailable, unavailable];
    const r = await client().execute('crm', 'mutation { a }', {}, { kind: 'write', idempotencyKey: null });
    expect(r.ok).toBe(false);
    if (!r.ok) expect({ code: r.error.code, system: r.error.system, retryable: r.error.retryable, attempts: r.error.attempts }).toEqual({ code: 'SYSTEM_UNAVAILABLE', system: 'crm', retryable: true, attempts: 1 });
    expect(subgraph.received).toHaveLength(1);
  });

  it('retries a write that carries an idempotency key, sending the same body every time', async () => {
    subgraph.script = [unavailable, unavailable];
    const r = await client().execute('crm', 'mutation($key: String) { a(key: $key) }', { key: 'k1:crm:updateCustomer' }, { kind: 'write', idempotencyKey: 'k1:crm:updateCustomer' });
    expect(r).toEqual({ ok: true, data: { n: 3 } });
    expect(new Set(subgraph.received.map((q) => q.body))).toEqual(new Set([JSON.stringify({ query: 'mutation($key: String) { a(key: $key) }', variables: { key: 'k1:crm:updateCustomer' } })]));
  });
});

describe('SubgraphClient sharing', () => {
  it('sends identical overlapping reads once when they may join, and every write on its own', async () => {
    const c = client();
    subgraph.hold = true;
    const reads = [1, 2, 3].map(() => c.send('crm', '{"query":"{ a }"}', { 'content-type': 'application/json' }, { kind: 'read', joinSince: 0 }));
    const writes = [1, 2, 3].map(() => c.send('crm', '{"query":"mutation { a }"}', { 'content-type': 'application/json' }, { kind: 'write', idempotencyKey: null }));
    await subgraph.arrived(4);
    subgraph.release();
    await Promise.all([...reads, ...writes]);
    expect(subgraph.received.map((q) => q.body).sort()).toEqual(['{"query":"mutation { a }"}', '{"query":"mutation { a }"}', '{"query":"mutation { a }"}', '{"query":"{ a }"}']);
  });

  it('sends every read when dedupe is off or the read may not join', async () => {
    for (const [c, delivery] of [
      [client(false), { kind: 'read', joinSince: 0 }],
      [client(true), { kind: 'read' }],
    ] as const) {
      subgraph.received = [];
      subgraph.hold = true;
      const reads = [1, 2, 3].map(() => c.send('crm', '{"query":"{ a }"}', {}, delivery));
      await subgraph.arrived(3);
      subgraph.release();
      await Promise.all(reads);
      expect(subgraph.received).toHaveLength(3);
    }
  });
});

describe('SubgraphClient failures', () => {
  it("reads a subgraph's GraphQL error back as the SystemError it was, naming its system", async () => {
    subgraph.script = [{ status: 200, body: JSON.stringify({ data: null, errors: [{ message: 'erp BusinessPartner 1000001 changed', extensions: { code: 'STALE_WRITE', system: 'erp', retryable: false, attempts: 2 } }] }) }];
    const r = await client().execute('crm', 'mutation { a }', {}, { kind: 'write', idempotencyKey: 'k' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect({ code: r.error.code, system: r.error.system, retryable: r.error.retryable, attempts: r.error.attempts, message: r.error.message }).toEqual({ code: 'STALE_WRITE', system: 'erp', retryable: false, attempts: 2, message: 'erp BusinessPartner 1000001 changed' });
    // The subgraph's word is final: it already retried its system.
    expect(subgraph.received).toHaveLength(1);
  });

  it('names the subgraph when its answer is not JSON', async () => {
    subgraph.script = [{ status: 200, body: 'not json' }];
    const r = await client().execute('crm', '{ a }', {}, { kind: 'read' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect({ code: r.error.code, system: r.error.system, retryable: r.error.retryable }).toEqual({ code: 'SYSTEM_ERROR', system: 'crm', retryable: false });
      expect(r.error.message).toContain(subgraph.url);
    }
  });

  it('answers SYSTEM_UNAVAILABLE naming the subgraph and its URL when nothing listens there', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/graphql`;
    await new Promise((r) => closed.close(r));
    const policy = new SystemPolicy('marketing', { maxAttempts: 2, initialDelayMs: 0, breakerThreshold: 1000 }, () => 0);
    const c = new SubgraphClient({ urls: { marketing: url }, policies: { for: () => policy } });
    const r = await c.execute('marketing', '{ a }', {}, { kind: 'read' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect({ code: r.error.code, system: r.error.system, retryable: r.error.retryable, attempts: r.error.attempts }).toEqual({ code: 'SYSTEM_UNAVAILABLE', system: 'marketing', retryable: true, attempts: 2 });
      expect(r.error.message).toContain(`POST ${url}`);
    }
  });
});
