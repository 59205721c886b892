// Per-system resilience: retries, backoff, Retry-After, timeout budget and circuit breaker, against a real scripted HTTP server, on a clock the tests move.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyRegistry, SystemPolicy, settingsFor, DEFAULT_RESILIENCE } from '../subgraphs/kit/resilience.js';
import { SystemClient } from '../subgraphs/kit/system-client.js';
import { SystemError } from '../subgraphs/kit/system-error.js';
import { ManualClock } from './support/manual-clock.js';

/** A server that answers each request with the next scripted status (the last one repeats); 'hang' never answers. */
class ScriptedServer {
  script: (number | 'hang')[] = [200];
  received: { method: string; key: string | undefined }[] = [];
  retryAfter: string | null = null;
  private waiters: { n: number; resolve: () => void }[] = [];
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      this.received.push({ method: req.method!, key: req.headers['idempotency-key'] as string | undefined });
      for (const w of this.waiters.filter((w) => this.received.length >= w.n)) w.resolve();
      const step = this.script[Math.min(this.received.length - 1, this.script.length - 1)]!;
      if (step === 'hang') return; // held until the client gives up
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.retryAfter && step >= 400) headers['retry-after'] = this.retryAfter;
      res.writeHead(step, headers).end(JSON.stringify(step < 300 ? { ok: true, n: this.received.length } : { message: `scripted ${step}` }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `n` requests have arrived since the last reset. */
  arrived(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  reset(script: (number | 'hang')[]) {
    this.script = script;
    this.received = [];
    this.waiters = [];
    this.retryAfter = null;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const server = new ScriptedServer();
beforeAll(() => server.start());
afterAll(() => server.stop());
/**
 * A client whose policy runs on a clock of its own, standing still until the test moves it. Its jitter draws 0, so
 * retries follow at once unless a test asks for a backoff (Retry-After, or its own `random`).
 */
function client(opts: ConstructorParameters<typeof SystemPolicy>[1] = {}, random = () => 0) {
  const clock = new ManualClock();
  const policy = new SystemPolicy('crm', { initialDelayMs: 1, maxDelayMs: 5, clock, ...opts }, random);
  return { clock, policy, client: new SystemClient({ system: 'crm', baseUrl: server.url, policy }) };
}

describe('SystemPolicy retries', () => {
  it('retries a read on 503 and 429 until it succeeds, counting attempts', async () => {
    server.reset([503, 429, 200]);
    const { client: c } = client();
    const res = await c.request<{ n: number }>({ method: 'GET', path: '/x' });
    expect(res.body.n).toBe(3);
    expect(server.received).toHaveLength(3);
  });

  it('gives up after maxAttempts with the system, retryable and attempts in the error', async () => {
    server.reset([503]);
    const { client: c } = client({ maxAttempts: 3 });
    const err = await c.request({ method: 'GET', path: '/x' }).catch((e) => e);
    expect(err).toBeInstanceOf(SystemError);
    expect({ code: err.code, system: err.system, retryable: err.retryable, attempts: err.attempts }).toEqual({ code: 'SYSTEM_UNAVAILABLE', system: 'crm', retryable: true, attempts: 3 });
    expect(server.received).toHaveLength(3);
  });

  it('never retries a write without an idempotency key', async () => {
    server.reset([503, 200]);
    const { client: c } = client();
    const err = await c.request({ method: 'PATCH', path: '/x', body: {} }).catch((e) => e);
    expect(err.code).toBe('SYSTEM_UNAVAILABLE');
    expect(server.received).toEqual([{ method: 'PATCH', key: undefined }]);
  });

  it('retries a write under an idempotency key, sending the same key every time', async () => {
    server.reset([503, 200]);
    const { client: c } = client();
    await c.request({ method: 'PATCH', path: '/x', body: {}, retry: true, idempotencyKey: 'op-1:crm:updateCustomer' });
    expect(server.received).toEqual([
      { method: 'PATCH', key: 'op-1:crm:updateCustomer' },
      { method: 'PATCH', key: 'op-1:crm:updateCustomer' },
    ]);
  });

  it.each([400, 404, 412, 422])('never retries a %i: the system answered', async (status) => {
    server.reset([status, 200]);
    const { client: c } = client();
    const err = await c.request({ method: 'GET', path: '/x' }).catch((e) => e);
    expect(err.retryable).toBe(false);
    expect(server.received).toHaveLength(1);
  });

  it('times out an attempt the system does not answer and retries it', async () => {
    server.reset(['hang', 200]);
    const { client: c, clock } = client({ attemptTimeoutMs: 50 });
    const res = c.request<{ n: number }>({ method: 'GET', path: '/x' });
    await server.arrived(1);
    clock.advance(50);
    expect((await res).body.n).toBe(2);
    expect(server.received).toHaveLength(2);
  });

  it('stops at the budget with SYSTEM_TIMEOUT when the system does not answer', async () => {
    server.reset(['hang']);
    const { client: c, clock } = client({ attemptTimeoutMs: 50, budgetMs: 120, maxAttempts: 10 });
    const call = c.request({ method: 'GET', path: '/x' }).catch((e) => e);
    // Attempts time out at 50 and 100; the third is under way when the budget runs out at 120.
    await server.arrived(1);
    clock.advance(50);
    await server.arrived(2);
    clock.advance(50);
    await server.arrived(3);
    clock.advance(20);
    const err = await call;
    expect({ code: err.code, retryable: err.retryable, attempts: err.attempts }).toEqual({ code: 'SYSTEM_TIMEOUT', retryable: true, attempts: 3 });
    expect(err.message).toContain('120 ms budget');
    expect(server.received).toHaveLength(3);
  });
});

describe('SystemPolicy backoff', () => {
  it('backs off exponentially with full jitter from the injected randomness, capped', () => {
    const p = new SystemPolicy('erp', { initialDelayMs: 100, maxDelayMs: 1000 }, () => 0.5);
    expect([1, 2, 3, 4, 5].map((n) => p.delayBefore(n, new Error('x')))).toEqual([50, 100, 200, 400, 500]);
  });

  it('honours Retry-After, capped at maxRetryAfterMs', () => {
    const p = new SystemPolicy('erp', { maxRetryAfterMs: 3000 }, () => 0.5);
    const asked = (s: number) => new SystemError({ code: 'SYSTEM_UNAVAILABLE', system: 'erp', retryable: true, message: 'x', retryAfterSeconds: s });
    expect(p.delayBefore(1, asked(2))).toBe(2000);
    expect(p.delayBefore(1, asked(60))).toBe(3000);
  });

  it('reads the Retry-After header of a 429 and waits that long before the retry', async () => {
    server.reset([429, 200]);
    server.retryAfter = '1';
    const { client: c, clock } = client();
    const res = c.request<{ n: number }>({ method: 'GET', path: '/x' });
    await clock.scheduled(1000);
    expect(server.received).toHaveLength(1);
    clock.advance(1000);
    expect((await res).body.n).toBe(2);
  });

  it('waits the jittered backoff on the clock before each retry', async () => {
    server.reset([503, 503, 200]);
    const { client: c, clock } = client({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0.5);
    const res = c.request<{ n: number }>({ method: 'GET', path: '/x' });
    await clock.scheduled(50);
    expect(server.received).toHaveLength(1);
    clock.advance(50);
    await clock.scheduled(100);
    expect(server.received).toHaveLength(2);
    clock.advance(100);
    expect((await res).body.n).toBe(3);
  });
});

describe('SystemPolicy settings', () => {
  it('takes each setting as a value or a function of the system, defaulting the rest', () => {
    const opts = { budgetMs: (s: string) => (s === 'erp' ? 9000 : 3000), maxAttempts: 4 };
    expect(settingsFor('erp', opts)).toEqual({ ...DEFAULT_RESILIENCE, budgetMs: 9000, maxAttempts: 4 });
    expect(settingsFor('crm', opts)).toEqual({ ...DEFAULT_RESILIENCE, budgetMs: 3000, maxAttempts: 4 });
  });

  it('takes its clock per system too: each breaker waits on its own system\'s clock', async () => {
    server.reset([503]);
    const clocks = { crm: new ManualClock(), erp: new ManualClock() };
    const registry = new PolicyRegistry({ maxAttempts: 1, breakerThreshold: 1, halfOpenAfterMs: 1000, clock: (s) => clocks[s as 'crm' | 'erp'] }, () => 0);
    const crm = new SystemClient({ system: 'crm', baseUrl: server.url, policy: registry.for('crm') });
    const erp = new SystemClient({ system: 'erp', baseUrl: server.url, policy: registry.for('erp') });
    await crm.request({ method: 'GET', path: '/x' }).catch(() => undefined);
    await erp.request({ method: 'GET', path: '/x' }).catch(() => undefined);
    expect([registry.for('crm').state, registry.for('erp').state]).toEqual(['open', 'open']);
    server.reset([200]);
    clocks.erp.advance(1000);
    expect((await crm.request({ method: 'GET', path: '/x' }).catch((e) => e)).code).toBe('CIRCUIT_OPEN');
    expect((await erp.request<{ ok: boolean }>({ method: 'GET', path: '/x' })).body.ok).toBe(true);
    expect([registry.for('crm').state, registry.for('erp').state]).toEqual(['open', 'closed']);
    expect(server.received).toHaveLength(1);
  });
});

describe('SystemPolicy circuit breaker', () => {
  it('opens after consecutive failures, fails fast without calling the system, probes half-open and closes', async () => {
    server.reset([503]);
    const { client: c, policy, clock } = client({ maxAttempts: 1, breakerThreshold: 3, halfOpenAfterMs: 10_000 });
    for (let i = 0; i < 3; i++) await c.request({ method: 'GET', path: '/x' }).catch(() => undefined);
    expect(server.received).toHaveLength(3);
    expect(policy.state).toBe('open');

    const fast = await c.request({ method: 'GET', path: '/x' }).catch((e) => e);
    expect({ code: fast.code, system: fast.system, retryable: fast.retryable }).toEqual({ code: 'CIRCUIT_OPEN', system: 'crm', retryable: true });
    expect(server.received).toHaveLength(3); // the system was not called

    // Still open one millisecond before the wait is over.
    clock.advance(9_999);
    expect((await c.request({ method: 'GET', path: '/x' }).catch((e) => e)).code).toBe('CIRCUIT_OPEN');
    expect(server.received).toHaveLength(3);

    server.reset([200]);
    clock.advance(1);
    const probe = await c.request<{ ok: boolean }>({ method: 'GET', path: '/x' });
    expect(probe.body.ok).toBe(true);
    expect(server.received).toHaveLength(1);
    expect(policy.state).toBe('closed');
  });

  it('does not count a 404 against the system', async () => {
    server.reset([404]);
    const { client: c, policy } = client({ maxAttempts: 1, breakerThreshold: 2 });
    for (let i = 0; i < 5; i++) await c.request({ method: 'GET', path: '/x' }).catch(() => undefined);
    expect(policy.state).toBe('closed');
    expect(server.received).toHaveLength(5);
  });
});
