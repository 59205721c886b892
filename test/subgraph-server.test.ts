// The subgraph HTTP server's own answers: what a caller gets for a body too large, not JSON, the wrong route, or a failure inside it.

import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../schema/errors.js';
import { startSubgraphServer, type RunningSubgraph } from '../subgraphs/kit/server.js';
import { defineSubgraph } from '../subgraphs/kit/subgraph.js';

const LIMIT = 256;
let healthy: RunningSubgraph;
let failing: RunningSubgraph;

const definition = (createContext: () => object) =>
  defineSubgraph({ name: 'crm', schema: parse('type Query { hello: String }'), resolvers: { Query: { hello: () => 'world' } }, createContext });

beforeAll(async () => {
  healthy = await startSubgraphServer(definition(() => ({})), { maxBodyBytes: LIMIT });
  failing = await startSubgraphServer(
    definition(() => {
      throw new Error('context could not be built');
    }),
  );
});

afterAll(async () => {
  await Promise.all([healthy?.close(), failing?.close()]);
});

const post = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('subgraph server', () => {
  it('answers a query within the body cap', async () => {
    const res = await post(healthy.url, JSON.stringify({ query: '{ hello }' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { hello: 'world' } });
  });

  it('refuses a body over the cap with 413 REQUEST_TOO_LARGE, running nothing', async () => {
    const before = healthy.stats().requests;
    const res = await post(healthy.url, JSON.stringify({ query: `{ hello } # ${'x'.repeat(LIMIT)}` }));
    expect(res.status).toBe(413);
    const body = await res.json();
    expect(body.errors).toEqual([{ message: `The request body is larger than ${LIMIT} bytes; send at most ${LIMIT}.`, extensions: { code: ErrorCode.REQUEST_TOO_LARGE } }]);
    expect(healthy.stats().requests).toBe(before);
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
    const res = await post(healthy.url, '{ hello');
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].extensions).toEqual({ code: ErrorCode.BAD_REQUEST });
  });

  it('answers a request without a query string with BAD_REQUEST', async () => {
    const res = await post(healthy.url, JSON.stringify({ variables: {} }));
    expect((await res.json()).errors[0].extensions.code).toBe(ErrorCode.BAD_REQUEST);
  });

  it('answers another route with 404 NOT_FOUND naming the one it serves', async () => {
    const res = await fetch(healthy.url.replace(/\/graphql$/, '/nope'));
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(body.errors[0]).toMatchObject({ message: 'No route GET /nope; POST /graphql.', extensions: { code: ErrorCode.NOT_FOUND } });
  });

  it('answers its own failure with 500 INTERNAL_SERVER_ERROR naming the subgraph', async () => {
    const res = await post(failing.url, JSON.stringify({ query: '{ hello }' }));
    expect(res.status).toBe(500);
    expect((await res.json()).errors).toEqual([{ message: 'Subgraph crm failed: context could not be built', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }]);
  });
});
