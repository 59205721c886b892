// canon past one machine: every part a process of its own started with `canon …` (4 sandboxes, 6 subgraphs, 2 gateways) on PostgreSQL and Redis, and Hive Gateway serving `canon compose`'s supergraph against the same subgraph services.

import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAppStore } from '../gateway/security/app-store.js';
import { createApp } from '../gateway/security/apps.js';
import { SCOPES } from '../gateway/security/scopes.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { contendersDir } from './bench/options.js';
import { ensureContenders } from './bench/phases/start.js';
import { credentialEnv, runCanon, startCanon, type CanonProcess } from './support/canon-process.js';
import { TEST_CREDENTIALS } from './support/credentials.js';
import { PG_URL, postgresSkipReason } from './support/postgres.js';
import { redisSkipReason, REDIS_URL } from './support/redis.js';
import { scratch } from './support/scratch.js';
import { until } from './support/until.js';

const skip = (await postgresSkipReason()) ?? (await redisSkipReason('the deployment topology tests')) ?? ensureContenders();
if (skip) console.warn(`test/deploy.test.ts skipped: ${skip}`);

const tmp = scratch();
const processes: CanonProcess[] = [];
let hive: ChildProcess | undefined;

let serviceToken = '';

interface Topology {
  systems: Record<SystemName, string>;
  subgraphs: Record<string, string>;
  gateways: [string, string];
  hive: string;
  /** Every scope. */
  key: string;
  /** read:crm only. */
  crmReader: string;
}
let topo: Topology;

async function json(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** Each sandbox's count of writes received so far. */
async function writes(): Promise<Record<SystemName, number>> {
  const counts = await Promise.all(SYSTEMS.map(async (s) => (await json(`${topo.systems[s]}/_admin/stats`)).writes as number));
  return Object.fromEntries(SYSTEMS.map((s, i) => [s, counts[i]])) as Record<SystemName, number>;
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Ids of customers with a CRM record (the owner of `name`), read through gateway A. */
async function withCrmRecord(): Promise<string[]> {
  const { body } = await post(topo.gateways[0], '{ customers(first: 30) { edges { node { id sourceIds { crm } } } } }', {}, as(topo.key));
  return body.data.customers.edges.filter((e: any) => e.node.sourceIds.crm).map((e: any) => e.node.id);
}

/** Starts Hive Gateway (installed for the bench, outside canon's dependencies) on `supergraphFile`, forwarding the app's headers. */
async function startHive(supergraphFile: string): Promise<string> {
  const child = fork(join(contendersDir, 'hive-child.mjs'), [], {
    cwd: contendersDir,
    env: { ...process.env, BENCH_CHILD_ARGS: JSON.stringify({ stack: { supergraphFile }, dedup: true, forward: ['authorization', 'idempotency-key'] }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  hive = child;
  return new Promise((resolve, reject) => {
    child.once('message', (m: { kind: string; url?: string; reason?: string }) => (m.kind === 'gateway-ready' ? resolve(m.url!) : reject(new Error(`Hive Gateway failed: ${m.reason}`))));
    child.once('exit', (code) => reject(new Error(`Hive Gateway exited (code ${code}) before it served`)));
  });
}

beforeAll(async () => {
  if (skip) return;
  const dataDir = tmp.dir('canon-deploy-');
  const schema = tmp.schema('deploy');
  const common: Record<string, string> = {
    DATA_DIR: dataDir,
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: schema,
    WORKFLOWS_SCHEMA: tmp.schema('deploywf'),
    REDIS_URL,
    CANON_SERVICE_TOKEN: (serviceToken = randomUUID()),
    DEV_APP: 'false',
    LOG_LEVEL: 'warn',
    SYNC_INTERVAL_MS: '3600000',
    // Owners' writes only, as in testConfig: these tests count what each system receives.
    COPY_PROPAGATION: 'off',
    QUEUED_RETRY_DELAY_MS: '10',
    ...credentialEnv(TEST_CREDENTIALS),
  };
  // The apps every service verifies, in the shared PostgreSQL, made before any service starts.
  const store = await PostgresAppStore.open(PG_URL, { schema });
  const all = await createApp(store, { name: 'deploy-all', scopes: [...SCOPES] });
  const reader = await createApp(store, { name: 'deploy-crm-reader', scopes: ['read:crm'] });
  await store.close();
  if (!all.ok || !reader.ok) throw new Error('could not create the test apps');

  const seeded = await runCanon(['seed', '--dir', dataDir, '--size', '60'], common);
  expect(seeded.code, seeded.output).toBe(0);

  const sandboxes = await Promise.all(SYSTEMS.map((s) => startCanon(['sandbox', s], common)));
  processes.push(...sandboxes);
  const systems = Object.fromEntries(SYSTEMS.map((s, i) => [s, sandboxes[i]!.url])) as Record<SystemName, string>;
  const systemEnv = Object.fromEntries(SYSTEMS.map((s) => [`${s.toUpperCase()}_URL`, systems[s]]));

  const names = ['identity', ...SYSTEMS] as const;
  const subgraphProcs = await Promise.all(names.map((n) => startCanon(['subgraph', n], { ...common, ...systemEnv })));
  processes.push(...subgraphProcs);
  const subgraphs: Record<string, string> = Object.fromEntries(names.map((n, i) => [n, `${subgraphProcs[i]!.url}/graphql`]));
  const subgraphEnv = Object.fromEntries(names.map((n) => [`${n.toUpperCase()}_SUBGRAPH_URL`, subgraphs[n]]));

  const control = await startCanon(['subgraph', 'control'], { ...common, ...systemEnv, ...subgraphEnv, CANON_EXECUTOR_ID: 'control-1' });
  processes.push(control);
  subgraphs.control = `${control.url}/graphql`;
  // Ready once its first full sync is done: /health answers 503 `starting` until then.
  await until('the control service to finish its full sync', async () => (await fetch(`${control.url}/health`)).status === 200, 1200);

  const everything = { ...common, ...systemEnv, ...subgraphEnv, CONTROL_SUBGRAPH_URL: subgraphs.control };
  const gateways = await Promise.all(['gateway-a', 'gateway-b'].map((id) => startCanon(['gateway'], { ...everything, CANON_EXECUTOR_ID: id })));
  processes.push(...gateways);

  const supergraphFile = join(dataDir, 'supergraph.graphql');
  const composed = await runCanon(['compose', '--out', supergraphFile], everything);
  expect(composed.code, composed.output).toBe(0);
  topo = { systems, subgraphs, gateways: [`${gateways[0]!.url}/graphql`, `${gateways[1]!.url}/graphql`], hive: await startHive(supergraphFile), key: all.key, crmReader: reader.key };
}, 240_000);

afterAll(async () => {
  hive?.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.stop()));
}, 60_000);

const CUSTOMERS = '{ customers(first: 5) { edges { node { id sourceIds { crm erp marketing support } name email legalName creditLimit { amount currency } emailConsent supportPlan openTickets } } } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { results { system status } operation { status } } }';

describe.skipIf(!!skip)('canon as separate processes', () => {
  it('answers a customer query through either gateway and through Hive Gateway alike', async () => {
    const [a, b, h] = await Promise.all([post(topo.gateways[0], CUSTOMERS, {}, as(topo.key)), post(topo.gateways[1], CUSTOMERS, {}, as(topo.key)), post(topo.hive, CUSTOMERS, {}, as(topo.key))]);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data.customers.edges).toHaveLength(5);
    expect(b.body.data).toEqual(a.body.data);
    expect(h.body.errors).toBeUndefined();
    expect(h.body.data).toEqual(a.body.data);
  });

  it('writes an updateCustomer sent through Hive Gateway to its owner only, and canon reads it back', async () => {
    const id = (await withCrmRecord())[0];
    const before = await writes();
    const name = `Hive ${randomUUID().slice(0, 8)}`;
    const res = await post(topo.hive, UPDATE, { id, input: { name } }, as(topo.key));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.updateCustomer).toEqual({ results: [{ system: 'CRM', status: 'SUCCEEDED' }], operation: { status: 'SUCCEEDED' } });
    const after = await writes();
    expect(after).toEqual({ ...before, crm: before.crm + 1 });
    const read = await post(topo.gateways[1], 'query($id: ID!) { customer(id: $id) { name } }', { id }, as(topo.key));
    expect(read.body.data.customer.name).toBe(name);
  });

  it('runs an updateCustomer sent twice through Hive Gateway under one Idempotency-Key once', async () => {
    const id = (await withCrmRecord())[3];
    const key = randomUUID();
    const before = await writes();
    const send = () => post(topo.hive, UPDATE, { id, input: { name: `Hive keyed ${key.slice(0, 8)}` } }, { ...as(topo.key), 'idempotency-key': key });
    const first = await send();
    const again = await send();
    expect([first.body.errors, again.body.errors]).toEqual([undefined, undefined]);
    expect(again.body.data).toEqual(first.body.data);
    expect(await writes()).toEqual({ ...before, crm: before.crm + 1 });
  });

  it('refuses a request without a credential at every subgraph service and through Hive, and no system is called', async () => {
    const before = await json(`${topo.systems.crm}/_admin/stats`);
    for (const name of ['identity', ...SYSTEMS, 'control']) {
      const res = await post(topo.subgraphs[name]!, '{ __typename }');
      expect([name, res.status, res.body.errors[0].extensions.code]).toEqual([name, 401, 'UNAUTHENTICATED']);
    }
    const bad = await post(topo.subgraphs.crm!, '{ __typename }', {}, as('not-a-key'));
    expect([bad.status, bad.body.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    // Naming an app and its scopes is canon's services' privilege: without the service token the names count for nothing.
    const forged = await post(topo.subgraphs.control!, '{ operations(first: 1) { edges { node { id } } } }', {}, { ...as('not-a-key'), 'canon-app': 'deploy-all', 'canon-scopes': 'operations:read admin' });
    expect([forged.status, forged.body.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    const viaHive = await post(topo.hive, CUSTOMERS);
    expect(viaHive.body.data?.customers ?? null).toBeNull();
    expect(viaHive.body.errors.length).toBeGreaterThan(0);
    expect((await json(`${topo.systems.crm}/_admin/stats`)).requests).toBe(before.requests);
  });

  it("holds an app to its scopes behind Hive: a field of a system it may not read is FORBIDDEN, and that system is not asked", async () => {
    const query = '{ customers(first: 4) { edges { node { name legalName } } } }';
    const full = await post(topo.gateways[0], query, {}, as(topo.key));
    expect(full.body.data.customers.edges.some((e: any) => e.node.legalName !== null)).toBe(true);
    const before = await json(`${topo.systems.erp}/_admin/stats`);
    const res = await post(topo.hive, query, {}, as(topo.crmReader));
    expect(res.body.data.customers.edges).toEqual(full.body.data.customers.edges.map((e: any) => ({ node: { name: e.node.name, legalName: null } })));
    expect(res.body.errors.map((e: any) => e.extensions?.code)).toContain('FORBIDDEN');
    expect((await json(`${topo.systems.erp}/_admin/stats`)).requests).toBe(before.requests);
  });

  it('refuses a write the app has no scope for behind Hive, and writes nothing anywhere', async () => {
    const before = await writes();
    const res = await post(topo.hive, UPDATE, { id: (await withCrmRecord())[0], input: { name: 'Not Allowed' } }, as(topo.crmReader));
    expect(res.body.data?.updateCustomer ?? null).toBeNull();
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await writes()).toEqual(before);
  });

  it('keeps the service token out of /health and out of every service\'s output', async () => {
    const health = await Promise.all([...topo.gateways.map((g) => g.replace(/\/graphql$/, '/health')), topo.subgraphs.control!.replace(/\/graphql$/, '/health')].map((u) => fetch(u).then((r) => r.text())));
    expect(health.filter((h) => h.includes(serviceToken))).toEqual([]);
    expect(health.map((h) => JSON.parse(h).status)).toEqual(['ok', 'ok', 'ok']);
    expect(processes.filter((p) => p.output.join('').includes(serviceToken)).length).toBe(0);
  });

  it('replays on gateway B a key first used on gateway A', async () => {
    const id = (await withCrmRecord())[1];
    const key = randomUUID();
    const before = await writes();
    const first = await post(topo.gateways[0], UPDATE, { id, input: { name: `Keyed ${key.slice(0, 8)}` } }, { ...as(topo.key), 'idempotency-key': key });
    expect(first.body.data.updateCustomer.results).toEqual([{ system: 'CRM', status: 'SUCCEEDED' }]);
    const again = await post(topo.gateways[1], UPDATE, { id, input: { name: `Keyed ${key.slice(0, 8)}` } }, { ...as(topo.key), 'idempotency-key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await writes()).toEqual({ ...before, crm: before.crm + 1 });
  });

  it('runs 50 concurrent requests under one key across both gateways once', async () => {
    const id = (await withCrmRecord())[2];
    const key = randomUUID();
    const before = await writes();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(topo.gateways[i % 2]!, UPDATE, { id, input: { name: `Fifty ${key.slice(0, 8)}` } }, { ...as(topo.key), 'idempotency-key': key })),
    );
    const ran = answers.filter((a) => a.status === 200 && a.headers.get('idempotent-replayed') !== 'true');
    const inProgress = answers.filter((a) => a.status === 409);
    const replayed = answers.filter((a) => a.headers.get('idempotent-replayed') === 'true');
    expect([ran.length, ran.length + inProgress.length + replayed.length]).toEqual([1, 50]);
    expect(inProgress.every((a) => a.body.errors[0].extensions.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    expect(await writes()).toEqual({ ...before, crm: before.crm + 1 });
  });
});
