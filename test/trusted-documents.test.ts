// Trusted documents: with TRUSTED_DOCUMENTS set, a listed operation runs by id or by exact text, anything else is refused before anything is called.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustedDocuments } from '../gateway/security/trusted-documents.js';
import { startTestStack, type TestStack } from './support/stack.js';

const LISTED = 'query FirstNames($first: Int) { customers(first: $first) { edges { node { id name } } } }';
const LISTED_WRITE = 'mutation Rename($id: ID!, $name: String!) { updateCustomer(id: $id, input: { name: $name }) { results { system status } } }';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'canon-trusted-'));
const manifest = join(dir, 'persisted-query-manifest.json');
writeFileSync(
  manifest,
  JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [
      { id: sha(LISTED), name: 'FirstNames', type: 'query', body: LISTED },
      { id: sha(LISTED_WRITE), name: 'Rename', type: 'mutation', body: LISTED_WRITE },
    ],
  }),
);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ seedSize: 10, trustedDocuments: manifest });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: unknown) {
  const res = await stack.postGraphql(body);
  return { status: res.status, json: (await res.json()) as any };
}

const subgraphRequests = () => Object.values(stack.subgraphs).reduce((n, sg) => n + sg.stats().requests, 0);

describe('trusted documents through the gateway', () => {
  it('runs a listed operation sent as its exact text', async () => {
    const res = await post({ query: LISTED, variables: { first: 2 } });
    expect(res.status).toBe(200);
    expect(res.json.data.customers.edges).toHaveLength(2);
    expect(res.json.errors).toBeUndefined();
  });

  it('runs a listed operation sent by id alone, by POST and by GET', async () => {
    const byPost = await post({ variables: { first: 3 }, extensions: { persistedQuery: { version: 1, sha256Hash: sha(LISTED) } } });
    expect(byPost.status).toBe(200);
    expect(byPost.json.data.customers.edges).toHaveLength(3);
    const search = new URLSearchParams({ variables: JSON.stringify({ first: 1 }), extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha(LISTED) } }) });
    const byGet = await fetch(`${stack.gateway.url}/graphql?${search}`, { headers: { ...stack.authHeaders(), 'apollo-require-preflight': 'true' } });
    expect(byGet.status).toBe(200);
    expect((await byGet.json()).data.customers.edges).toHaveLength(1);
  });

  it('runs a listed operation named by documentId, as codegen clients send it', async () => {
    const res = await post({ documentId: sha(LISTED), variables: { first: 2 } });
    expect(res.status).toBe(200);
    expect(res.json.data.customers.edges).toHaveLength(2);
    expect((await post({ documentId: 'unknown', variables: {} })).json.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('runs a listed mutation by id', async () => {
    // A customer with a name has a CRM record to rename.
    const nodes = (await post({ query: LISTED, variables: { first: 10 } })).json.data.customers.edges.map((e: { node: { id: string; name: string | null } }) => e.node);
    const id = nodes.find((n: { name: string | null }) => n.name !== null).id;
    const res = await post({ variables: { id, name: 'Trusted Rename' }, extensions: { persistedQuery: { version: 1, sha256Hash: sha(LISTED_WRITE) } } });
    expect(res.json.data.updateCustomer.results).toEqual([{ system: 'CRM', status: 'SUCCEEDED' }]);
  });

  it('refuses an unlisted text, an unknown id, a listed id with other text and a body without a query, calling nothing', async () => {
    await stack.resetStats();
    const refused = [
      { query: '{ customers(first: 1) { edges { node { id name } } } }' },
      { query: `${LISTED} ` },
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha('{ __typename }') } } },
      { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: sha(LISTED) } } },
      { variables: {} },
    ];
    for (const body of refused) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].extensions).toEqual({ code: 'PERSISTED_QUERY_NOT_IN_LIST', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    }
    expect(subgraphRequests()).toBe(0);
    const stats = await stack.systemStats();
    expect(Object.values(stats).map((s) => s.requests)).toEqual([0, 0, 0, 0]);
  });

  it('still asks for a key before looking at the document', async () => {
    const res = await fetch(`${stack.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LISTED }) });
    expect(res.status).toBe(401);
  });
});

describe('TrustedDocuments.load', () => {
  it("reads codegen's persisted-documents.json as well, and refuses a file that is neither", () => {
    const codegen = join(dir, 'persisted-documents.json');
    writeFileSync(codegen, JSON.stringify({ [sha(LISTED)]: LISTED }));
    const docs = TrustedDocuments.load(codegen);
    expect(docs.admit({ extensions: { persistedQuery: { sha256Hash: sha(LISTED) } } })).toEqual({ ok: true, query: LISTED, extensions: undefined });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'something-else', operations: [] }));
    expect(() => TrustedDocuments.load(bad)).toThrow(`TRUSTED_DOCUMENTS ${bad} is not a persisted-query manifest: "format" is "something-else", expected "apollo-persisted-query-manifest".`);
    writeFileSync(bad, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'x', body: '{ nope' }] }));
    expect(() => TrustedDocuments.load(bad)).toThrow(/the document "x" does not parse/);
  });
});
