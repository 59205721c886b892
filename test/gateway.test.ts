// The gateway's own answers (malformed, too large, unrouted, failed) with a code and a trace id, and what it records of refused mutations.

import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryLog, traceparent } from './support/log.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** Sends only a request head over a raw socket and reads whatever comes back until the server closes. */
function rawHead(base: string, head: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const [top, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = top!.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

let stack: TestStack;
const log = memoryLog();
let customerId: string;

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 30 }, { log: log.logger });
  customerId = (await stack.gql('{ customers(first: 1) { edges { node { id } } } }')).data.customers.edges[0].node.id;
});
afterAll(() => stack?.stop());
afterEach(() => vi.restoreAllMocks());

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await stack.postGraphql(body, headers);
  return { status: res.status, json: (await res.json()) as any };
}

describe('gateway HTTP answers', () => {
  it('answers a body that is not JSON with 400, BAD_REQUEST and the trace id', async () => {
    const tp = traceparent();
    const res = await post('{"query": "{ customers', { traceparent: tp.header });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST', traceId: tp.traceId } }] });
  });

  it('answers a failure of its own with 500, INTERNAL_SERVER_ERROR and the trace id, and logs the cause without showing it', async () => {
    vi.spyOn(stack.idempotency, 'claim').mockRejectedValueOnce(new Error('keyv store at /var/secret is down'));
    const tp = traceparent();
    const res = await post(JSON.stringify({ query: 'mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Never" }) { operationId } }', variables: { id: customerId } }), { traceparent: tp.header, 'idempotency-key': 'internal-failure-1' });
    expect(res.status).toBe(500);
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', traceId: tp.traceId });
    const text = JSON.stringify(res.json);
    expect(text).not.toContain('/var/secret');
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    const logged = log.lines.filter((l) => l.traceId === tp.traceId && l.msg === 'gateway request failed');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.error).toContain('keyv store at /var/secret is down');
  });

  it('refuses a body declared larger than the limit with 413, REQUEST_TOO_LARGE and connection: close, before reading it', async () => {
    await stack.resetStats();
    const res = await rawHead(stack.gateway.url, `POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n`);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    const body = JSON.parse(res.body);
    expect(body.errors[0].extensions).toEqual({ code: 'REQUEST_TOO_LARGE', limitBytes: 1024 * 1024, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(Object.values(stack.subgraphs).reduce((n, sg) => n + sg.stats().requests, 0)).toBe(0);
  });

  it("gives Apollo's own refusals, made before its pipeline runs, a code and the trace id too", async () => {
    const tp = traceparent();
    const batched = await post('[{"query":"{ __typename }"}]', { traceparent: tp.header });
    expect(batched.status).toBe(400);
    expect(batched.json.errors[0].extensions).toEqual({ code: 'BAD_REQUEST', traceId: tp.traceId });
    const csrf = await stack.postGraphql('{"query":"{ __typename }"}', { 'content-type': 'text/plain', traceparent: tp.header });
    expect(csrf.status).toBe(400);
    expect((await csrf.json()).errors[0].extensions).toEqual({ code: 'BAD_REQUEST', traceId: tp.traceId });
  });

  it('answers a path it does not serve with 404, NOT_FOUND and the trace id', async () => {
    const tp = traceparent();
    const res = await fetch(`${stack.gateway.url}/nothing-here`, { headers: { traceparent: tp.header } });
    expect(res.status).toBe(404);
    expect((await res.json()).errors[0].extensions).toEqual({ code: 'NOT_FOUND', traceId: tp.traceId });
  });
});

const OPS = 'query($app: String) { operations(app: $app) { edges { node { kind status error { code } steps { system } } } } }';

describe('operationsPlugin records refused mutations once', () => {
  it('records a write its resolver refused once, as the resolver recorded it', async () => {
    const res = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { email: "not an email" }) { operationId } }', { id: customerId }, await stack.appHeaders('refused-by-resolver'));
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const listed = await stack.gql(OPS, { app: 'refused-by-resolver' });
    expect(listed.data.operations.edges.map((e: any) => e.node)).toEqual([{ kind: 'mutation', status: 'FAILED', error: { code: 'BAD_USER_INPUT' }, steps: [] }]);
  });

  it('records a write refused in its variables, before any resolver ran', async () => {
    const res = await stack.gql('mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId } }', { id: customerId, input: { creditLimit: { amount: '1', currency: 'EUR' } } }, await stack.appHeaders('refused-in-variables'));
    expect(res.errors?.[0]?.extensions?.code).toBe('FIELD_NOT_WRITABLE');
    const listed = await stack.gql(OPS, { app: 'refused-in-variables' });
    expect(listed.data.operations.edges.map((e: any) => e.node)).toEqual([{ kind: 'mutation', status: 'FAILED', error: { code: 'FIELD_NOT_WRITABLE' }, steps: [] }]);
  });

  it('records nothing new for a retry of an operation that does not exist', async () => {
    const res = await stack.gql('mutation { retryOperation(id: "missing") { id } }', {}, await stack.appHeaders('retry-missing'));
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await stack.gql(OPS, { app: 'retry-missing' })).data.operations.edges).toEqual([]);
  });
});
