// Query limits and body caps: what a hostile client's request costs canon (nothing reaches a subgraph or a system), and that ordinary large requests still run.

import { createHash, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import { loadConfig } from '../gateway/config.js';
import { prefersGraphqlResponseJson } from '../gateway/http/errors.js';
import { QueryLimiter } from '../gateway/security/limits.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { gc } from './support/gc.js';

/** Every Customer field, tickets (their default 10) included. */
const EVERY_FIELD =
  'id sourceIds { crm erp marketing support } name email phone lifecycleStage crmVersion legalName taxId billingAddress { line1 line2 city postalCode country } paymentTerms creditLimit { amount currency } accountStatus openBalance { amount currency } erpVersion emailConsent marketingVersion supportPlan openTickets supportVersion tickets { id subject body status priority createdAt }';
const pages = (n: number, first: number, fields: string) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: customers(first: ${first}) { edges { node { ${fields} } } }`).join(' ')} }`;
/** The alias bomb: 1,500 aliased pages of 1000 customers. */
const ALIAS_BOMB = pages(1500, 1000, 'id name email legalName creditLimit { amount currency } supportPlan');

let stack: TestStack;
let customerId: string;

beforeAll(async () => {
  stack = await startTestStack();
  // One with a CRM record, so a rename writes to the CRM.
  const edges = (await stack.gql('{ customers(first: 20) { edges { node { id sourceIds { crm } } } } }')).data.customers.edges;
  customerId = edges.find((e: any) => e.node.sourceIds.crm).node.id;
});
afterAll(async () => {
  await stack?.stop();
});

/** Requests every subgraph and every system received since the last reset. */
async function received(): Promise<{ subgraphs: number; systems: number; writes: number }> {
  const systems = Object.values(await stack.systemStats());
  return {
    subgraphs: Object.values(stack.subgraphs).reduce((n, sg) => n + sg.stats().requests, 0),
    systems: systems.reduce((n, s) => n + s.requests, 0),
    writes: systems.reduce((n, s) => n + s.writes, 0),
  };
}

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await stack.postGraphql(body, headers);
  return { status: res.status, contentType: res.headers.get('content-type'), json: (await res.json()) as any };
}

describe('query limits', () => {
  it('refuses the alias bomb with QUERY_TOO_COMPLEX at the token limit, and no subgraph or system is asked', async () => {
    await stack.resetStats();
    const res = await post({ query: ALIAS_BOMB });
    expect(res.status).toBe(200);
    expect(res.json.data).toBeUndefined();
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'tokens', max: 5000 }, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
  });

  it('keeps the gateway’s memory flat over 40 alias bombs', async () => {
    const body = JSON.stringify({ query: ALIAS_BOMB });
    await post(body);
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < 40; i++) expect((await post(body)).json.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    gc();
    const after = process.memoryUsage();
    // Unrefused, one bomb took the gateway from 220 MB to 2.1 GB; refused, 40 of them leave a few MB at most.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(4 * 1024 * 1024);
    // External memory holds the engine's PGlite (WebAssembly memory, grown in pages by its own work) besides the gateway's buffers.
    expect(after.external - before.external).toBeLessThan(16 * 1024 * 1024);
    // RSS is the whole test process: sandboxes, subgraphs and the workflow engine's PGlite (WebAssembly memory, which
    // grows for the engine's own queue polling) besides the gateway, so it gets a looser bound, still 20 times below
    // what one unrefused bomb took.
    expect(after.rss - before.rss).toBeLessThan(96 * 1024 * 1024);
  });

  it('runs one customers(first: 1000) page with every Customer field', async () => {
    await stack.resetStats();
    const res = await stack.gql(`{ customers(first: 1000) { edges { cursor node { ${EVERY_FIELD} } } pageInfo { hasNextPage endCursor } totalCount } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.customers.edges).toHaveLength(res.data.customers.totalCount);
    const stats = await stack.systemStats();
    for (const system of ['crm', 'erp', 'marketing', 'support'] as const) expect(stats[system].reads, system).toBeGreaterThan(0);
  });

  it('runs 20 aliased pages of first: 20 with every Customer field', async () => {
    const res = await stack.gql(pages(20, 20, EVERY_FIELD));
    expect(res.errors).toBeUndefined();
    expect(Object.keys(res.data)).toHaveLength(20);
    for (const page of Object.values<any>(res.data)) expect(page.edges).toHaveLength(20);
  });

  it('refuses 60 aliased pages of first: 1000 by their cost, first multiplying, before any subgraph is asked', async () => {
    await stack.resetStats();
    const res = await post({ query: pages(60, 1000, 'id') });
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'cost', max: 150_000, actual: 60 * (1 + 1000 * 3) } });
    expect(res.json.errors[0].message).toContain('`first` multiplies');
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
  });

  it('costs first as the variables set it', async () => {
    const query = 'query Page($n: Int) { customers(first: $n) { edges { node { id } } } }';
    await stack.resetStats();
    const refused = await post({ query, variables: { n: 100_000 } });
    expect(refused.json.errors[0].extensions.limit).toEqual({ name: 'cost', max: 150_000, actual: 1 + 100_000 * 3 });
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
    const runs = await stack.gql(query, { n: 5 });
    expect(runs.data.customers.edges).toHaveLength(5);
  });

  it('refuses fragments spread into fragments past the node cap, without expanding them', async () => {
    const levels = ['fragment F0 on Customer { id name }'];
    for (let i = 1; i <= 8; i++) levels.push(`fragment F${i} on Customer { ${Array.from({ length: 10 }, () => `...F${i - 1}`).join(' ')} }`);
    const res = await post({ query: `{ customers(first: 1) { edges { node { ...F8 } } } } ${levels.join(' ')}` });
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'cost', max: 150_000 } });
  });

  it('refuses an operation nested deeper than MAX_DEPTH, naming how deep', async () => {
    const ofTypes = (n: number): string => (n === 0 ? 'name' : `ofType { ${ofTypes(n - 1)} }`);
    const res = await post({ query: `{ __type(name: "Customer") { fields { type { ${ofTypes(8)} } } } }` });
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'depth', max: 10, actual: 12 } });
    // Fragments are not levels: the same fields through a fragment are as deep.
    const viaFragment = await post({ query: `{ __type(name: "Customer") { ...T } } fragment T on __Type { fields { type { ${ofTypes(8)} } } }` });
    expect(viaFragment.json.errors[0].extensions.limit).toEqual({ name: 'depth', max: 10, actual: 12 });
    const within = await stack.gql(`{ __type(name: "Customer") { fields { type { ${ofTypes(6)} } } } }`);
    expect(within.errors).toBeUndefined();
  });

  it('refuses more than MAX_ALIASES aliases, counting none for __typename', async () => {
    const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `c${i}: customer(id: "${customerId}") { id }`).join(' ')} t1: __typename t2: __typename }`;
    const res = await post({ query: aliased(101) });
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'aliases', max: 100, actual: 101 } });
    const within = await stack.gql(aliased(100));
    expect(within.errors).toBeUndefined();
    expect(within.data.c99).toEqual({ id: customerId });
  });

  it('answers a limit 400 under application/graphql-response+json, and 200 under application/json, as GraphQL over HTTP does for document errors', async () => {
    const query = pages(60, 1000, 'id');
    const gql = await post({ query }, { accept: 'application/graphql-response+json' });
    expect([gql.status, gql.contentType]).toEqual([400, 'application/graphql-response+json; charset=utf-8']);
    expect(gql.json.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    const json = await post({ query }, { accept: 'application/json' });
    expect([json.status, json.contentType]).toEqual([200, 'application/json; charset=utf-8']);
  });

  it('applies the limits to a GET’s query string too', async () => {
    await stack.resetStats();
    const search = new URLSearchParams({ query: 'query Page($n: Int) { customers(first: $n) { edges { node { id } } } }', variables: JSON.stringify({ n: 100_000 }) });
    const res = await fetch(`${stack.gateway.url}/graphql?${search}`, { headers: { ...stack.authHeaders(), 'apollo-require-preflight': 'true' } });
    expect((await res.json()).errors[0].extensions.limit).toEqual({ name: 'cost', max: 150_000, actual: 300_001 });
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
  });

  it('applies them to an automatic persisted query sent by hash, with its new variables', async () => {
    const query = 'query PersistedPage($n: Int) { customers(first: $n) { edges { node { id } } } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const registered = await post({ query, variables: { n: 2 }, extensions: { persistedQuery } });
    expect(registered.json.data.customers.edges).toHaveLength(2);
    await stack.resetStats();
    const byHash = await post({ variables: { n: 100_000 }, extensions: { persistedQuery } });
    expect(byHash.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: { name: 'cost', max: 150_000, actual: 300_001 } });
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
  });

  it('refuses a keyed mutation past a limit before its key is claimed: nothing written, and the key still free', async () => {
    const key = randomUUID();
    await stack.resetStats();
    const mutation = (selection: string) => `mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Limit Tested" }) { ${selection} } }`;
    const refused = await post({ query: mutation('customer { tickets(first: 100000) { id subject } }'), variables: { id: customerId } }, { 'idempotency-key': key });
    expect(refused.json.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
    const ran = await post({ query: mutation('results { system status }'), variables: { id: customerId } }, { 'idempotency-key': key });
    expect(ran.json.errors).toBeUndefined();
    expect(ran.json.data.updateCustomer.results).toEqual([{ system: 'CRM', status: 'SUCCEEDED' }]);
  });
});

/**
 * Sends a chunked POST of `totalBytes` to /graphql over a raw socket, but holds the body after `sendBytes`: a server
 * that waited for the whole body would never answer. Resolves with what came back once the server closes.
 */
function heldBody(base: string, key: string, sendBytes: number): Promise<{ status: number; headers: Record<string, string>; body: string; sent: number }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let sent = 0;
    let text = '';
    socket.on('connect', async () => {
      socket.write(`POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAuthorization: Bearer ${key}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      while (sent < sendBytes && !socket.destroyed) {
        const ok = socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        sent += chunk.length;
        if (!ok) await new Promise((r) => socket.once('drain', r));
      }
      // The rest of the body, and its last chunk, are never sent.
    });
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    socket.on('close', () => {
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), sent });
    });
  });
}

describe('body caps', () => {
  it('answers a 5 MiB body 413 REQUEST_TOO_LARGE while the client still holds most of it, and closes the connection', async () => {
    await stack.resetStats();
    const res = await heldBody(stack.gateway.url, stack.devKey, 1024 * 1024 + 256 * 1024);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body).errors[0].extensions).toEqual({ code: 'REQUEST_TOO_LARGE', limitBytes: 1024 * 1024, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // Of the 5 MiB it meant to send, the client had sent 1.25 MiB and held the rest: the answer did not wait for it.
    expect(res.sent).toBe(1024 * 1024 + 256 * 1024);
    expect(await received()).toEqual({ subgraphs: 0, systems: 0, writes: 0 });
  });

  it('answers malformed bodies with a 4xx and a code, never a 5xx', async () => {
    const bodies = ['{"query": "{ customers', '', '[]', '42', 'null', '"{ __typename }"', '{"query": 42}', '{"query": "{ __typename }", "variables": "not an object"}', '\u0000\u00ff', '{"query": "{ __typename }"}}'];
    for (const body of bodies) {
      const res = await stack.postGraphql(body);
      const json = (await res.json()) as any;
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
      expect(json.errors[0].extensions.code, body).toBe('BAD_REQUEST');
    }
  });

  it('caps the subgraphs and the sandboxes at MAX_BODY_BYTES too', async () => {
    const small = await startTestStack({ seedSize: 5, maxBodyBytes: 4096 });
    try {
      const over = JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(5000) });
      const init = { method: 'POST', headers: { 'content-type': 'application/json', ...small.authHeaders() }, body: over };
      for (const url of [`${small.gateway.url}/graphql`, small.subgraphs.crm.url]) expect((await fetch(url, init)).status, url).toBe(413);
      // The sandbox with its own credentials, which replace the gateway's key.
      expect((await small.systemFetch('crm', '/crm/v3/objects/contacts/batch/read', init)).status).toBe(413);
      const within = await small.gql('{ customers(first: 2) { edges { node { name } } } }');
      expect(within.data.customers.edges).toHaveLength(2);
    } finally {
      await small.stop();
    }
  });
});

describe('QueryLimiter', () => {
  /** A limiter on the gateway's API schema (as introspected), with a cost limit small enough to tell pages apart. */
  async function limiter(maxCost: number): Promise<QueryLimiter> {
    const l = new QueryLimiter({ maxTokens: 5000, maxDepth: 10, maxAliases: 100, maxCost });
    l.useSchema(buildClientSchema((await stack.gql(getIntrospectionQuery())).data));
    return l;
  }
  const cost = (l: QueryLimiter, query: string, variables?: unknown) => l.check({ query, variables })?.limit.actual ?? null;

  it('judges a text once but costs every request by its own variables, an absent one taking its default', async () => {
    const l = await limiter(250);
    const query = 'query($n: Int, $all: Boolean = true) { customers(first: $n) @include(if: $all) { edges { node { id } } } }';
    expect(cost(l, query, {})).toBeNull(); // first's default, 20: 61
    expect(cost(l, query, { n: null })).toBe(301); // no first at all counts as 100
    expect(cost(l, query, { n: 50 })).toBeNull();
    expect(cost(l, query, { n: 100 })).toBe(301);
    expect(cost(l, query, { n: 50 })).toBeNull();
    expect(cost(l, query, { n: 100, all: false })).toBeNull(); // a skipped page costs nothing
    expect(cost(l, query, { n: 100, all: true })).toBe(301);
  });

  it('never remembers a pass it gave only because other variables were wrong', async () => {
    const l = await limiter(250);
    const query = 'query($n: Int, $id: ID!) { customer(id: $id) { id } customers(first: $n) { edges { node { id } } } }';
    // $id missing: Apollo refuses the request; the limiter leaves it to Apollo.
    expect(l.check({ query, variables: { n: 1000 } })).toBeNull();
    expect(cost(l, query, { n: 1000, id: 'c1' })).toBe(1 + 1 + 1 + 1000 * 3);
  });
});

describe('limit settings', () => {
  it('reads MAX_TOKENS, MAX_DEPTH, MAX_ALIASES, MAX_COST and MAX_BODY_BYTES, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({ queryLimits: { maxTokens: 5000, maxDepth: 10, maxAliases: 100, maxCost: 150_000 }, maxBodyBytes: 1024 * 1024 });
    const set = loadConfig({ MAX_TOKENS: '800', MAX_DEPTH: '6', MAX_ALIASES: '0', MAX_COST: '5000', MAX_BODY_BYTES: '65536' });
    expect(set).toMatchObject({ queryLimits: { maxTokens: 800, maxDepth: 6, maxAliases: 0, maxCost: 5000 }, maxBodyBytes: 65536 });
    expect(() => loadConfig({ MAX_COST: '0' })).toThrow('MAX_COST must be a positive integer; got "0".');
    expect(() => loadConfig({ MAX_BODY_BYTES: '1MB' })).toThrow('MAX_BODY_BYTES must be a non-negative integer; got "1MB".');
  });

  it('prefers application/graphql-response+json as Apollo Server does', () => {
    expect(prefersGraphqlResponseJson(undefined)).toBe(false);
    expect(prefersGraphqlResponseJson('*/*')).toBe(false);
    expect(prefersGraphqlResponseJson('application/json')).toBe(false);
    expect(prefersGraphqlResponseJson('application/graphql-response+json')).toBe(true);
    expect(prefersGraphqlResponseJson('application/graphql-response+json, application/json')).toBe(true);
    expect(prefersGraphqlResponseJson('application/json, application/graphql-response+json')).toBe(false);
    expect(prefersGraphqlResponseJson('application/json;q=0.9, application/graphql-response+json')).toBe(true);
    expect(prefersGraphqlResponseJson('application/graphql-response+json;q=0, */*')).toBe(false);
    expect(prefersGraphqlResponseJson('application/graphql-response+json, */*;q=0.5')).toBe(true);
  });
});
