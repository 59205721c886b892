// The change feeds: each connector reads its system's changes the way the product offers them, page by page, and resumes from any page's cursor without losing a record.
//
// Each feed is described once in FEEDS (its connector, its route, its records' ids, a direct write); the tests are
// written once and run for each. What the systems received is read from their request logs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SystemName } from '../schema/model.js';
import { CrmConnector } from '../subgraphs/crm/connector.js';
import { openCrmStore } from '../subgraphs/crm/sandbox/index.js';
import { ErpConnector } from '../subgraphs/erp/connector.js';
import type { ChangePage } from '../subgraphs/kit/change-feed.js';
import { MarketingConnector } from '../subgraphs/marketing/connector.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import type { RequestLogEntry } from '../subgraphs/sandbox-kit/admin.js';
import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { generateDataset, seedAll, type Dataset } from '../subgraphs/sandbox-kit/seed.js';
import { SupportConnector } from '../subgraphs/support/connector.js';
import { openSupportStore, type SupportOrganizationRow } from '../subgraphs/support/sandbox/index.js';
import { sandboxApi, sandboxFetch, TEST_CREDENTIALS } from './support/credentials.js';
import { startTestStack, type TestStack } from './support/stack.js';

const SEED = { seed: 21, size: 150 };
/** Small pages, so the seeded records take several. */
const PAGE = 25;
/** Support pages are the export's own 1000: this many extra organizations make the feed take two. */
const EXTRA_ORGANIZATIONS = 1100;

let dir: string;
let data: Dataset;
const sandboxes = {} as Record<SystemName, RunningSandbox>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canon-feeds-'));
  seedAll(dir, SEED);
  data = generateDataset(SEED);
  // Organizations a second apart, all over a minute old, so the export pages through them second by second.
  const support = openSupportStore(join(dir, 'support.sqlite'));
  const base = Date.UTC(2026, 1, 1);
  const extra: SupportOrganizationRow[] = Array.from({ length: EXTRA_ORGANIZATIONS }, (_, i) => ({
    id: 95000001 + i, name: `Feed Org ${i}`, external_id: null, details: null, notes: null, organization_fields: '{"support_plan":null}',
    created_at: new Date(base + i * 1000).toISOString(), updated_at: new Date(base + i * 1000).toISOString(),
  }));
  support.insertAll(extra, []);
  support.close();
  for (const s of ['crm', 'erp', 'marketing', 'support'] as const) sandboxes[s] = await startSandboxIn(s, dir, TEST_CREDENTIALS);
});

afterAll(async () => {
  await Promise.all(Object.values(sandboxes).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await Promise.all(Object.values(sandboxes).map((s) => fetch(`${s.url}/_admin/stats`, { method: 'DELETE' })));
});

/** What `system` received on `route` since the last reset of its stats, oldest first. */
async function received(system: SystemName, route: string): Promise<RequestLogEntry[]> {
  const log = (await (await fetch(`${sandboxes[system].url}/_admin/requests?limit=2000`)).json()) as RequestLogEntry[];
  return log.filter((e) => e.route === route).reverse();
}
const requestsOn = async (system: SystemName, route: string) => (await (await fetch(`${sandboxes[system].url}/_admin/stats`)).json()).byRoute[route] ?? 0;

interface FeedContract {
  system: SystemName;
  /** The route every read of the feed takes. */
  route: string;
  /** The feed's pages from `cursor`. */
  changes(cursor: string | null): AsyncGenerator<ChangePage<unknown>>;
  /** A record's native id as the feed delivers it. */
  idOf(record: any): string;
  /** Every native id the system holds. */
  all(): string[];
  /** Largest page the feed may deliver. */
  pageSize: number;
  /** Changes one record directly at the system's own API (not through canon); returns its id. */
  touch(n: number): Promise<string>;
}

const crm = () => new CrmConnector({ baseUrl: sandboxes.crm.url, credentials: TEST_CREDENTIALS.crm, feedPageSize: PAGE });
const erp = () => new ErpConnector({ baseUrl: sandboxes.erp.url, credentials: TEST_CREDENTIALS.erp, feedPageSize: PAGE });
const marketing = () => new MarketingConnector({ baseUrl: sandboxes.marketing.url, credentials: TEST_CREDENTIALS.marketing, listId: MARKETING_LIST_ID, feedPageSize: PAGE });
const support = () => new SupportConnector({ baseUrl: sandboxes.support.url, credentials: TEST_CREDENTIALS.support });
const api = (system: SystemName, method: string, path: string, body?: unknown) => sandboxApi(system, sandboxes[system].url, method, path, body);

/** Records of each system touched so far, so every test touches its own. */
const touched = { crm: 0, erp: 0, marketing: 0, support: 0 };
const next = (system: SystemName, ids: string[]) => ids[10 + touched[system]++]!;

const FEEDS: FeedContract[] = [
  {
    system: 'crm',
    route: 'POST /crm/v3/objects/contacts/search',
    changes: (c) => crm().changes(c),
    idOf: (r) => r.id,
    all: () => data.crm.map((c) => c.id),
    pageSize: PAGE,
    touch: async (n) => {
      const id = next('crm', data.crm.map((c) => c.id));
      await api('crm', 'PATCH', `/crm/v3/objects/contacts/${id}`, { properties: { jobtitle: `Feed ${n}` } });
      return id;
    },
  },
  {
    system: 'erp',
    route: 'GET /odata/v4/BusinessPartners',
    changes: (c) => erp().changes(c),
    idOf: (r) => r.BusinessPartner,
    all: () => data.erp.map((p) => p.BusinessPartner),
    pageSize: PAGE,
    touch: async (n) => {
      const id = next('erp', data.erp.map((p) => p.BusinessPartner));
      const res = await sandboxFetch('erp', `${sandboxes.erp.url}/odata/v4/BusinessPartners('${id}')`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': '*' }, body: JSON.stringify({ CityName: `Feed City ${n}` }) });
      expect(res.status).toBe(200);
      return id;
    },
  },
  {
    system: 'marketing',
    route: 'GET /3.0/lists/{list_id}/members',
    changes: (c) => marketing().changes(c),
    idOf: (r) => r.id,
    all: () => data.marketing.map((m) => m.subscriber_hash),
    pageSize: PAGE,
    touch: async (n) => {
      const hash = next('marketing', data.marketing.map((m) => m.subscriber_hash));
      await api('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, { merge_fields: { COMPANY: `Feed ${n}` } });
      return hash;
    },
  },
  {
    system: 'support',
    route: 'GET /api/v2/incremental/organizations.json',
    changes: (c) => support().changes(c),
    idOf: (r) => String(r.id),
    all: () => [...data.supportOrganizations.map((o) => String(o.id)), ...Array.from({ length: EXTRA_ORGANIZATIONS }, (_, i) => String(95000001 + i))],
    pageSize: 1000,
    touch: async (n) => {
      const id = next('support', data.supportOrganizations.map((o) => String(o.id)));
      await api('support', 'PUT', `/api/v2/organizations/${id}.json`, { organization: { notes: `Feed ${n}` } });
      return id;
    },
  },
];

async function collect(pages: AsyncGenerator<ChangePage<unknown>>, idOf: (r: any) => string, stopAfter = Infinity) {
  const out: { ids: string[]; cursor: string }[] = [];
  for await (const page of pages) {
    out.push({ ids: page.records.map(idOf), cursor: page.cursor });
    if (out.length >= stopAfter) break;
  }
  return out;
}
const sorted = (ids: readonly string[]) => [...ids].sort();

describe.each(FEEDS)('the $system change feed', (f) => {
  it('delivers every record exactly once from the beginning, one request per page, no page over its size', async () => {
    const pages = await collect(f.changes(null), f.idOf);
    const ids = pages.flatMap((p) => p.ids);
    expect(sorted(ids)).toEqual(sorted(f.all()));
    expect(pages.length).toBeGreaterThan(1);
    expect(Math.max(...pages.map((p) => p.ids.length))).toBeLessThanOrEqual(f.pageSize);
    expect(await requestsOn(f.system, f.route)).toBe(pages.length);
    expect((await received(f.system, f.route)).every((e) => e.status === 200)).toBe(true);
  });

  it('resumes from a cursor taken mid-way and loses no record', async () => {
    const firstTwo = await collect(f.changes(null), f.idOf, 2);
    const rest = await collect(f.changes(firstTwo[1]!.cursor), f.idOf);
    const before = firstTwo.flatMap((p) => p.ids);
    const after = rest.flatMap((p) => p.ids);
    expect(sorted([...before, ...after])).toEqual(sorted(f.all()));
    expect(after.filter((id) => before.includes(id))).toEqual([]);
  });

  it('answers nothing new from the cursor at the end, then exactly the record changed directly at the system', async () => {
    const end = (await collect(f.changes(null), f.idOf)).at(-1)!.cursor;
    expect(await collect(f.changes(end), f.idOf)).toEqual([]);
    const id = await f.touch(1);
    const pages = await collect(f.changes(end), f.idOf);
    expect(pages.flatMap((p) => p.ids)).toEqual([id]);
    // And the cursor after it has that change behind it.
    expect(await collect(f.changes(pages.at(-1)!.cursor), f.idOf)).toEqual([]);
  });

  it('refuses a cursor that is not one of its own, naming the feed', async () => {
    await expect(collect(f.changes('bm90IGEgY3Vyc29y'), f.idOf)).rejects.toThrow(`is not a cursor from ${f.system} changes`);
  });
});

describe('the CRM change feed and records sharing one lastmodifieddate', () => {
  it('pages through more contacts of one stamp than a page holds, delivering each once', async () => {
    const store = openCrmStore(join(dir, 'crm.sqlite'));
    const stamp = '2027-03-01T10:00:00.000Z';
    const ids = Array.from({ length: 2 * PAGE + 5 }, (_, i) => String(80001 + i));
    store.insertAll(ids.map((id) => ({ id, firstname: 'Tie', lastname: id, email: `tie${id}@example.com`, phone: null, country: 'DE', company: null, jobtitle: null, lifecyclestage: 'lead', canon_external_id: null, createdate: stamp, lastmodifieddate: stamp })));
    store.close();
    const pages = await collect(crm().changes(null), (r) => r.id);
    const delivered = pages.flatMap((p) => p.ids);
    expect(sorted(delivered.filter((id) => ids.includes(id)))).toEqual(sorted(ids));
    expect(delivered.filter((id, i) => delivered.indexOf(id) !== i)).toEqual([]);
    const last = pages.at(-1)!.cursor;
    expect(await collect(crm().changes(last), (r) => r.id)).toEqual([]);
  });
});

describe('the feeds stay within what each product allows', () => {
  it('HubSpot search: limit over 200 and paging past 10,000 results are refused with a 400', async () => {
    const over = await sandboxFetch('crm', `${sandboxes.crm.url}/crm/v3/objects/contacts/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: 201 }) });
    expect(over.status).toBe(400);
    const past = await sandboxFetch('crm', `${sandboxes.crm.url}/crm/v3/objects/contacts/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: 100, after: '10000' }) });
    expect(past.status).toBe(400);
    expect((await past.json()).message).toContain('at most 10000 results');
  });

  it('Mailchimp members: a count over 1000 is refused, and total_items counts what since_last_changed admits', async () => {
    const over = await sandboxFetch('marketing', `${sandboxes.marketing.url}/3.0/lists/${MARKETING_LIST_ID}/members?count=1001`);
    expect(over.status).toBe(400);
    const all = (await api('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members?sort_field=last_changed&sort_dir=ASC&count=1000`)).members as { id: string; last_changed: string }[];
    const since = all.at(-3)!.last_changed;
    const admitted = all.filter((m) => m.last_changed >= since);
    const page = await api('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members?since_last_changed=${encodeURIComponent(since)}&sort_field=last_changed&sort_dir=ASC&count=2`);
    expect(page.total_items).toBe(admitted.length);
    expect(page.members.map((m: any) => m.id)).toEqual(admitted.slice(0, 2).map((m) => m.id));
  });

  it('OData: a page is never over the service page size, whatever maxpagesize asks, and says what it applied', async () => {
    const res = await sandboxFetch('erp', `${sandboxes.erp.url}/odata/v4/BusinessPartners?$orderby=LastChangeDateTime&$select=BusinessPartner`, { headers: { prefer: 'odata.maxpagesize=7' } });
    expect(res.headers.get('preference-applied')).toBe('odata.maxpagesize=7');
    const body = await res.json();
    expect(body.value).toHaveLength(7);
    expect(body['@odata.nextLink']).toMatch(/^BusinessPartners\?.*\$skiptoken=/);
  });

  it('Zendesk export: a start_time under a minute old is refused; the connector never sends one', async () => {
    const recent = Math.floor(Date.now() / 1000) - 10;
    const res = await sandboxFetch('support', `${sandboxes.support.url}/api/v2/incremental/organizations.json?start_time=${recent}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' });
    await collect(support().changes(null), (r) => String(r.id));
    expect((await received('support', 'GET /api/v2/incremental/organizations.json')).map((e) => e.status)).toEqual([400, 200, 200]);
  });
});

describe('the change feeds of a running canon', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ seed: 4, seedSize: 80 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('see a change made through canon in every system it wrote to, and nothing else', async () => {
    const s = stack.systems;
    const c = stack.credentials;
    const feeds = {
      crm: new CrmConnector({ baseUrl: s.crm.url, credentials: c.crm }),
      erp: new ErpConnector({ baseUrl: s.erp.url, credentials: c.erp }),
      marketing: new MarketingConnector({ baseUrl: s.marketing.url, credentials: c.marketing, listId: MARKETING_LIST_ID }),
      support: new SupportConnector({ baseUrl: s.support.url, credentials: c.support }),
    };
    const cursors = Object.fromEntries(await Promise.all(Object.entries(feeds).map(async ([k, f]) => [k, (await f.changesSince(null)).cursor]))) as Record<SystemName, string>;
    const page = await stack.gql('{ customers(first: 80) { edges { node { id sourceIds { crm erp marketing support } } } } }');
    const customer = page.data.customers.edges.map((e: any) => e.node).find((n: any) => Object.values(n.sourceIds).every((v) => v !== null));
    const res = await stack.gql(
      'mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Feed Person", legalName: "Feed Holdings GmbH", emailConsent: UNSUBSCRIBED, supportPlan: ENTERPRISE }) { results { system status } } }',
      { id: customer.id },
    );
    expect(res.errors).toBeUndefined();
    const seen = {
      crm: (await feeds.crm.changesSince(cursors.crm)).records.map((r) => [r.id, `${r.properties.firstname} ${r.properties.lastname}`]),
      erp: (await feeds.erp.changesSince(cursors.erp)).records.map((r) => [r.BusinessPartner, r.BusinessPartnerName]),
      marketing: (await feeds.marketing.changesSince(cursors.marketing)).records.map((r) => [r.id, r.status]),
      support: (await feeds.support.changesSince(cursors.support)).records.map((r) => [String(r.id), r.organization_fields.support_plan]),
    };
    expect(seen).toEqual({
      crm: [[customer.sourceIds.crm, 'Feed Person']],
      erp: [[customer.sourceIds.erp, 'Feed Holdings GmbH']],
      marketing: [[customer.sourceIds.marketing, 'unsubscribed']],
      support: [[customer.sourceIds.support, 'enterprise']],
    });
  });
});
