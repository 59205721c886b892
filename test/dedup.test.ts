// In-flight deduplication of identical subgraph reads: InFlight and requestKey on their own, then the gateway's subgraph client on a running stack, counting what subgraphs and systems received.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InFlight, requestKey } from '../gateway/federation/dedup.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import type { AllSystemCredentials } from '../subgraphs/kit/credentials.js';
import { generateSandboxCredentials } from '../subgraphs/sandbox-kit/credentials.js';
import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { seedAll } from '../subgraphs/sandbox-kit/seed.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** A read the test answers by hand, counting how often it was sent. */
function handRead<T>() {
  const sent: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const send = () => new Promise<T>((resolve, reject) => sent.push({ resolve, reject }));
  return { sent, send };
}

describe('InFlight', () => {
  it('sends identical overlapping reads once and gives every caller the one outcome', async () => {
    const inFlight = new InFlight<string>();
    const read = handRead<string>();
    const callers = Array.from({ length: 10 }, () => inFlight.run('k', 0, read.send));
    expect(read.sent).toHaveLength(1);
    expect(inFlight.size).toBe(1);
    read.sent[0]!.resolve('answer');
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 10 }, () => 'answer'));
  });

  it('gives every caller that joined a read its failure', async () => {
    const inFlight = new InFlight<string>();
    const read = handRead<string>();
    const callers = Array.from({ length: 3 }, () => inFlight.run('k', 0, read.send).catch((e: Error) => e.message));
    read.sent[0]!.reject(new Error('crm subgraph answered 503'));
    expect(await Promise.all(callers)).toEqual(['crm subgraph answered 503', 'crm subgraph answered 503', 'crm subgraph answered 503']);
    expect(read.sent).toHaveLength(1);
  });

  it("does not join a read sent before the caller's request began (read-your-writes), and later callers join the newer read", async () => {
    const inFlight = new InFlight<string>();
    const read = handRead<string>();
    const early = inFlight.run('k', performance.now(), read.send);
    // A request that began strictly after the first read went out (say, right after its app's write completed).
    const firstSentBy = performance.now();
    let lateStart = performance.now();
    while (lateStart <= firstSentBy) lateStart = performance.now();
    const late = inFlight.run('k', lateStart, read.send);
    const alongside = inFlight.run('k', lateStart, read.send);
    expect(read.sent).toHaveLength(2);
    read.sent[0]!.resolve('before the write');
    read.sent[1]!.resolve('after the write');
    expect(await Promise.all([early, late, alongside])).toEqual(['before the write', 'after the write', 'after the write']);
  });

  it('forgets a read once it settles: the same read afterwards is sent again (no cache)', async () => {
    const inFlight = new InFlight<string>();
    const read = handRead<string>();
    const first = inFlight.run('k', 0, read.send);
    read.sent[0]!.resolve('one');
    await first;
    expect(inFlight.size).toBe(0);
    const second = inFlight.run('k', 0, read.send);
    expect(read.sent).toHaveLength(2);
    read.sent[1]!.resolve('two');
    expect(await second).toBe('two');
  });

  it('keeps reads with different keys apart', async () => {
    const inFlight = new InFlight<string>();
    const read = handRead<string>();
    const a = inFlight.run('a', 0, read.send);
    const b = inFlight.run('b', 0, read.send);
    expect(read.sent).toHaveLength(2);
    read.sent[0]!.resolve('for a');
    read.sent[1]!.resolve('for b');
    expect(await Promise.all([a, b])).toEqual(['for a', 'for b']);
  });
});

describe('requestKey', () => {
  it('ignores the trace context but tells apart any other header', () => {
    const body = '{"query":"{ a }"}';
    const base = requestKey('http://x/graphql', { 'content-type': 'application/json', traceparent: '00-a-b-01' }, body);
    expect(requestKey('http://x/graphql', { traceparent: '00-c-d-01', 'content-type': 'application/json' }, body)).toBe(base);
    expect(requestKey('http://x/graphql', { 'content-type': 'application/json', authorization: 'Bearer 1' }, body)).not.toBe(base);
    expect(requestKey('http://y/graphql', { 'content-type': 'application/json' }, body)).not.toBe(base);
  });
});

/**
 * A pass-through in front of a sandbox system that can hold its requests until `release()`, so a test decides what
 * is in flight at once without sleeping. Admin calls (stats, faults) always pass and are not recorded.
 */
class HeldSystem {
  /** `METHOD path` of every API request since the last reset. */
  received: string[] = [];
  private holding = false;
  private held: (() => void)[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start() {
    this.server = createServer((req, res) => {
      const admin = req.url?.startsWith('/_admin/');
      if (!admin) {
        this.received.push(`${req.method} ${req.url}`);
        for (const w of this.waiters.filter((w) => this.received.length >= w.n)) w.resolve();
      }
      if (this.holding && !admin) this.held.push(() => this.forward(req, res));
      else this.forward(req, res);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private forward(req: IncomingMessage, res: ServerResponse) {
    const { host: _host, ...headers } = req.headers;
    const upstream = request(this.target + req.url, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  /** Holds every API request from now on until `release()`. */
  hold() {
    this.holding = true;
  }

  /** Sends on every held request and stops holding. */
  release() {
    this.holding = false;
    for (const send of this.held.splice(0)) send();
  }

  /** Resolves once `n` API requests have arrived since the last reset. */
  arrived(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  reset() {
    this.received = [];
    this.waiters = [];
  }

  async stop() {
    this.release();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('the gateway, deduplicating subgraph reads on a running stack', () => {
  const SEED = { seed: 3, size: 60 };
  const dirs: string[] = [];
  const sandboxes: RunningSandbox[] = [];
  let held: Record<'crm' | 'erp', HeldSystem>;
  /** canon with in-flight dedup on (the default) and off, over the same systems. */
  let canon: TestStack;
  let noDedup: TestStack;
  let customer: { id: string; sourceIds: Record<SystemName, string | null> };
  /** What the systems require; every canon started over them is configured with these, as with `<SYSTEM>_URL`. */
  let credentials: AllSystemCredentials;

  /**
   * canon over the running systems, with its own seeded data dir (the identity crosswalk is the same for the same
   * seed). Its policies run on a clock that never moves: however long a test holds a request, no timeout fires and
   * no retry is sent, so what the systems receive is only what the test caused.
   */
  async function canonOver(systems: Record<SystemName, string>, dedupeReads: boolean): Promise<TestStack> {
    const dir = mkdtempSync(join(tmpdir(), 'canon-dedup-'));
    dirs.push(dir);
    seedAll(dir, SEED);
    const clock = new ManualClock();
    return startTestStack({ dataDir: dir, seedSize: SEED.size, dedupeReads, systemCredentials: credentials, systemResilience: { clock }, subgraphResilience: { clock } }, { systems });
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canon-dedup-systems-'));
    dirs.push(dir);
    seedAll(dir, SEED);
    credentials = generateSandboxCredentials();
    const urls = {} as Record<SystemName, string>;
    for (const s of SYSTEMS) {
      const sandbox = await startSandboxIn(s, dir, credentials);
      sandboxes.push(sandbox);
      urls[s] = sandbox.url;
    }
    held = { crm: new HeldSystem(urls.crm), erp: new HeldSystem(urls.erp) };
    await Promise.all([held.crm.start(), held.erp.start()]);
    const systems = { ...urls, crm: held.crm.url, erp: held.erp.url };
    canon = await canonOver(systems, true);
    noDedup = await canonOver(systems, false);
    const page = await canon.gql('{ customers(first: 60) { edges { node { id sourceIds { crm erp marketing support } } } } }');
    customer = page.data.customers.edges.map((e: any) => e.node).find((n: any) => Object.values(n.sourceIds).every((v) => v !== null));
  });

  afterAll(async () => {
    await Promise.allSettled([canon?.stop({ keepData: true }), noDedup?.stop({ keepData: true })]);
    await Promise.allSettled([held?.crm.stop(), held?.erp.stop(), ...sandboxes.map((s) => s.close())]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await Promise.all([canon.resetStats(), noDedup.resetStats()]);
    held.crm.reset();
    held.erp.reset();
  });

  /** Requests each system subgraph of `stack` received since the last reset. */
  const subgraphRequests = (stack: TestStack) => Object.fromEntries(SYSTEMS.map((s) => [s, stack.subgraphs[s].stats().requests]));

  // One query that needs the same CRM and ERP reads twice: the planner sends one fetch per alias, with the same body,
  // from one request and at once, so whether they are sent once is decided by dedup alone, not by timing.
  const TWICE = '{ a: customers(first: 5) { edges { node { name legalName } } } b: customers(first: 5) { edges { node { name legalName } } } }';
  const ONCE = '{ customers(first: 5) { edges { node { name legalName } } } }';

  it('sends a read that one query needs twice once, and answers both in full', async () => {
    const once = await canon.gql(ONCE);
    await canon.resetStats();
    held.crm.reset();
    held.erp.reset();
    const res = await canon.gql(TWICE);
    expect(res.errors).toBeUndefined();
    expect(res.data.a).toEqual(once.data.customers);
    expect(res.data.b).toEqual(once.data.customers);
    expect(subgraphRequests(canon)).toEqual({ crm: 1, erp: 1, marketing: 0, support: 0 });
    expect([held.crm.received.length, held.erp.received.length]).toEqual([1, 1]);
  });

  it('sends every read when dedupe is off', async () => {
    const res = await noDedup.gql(TWICE);
    expect(res.errors).toBeUndefined();
    expect(res.data.a).toEqual(res.data.b);
    expect(subgraphRequests(noDedup)).toEqual({ crm: 2, erp: 2, marketing: 0, support: 0 });
    expect([held.crm.received.length, held.erp.received.length]).toEqual([2, 2]);
  });

  it('never shares the reads of a client mutation: they must see its own writes', async () => {
    // As a query the two CRM reads are one; inside a mutation each is sent.
    const asQuery = await canon.gql('query($id: ID!) { a: customer(id: $id) { name } b: customer(id: $id) { name } }', { id: customer.id });
    expect(asQuery.errors).toBeUndefined();
    expect(canon.subgraphs.crm.stats().requests).toBe(1);
    await canon.resetStats();
    const res = await canon.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { supportPlan: BASIC }) { a: customer { name } b: customer { name } } }', { id: customer.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.updateCustomer.a).toEqual(asQuery.data.a);
    expect(res.data.updateCustomer.b).toEqual(asQuery.data.a);
    expect(canon.subgraphs.crm.stats().requests).toBe(2);
  });

  it('never shares subgraph mutations: identical writes in flight together each reach the system', async () => {
    // The ERP takes no record lock (its If-Match does the work), so all three writes can be held at the ERP at once.
    held.erp.hold();
    const write = () => canon.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { legalName: "Dedup Writes GmbH" }) { results { system status } } }', { id: customer.id });
    const writes = [write(), write(), write()];
    await held.erp.arrived(3);
    held.erp.release();
    for (const res of await Promise.all(writes)) expect(res.data.updateCustomer.results).toEqual([{ system: 'ERP', status: 'SUCCEEDED' }]);
    expect(held.erp.received.filter((r) => r.startsWith('PATCH '))).toHaveLength(3);
    expect((await canon.systemStats()).erp.writes).toBe(3);
  });

  it("does not join a read sent before the caller's request began (read-your-writes)", async () => {
    const query = 'query($id: ID!) { customer(id: $id) { name } }';
    held.crm.hold();
    const early = canon.gql(query, { id: customer.id });
    await held.crm.arrived(1);
    // The first read is on the wire; a request canon sees only now (say, right after its app's write) sends its own.
    const late = canon.gql(query, { id: customer.id });
    await held.crm.arrived(2);
    held.crm.release();
    const [a, b] = await Promise.all([early, late]);
    expect(a.errors).toBeUndefined();
    expect(b.data).toEqual(a.data);
    expect(canon.subgraphs.crm.stats().requests).toBe(2);
    expect(held.crm.received).toHaveLength(2);
  });
});
