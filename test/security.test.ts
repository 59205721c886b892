// Who may ask and what: app keys and JWTs (401), scopes decided before any system is called (FORBIDDEN), the apps CLI, the dev app, the ledger's app, introspection in production, and secrets kept out of answers and logs.

import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { JwtVerifier } from '../gateway/security/authenticate.js';
import { memoryLog } from './support/log.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);

/** Every log line the gateway writes, as text: what the secrets test greps. */
/** `npm run apps -- …` in its own process, against the stack's data directory (what an operator runs beside a running gateway). */
async function appsCli(dataDir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'gateway/security/apps-cli.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' } });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'canon-test';

const jwtDir = mkdtempSync(join(tmpdir(), 'canon-jwks-'));
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' }] };
writeFileSync(join(jwtDir, 'jwks.json'), JSON.stringify(jwks));

function token(claims: Record<string, unknown>, opts: { audience?: string; expiresIn?: string | number; issuer?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'test-1' })
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(opts.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '5m')
    .sign(privateKey);
}

let stack: TestStack;
const log = memoryLog('debug');
/** Every answer body a test saw, for the secrets check at the end. */
const answers: string[] = [];
const secrets: string[] = [];

async function call(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await stack.postGraphql({ query, variables }, headers);
  const text = await res.text();
  answers.push(text, JSON.stringify([...res.headers]));
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as any };
}

/** How many requests each subgraph and each system received since the last reset. */
async function received() {
  const systems = await stack.systemStats();
  return {
    systems: Object.fromEntries(SYSTEMS.map((s) => [s, systems[s].requests])),
    subgraphs: Object.fromEntries(Object.entries(stack.subgraphs).map(([n, sg]) => [n, sg.stats().requests])),
  };
}
const nothing = () => ({ systems: Object.fromEntries(SYSTEMS.map((s) => [s, 0])), subgraphs: Object.fromEntries(['identity', ...SYSTEMS].map((n) => [n, 0])) });

interface Ids {
  id: string;
  sourceIds: Record<string, string | null>;
}
let everywhere: Ids;

beforeAll(async () => {
  stack = await startTestStack(
    { seedSize: 40, introspectionNeedsScope: true, jwt: { jwksFile: join(jwtDir, 'jwks.json'), jwksUrl: undefined, issuer: ISSUER, audience: AUDIENCE } },
    { log: log.logger },
  );
  secrets.push(stack.devKey);
  everywhere = (await stack.customersInEverySystem(40))[0]!;
});
afterAll(async () => {
  await stack?.stop();
  rmSync(jwtDir, { recursive: true, force: true });
});

const PAGE = '{ customers(first: 3) { edges { node { id name email legalName creditLimit { amount } } } } }';

describe('authentication', () => {
  it('answers 401 UNAUTHENTICATED with a Bearer challenge and calls nothing when no key is sent', async () => {
    await stack.resetStats();
    const res = await fetch(`${stack.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="canon"');
    const body = await res.json();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(body.data).toBeUndefined();
    expect(await received()).toEqual(nothing());
  });

  it('answers 401 and calls nothing when the key is wrong, malformed or not a bearer', async () => {
    await stack.resetStats();
    const wrongSecret = `${stack.devKey.slice(0, -4)}${stack.devKey.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    secrets.push(wrongSecret);
    for (const authorization of [`Bearer ${wrongSecret}`, 'Bearer canon_0123456789abcdef_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'Bearer not-a-key', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      const res = await call(PAGE, {}, { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="canon", error="invalid_token"');
      expect(res.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(await received()).toEqual(nothing());
  });

  it('stops taking a key on the next request once the CLI revokes its app in another process', async () => {
    const key = await stack.createApp('revoked-by-cli', ['read:crm']);
    secrets.push(key);
    expect((await call('{ customers(first: 1) { totalCount } }', {}, stack.authHeaders(key))).status).toBe(200);
    const revoked = await appsCli(stack.config.dataDir, 'revoke', 'revoked-by-cli');
    expect(revoked).toEqual({ code: 0, out: "revoked app revoked-by-cli: its key stops working on every gateway's next request.\n" });
    await stack.resetStats();
    const after = await call('{ customers(first: 1) { totalCount } }', {}, stack.authHeaders(key));
    expect(after.status).toBe(401);
    expect(after.json.errors[0].message).toMatch(/^The key of the app "revoked-by-cli" was revoked at /);
    expect(await received()).toEqual(nothing());
  });

  it('takes a JWT from the configured key set with its scope claim enforced, and refuses expired, foreign-audience and unsigned ones', async () => {
    const good = await token({ azp: 'jwt-app', scope: 'openid read:crm' });
    secrets.push(good);
    await stack.resetStats();
    const res = await call('{ customer(id: "' + everywhere.id + '") { name legalName } }', {}, { authorization: `Bearer ${good}` });
    expect(res.status).toBe(200);
    expect(res.json.data.customer.name).toEqual(expect.any(String));
    expect(res.json.data.customer.legalName).toBeNull();
    expect(res.json.errors.map((e: any) => [e.extensions.code, e.extensions.scope])).toEqual([['FORBIDDEN', 'read:erp']]);
    expect((await received()).systems.erp).toBe(0);

    const expired = await token({ azp: 'jwt-app', scope: 'read:crm' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const foreign = await token({ azp: 'jwt-app', scope: 'read:crm' }, { audience: 'someone-else' });
    const otherIssuer = await token({ azp: 'jwt-app', scope: 'read:crm' }, { issuer: 'https://evil.test/' });
    const [h, p] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ azp: 'jwt-app', scope: 'admin', iss: ISSUER, aud: AUDIENCE, exp: 9999999999 })).toString('base64url')}.${good.split('.')[2]}`;
    secrets.push(expired, foreign, otherIssuer, tampered, p!);
    const messages: string[] = [];
    for (const t of [expired, foreign, otherIssuer, tampered]) {
      const r = await call(PAGE, {}, { authorization: `Bearer ${t}` });
      expect(r.status).toBe(401);
      expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      messages.push(r.json.errors[0].message);
    }
    expect(messages).toEqual([
      'The token has expired; get a new one from the identity provider.',
      'The token is not meant for canon: its audience does not include "canon-test".',
      'The token was not issued by "https://idp.test/".',
      "The token's signature does not verify.",
    ]);
  });

  it('fetches the key set from AUTH_JWKS_URL when that is what is configured', async () => {
    let fetched = 0;
    const server = createServer((_req, res) => {
      fetched++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const verifier = new JwtVerifier({ jwksFile: undefined, jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, issuer: ISSUER, audience: AUDIENCE });
      const out = await verifier.verify(await token({ client_id: 'remote-app', scope: 'read:erp write:erp unknown:scope' }));
      expect(out).toEqual({ ok: true, app: { name: 'remote-app', scopes: new Set(['read:erp', 'write:erp']), ratePerSecond: null, via: 'jwt' } });
      expect(await verifier.verify(await token({ scope: 'read:erp' }))).toEqual({ ok: false, missing: false, message: 'The token names no app: canon reads the app from its azp, client_id or sub claim.' });
      expect(fetched).toBe(1);
    } finally {
      server.close();
    }
  });

  it("never replays one app's keyed answer to another app that sends the same key and body", async () => {
    const body = { query: 'mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Keyed Once" }) { results { system status } customer { name legalName } } }', variables: { id: everywhere.id } };
    const first = await stack.postGraphql(body, { 'idempotency-key': 'shared-key-1' });
    expect(first.status).toBe(200);
    await stack.resetStats();
    const other = await stack.postGraphql(body, { ...(await stack.appHeaders('key-thief', ['read:crm', 'write:crm'])), 'idempotency-key': 'shared-key-1' });
    expect(other.status).toBe(422);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    const json = await other.json();
    expect(json.data).toBeUndefined();
    expect(json.errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await stack.systemStats()).crm.writes).toBe(0);
  });

  it("records the authenticated app as the ledger's app, whatever apollographql-client-name says", async () => {
    const headers = { ...(await stack.appHeaders('ledger-owner')), 'apollographql-client-name': 'someone-else' };
    const res = await call('mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Ledger Owner" }) { operationId } }', { id: everywhere.id }, headers);
    const op = await stack.gql(`{ operation(id: "${res.json.data.updateCustomer.operationId}") { app } }`);
    expect(op.data.operation.app).toBe('ledger-owner');
    expect((await stack.gql('{ operations(app: "someone-else") { edges { node { id } } } }')).data.operations.edges).toEqual([]);
  });
});

describe('scopes before any system is called', () => {
  let crmReader: Record<string, string>;
  beforeAll(async () => {
    crmReader = await stack.appHeaders('crm-reader', ['read:crm', 'write:crm']);
    secrets.push(crmReader.authorization!.slice('Bearer '.length));
  });

  it('answers CRM fields, nulls ERP fields with FORBIDDEN naming field and scope at every list position, and sends the ERP nothing', async () => {
    await stack.resetStats();
    const res = await call(PAGE, {}, crmReader);
    expect(res.status).toBe(200);
    const nodes = res.json.data.customers.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(3);
    for (const n of nodes) expect(Object.keys(n)).toEqual(['id', 'name', 'email', 'legalName', 'creditLimit']);
    expect(nodes.map((n: any) => [n.legalName, n.creditLimit])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    const direct = await stack.gql(PAGE);
    expect(nodes.map((n: any) => [n.id, n.name, n.email])).toEqual(direct.data.customers.edges.map((e: any) => [e.node.id, e.node.name, e.node.email]));
    expect(res.json.errors.map((e: any) => ({ path: e.path, ...e.extensions, traceId: undefined }))).toEqual(
      [0, 1, 2].flatMap((i) => [
        { path: ['customers', 'edges', i, 'node', 'legalName'], code: 'FORBIDDEN', field: 'legalName', type: 'Customer', scope: 'read:erp', owner: 'erp', traceId: undefined },
        { path: ['customers', 'edges', i, 'node', 'creditLimit'], code: 'FORBIDDEN', field: 'creditLimit', type: 'Customer', scope: 'read:erp', owner: 'erp', traceId: undefined },
      ]),
    );
    expect(res.json.errors[0].message).toBe('Customer.legalName needs the scope read:erp, which the app "crm-reader" does not hold. erp was not asked for it.');
    // The two calls above: the scoped one asked identity and the CRM only, the dev app's every owner it read.
    const got = await received();
    expect(got.subgraphs.erp).toBe(1);
    expect(got.systems.erp).toBe(1);
  });

  it('sends the ERP no request at all when only an app without read:erp asks', async () => {
    await stack.resetStats();
    const res = await call(`{ customer(id: "${everywhere.id}") { name erpVersion billingAddress { city } ...Partner } } fragment Partner on Customer { taxId }`, {}, crmReader);
    expect(res.json.data.customer).toEqual({ name: expect.any(String), erpVersion: null, billingAddress: null, taxId: null });
    expect(res.json.errors.map((e: any) => e.extensions.field)).toEqual(['erpVersion', 'billingAddress', 'taxId']);
    const got = await received();
    expect(got).toEqual({ systems: { crm: 1, erp: 0, marketing: 0, support: 0 }, subgraphs: { identity: 1, crm: 1, erp: 0, marketing: 0, support: 0 } });
  });

  it('refuses a write with an ERP field whole: FORBIDDEN per missing scope, nothing written anywhere, recorded as refused', async () => {
    await stack.resetStats();
    const res = await call('mutation Both($id: ID!) { updateCustomer(id: $id, input: { name: "Half Write", legalName: "Half Write GmbH" }) { operationId } }', { id: everywhere.id }, crmReader);
    // Refused before execution: no data at all, as for any request error.
    expect(res.json.data).toBeUndefined();
    expect(res.json.errors.map((e: any) => ({ ...e.extensions, traceId: undefined, path: e.path }))).toEqual([{ code: 'FORBIDDEN', field: 'legalName', scope: 'write:erp', owner: 'erp', traceId: undefined, path: undefined }]);
    expect(res.json.errors[0].message).toBe('The app "crm-reader" may not run updateCustomer of legalName: it needs the scope write:erp. Nothing was written.');
    const stats = await stack.systemStats();
    expect(SYSTEMS.map((s) => stats[s].writes)).toEqual([0, 0, 0, 0]);
    expect(Object.values((await received()).subgraphs)).toEqual([0, 0, 0, 0, 0]);
    const listed = await stack.gql('{ operations(app: "crm-reader") { edges { node { name kind status error { code } steps { system } } } } }');
    expect(listed.data.operations.edges.map((e: any) => e.node)).toEqual([{ name: 'updateCustomer', kind: 'mutation', status: 'FAILED', error: { code: 'FORBIDDEN' }, steps: [] }]);
  });

  it('refuses a write whose out-of-scope field comes in variables the same way', async () => {
    await stack.resetStats();
    const res = await call('mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId } }', { id: everywhere.id, input: { supportPlan: 'BASIC', name: 'Var Write' } }, crmReader);
    expect(res.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.extensions.scope])).toEqual([['FORBIDDEN', 'supportPlan', 'write:support']]);
    const stats = await stack.systemStats();
    expect(SYSTEMS.map((s) => stats[s].writes)).toEqual([0, 0, 0, 0]);
  });

  it("runs a write within its scopes and nulls the payload's fields it may not read", async () => {
    await stack.resetStats();
    const res = await call('mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Scoped Write" }) { results { system status } customer { name legalName } } }', { id: everywhere.id }, crmReader);
    expect(res.json.data.updateCustomer).toEqual({ results: [{ system: 'CRM', status: 'SUCCEEDED' }], customer: { name: 'Scoped Write', legalName: null } });
    expect(res.json.errors.map((e: any) => [e.path, e.extensions.scope])).toEqual([[['updateCustomer', 'customer', 'legalName'], 'read:erp']]);
    const stats = await stack.systemStats();
    expect(SYSTEMS.map((s) => [stats[s].writes, stats[s].requests])).toEqual([
      [1, stats.crm.requests],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });

  it("needs canon's own scopes for the ledger, retries and tickets; a forbidden non-null root makes data null", async () => {
    await stack.resetStats();
    const ops = await call('{ operations(first: 1) { edges { node { id } } } }', {}, crmReader);
    expect(ops.json.data).toBeNull();
    expect(ops.json.errors.map((e: any) => [e.path, e.extensions.code, e.extensions.scope])).toEqual([[['operations'], 'FORBIDDEN', 'operations:read']]);
    const retry = await call('mutation { retryOperation(id: "x") { id } }', {}, crmReader);
    expect(retry.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.extensions.scope])).toEqual([['FORBIDDEN', 'retryOperation', 'operations:retry']]);
    const ticket = await call(`mutation { openTicket(customerId: "${everywhere.id}", subject: "s", body: "b") { ticket { id } } }`, {}, crmReader);
    expect(ticket.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.extensions.scope])).toEqual([['FORBIDDEN', 'openTicket', 'write:support']]);
    expect(Object.values((await received()).subgraphs)).toEqual([0, 0, 0, 0, 0]);
  });

  it('runs a ticket for an app that may write support but not read it, nulling up to the nearest nullable parent', async () => {
    await stack.resetStats();
    const writer = await stack.appHeaders('ticket-writer', ['write:support']);
    const res = await call(`mutation { openTicket(customerId: "${everywhere.id}", subject: "Scoped", body: "Write only") { ticket { id subject } } }`, {}, writer);
    // Ticket.id is non-null and the payload's ticket is nullable: as in GraphQL, the null stops at the ticket.
    expect(res.json.data).toEqual({ openTicket: { ticket: null } });
    expect(res.json.errors.map((e: any) => [e.path, e.extensions.code, e.extensions.scope])).toEqual([
      [['openTicket', 'ticket', 'id'], 'FORBIDDEN', 'read:support'],
      [['openTicket', 'ticket', 'subject'], 'FORBIDDEN', 'read:support'],
    ]);
    const stats = await stack.systemStats();
    expect(SYSTEMS.map((s) => stats[s].writes)).toEqual([0, 0, 0, 1]);
  });

  it('serves each field with its read and write scope in dataModel', async () => {
    const res = await stack.gql('{ dataModel { types { name fields { name owner scope writeScope } } } }');
    const customer = res.data.dataModel.types.find((t: any) => t.name === 'Customer').fields;
    const byName = Object.fromEntries(customer.map((f: any) => [f.name, [f.scope, f.writeScope]]));
    expect(byName.id).toEqual([null, null]);
    expect(byName.legalName).toEqual(['read:erp', 'write:erp']);
    expect(byName.creditLimit).toEqual(['read:erp', null]);
    expect(byName.supportPlan).toEqual(['read:support', 'write:support']);
    for (const f of customer) expect(f.scope).toBe(f.owner === 'identity' ? null : `read:${f.owner}`);
  });

  it('lets introspection and dataModel through only with model:read or admin in production', async () => {
    const plain = await call('{ __schema { queryType { name } } dataModel { types { name } } }', {}, crmReader);
    expect(plain.json.data).toBeNull();
    expect(plain.json.errors.map((e: any) => [e.path, e.extensions.scope])).toEqual([
      [['__schema'], 'model:read'],
      [['dataModel'], 'model:read'],
    ]);
    expect((await call('{ __type(name: "Customer") { name } }', {}, crmReader)).json.data).toEqual({ __type: null });
    for (const scopes of [['model:read'], ['admin']]) {
      const res = await call('{ __schema { queryType { name } } }', {}, await stack.appHeaders(`introspect-${scopes[0]!.replace(':', '-')}`, scopes));
      expect(res.json).toMatchObject({ data: { __schema: { queryType: { name: 'Query' } } } });
      expect(res.json.errors).toBeUndefined();
    }
  });
});

describe('apps CLI', () => {
  it('prints a key once on create, which then works; lists without keys; refuses unknown scopes, duplicates and unknown apps', async () => {
    const created = await appsCli(stack.config.dataDir, 'create', 'cli-made', '--scopes', 'read:crm,read:support', '--rate', '500');
    expect(created.code).toBe(0);
    const key = /^key: (canon_\S+)$/m.exec(created.out)![1]!;
    secrets.push(key);
    expect(created.out.split('\n').filter((l) => l.includes(key))).toEqual([`key: ${key}`]);
    const res = await call(`{ customer(id: "${everywhere.id}") { name supportPlan emailConsent } }`, {}, stack.authHeaders(key));
    expect(res.json.data.customer).toEqual({ name: expect.any(String), supportPlan: expect.any(String), emailConsent: null });

    const listed = await appsCli(stack.config.dataDir, 'list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^cli-made +active +500\/s +created \S+ +scopes: read:crm,read:support$/m);
    expect(listed.out).not.toContain('canon_');

    expect(await appsCli(stack.config.dataDir, 'create', 'cli-bad', '--scopes', 'read:crm,read:everything')).toEqual({ code: 1, out: expect.stringMatching(/^Unknown scope "read:everything"; the scopes are: read:crm, /) });
    expect(await appsCli(stack.config.dataDir, 'create', 'cli-made', '--scopes', 'read:crm')).toEqual({ code: 1, out: expect.stringMatching(/^An app named "cli-made" already exists/) });
    expect(await appsCli(stack.config.dataDir, 'revoke', 'cli-nobody')).toEqual({ code: 1, out: 'No app named "cli-nobody"; `npm run apps -- list` shows them.\n' });
    expect((await appsCli(stack.config.dataDir, 'list')).out.match(/^cli-/gm)).toEqual(['cli-']);
  });
});

describe('the dev app', () => {
  it('is written to DATA_DIR/dev-key with mode 0600 and reused when the stack starts again on its data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canon-devapp-'));
    const first = await startTestStack({ dataDir: dir, seedSize: 10 });
    try {
      expect(first.devApp).toEqual({ status: 'created', key: first.devKey, file: join(dir, 'dev-key') });
      expect(statSync(join(dir, 'dev-key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'dev-key'), 'utf8')).toBe(`${first.devKey}\n`);
      expect((await first.apps.byName('dev'))?.scopes).toEqual((await import('../gateway/security/scopes.js')).SCOPES);
    } finally {
      await first.stop({ keepData: true });
    }
    const again = await startTestStack({ dataDir: dir, seedSize: 10 });
    try {
      expect(again.devApp).toEqual({ status: 'reused', key: first.devKey, file: join(dir, 'dev-key') });
      expect((await again.gql('{ customers(first: 1) { totalCount } }')).data.customers.totalCount).toBe(10);
    } finally {
      await again.stop();
    }
  });
});

describe('secrets', () => {
  it('keeps every key and token out of the health report, every answer and every log line', async () => {
    const health = await fetch(`${stack.gateway.url}/health`).then((r) => r.text());
    const logged = log.raw.join('');
    expect(log.raw.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThan(8);
    for (const s of secrets) {
      expect(health.includes(s), 'health').toBe(false);
      expect(answers.some((a) => a.includes(s)), 'answers').toBe(false);
      expect(logged.includes(s), 'log').toBe(false);
    }
  });
});
