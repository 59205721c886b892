// dataQuality: owners' values against the copies other systems keep, values canon cannot normalise (served as null, listed with their raw value), paging, scope; and national phone numbers written in the customer's stored country.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MODEL, SYSTEM_RECORDS, type SystemName } from '../schema/model.js';
import { validateSystemRecords } from '../schema/ownership.js';
import { toE164 } from '../subgraphs/kit/phone.js';
import { QualityStore } from '../subgraphs/identity/quality/report.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { generateDataset, type Dataset } from '../subgraphs/sandbox-kit/seed.js';
import { findChromium, openPage, type OpenPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** The seed size at which the seeded `0033405185339` exists (the default dataset's size). */
const SIZE = 2000;

let stack: TestStack;
let data: Dataset;
/** The customers canon's sync built, in creation order, each with its primary native id per system. */
let known: { id: string; primary: Partial<Record<SystemName, string>> }[];

beforeAll(async () => {
  stack = await startTestStack({ seedSize: SIZE });
  data = generateDataset({ seed: stack.config.seed, size: SIZE });
  known = [];
  let after: string | null = null;
  do {
    const res: { data?: any } = await stack.gql('query($after: String) { customers(first: 1000, after: $after) { edges { node { id records { system nativeId primary } } } pageInfo { hasNextPage endCursor } } }', { after });
    for (const { node } of res.data.customers.edges) {
      known.push({ id: node.id, primary: Object.fromEntries(node.records.filter((r: any) => r.primary).map((r: any) => [r.system.toLowerCase(), r.nativeId])) });
    }
    after = res.data.customers.pageInfo.hasNextPage ? res.data.customers.pageInfo.endCursor : null;
  } while (after);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.reset();
});

/** Each of canon's customers (in creation order) with the seeded record of its primary in each system. */
function primaries() {
  const byId = {
    crm: new Map(data.crm.map((r) => [r.id, r])),
    erp: new Map(data.erp.map((r) => [r.BusinessPartner, r])),
    marketing: new Map(data.marketing.map((r) => [r.subscriber_hash, r])),
    support: new Map(data.supportOrganizations.map((r) => [String(r.id), r])),
  };
  const out = new Map<string, { crm?: Dataset['crm'][number]; erp?: Dataset['erp'][number]; marketing?: Dataset['marketing'][number]; support?: Dataset['supportOrganizations'][number] }>();
  for (const c of known) {
    const entry: Record<string, unknown> = {};
    for (const [system, native] of Object.entries(c.primary) as [SystemName, string][]) entry[system] = byId[system].get(native);
    out.set(c.id, entry);
  }
  return out;
}

const DISAGREEMENTS = `query($field: String, $first: Int, $after: String) { dataQuality { disagreements(field: $field, first: $first, after: $after) {
  edges { cursor node { customer { id } field owner ownerValue copies { system sourceField value } } } pageInfo { hasNextPage endCursor } totalCount } } }`;
const ISSUES = `query($kind: String, $first: Int, $after: String) { dataQuality { issues(kind: $kind, first: $first, after: $after) {
  edges { cursor node { kind system nativeId field rawValue message } } pageInfo { hasNextPage endCursor } totalCount } } }`;

/** Every node of a dataQuality connection, `first` at a time, following endCursor. */
async function all(list: 'disagreements' | 'issues', vars: Record<string, unknown>, first = 1000): Promise<any[]> {
  const nodes: any[] = [];
  let after: string | null = null;
  for (;;) {
    const res: { data?: any; errors?: unknown[] } = await stack.gql(list === 'disagreements' ? DISAGREEMENTS : ISSUES, { ...vars, first, after });
    expect(res.errors).toBeUndefined();
    const conn: { edges: { node: unknown }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = res.data.dataQuality[list];
    nodes.push(...conn.edges.map((e: any) => e.node));
    if (!conn.pageInfo.hasNextPage) return nodes;
    after = conn.pageInfo.endCursor;
  }
}

/** A person's name as letters only, without case or diacritics: the test's own idea of "the same name". */
const letters = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]/g, '');
const joined = (...parts: (string | null | undefined)[]) => parts.map((p) => p?.trim()).filter(Boolean).join(' ');

async function patchMember(hash: string, fields: Record<string, string>): Promise<void> {
  const member = await stack.systemApi('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`);
  await stack.systemApi('marketing', 'PATCH', `/3.0/lists/${MARKETING_LIST_ID}/members/${hash}`, { merge_fields: { ...member.merge_fields, ...fields } });
}

describe('dataQuality disagreements', () => {
  it('lists exactly the seeded customers whose marketing name differs from the CRM name, with both values', async () => {
    const expected = [...primaries()].flatMap(([id, p]) => {
      if (!p.crm || !p.marketing) return [];
      const m = JSON.parse(p.marketing.merge_fields) as Record<string, string>;
      const owner = joined(p.crm.firstname, p.crm.lastname);
      const copy = joined(m.FNAME, m.LNAME);
      return owner && copy && letters(owner) !== letters(copy) ? [{ id, owner, copy }] : [];
    });
    expect(expected.length).toBeGreaterThan(50);
    const listed = await all('disagreements', { field: 'name' });
    expect(listed).toEqual(
      expected.map((e) => ({ customer: { id: e.id }, field: 'name', owner: 'CRM', ownerValue: e.owner, copies: [{ system: 'MARKETING', sourceField: 'merge_fields.FNAME + merge_fields.LNAME', value: e.copy }] })),
    );
  });

  it("lists a seeded shared info@ address against the marketing member's own address", async () => {
    const shared = [...primaries()].filter(([, p]) => p.crm?.email?.startsWith('info@') && p.marketing);
    expect(shared.length).toBeGreaterThan(0);
    const listed = new Map((await all('disagreements', { field: 'email' })).map((d) => [d.customer.id, d]));
    for (const [id, p] of shared) {
      expect(listed.get(id), id).toEqual({ customer: { id }, field: 'email', owner: 'CRM', ownerValue: p.crm!.email, copies: [{ system: 'MARKETING', sourceField: 'email_address', value: p.marketing!.email_address }] });
    }
  });

  it('does not count case, spacing or format as a disagreement, and lists a copy changed in its own system', async () => {
    const [id, p] = [...primaries()].find(([, x]) => x.crm && x.erp && x.marketing && toE164(x.crm.phone, x.crm.country) && !x.crm.email?.startsWith('info@'))!;
    const e164 = toE164(p.crm!.phone, p.crm!.country)!;
    const spaced = `${e164.slice(0, 3)} ${e164.slice(3, 6)} ${e164.slice(6)}`;
    const summary = async () => (await stack.gql('{ dataQuality { summary { field owner disagreements } } }')).data.dataQuality.summary as { field: string; owner: string; disagreements: number }[];
    expect((await summary()).map((s) => [s.field, s.owner])).toEqual([['name', 'CRM'], ['email', 'CRM'], ['phone', 'CRM'], ['legalName', 'ERP']]);

    await patchMember(p.marketing!.subscriber_hash, { FNAME: p.crm!.firstname!.toUpperCase(), LNAME: `  ${p.crm!.lastname}  `, PHONE: spaced, COMPANY: `${p.erp!.BusinessPartnerName!.toUpperCase()} (Head Office)` });
    await stack.sync.syncNow();
    const mine = async () => (await all('disagreements', {})).filter((d) => d.customer.id === id);
    const same = await mine();
    expect(same.filter((d) => d.field !== 'legalName')).toEqual([]);
    expect(same.flatMap((d) => d.copies).filter((c: any) => c.system === 'MARKETING')).toEqual([]);
    const before = await summary();

    await patchMember(p.marketing!.subscriber_hash, { FNAME: 'Zebulon', PHONE: '+44 20 7946 0000', COMPANY: 'Entirely Other Trading Ltd' });
    await stack.sync.syncNow();
    const differ = new Map((await mine()).map((d) => [d.field, d]));
    expect(differ.get('name')).toEqual({ customer: { id }, field: 'name', owner: 'CRM', ownerValue: joined(p.crm!.firstname, p.crm!.lastname), copies: [{ system: 'MARKETING', sourceField: 'merge_fields.FNAME + merge_fields.LNAME', value: `Zebulon ${p.crm!.lastname}` }] });
    expect(differ.get('phone')).toEqual({ customer: { id }, field: 'phone', owner: 'CRM', ownerValue: e164, copies: [{ system: 'MARKETING', sourceField: 'merge_fields.PHONE', value: '+44 20 7946 0000' }] });
    expect(differ.get('legalName')?.copies).toContainEqual({ system: 'MARKETING', sourceField: 'merge_fields.COMPANY', value: 'Entirely Other Trading Ltd' });
    expect(differ.get('legalName')?.ownerValue).toBe(p.erp!.BusinessPartnerName);
    const after = await summary();
    const count = (list: { field: string; disagreements: number }[], f: string) => list.find((s) => s.field === f)!.disagreements;
    expect(['name', 'email', 'phone'].map((f) => count(after, f) - count(before, f))).toEqual([1, 0, 1]);
    expect(count(after, 'legalName') - count(before, 'legalName')).toBe(same.length ? 0 : 1);
  });

  it('pages through every disagreement once, in order, whatever the page size', async () => {
    const whole = await all('disagreements', {});
    const byPages = await all('disagreements', {}, 37);
    expect(byPages).toEqual(whole);
    const first = await stack.gql(DISAGREEMENTS, { first: 3 });
    const conn = first.data.dataQuality.disagreements;
    expect(conn.totalCount).toBe(whole.length);
    expect(conn.edges.map((e: any) => e.node)).toEqual(whole.slice(0, 3));
    expect(conn.pageInfo).toEqual({ hasNextPage: true, endCursor: conn.edges[2].cursor });
    const summary = (await stack.gql('{ dataQuality { summary { field disagreements } } }')).data.dataQuality.summary;
    for (const s of summary) expect(s.disagreements, s.field).toBe(whole.filter((d) => d.field === s.field).length);
  });

  it('refuses an unknown field, an unknown kind, a foreign cursor and an oversized page with BAD_USER_INPUT', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [DISAGREEMENTS, { field: 'creditLimit' }, '"creditLimit" is no compared field; the fields with copies are: name, email, phone, legalName.'],
      [ISSUES, { kind: 'BAD_VIBES' }, '"BAD_VIBES" is no issue kind; the kinds are: UNPARSEABLE_PHONE.'],
      [DISAGREEMENTS, { after: 'bm90IGEgY3Vyc29y' }, 'is not a cursor from dataQuality.disagreements()'],
      [ISSUES, { first: 1001 }, 'dataQuality.issues(first:) must be between 0 and 1000; got 1001.'],
    ];
    for (const [query, vars, message] of cases) {
      const res = await stack.gql(query, vars);
      expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.system]), JSON.stringify(vars)).toEqual([['BAD_USER_INPUT', 'identity']]);
      expect(res.errors![0]!.message).toContain(message);
    }
  });
});

describe('dataQuality issues and served phones', () => {
  it('lists every seeded phone canon cannot parse with its raw value, 0033405185339 among them', async () => {
    const expected = data.crm
      .filter((c) => known.some((k) => k.primary.crm === c.id))
      .filter((c) => c.phone?.trim() && !toE164(c.phone, c.country))
      .map((c) => ({ kind: 'UNPARSEABLE_PHONE', system: 'CRM', nativeId: c.id, field: 'phone', rawValue: c.phone!.trim() }));
    const listed = await all('issues', { kind: 'UNPARSEABLE_PHONE' }, 9);
    expect(listed.map(({ message: _m, ...rest }) => rest)).toEqual(expected);
    const french = listed.find((i) => i.rawValue === '0033405185339');
    expect(french).toEqual({
      kind: 'UNPARSEABLE_PHONE', system: 'CRM', nativeId: '1243', field: 'phone', rawValue: '0033405185339',
      message: '"0033405185339" is not a phone number, international or national in FR; canon serves phone as null until it is corrected in crm.',
    });
    const served = await stack.gql('{ customerBySourceId(system: CRM, id: "1243") { phone } }');
    expect(served).toMatchObject({ data: { customerBySourceId: { phone: null } } });
    expect(served.errors).toBeUndefined();
  });

  it('serves every phone of every seeded customer in E.164 or as null', async () => {
    const phones: (string | null)[] = [];
    let after: string | null = null;
    do {
      const res: { data?: any; errors?: unknown[] } = await stack.gql('query($after: String) { customers(first: 1000, after: $after) { edges { node { phone } } pageInfo { hasNextPage endCursor } } }', { after });
      expect(res.errors).toBeUndefined();
      phones.push(...res.data.customers.edges.map((e: any) => e.node.phone));
      after = res.data.customers.pageInfo.hasNextPage ? res.data.customers.pageInfo.endCursor : null;
    } while (after);
    expect(phones).toHaveLength(known.length);
    expect(phones.filter((p) => p !== null && !/^\+[1-9]\d{6,14}$/.test(p))).toEqual([]);
    const unparseable = (await all('issues', { kind: 'UNPARSEABLE_PHONE' })).length;
    const withoutPhone = [...primaries().values()].filter((p) => !p.crm?.phone?.trim()).length;
    expect(phones.filter((p) => p === null)).toHaveLength(unparseable + withoutPhone);
  });

  it('needs quality:read or admin, and answers with nothing from any system otherwise', async () => {
    const query = '{ dataQuality { summary { field disagreements } } }';
    const crmOnly = await stack.gql(query, undefined, await stack.appHeaders('dq-crm-reader', ['read:crm']));
    expect(crmOnly.data).toBeNull();
    expect(crmOnly.errors?.map((e) => [e.extensions?.code, e.extensions?.scope, e.path])).toEqual([['FORBIDDEN', 'quality:read', ['dataQuality']]]);
    for (const scopes of [['quality:read'], ['admin']]) {
      const res = await stack.gql(query, undefined, await stack.appHeaders(`dq-${scopes[0]!.replace(':', '-')}`, scopes));
      expect(res.errors, scopes[0]).toBeUndefined();
      expect(res.data.dataQuality.summary.map((s: any) => s.field)).toEqual(['name', 'email', 'phone', 'legalName']);
    }
    const stats = await stack.systemStats();
    expect(Object.values(stats).map((s) => s.requests)).toEqual([0, 0, 0, 0]);
  });
});

describe('QualityStore', () => {
  it('creates source_records and reports nothing when no sync has run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canon-dq-'));
    try {
      const store = new QualityStore(join(dir, 'identity.sqlite'));
      expect(store.report()).toEqual({ summary: ['name', 'email', 'phone', 'legalName'].map((field) => ({ field, owner: field === 'legalName' ? 'erp' : 'crm', disagreements: 0 })), disagreements: [], issues: [] });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validateSystemRecords', () => {
  it('names a copy kept by its owner, or in a field its record does not have, when the model declares one', () => {
    const model = structuredClone(MODEL);
    const customer = model.types.find((t) => t.name === 'Customer')!;
    if (customer.kind !== 'object') throw new Error('Customer is an object type');
    customer.fields.find((f) => f.name === 'phone')!.copies = [{ system: 'crm', sourceField: 'properties.phone' }, { system: 'marketing', sourceField: 'merge_fields.MOBILE' }];
    expect(validateSystemRecords(model, SYSTEM_RECORDS)).toEqual([
      "Customer.phone's copy in crm is kept by its owner; a copy is another system's.",
      "Customer.phone's copy in marketing names merge_fields.MOBILE, which is no native field of its member.",
    ]);
    expect(validateSystemRecords()).toEqual([]);
  });
});

describe('updateCustomer phone in national format', () => {
  const crmPatches = async (id: string) => (await (await fetch(`${stack.systems.crm.url}/_admin/requests?limit=50`)).json()).filter((r: any) => r.method === 'PATCH' && r.path === `/crm/v3/objects/contacts/${id}`);
  const customerOf = (system: SystemName, native: string) => known.find((k) => k.primary[system] === native)!.id;

  it("reads it in the contact's stored country when the input sends no country", async () => {
    const contact = data.crm.find((c) => c.country === 'US' && known.some((k) => k.primary.crm === c.id))!;
    const id = customerOf('crm', contact.id);
    const res = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "(415) 555-0199" }) { results { system status } customer { phone } } }', { id });
    expect(res.errors).toBeUndefined();
    expect(res.data.updateCustomer).toEqual({ results: [{ system: 'CRM', status: 'SUCCEEDED' }], customer: { phone: '+14155550199' } });
    const stored = await stack.systemApi('crm', 'GET', `/crm/v3/objects/contacts/${contact.id}?properties=phone`);
    expect(stored.properties.phone).toBe('+14155550199');
    expect(await crmPatches(contact.id)).toHaveLength(1);
  });

  it('reads it in the billing country when the contact keeps none, and refuses it, writing nothing, when neither does', async () => {
    const primaryCrm = (customer: string) => known.find((k) => k.id === customer)?.primary.crm;
    const withErp = data.erp.find((e) => e.Country === 'DE' && known.some((k) => k.primary.erp === e.BusinessPartner && k.primary.crm))!;
    const billed = customerOf('erp', withErp.BusinessPartner);
    const billedContact = primaryCrm(billed)!;
    const noErp = [...primaries()].find(([, p]) => p.crm && !p.erp)!;
    for (const contact of [billedContact, noErp[1].crm!.id]) await stack.systemApi('crm', 'PATCH', `/crm/v3/objects/contacts/${contact}`, { properties: { country: '' } });
    await stack.reset();

    const ok = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "030 1234567" }) { results { system status } } }', { id: billed });
    expect(ok.errors).toBeUndefined();
    expect((await stack.systemApi('crm', 'GET', `/crm/v3/objects/contacts/${billedContact}?properties=phone`)).properties.phone).toBe('+49301234567');

    const refused = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "030 1234567" }) { results { system status } } }', { id: noErp[0] });
    expect(refused.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'phone']]);
    expect(refused.errors![0]!.message).toBe('phone "030 1234567" is not a valid international number; write it with its country code (+49 30 1234567), or send billingAddress.country with it.');
    expect(await crmPatches(noErp[1].crm!.id)).toEqual([]);
  });
});

const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

describe.skipIf('skip' in chromium)('explorer data-quality view', () => {
  let opened: OpenPage;
  beforeAll(async () => {
    opened = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/explorer#quality`, { key: stack.devKey });
  }, 60_000);
  afterAll(async () => {
    await opened?.browser.close();
  });

  it('shows the disagreements by field with their counts, and filters to one field when its chip is pressed', async () => {
    const { page } = opened;
    await page.waitForSelector('#quality-disagreements[data-state="loaded"]');
    const summary = (await stack.gql('{ dataQuality { summary { field disagreements } } }')).data.dataQuality.summary as { field: string; disagreements: number }[];
    const chips = await page.locator('#quality-fields .chip').evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.field, (e as HTMLElement).dataset.count]));
    expect(chips).toEqual([['all', String(summary.reduce((n, s) => n + s.disagreements, 0))], ...summary.map((s) => [s.field, String(s.disagreements)])]);
    expect(await page.locator('#quality-disagreements tbody tr').count()).toBe(50);

    await page.click('#quality-fields .chip[data-field="phone"]');
    await expect.poll(() => page.locator('#quality-count').textContent()).toBe(`Showing 50 of ${summary.find((s) => s.field === 'phone')!.disagreements} disagreements`);
    const fields = await page.locator('#quality-disagreements tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.field));
    expect(new Set(fields)).toEqual(new Set(['phone']));
    const first = (await stack.gql(DISAGREEMENTS, { field: 'phone', first: 1 })).data.dataQuality.disagreements.edges[0].node;
    const row = page.locator('#quality-disagreements tbody tr').first();
    expect(await row.getAttribute('data-customer')).toBe(first.customer.id);
    expect(await row.locator('td.owner-value .value').textContent()).toBe(first.ownerValue);
    expect(await row.locator('td.copies .copy .value').allTextContents()).toEqual(first.copies.map((c: any) => c.value));

    await page.click('#quality-more');
    await expect.poll(() => page.locator('#quality-disagreements tbody tr').count()).toBe(Math.min(100, summary.find((s) => s.field === 'phone')!.disagreements));
    await page.screenshot({ path: join(import.meta.dirname, 'artifacts', 'explorer-quality.png'), fullPage: false });
  });

  it('lists the issues with their raw values, 0033405185339 among them', async () => {
    const { page } = opened;
    await page.waitForSelector('#quality-issues[data-state="loaded"]');
    const total = (await stack.gql(ISSUES, { first: 0 })).data.dataQuality.issues.totalCount;
    expect(await page.locator('#quality-issues-count').textContent()).toBe(`${total} values canon serves as null`);
    const french = page.locator('#quality-issues tbody tr[data-native="1243"]');
    expect(await french.getAttribute('data-kind')).toBe('UNPARSEABLE_PHONE');
    expect(await french.locator('td.raw').textContent()).toBe('0033405185339');
  });

  it("made no request outside the gateway's origin and raised no page errors", () => {
    const origin = new URL(stack.gateway.url).origin;
    expect(opened.requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
  });
});
