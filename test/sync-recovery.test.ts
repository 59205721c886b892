// The identity sync under the two things that happen to it in production: a gateway killed in the middle of its full sync (it resumes from the stored cursor and loses no record), and a second canon attached to systems another one runs (it learns the same customers from their feeds, seeds nothing, and shows no secret).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../gateway/http/health.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import type { AllSystemCredentials } from '../subgraphs/kit/credentials.js';
import { generateSandboxCredentials, SANDBOX_CREDENTIALS_FILE } from '../subgraphs/sandbox-kit/credentials.js';
import { SEED_TRUTH_FILE, seedAll, type SeedTruth } from '../subgraphs/sandbox-kit/seed.js';
import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import { credentialEnv } from './support/canon-process.js';
import { startChildStack, type ChildStack } from './support/child-stack.js';
import { untilSynced } from './support/health.js';
import { scratch } from './support/scratch.js';
import { startTestStack, type TestStack } from './support/stack.js';

const dirs = scratch();

/** The CRM connector's page size on its change feed (HubSpot's search). */
const CRM_FEED_PAGE = 100;

const json = (url: string, init?: RequestInit) => fetch(url, init).then((r) => r.json());
const healthOf = (child: ChildStack) => json(`${child.ready.gateway}/health`) as Promise<HealthReport>;
const crmSync = (h: HealthReport) => h.sync!.find((s) => s.system === 'crm')!;

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, tries = 1200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

type Rec = { system: string; nativeId: string };

/** Every customer a gateway serves, with its records, page by page. */
async function allCustomers(gql: ChildStack['gql']): Promise<{ id: string; records: Rec[] }[]> {
  const out: { id: string; records: Rec[] }[] = [];
  let after: string | null = null;
  for (;;) {
    const r: any = await gql('query($after: String) { customers(first: 500, after: $after) { edges { node { id records { system nativeId } } } pageInfo { hasNextPage endCursor } } }', { after });
    expect(r.errors).toBeUndefined();
    out.push(...r.data.customers.edges.map((e: any) => e.node));
    if (!r.data.customers.pageInfo.hasNextPage) return out;
    after = r.data.customers.pageInfo.endCursor;
  }
}

describe('a gateway killed in the middle of its full sync', () => {
  // The systems run on their own (as real ones do) and outlive the gateway; only canon is killed.
  const systemsDir = dirs.dir('canon-sync-systems-');
  const canonDir = dirs.dir('canon-sync-canon-');
  const credentials: AllSystemCredentials = generateSandboxCredentials();
  const sandboxes: { close(): Promise<void> }[] = [];
  let child: ChildStack | undefined;
  afterAll(async () => {
    await child?.stop();
    await Promise.all(sandboxes.map((s) => s.close()));
  });

  it('resumes from the cursor it stored, reads only what was left, and loses no record', async () => {
    seedAll(systemsDir, { seed: 1, size: 2000 });
    const urls = {} as Record<SystemName, string>;
    for (const s of SYSTEMS) {
      const sandbox = await startSandboxIn(s, systemsDir, credentials);
      sandboxes.push(sandbox);
      urls[s] = sandbox.url;
    }
    // Each CRM page a little slow, so that the full sync is caught half done; the other systems answer at once.
    await fetch(`${urls.crm}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 200 }) });
    const overrides = { systemUrls: urls, systemCredentials: credentials };
    child = await startChildStack(canonDir, overrides, { waitForSync: false });
    // Killed while the CRM's full sync is a few pages in, and after another system's full sync has ended.
    const midway = await until('some CRM pages stored while the full sync runs', async () => {
      const h = await healthOf(child!);
      return h.status === 'starting' && crmSync(h).records >= 3 * CRM_FEED_PAGE && h.sync!.some((s) => s.system !== 'crm' && s.lastSyncAt) && h;
    });
    await child.kill();
    const storedBefore = crmSync(midway).records;

    await fetch(`${urls.crm}/_admin/faults`, { method: 'DELETE' });
    child = await startChildStack(canonDir, overrides, { waitForSync: false });
    const synced = (await untilSynced(child.ready.gateway)).at(-1)!;
    expect(synced.status).toBe('ok');

    const truth = JSON.parse(readFileSync(join(systemsDir, SEED_TRUTH_FILE), 'utf8')) as SeedTruth;
    const crmTotal = truth.customers.reduce((n, c) => n + c.records.crm.length, 0);
    // The second gateway read the CRM from where the first had stored it: only the contacts after that cursor (a
    // full sync from scratch would have read every contact again). /health counts the records each page stored.
    expect(storedBefore).toBeLessThan(crmTotal);
    const readAfter = crmSync(synced).records;
    expect(readAfter).toBeGreaterThan(0);
    expect(readAfter).toBeLessThanOrEqual(crmTotal - storedBefore);
    // A system whose full sync had ended reads on from its cursor, and finds nothing new.
    const ended = midway.sync!.filter((s) => s.system !== 'crm' && s.lastSyncAt).map((s) => s.system);
    expect(synced.sync!.filter((s) => ended.includes(s.system)).map((s) => [s.system, s.records])).toEqual(ended.map((s) => [s, 0]));

    // Every record of the seed is in exactly one customer.
    const expected = truth.customers.flatMap((c) => SYSTEMS.flatMap((s) => c.records[s].map((id) => `${s}:${id}`)));
    const seen = (await allCustomers(child.gql)).flatMap((c) => c.records.map((r) => `${r.system.toLowerCase()}:${r.nativeId}`));
    expect(seen.length).toBe(new Set(seen).size);
    expect(seen.sort()).toEqual(expected.sort());
    expect(synced.identity?.records).toBe(expected.length);
  }, 240_000);
});

describe('a second canon attached to the systems another one runs', () => {
  const output: string[] = [];
  let first: TestStack | undefined;
  let second: ChildStack | undefined;
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('seeds nothing, starts no sandbox, serves the same customers after its full sync, and shows no credential', async () => {
    first = await startTestStack({ seed: 3, seedSize: 300 });
    const emptyDir = dirs.dir('canon-sync-second-');
    const c = first.credentials;
    const env = {
      CRM_URL: first.systems.crm.url,
      ERP_URL: first.systems.erp.url,
      MARKETING_URL: first.systems.marketing.url,
      SUPPORT_URL: first.systems.support.url,
      ...credentialEnv(c),
    };
    second = await startChildStack(emptyDir, { logLevel: 'debug' }, { env, output, waitForSync: false });
    const reports = await untilSynced(second.ready.gateway);
    expect(reports.at(-1)!.status).toBe('ok');
    expect(second.ready.systems).toEqual(Object.fromEntries(SYSTEMS.map((s) => [s, first!.systems[s].url])));
    expect([SEED_TRUTH_FILE, SANDBOX_CREDENTIALS_FILE, ...SYSTEMS.map((s) => `${s}.sqlite`)].filter((f) => existsSync(join(emptyDir, f)))).toEqual([]);

    // Every CRM id of the seed, asked of both gateways: the same person, with the same owners' values.
    const truth = JSON.parse(readFileSync(join(first.config.dataDir, SEED_TRUTH_FILE), 'utf8')) as SeedTruth;
    const crmIds = truth.customers.flatMap((x) => x.records.crm);
    const byCrm = async (gql: ChildStack['gql']) => {
      const rows: unknown[] = [];
      for (let i = 0; i < crmIds.length; i += 50) {
        const ids = crmIds.slice(i, i + 50);
        const query = `{ ${ids.map((id, j) => `c${j}: customerBySourceId(system: CRM, id: "${id}") { email legalName }`).join(' ')} }`;
        const r = await gql(query);
        expect(r.errors).toBeUndefined();
        rows.push(...ids.map((id, j) => ({ id, ...r.data[`c${j}`] })));
      }
      return rows;
    };
    const [mine, theirs] = await Promise.all([byCrm((q, v) => first!.gql(q, v)), byCrm(second.gql)]);
    expect(mine.filter((r: any) => r.email)).toHaveLength(crmIds.length);
    expect(theirs).toEqual(mine);

    const health = await (await fetch(`${second.ready.gateway}/health`)).text();
    const logged = output.join('');
    expect(logged).toContain('full sync done');
    for (const secret of [c.crm.token, c.erp.password, c.marketing.apiKey, c.support.token]) {
      expect(health).not.toContain(secret);
      expect(logged).not.toContain(secret);
      expect(reports.map((r) => JSON.stringify(r)).join('\n')).not.toContain(secret);
    }
  }, 180_000);
});
