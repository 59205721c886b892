// Credentials the way each product takes them: the sandboxes refuse a request without them (401 in the product's own shape), canon presents the generated ones, and no secret reaches an answer, a log line or /health.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../gateway/config.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { basicAuthorization, type AllSystemCredentials } from '../subgraphs/kit/credentials.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { SANDBOX_CREDENTIALS_FILE } from '../subgraphs/sandbox-kit/credentials.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** Every log line a stack writes, as text. */
function memoryLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

/** Every secret of a credential set, to look for where none may be. */
const secretsOf = (c: AllSystemCredentials) => [c.crm.token, c.erp.password, c.marketing.apiKey, c.support.token];

/** A read each system's API answers 200 to with its credentials. */
const READ: Record<SystemName, string> = {
  crm: '/crm/v3/objects/contacts?limit=1',
  erp: '/odata/v4/BusinessPartners?$top=1',
  marketing: `/3.0/lists/${MARKETING_LIST_ID}/members?count=1`,
  support: '/api/v2/incremental/organizations.json?start_time=0',
};

const log = memoryLog();
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ seed: 6, seedSize: 40, logLevel: 'debug' }, { log: log.logger });
});
afterAll(async () => {
  await stack?.stop();
});

const get = (system: SystemName, headers: Record<string, string> = {}) => fetch(stack.systems[system].url + READ[system], { headers });

/** Per system: what a request without credentials is answered, and credentials that are wrong in the ways people get them wrong. */
const REFUSALS: { system: SystemName; unauthenticated: (body: any, res: Response) => void; wrong: () => Record<string, string>[] }[] = [
  {
    system: 'crm',
    unauthenticated: (body) => expect(body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' }),
    wrong: () => [{ authorization: 'Bearer pat-sandbox-not-the-token' }, { authorization: basicAuthorization('x', stack.credentials.crm.token) }],
  },
  {
    system: 'erp',
    unauthenticated: (body, res) => {
      expect(body).toMatchObject({ error: { code: 'Unauthorized' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    },
    wrong: () => [{ authorization: basicAuthorization(stack.credentials.erp.user, 'wrong') }, { authorization: basicAuthorization('OTHER_USER', stack.credentials.erp.password) }],
  },
  {
    system: 'marketing',
    unauthenticated: (body, res) => {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(body).toMatchObject({ status: 401, title: 'API Key Invalid' });
    },
    wrong: () => [{ authorization: basicAuthorization('anyone', 'deadbeef-sandbox') }, { authorization: `Bearer ${stack.credentials.marketing.apiKey}` }],
  },
  {
    system: 'support',
    unauthenticated: (body) => expect(body).toEqual({ error: "Couldn't authenticate you" }),
    // The token without the `/token` suffix is a password login to Zendesk, and not this one.
    wrong: () => [{ authorization: basicAuthorization(`${stack.credentials.support.email}/token`, 'wrong') }, { authorization: basicAuthorization(stack.credentials.support.email, stack.credentials.support.token) }],
  },
];

describe.each(REFUSALS)('the $system sandbox', ({ system, unauthenticated, wrong }) => {
  it('answers 401 in its product\'s shape without credentials, and runs no handler', async () => {
    await stack.resetStats();
    const res = await get(system);
    expect(res.status).toBe(401);
    unauthenticated(await res.json(), res);
    const logged = await (await fetch(`${stack.systems[system].url}/_admin/requests?limit=1`)).json();
    expect(logged[0]).toMatchObject({ method: 'GET', status: 401 });
    expect((await stack.systemStats())[system].writes).toBe(0);
  });

  it('answers 401 to credentials that are wrong, and 200 to the generated ones', async () => {
    for (const headers of wrong()) expect((await get(system, headers)).status).toBe(401);
    expect((await stack.systemFetch(system, READ[system])).status).toBe(200);
  });

  it('keeps its admin endpoints open on loopback', async () => {
    expect((await fetch(`${stack.systems[system].url}/_admin/stats`)).status).toBe(200);
  });
});

describe('the generated credentials', () => {
  it('are written once into DATA_DIR/sandbox-credentials.json, readable by the owner only, in each product\'s shape', () => {
    const file = join(stack.config.dataDir, SANDBOX_CREDENTIALS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toEqual(stack.credentials);
    expect(stored.crm.token).toMatch(/^pat-sandbox-/);
    expect(stored.marketing.apiKey).toMatch(/^[0-9a-f]{32}-sandbox$/);
    expect(Object.keys(stored).sort()).toEqual([...SYSTEMS].sort());
  });

  it('let canon read every system, and no secret appears in an answer, a log line or /health', async () => {
    const res = await stack.gql('{ customers(first: 40) { edges { node { name legalName emailConsent supportPlan } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.customers.edges.length).toBe(40);
    const health = await (await fetch(`${stack.gateway.url}/health`)).text();
    const everything = [JSON.stringify(res), health, ...log.lines].join('\n');
    for (const secret of secretsOf(stack.credentials)) expect(everything).not.toContain(secret);
    expect(log.lines.some((l) => l.includes('"system":"crm"'))).toBe(true);
  });
});

describe('canon pointed at systems it does not start (<SYSTEM>_URL)', () => {
  let other: TestStack | undefined;
  let dir: string;
  const otherLog = memoryLog();
  afterAll(async () => {
    await other?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no sandbox, writes no credentials file, and serves the same customers with the credentials given', async () => {
    dir = mkdtempSync(join(tmpdir(), 'canon-remote-'));
    const urls = Object.fromEntries(SYSTEMS.map((s) => [s, stack.systems[s].url]));
    // An empty data directory: canon learns every customer from the systems' feeds.
    other = await startTestStack({ dataDir: dir, systemUrls: urls, systemCredentials: stack.credentials });
    expect(Object.fromEntries(SYSTEMS.map((s) => [s, other!.systems[s].url]))).toEqual(urls);
    expect(existsSync(join(dir, SANDBOX_CREDENTIALS_FILE))).toBe(false);
    expect(SYSTEMS.filter((s) => existsSync(join(dir, `${s}.sqlite`)))).toEqual([]);
    // Each canon names its customers itself; by CRM id they are the same people, with the same owners' values.
    const byCrm = async (s: TestStack) => {
      const res = await s.gql('{ customers(first: 100) { totalCount edges { node { email legalName sourceIds { crm erp } } } } }');
      expect(res.errors).toBeUndefined();
      return { total: res.data.customers.totalCount, rows: new Map(res.data.customers.edges.map((e: any) => [e.node.sourceIds.crm ?? `erp:${e.node.sourceIds.erp}`, e.node])) };
    };
    const [mine, theirs] = await Promise.all([byCrm(stack), byCrm(other)]);
    expect(theirs.total).toBe(mine.total);
    expect(theirs.rows.size).toBeGreaterThan(30);
    expect(theirs.rows).toEqual(mine.rows);
  });

  it('reports a system that refuses its credentials in /health, naming the system, learns the others, and no secret anywhere', async () => {
    const wrong: AllSystemCredentials = { ...stack.credentials, crm: { token: 'pat-sandbox-wrong-token-0000' } };
    const urls = Object.fromEntries(SYSTEMS.map((s) => [s, stack.systems[s].url]));
    const d = mkdtempSync(join(tmpdir(), 'canon-wrong-'));
    const refused = await startTestStack({ dataDir: d, systemUrls: urls, systemCredentials: wrong, logLevel: 'debug' }, { log: otherLog.logger, waitForSync: false });
    try {
      let health: any;
      for (let i = 0; i < 300; i++) {
        health = await (await fetch(`${refused.gateway.url}/health`)).json();
        if (health.sync.every((s: any) => s.system === 'crm' ? s.error : s.lastSyncAt)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // Never done with its first full sync while the CRM refuses it.
      expect(health.status).toBe('starting');
      expect(health.sync.find((s: any) => s.system === 'crm')).toMatchObject({ ok: false, cursor: null, error: { system: 'crm', code: 'SYSTEM_ERROR' } });
      expect(health.sync.filter((s: any) => s.system !== 'crm').map((s: any) => s.ok)).toEqual([true, true, true]);
      const res = await refused.gql('{ customers(first: 2) { totalCount edges { node { sourceIds { crm } legalName } } } }');
      expect(res.errors).toBeUndefined();
      expect(res.data.customers.totalCount).toBeGreaterThan(0);
      expect(res.data.customers.edges.map((e: any) => e.node.sourceIds.crm)).toEqual([null, null]);
      const everything = [JSON.stringify(res), JSON.stringify(health), ...otherLog.lines].join('\n');
      expect(everything).toContain('401');
      for (const secret of [...secretsOf(stack.credentials), 'pat-sandbox-wrong-token-0000']) expect(everything).not.toContain(secret);
    } finally {
      await refused.stop();
    }
  });
});

describe('the credential settings', () => {
  it('refuse a system URL without its credentials, naming the variables to set', () => {
    expect(() => loadConfig({ CRM_URL: 'https://api.hubapi.com' })).toThrow('CRM_URL is set, so canon needs that system\'s credentials: set CRM_TOKEN.');
    expect(() => loadConfig({ SUPPORT_URL: 'https://acme.zendesk.com', SUPPORT_EMAIL: 'a@b.example' })).toThrow('Set SUPPORT_EMAIL and SUPPORT_TOKEN together; missing SUPPORT_TOKEN.');
  });

  it('refuse a URL that carries credentials itself, without repeating them', () => {
    let message = '';
    try {
      loadConfig({ ERP_URL: 'https://user:s3cret@erp.example', ERP_USER: 'u', ERP_PASSWORD: 'p' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('ERP_URL must not carry credentials; set them in their own variables (see gateway/config.ts, systemCredentials).');
  });

  it('read each product\'s variables into its credentials', () => {
    const c = loadConfig({ CRM_URL: 'https://api.hubapi.com/', CRM_TOKEN: 't', ERP_USER: 'u', ERP_PASSWORD: 'p', MARKETING_API_KEY: 'k-us1', SUPPORT_EMAIL: 'e@x.example', SUPPORT_TOKEN: 'z' });
    expect(c.systemUrls).toEqual({ crm: 'https://api.hubapi.com' });
    expect(c.systemCredentials).toEqual({ crm: { token: 't' }, erp: { user: 'u', password: 'p' }, marketing: { apiKey: 'k-us1' }, support: { email: 'e@x.example', token: 'z' } });
  });
});
