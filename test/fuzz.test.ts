// Fuzzing /graphql with fast-check, seeded: over 10,000 schema-aware documents, mutated valid documents and random bodies against a running gateway; no 5xx but declared upstream failures, every error coded, no crash, memory bounded.

import fc from 'fast-check';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../schema/errors.js';
import { DocumentArbitraries, mutatedRequests, randomRequests, type FuzzRequest } from './support/fuzz-arbitraries.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { gc } from './support/gc.js';

const SEED = 14;
const RUNS = { schemaAware: 2000, mutated: 3600, random: 4500 };
/** The only failures that may answer 5xx: a source system's, declared as such. */
const UPSTREAM = new Set<string>([ErrorCode.SYSTEM_UNAVAILABLE, ErrorCode.SYSTEM_TIMEOUT, ErrorCode.SYSTEM_ERROR, ErrorCode.CIRCUIT_OPEN]);
const CODES = new Set<string>(Object.values(ErrorCode));

let stack: TestStack;
let documents: DocumentArbitraries;
let valid: { query: string; variables?: Record<string, unknown>; operationName?: string }[];
let heapBefore: number;
let rssBefore: number;
const tally = { requests: 0, withData: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  // Small document and plan caches, so that ever new documents fill them early and what remains is any leak.
  stack = await startTestStack({ seedSize: 20, operationCacheMiB: 1 });
  const introspection = await stack.gql(getIntrospectionQuery());
  const schema = buildClientSchema(introspection.data);
  const page = await stack.gql('{ customers(first: 20) { edges { node { id sourceIds { crm erp marketing support } } } } }');
  const nodes = page.data.customers.edges.map((e: any) => e.node);
  const id = nodes[0].id;
  const crmId = nodes.find((n: any) => n.sourceIds.crm).sourceIds.crm;
  documents = new DocumentArbitraries(schema, { customerIds: nodes.map((n: any) => n.id), sourceIds: nodes.flatMap((n: any) => Object.values(n.sourceIds).filter(Boolean)) });
  valid = [
    { query: '{ customers(first: 3) { edges { cursor node { id name email legalName creditLimit { amount currency } } } pageInfo { hasNextPage endCursor } } }' },
    { query: 'query One($id: ID!) { customer(id: $id) { id name phone billingAddress { city country } tickets(first: 2) { id subject } } }', variables: { id }, operationName: 'One' },
    { query: 'query BySource($s: System!, $id: ID!) { customerBySourceId(system: $s, id: $id) { id sourceIds { crm erp } } }', variables: { s: 'CRM', id: crmId } },
    { query: '{ dataModel { types { name fields { name owner writable } } } }' },
    { query: 'query Ops($first: Int) { operations(first: $first) { edges { node { id status steps { system status } } } } }', variables: { first: 2 }, operationName: 'Ops' },
    { query: 'mutation Rename($id: ID!, $name: String) { updateCustomer(id: $id, input: { name: $name }) { results { system status } } }', variables: { id, name: 'Fuzz Renamed' } },
    { query: 'fragment F on Customer { id name } { customers(first: 2) { edges { node { ...F } } } }' },
    { query: '{ __schema { queryType { name } types { name kind } } }' },
  ];
  // Warm every path once before measuring memory: plans, caches and pools are built on first use.
  for (const v of valid) await stack.postGraphql(v);
  gc();
  heapBefore = process.memoryUsage().heapUsed;
  rssBefore = process.memoryUsage().rss;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function send(r: FuzzRequest): Promise<{ status: number; contentType: string; text: string }> {
  const headers: Record<string, string> = { ...stack.authHeaders() };
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.accept) headers.accept = r.accept;
  if (r.idempotencyKey) headers['idempotency-key'] = r.idempotencyKey;
  const body = r.method === 'POST' ? (r.body instanceof Uint8Array ? Buffer.from(r.body) : r.body) : undefined;
  const res = await fetch(`${stack.gateway.url}/graphql${r.search ? `?${r.search}` : ''}`, { method: r.method, headers, body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** What is wrong with an answer, or null: a 5xx not declared as a system's failure, a JSON answer that is not JSON, an error without a canon code. */
function fault(res: { status: number; contentType: string; text: string }): string | null {
  tally.requests++;
  // Collect now and then, as a gateway under steady load does: V8 otherwise grows its heap lazily, and RSS would show
  // garbage not yet collected rather than what the gateway keeps.
  if (tally.requests % 1000 === 0) gc();
  let body: { data?: unknown; errors?: { extensions?: { code?: unknown } }[] } | undefined;
  if (res.contentType.includes('json')) {
    try {
      body = JSON.parse(res.text);
    } catch {
      return `${res.status} with unparseable JSON: ${res.text.slice(0, 200)}`;
    }
  }
  if (body?.data) tally.withData++;
  const codes = (body?.errors ?? []).map((e) => String(e.extensions?.code));
  if (res.status >= 500 && !(codes.length && codes.every((c) => UPSTREAM.has(c)))) return `${res.status}: ${res.text.slice(0, 300)}`;
  const uncoded = codes.filter((c) => !CODES.has(c));
  if (uncoded.length) return `${res.status} with codes outside schema/errors.ts (${uncoded.join(', ')}): ${res.text.slice(0, 300)}`;
  // A request's own fault is never labelled as canon's.
  if (res.status < 500 && codes.includes(ErrorCode.INTERNAL_SERVER_ERROR)) return `${res.status} labelled INTERNAL_SERVER_ERROR: ${res.text.slice(0, 300)}`;
  return null;
}

const asPost = (body: unknown): FuzzRequest => ({ method: 'POST', body: JSON.stringify(body), contentType: 'application/json' });

describe('the gateway under fuzzing', () => {
  it(`answers ${RUNS.schemaAware} schema-aware documents and variables without a 5xx or an uncoded error`, async () => {
    await stack.resetStats();
    const before = tally.withData;
    await fc.assert(
      fc.asyncProperty(documents.request(), async (request) => {
        const wrong = fault(await send(asPost(request)));
        if (wrong) throw new Error(`${wrong}\nrequest: ${JSON.stringify(request)}`);
      }),
      { seed: SEED, numRuns: RUNS.schemaAware },
    );
    // Not vacuous: many documents were valid, ran, and reached the systems.
    expect(tally.withData - before).toBeGreaterThan(RUNS.schemaAware / 4);
    const stats = await stack.systemStats();
    for (const system of ['crm', 'erp', 'marketing', 'support'] as const) expect(stats[system].reads, system).toBeGreaterThan(0);
  }, 300_000);

  it(`answers ${RUNS.mutated} mutated valid documents without a 5xx or an uncoded error`, async () => {
    await fc.assert(
      fc.asyncProperty(mutatedRequests(valid), fc.constantFrom(undefined, 'application/graphql-response+json'), async (request, accept) => {
        const wrong = fault(await send({ ...asPost(request), accept }));
        if (wrong) throw new Error(`${wrong}\nrequest: ${JSON.stringify(request)}`);
      }),
      { seed: SEED, numRuns: RUNS.mutated },
    );
  }, 300_000);

  it(`answers ${RUNS.random} random bodies, parameters and headers without a 5xx or an uncoded error`, async () => {
    await fc.assert(
      fc.asyncProperty(randomRequests(), async (request) => {
        const wrong = fault(await send(request));
        if (wrong) throw new Error(`${wrong}\nrequest: ${JSON.stringify({ ...request, body: request.body instanceof Uint8Array ? [...request.body] : request.body })}`);
      }),
      { seed: SEED, numRuns: RUNS.random },
    );
  }, 300_000);

  it('is still serving afterwards, its memory bounded', async () => {
    expect(tally.requests).toBeGreaterThanOrEqual(10_000);
    expect((await fetch(`${stack.gateway.url}/health`)).status).toBe(200);
    const page = await stack.gql('{ customers(first: 2) { edges { node { id name } } } }');
    expect(page.data.customers.edges).toHaveLength(2);
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    // After a full collection. The two 1 MiB caches fill with about 15 MB of heap in the first thousands of
    // documents, then the heap stays flat (measured); a leak of 2 KB per request would pass the bound.
    expect(heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    expect(rss - rssBefore).toBeLessThan(96 * 1024 * 1024);
  });
});
