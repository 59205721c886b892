// Two gateways as replicas (`canon gateway`, each running workflows under its own executor id) on one PostgreSQL and one Redis: a workflow whose gateway was killed is finished by the other, and a rolling restart under load loses no answered write.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../gateway/config.js';
import { startSandboxService, startSubgraphService, type RunningPart } from '../gateway/services/services.js';
import { PostgresAppStore } from '../gateway/security/app-store.js';
import { createApp } from '../gateway/security/apps.js';
import { SCOPES } from '../gateway/security/scopes.js';
import { OWNERS, SYSTEMS, type SystemName } from '../schema/model.js';
import { seedAll } from '../subgraphs/sandbox-kit/seed.js';
import { credentialEnv, startCanon, type CanonProcess } from './support/canon-process.js';
import { sandboxFetch, TEST_CREDENTIALS } from './support/credentials.js';
import { PG_URL, postgresSkipReason } from './support/postgres.js';
import { redisSkipReason, REDIS_URL } from './support/redis.js';
import { scratch } from './support/scratch.js';
import { until } from './support/until.js';

const skip = (await postgresSkipReason()) ?? (await redisSkipReason('the replica tests'));
if (skip) console.warn(`test/replicas.test.ts skipped: ${skip}`);

const tmp = scratch();
const parts: { close(): Promise<void> }[] = [];
const gateways = new Map<string, CanonProcess>();
let env: Record<string, string>;
let systems: Record<SystemName, string>;
let key: string;
let workflowsSchema: string;

/** Starts (or starts again) the gateway replica `id`, and waits until it serves past its first full sync. */
async function replica(id: string): Promise<CanonProcess> {
  const p = await startCanon(['gateway'], { ...env, CANON_EXECUTOR_ID: id });
  gateways.set(id, p);
  await until(`${id} to finish its full sync`, async () => (await (await fetch(`${p.url}/health`)).json()).status !== 'starting', 1200);
  return p;
}

async function gql(gateway: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

const json = async (url: string, init?: RequestInit) => (await fetch(url, init)).json();

beforeAll(async () => {
  if (skip) return;
  const dataDir = tmp.dir('canon-replicas-');
  const schema = tmp.schema('replicas');
  workflowsSchema = tmp.schema('replicaswf');
  env = {
    // One DATA_DIR path for both replicas, as every pod of a deployment mounts /data: a workflow names its runtime by it.
    DATA_DIR: dataDir,
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: schema,
    WORKFLOWS_SCHEMA: workflowsSchema,
    REDIS_URL,
    CANON_SERVICE_TOKEN: randomUUID(),
    DEV_APP: 'false',
    LOG_LEVEL: 'warn',
    SYNC_INTERVAL_MS: '3600000',
    COPY_PROPAGATION: 'off',
    QUEUED_RETRY_DELAY_MS: '10',
    ONBOARDING_RECHECK_MS: '100',
    EXECUTOR_HEARTBEAT_MS: '200',
    EXECUTOR_TAKEOVER_MS: '2000',
    SHUTDOWN_GRACE_MS: '10000',
    // The load below is one app's: its requests are not what this test limits.
    RATE_LIMIT_PER_SECOND: '100000',
    ...credentialEnv(TEST_CREDENTIALS),
  };
  const store = await PostgresAppStore.open(PG_URL, { schema });
  const app = await createApp(store, { name: 'replicas', scopes: [...SCOPES] });
  await store.close();
  if (!app.ok) throw new Error(app.message);
  key = app.key;
  seedAll(dataDir, { seed: 1, size: 40 });

  // The systems and subgraphs as services (here in the test's process); the gateways as processes of their own.
  const config = (extra: Record<string, string>) => loadConfig({ ...env, PORT: '0', ...extra });
  const sandboxes = await Promise.all(SYSTEMS.map((s) => startSandboxService(config({}), s)));
  parts.push(...sandboxes);
  systems = Object.fromEntries(SYSTEMS.map((s, i) => [s, sandboxes[i]!.url])) as Record<SystemName, string>;
  Object.assign(env, Object.fromEntries(SYSTEMS.map((s) => [`${s.toUpperCase()}_URL`, systems[s]])));
  const subgraphs: RunningPart[] = await Promise.all(OWNERS.map((n) => startSubgraphService(config({}), n)));
  parts.push(...subgraphs);
  Object.assign(env, Object.fromEntries(OWNERS.map((n, i) => [`${n.toUpperCase()}_SUBGRAPH_URL`, subgraphs[i]!.url])));
}, 120_000);

afterAll(async () => {
  await Promise.all([...gateways.values()].map((g) => g.stop()));
  for (const p of parts.reverse()) await p.close();
}, 60_000);

const ONBOARD = 'mutation($input: OnboardCustomerInput!) { onboardCustomer(input: $input, mode: QUEUED) { operation { id } } }';
const ONBOARDING = 'query($id: ID!) { operation(id: $id) { status steps { name status } } }';
const PARTNER_READS = "GET /odata/v4/BusinessPartners('{id}')";

describe.skipIf(!!skip)('gateway replicas', () => {
  it('finishes on B a queued onboarding whose gateway A was killed mid-workflow, each record once', async () => {
    const a = await replica('gateway-a');
    await fetch(`${systems.erp}/_admin/approvals`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ holdNewPartners: true }) });
    const tag = randomUUID().slice(0, 8);
    const email = `takeover.${tag}@onboard.example`;
    const input = { name: `Takeover ${tag}`, email, legalName: `Takeover ${tag} AG`, billingAddress: { line1: 'Ring 2', city: 'Wien', postalCode: '1010', country: 'AT' }, emailConsent: 'SUBSCRIBED' };
    const started = await gql(a.url, ONBOARD, { input });
    const id = started.body.data.onboardCustomer.operation.id;
    await until('the onboarding to wait for the held partner on A', async () => (await gql(a.url, ONBOARDING, { id })).body.data.operation?.steps[2].status === 'WAITING');

    const b = await replica('gateway-b');
    await a.kill();
    const readsAtKill = (await json(`${systems.erp}/_admin/stats`)).byRoute[PARTNER_READS] ?? 0;
    // B took it over: the partner is read again by the resumed workflow, and the workflow is B's now.
    await until('B to resume the onboarding and read the partner again', async () => ((await json(`${systems.erp}/_admin/stats`)).byRoute[PARTNER_READS] ?? 0) > readsAtKill, 600);
    const { held } = await json(`${systems.erp}/_admin/approvals`);
    await fetch(`${systems.erp}/_admin/approvals/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: held[0] }) });
    const done = await until('the onboarding to finish on B', async () => {
      const op = (await gql(b.url, ONBOARDING, { id })).body.data.operation;
      return op.status !== 'PENDING' && op;
    });
    expect([done.status, done.steps.map((s: any) => s.status)]).toEqual(['SUCCEEDED', ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']]);

    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    const owner = await db.query(`SELECT executor_id FROM "${workflowsSchema}".workflow_status WHERE workflow_uuid = $1`, [id]);
    await db.end();
    expect(owner.rows.map((r) => r.executor_id)).toEqual(['gateway-b']);

    const api = (system: 'crm' | 'erp' | 'support', path: string, init: RequestInit = {}) => sandboxFetch(system, `${systems[system]}${path}`, init).then((r) => r.json());
    const contacts = await api('crm', '/crm/v3/objects/contacts/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }] }) });
    const partners = await api('erp', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent(`ExternalID eq '${id}'`)}`);
    const orgs = await api('support', `/api/v2/organizations/search.json?external_id=${encodeURIComponent(id)}`);
    expect([contacts.total, partners.value.length, orgs.organizations.length]).toEqual([1, 1, 1]);
    await fetch(`${systems.erp}/_admin/approvals`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ holdNewPartners: false }) });
  });

  it('loses no answered write and leaves no operation PENDING when both replicas restart one after the other under load', async () => {
    if (!gateways.get('gateway-a') || gateways.get('gateway-a')!.exited()) await replica('gateway-a');
    if (!gateways.get('gateway-b') || gateways.get('gateway-b')!.exited()) await replica('gateway-b');
    const urls = () => ['gateway-a', 'gateway-b'].map((g) => gateways.get(g)!).filter((g) => !g.exited()).map((g) => g.url);
    const { body } = await gql(urls()[0]!, '{ customers(first: 30) { edges { node { id sourceIds { crm } } } } }');
    const customers: string[] = body.data.customers.edges.filter((e: any) => e.node.sourceIds.crm).slice(0, 4).map((e: any) => e.node.id);
    expect(customers).toHaveLength(4);

    const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operation { id status } } }';
    const answered: { id: string; name: string; operation: string }[] = [];
    let running = true;
    // Each worker writes its own customer in turn, as a client behind a load balancer does: a refused or dropped
    // connection, or an answer that is not 2xx, is sent again under the same key to whichever replica is up.
    const worker = async (w: number) => {
      for (let n = 0; running; n++) {
        const name = `Rolling ${w} ${n}`;
        const idem = randomUUID();
        for (let attempt = 0; ; attempt++) {
          const up = urls();
          const target = up[(w + attempt) % Math.max(up.length, 1)];
          try {
            if (!target) throw new Error('no replica up');
            const res = await gql(target, UPDATE, { id: customers[w], input: { name } }, { 'idempotency-key': idem });
            if (res.status === 200 && res.body.data?.updateCustomer) {
              answered.push({ id: customers[w]!, name, operation: res.body.data.updateCustomer.operation.id });
              break;
            }
          } catch {
            // the replica went away mid-request: try the other one
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await until('some writes to be answered before the restart', async () => answered.length >= 8);
    for (const id of ['gateway-a', 'gateway-b']) {
      const before = answered.length;
      expect(await gateways.get(id)!.stop(20_000)).toBe(0);
      await replica(id);
      await until(`writes to be answered after ${id} came back`, async () => answered.length >= before + 8);
    }
    running = false;
    await load;

    const gateway = urls()[0]!;
    // Every answered write is in its system: each customer holds the last name its worker was answered for.
    for (const [w, id] of customers.entries()) {
      const last = answered.filter((a) => a.id === id).at(-1)!;
      expect([w, (await gql(gateway, 'query($id: ID!) { customer(id: $id) { name } }', { id })).body.data.customer.name]).toEqual([w, last.name]);
    }
    const statuses = await Promise.all(answered.map(async (a) => JSON.stringify((await gql(gateway, 'query($id: ID!) { operation(id: $id) { status } }', { id: a.operation })).body.data)));
    expect(new Set(statuses)).toEqual(new Set([JSON.stringify({ operation: { status: 'SUCCEEDED' } })]));
    const pending = await gql(gateway, '{ operations(status: PENDING, first: 50) { edges { node { id name } } } }');
    expect(pending.body.data.operations.edges).toEqual([]);
  });
});
