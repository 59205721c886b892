// Performance features that change what subgraphs receive: in-flight deduplication of identical reads, and a resilience policy that leaves nothing behind per call.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanonDataSource } from '../gateway/federation/datasource.js';
import { requestKey } from '../gateway/federation/dedup.js';
import { SystemPolicy } from '../subgraphs/kit/resilience.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** A subgraph stand-in that holds every request until `release()`, so tests decide what overlaps without sleeping. */
class HeldSubgraph {
  received: { body: string; traceparent: string | undefined }[] = [];
  private held: ServerResponse[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.received.push({ body, traceparent: req.headers.traceparent as string | undefined });
        this.held.push(res);
        for (const w of this.waiters.filter((w) => this.received.length >= w.n)) w.resolve();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }

  /** Resolves once `n` requests have arrived in all. */
  arrived(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Answers every held request with a body naming its arrival order. */
  release() {
    for (const [i, res] of this.held.entries()) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { n: i + 1 } }));
    this.held = [];
  }

  reset() {
    this.received = [];
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const subgraph = new HeldSubgraph();
beforeAll(() => subgraph.start());
afterAll(() => subgraph.stop());

function source(dedupe?: boolean) {
  return new CanonDataSource({ name: 'crm', url: subgraph.url, policy: new SystemPolicy('crm', {}, () => 0.5), ...(dedupe === undefined ? {} : { dedupe }) });
}

/** What Apollo passes a data source for one fetch of a client operation (the parts CanonDataSource reads). */
function fetchOf(context: object, query: string, clientOperation: 'query' | 'mutation' = 'query') {
  return {
    kind: 'incoming operation',
    request: { query, variables: {} },
    context,
    incomingRequestContext: { operation: { operation: clientOperation }, overallCachePolicy: undefined },
    pathInIncomingRequest: [],
  } as any;
}

/**
 * `n` client requests that each made a first, distinct fetch (as the identity lookup precedes system fetches), then
 * all send `query` at once; resolves with their answers once `expected` requests reached the subgraph and were released.
 */
async function overlapping(ds: CanonDataSource, n: number, query: string, expected: number, clientOperation: 'query' | 'mutation' = 'query') {
  subgraph.reset();
  const contexts = Array.from({ length: n }, () => ({}));
  const first = contexts.map((c, i) => ds.process(fetchOf(c, `query First${i} { a }`, clientOperation)));
  await subgraph.arrived(n);
  subgraph.release();
  await Promise.all(first);
  subgraph.reset();
  const answers = contexts.map((c) => ds.process(fetchOf(c, query, clientOperation)));
  await subgraph.arrived(expected);
  subgraph.release();
  return Promise.all(answers);
}

describe('CanonDataSource in-flight deduplication', () => {
  it('sends identical overlapping reads once and gives every caller its own copy of the answer', async () => {
    const answers = await overlapping(source(), 10, 'query Same { customers { id } }', 1);
    expect(subgraph.received).toHaveLength(1);
    expect(answers.map((a) => a.data)).toEqual(Array.from({ length: 10 }, () => ({ n: 1 })));
    // Own copies: one caller changing its answer does not change another's.
    (answers[0]!.data as any).n = 99;
    expect(answers[1]!.data).toEqual({ n: 1 });
  });

  it('never shares subgraph mutations', async () => {
    await overlapping(source(), 5, 'mutation Same { touch(id: "1") { id } }', 5);
    expect(subgraph.received).toHaveLength(5);
  });

  it('never shares the reads of a client mutation: they must see its own writes', async () => {
    await overlapping(source(), 5, 'query Same { customers { id } }', 5, 'mutation');
    expect(subgraph.received).toHaveLength(5);
  });

  it('sends every read when dedupe is off', async () => {
    await overlapping(source(false), 5, 'query Same { customers { id } }', 5);
    expect(subgraph.received).toHaveLength(5);
  });

  it('does not join a read sent before the caller\'s request began (read-your-writes)', async () => {
    const ds = source();
    subgraph.reset();
    const early = ds.process(fetchOf({}, 'query Same { customers { id } }'));
    await subgraph.arrived(1);
    // A request canon first sees now, say right after its app's write completed, must not get that earlier answer.
    const late = ds.process(fetchOf({}, 'query Same { customers { id } }'));
    await subgraph.arrived(2);
    subgraph.release();
    expect((await Promise.all([early, late])).map((a) => a.data)).toEqual([{ n: 1 }, { n: 2 }]);
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

describe('SystemPolicy per-call cleanup', () => {
  it('leaves no abort listener behind and warns of none across many concurrent calls', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const policy = new SystemPolicy('crm', {}, () => 0.5);
      const signals: AbortSignal[] = [];
      await Promise.all(Array.from({ length: 50 }, () => policy.execute(async (signal) => { signals.push(signal); return 1; }, { retry: true })));
      // Successful attempts are not aborted afterwards: no abort reason (a DOMException) is built for them.
      expect(signals.filter((s) => s.aborted)).toEqual([]);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('gateway in-flight deduplication', () => {
  let stack: TestStack;
  const QUERY = '{ customers(first: 20) { edges { node { id name email legalName creditLimit { amount currency } emailConsent supportPlan openTickets } } } }';
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('sends the subgraphs fewer requests than 20 identical concurrent queries need, each answered in full', async () => {
    const expected = await stack.gql(QUERY);
    expect(expected.errors).toBeUndefined();
    expect(expected.data.customers.edges).toHaveLength(20);
    // Slow systems keep the reads in flight together, as under load.
    for (const s of ['crm', 'erp', 'marketing', 'support'] as const) await stack.setFaults(s, { latencyMs: 100 });
    await stack.resetStats();
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => stack.gql(QUERY)));
      for (const a of answers) expect({ data: a.data, errors: a.errors }).toEqual({ data: expected.data, errors: undefined });
      const subgraphs = Object.values(stack.subgraphs);
      const sent = subgraphs.reduce((n, sg) => n + sg.stats().requests, 0);
      expect(sent).toBeLessThan(20 * subgraphs.length);
    } finally {
      await stack.clearFaults();
    }
  });
});
