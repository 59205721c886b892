// GraphQL over HTTP conformance: graphql-http's server audits against a running gateway's /graphql, sent with the dev key.

import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
let results: AuditResult[];

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 5 });
  const withKey = (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', stack.authHeaders().authorization);
    return fetch(input, { ...init, headers });
  };
  results = [];
  for (const audit of serverAudits({ url: `${stack.gateway.url}/graphql`, fetchFn: withKey })) results.push(await audit.fn());
});
afterAll(async () => {
  await stack?.stop();
});

const named = (status: AuditResult['status']) => results.filter((r) => r.status === status).map((r) => `${r.id} ${r.name}`);

describe('the graphql-http audit of /graphql', () => {
  it('has no error and no warning: parse, validation and variable errors answer 200 under application/json', () => {
    expect(named('error')).toEqual([]);
    expect(named('warn')).toEqual([]);
  });

  it('passes 58 of its 61 audits', () => {
    expect(results).toHaveLength(61);
    expect(named('ok')).toHaveLength(58);
  });

  it('leaves only notices on GETs without a preflight header, which Apollo’s CSRF prevention refuses on purpose', () => {
    expect(named('notice')).toEqual([
      '5A70 MAY accept application/x-www-form-urlencoded formatted GET requests',
      'D6D5 MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
      '6A70 MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
    ]);
  });
});
