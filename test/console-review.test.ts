// Tests for the console's match review and customers views in headless Chromium against a whole stack: candidates with their evidence and customers, Link, Keep apart, the status filter and paging, Unlink, and the API's errors shown in the page.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, openPage, type OpenPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/** Made-up company names of seven letters, far apart from each other and from anything the seed generates. */
const WORDS = ['Quorvex', 'Brimwal', 'Tessari', 'Olvanth', 'Zandrik', 'Pelumor', 'Grishna', 'Ystrove', 'Kafferu', 'Mirendo', 'Voskaly', 'Drummel', 'Hathers', 'Nubrine', 'Ulzemar', 'Frenkov', 'Carvoss', 'Wexilba', 'Joruman', 'Plessvi', 'Tarnoyl', 'Echelmo'];

interface Pair {
  crm: string;
  support: string;
  /** The candidate's id as matchCandidates names it. */
  id: string;
}
interface Candidate {
  id: string;
  score: number;
  rules: { name: string; weight: number }[];
  records: { system: string; nativeId: string }[];
  status: string;
}

const CANDIDATES = `query($status: MatchStatus, $first: Int, $after: String) { matchCandidates(status: $status, first: $first, after: $after) {
  edges { node { id score rules { name weight } records { system nativeId } status } } pageInfo { hasNextPage endCursor } } }`;
const BY_SOURCE = 'query($s: System!, $id: ID!) { customerBySourceId(system: $s, id: $id) { id records { system nativeId primary } } }';

let stack: TestStack;
/** Every candidate of a status, in the API's order. */
async function allCandidates(status: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let after: string | null = null;
  for (;;) {
    const res: any = await stack.gql(CANDIDATES, { status, first: 1000, after });
    expect(res.errors).toBeUndefined();
    out.push(...res.data.matchCandidates.edges.map((e: { node: Candidate }) => e.node));
    if (!res.data.matchCandidates.pageInfo.hasNextPage) return out;
    after = res.data.matchCandidates.pageInfo.endCursor;
  }
}
const bySource = async (system: string, id: string) => (await stack.gql(BY_SOURCE, { s: system, id })).data.customerBySourceId as { id: string; records: { system: string; nativeId: string; primary: boolean }[] };

/**
 * A CRM contact at "<word>" and a support organisation named the same with two letters swapped: organisation names a
 * transposition apart (8), too short to count as rare, score between review (7) and link (10).
 */
async function createPair(word: string, i: number): Promise<Omit<Pair, 'id'>> {
  const contact = await stack.systemApi('crm', 'POST', '/crm/v3/objects/contacts', {
    properties: { firstname: 'Ida', lastname: `Probe${word}`, email: `ida.probe.${i}@example.com`, company: word },
  });
  const swapped = word.slice(0, 4) + word[5] + word[4] + word.slice(6);
  const org = (await stack.systemApi('support', 'POST', '/api/v2/organizations.json', { organization: { name: swapped } })).organization;
  return { crm: String(contact.id), support: String(org.id) };
}

const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

describe.skipIf('skip' in chromium)('console match review', () => {
  let opened: OpenPage;
  let pairs: Pair[];
  let origin: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startTestStack({ seedSize: 60 });
    // Enough candidates that the list needs a second page (20 a page), whatever the seed made.
    const seeded = (await allCandidates('OPEN')).length;
    const made = [];
    for (const [i, word] of WORDS.slice(0, Math.max(5, 21 - seeded)).entries()) made.push(await createPair(word, i));
    await stack.sync.syncNow();
    const open = await allCandidates('OPEN');
    pairs = made.map((p) => {
      const c = open.find((x) => x.records.some((r) => r.system === 'CRM' && r.nativeId === p.crm) && x.records.some((r) => r.system === 'SUPPORT' && r.nativeId === p.support));
      expect(c, `a candidate for CRM ${p.crm} and support ${p.support}`).toBeDefined();
      expect(c!.score).toBe(8);
      return { ...p, id: c!.id };
    });
    expect(open.length).toBeGreaterThan(20);
    origin = new URL(stack.gateway.url).origin;
    opened = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/console#review`, { key: stack.devKey });
  }, 180_000);
  afterAll(async () => {
    await opened?.browser.close();
    await stack?.stop();
  });

  const rowOf = (id: string) => opened.page.locator(`#review-rows tr[data-candidate="${id}"]`);
  const rowIds = () => opened.page.locator('#review-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.candidate));
  async function settled(): Promise<string> {
    await opened.page.waitForSelector('#review-list:not([data-state="loading"])');
    return (await opened.page.locator('#review-list').getAttribute('data-state'))!;
  }

  it('lists the first page of open candidates, then every one in the API order when Load more is pressed', async () => {
    const { page } = opened;
    expect(await settled()).toBe('ready');
    const open = await allCandidates('OPEN');
    expect(await rowIds()).toEqual(open.slice(0, 20).map((c) => c.id));
    expect(await page.locator('#review-more').isVisible()).toBe(true);
    while (await page.locator('#review-more').isVisible()) {
      const before = (await rowIds()).length;
      await page.click('#review-more');
      await expect.poll(async () => (await rowIds()).length).toBeGreaterThan(before);
      expect(await settled()).toBe('ready');
    }
    expect(await rowIds()).toEqual(open.map((c) => c.id));
  });

  it("shows a candidate's score, its evidence with weights, and the customer each record belongs to now", async () => {
    const [p] = pairs as [Pair];
    const row = rowOf(p.id);
    expect(await row.getAttribute('data-status')).toBe('OPEN');
    expect(await row.locator('td.score').textContent()).toBe('8');
    const rules = await row.locator('.rules li').evaluateAll((lis) => lis.map((l) => [(l as HTMLElement).dataset.rule, (l as HTMLElement).dataset.weight, l.querySelector('.weight')!.textContent]));
    expect(rules).toEqual([['organisationSimilar', '8', '+8']]);
    const [crmCustomer, supportCustomer] = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    const cells = await row.locator('td.candidate-record').evaluateAll((tds) => tds.map((t) => ({ ...(t as HTMLElement).dataset })));
    expect(cells).toEqual([
      { system: 'CRM', native: p.crm, customer: crmCustomer.id },
      { system: 'SUPPORT', native: p.support, customer: supportCustomer.id },
    ]);
    expect(crmCustomer.id).not.toBe(supportCustomer.id);
    expect(await row.locator('td.candidate-record').first().locator('.customer-link').textContent()).toBe(crmCustomer.id);
    expect(await row.locator('td.candidate-record').first().locator('.other-records').textContent()).toBe('no other records');
    await opened.page.evaluate(() => window.scrollTo(0, 0));
    await opened.page.screenshot({ path: join(ARTIFACTS, 'console-review.png') });
  });

  it('makes the two records one customer and the candidate LINKED when Link is clicked', async () => {
    const [p] = pairs as [Pair];
    await rowOf(p.id).locator('button[data-decision="LINK"]').click();
    await opened.page.waitForSelector(`#review-rows tr[data-candidate="${p.id}"][data-status="LINKED"]`);
    const [crmCustomer, supportCustomer] = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    expect(supportCustomer.id).toBe(crmCustomer.id);
    expect(crmCustomer.records.map((r) => `${r.system}:${r.nativeId}`).sort()).toEqual([`CRM:${p.crm}`, `SUPPORT:${p.support}`]);
    expect((await allCandidates('LINKED')).map((c) => c.id)).toContain(p.id);
    expect((await allCandidates('OPEN')).map((c) => c.id)).not.toContain(p.id);
    // The row shows the customers as they are now: one, holding both records, and no buttons any more.
    const row = rowOf(p.id);
    expect(await row.locator('td.candidate-record').evaluateAll((tds) => tds.map((t) => (t as HTMLElement).dataset.customer))).toEqual([crmCustomer.id, crmCustomer.id]);
    expect(await row.locator('.same').textContent()).toBe('One customer now');
    expect(await row.locator('button').count()).toBe(0);
  });

  it('marks the candidate DISTINCT and leaves the two customers apart when Keep apart is clicked', async () => {
    const p = pairs[1]!;
    const before = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    await rowOf(p.id).locator('button[data-decision="DISTINCT"]').click();
    await opened.page.waitForSelector(`#review-rows tr[data-candidate="${p.id}"][data-status="DISTINCT"]`);
    expect((await allCandidates('DISTINCT')).map((c) => c.id)).toContain(p.id);
    expect((await allCandidates('OPEN')).map((c) => c.id)).not.toContain(p.id);
    // Apart now, and after the next sync reads both records again.
    await stack.sync.syncNow();
    const after = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
    expect(after[0]!.id).not.toBe(after[1]!.id);
  });

  it('lists only candidates of the chosen status when a status chip is pressed', async () => {
    const { page } = opened;
    await page.click('[data-match-status="LINKED"]');
    expect(await settled()).toBe('ready');
    expect(await page.locator('[data-match-status="LINKED"]').getAttribute('aria-pressed')).toBe('true');
    expect(await rowIds()).toEqual((await allCandidates('LINKED')).slice(0, 20).map((c) => c.id));
    expect(new Set(await page.locator('#review-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status)))).toEqual(new Set(['LINKED']));
    await page.click('[data-match-status="DISTINCT"]');
    expect(await settled()).toBe('ready');
    expect(await rowIds()).toEqual((await allCandidates('DISTINCT')).slice(0, 20).map((c) => c.id));
    expect(await rowIds()).toContain(pairs[1]!.id);
  });

  it("splits the linked customer again when Unlink is clicked on one of its records in the customer's view", async () => {
    const { page } = opened;
    const [p] = pairs as [Pair];
    const linked = await bySource('CRM', p.crm);
    // From the LINKED list, the customer's link opens the customers view on it.
    await page.click('[data-match-status="LINKED"]');
    expect(await settled()).toBe('ready');
    await rowOf(p.id).locator('.customer-link').first().click();
    await page.waitForSelector(`#customer-result[data-state="ready"][data-customer="${linked.id}"]`);
    expect(await page.locator('#view-customers').isVisible()).toBe(true);
    const shown = await page.locator('#customer-records tbody tr').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.system}:${(r as HTMLElement).dataset.native}`));
    expect(shown).toEqual(linked.records.map((r) => `${r.system}:${r.nativeId}`));

    await page.locator(`#customer-records tr[data-system="SUPPORT"][data-native="${p.support}"] button.unlink`).click();
    await page.waitForSelector('#unlink-result');
    const [crmCustomer, supportCustomer] = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    expect(crmCustomer.id).not.toBe(supportCustomer.id);
    expect(crmCustomer.records.map((r) => r.nativeId)).toEqual([p.crm]);
    expect(supportCustomer.records.map((r) => r.nativeId)).toEqual([p.support]);
    expect(await page.locator('#unlink-result').getAttribute('data-customer')).toBe(supportCustomer.id);
    // The customer shown is re-read: its one remaining record, whose Unlink would split nothing.
    await page.waitForSelector(`#customer-result[data-state="ready"][data-customer="${crmCustomer.id}"]`);
    expect(await page.locator('#customer-records tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.native))).toEqual([p.crm]);
    expect(await page.locator('#customer-records button.unlink').isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'console-review-unlink.png') });
  });

  it('shows the customer the remaining records keep when the record unlinked takes the looked-up id with it', async () => {
    const { page } = opened;
    const p = pairs[4]!;
    expect((await stack.gql('mutation($id: ID!) { resolveMatch(id: $id, decision: LINK) { status } }', { id: p.id })).data.resolveMatch.status).toBe('LINKED');
    const linked = await bySource('CRM', p.crm);
    await page.goto(`${stack.gateway.url}/console#customer=${linked.id}`);
    await page.waitForSelector(`#customer-result[data-state="ready"][data-customer="${linked.id}"]`);
    await page.locator(`#customer-records tr[data-system="CRM"][data-native="${p.crm}"] button.unlink`).click();
    await page.waitForSelector('#unlink-result');
    const [crmCustomer, supportCustomer] = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    expect(crmCustomer.id).not.toBe(supportCustomer.id);
    expect(await page.locator('#unlink-result').getAttribute('data-customer')).toBe(crmCustomer.id);
    await page.waitForSelector(`#customer-result[data-state="ready"][data-customer="${supportCustomer.id}"]`);
    expect(await page.locator('#customer-records tbody tr').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.system}:${(r as HTMLElement).dataset.native}`))).toEqual([`SUPPORT:${p.support}`]);
  });

  it("finds a customer by a system's native id, and says so when no customer holds it", async () => {
    const { page } = opened;
    const p = pairs[2]!;
    const expected = await bySource('SUPPORT', p.support);
    await page.selectOption('#lookup-system', 'SUPPORT');
    await page.fill('#lookup-native', p.support);
    await page.click('#lookup-source-go');
    await page.waitForSelector(`#customer-result[data-state="ready"][data-customer="${expected.id}"]`);
    await page.fill('#lookup-native', '987654321');
    await page.click('#lookup-source-go');
    await page.waitForSelector('#customer-result[data-state="missing"]');
    expect(await page.locator('#customer-missing').textContent()).toBe('No customer holds the SUPPORT record 987654321.');
  });

  it("shows the gateway's code and message in the row, and changes nothing, when the page's key may not resolve matches", async () => {
    const { page } = opened;
    const p = pairs[3]!;
    await page.click('.tabs [data-tab="review"]');
    await page.click('[data-match-status="OPEN"]');
    expect(await settled()).toBe('ready');
    while (!(await rowOf(p.id).count())) {
      await page.click('#review-more');
      await settled();
    }
    // The operator's tab now sends the key of an app without admin.
    const reader = (await stack.appHeaders('review-reader', ['read:crm'])).authorization!.replace(/^Bearer /, '');
    await page.evaluate((key) => sessionStorage.setItem('canon.appKey', key), reader);
    const before = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    await rowOf(p.id).locator('button[data-decision="LINK"]').click();
    const error = rowOf(p.id).locator('.api-error');
    await error.waitFor();
    const expected = (await stack.gql('mutation($id: ID!) { resolveMatch(id: $id, decision: LINK) { id } }', { id: p.id }, { authorization: `Bearer ${reader}` })).errors![0]!;
    expect(expected.extensions!.code).toBe('FORBIDDEN');
    expect(await error.locator('.error-code').textContent()).toBe('FORBIDDEN');
    expect(await error.locator('.error-message').textContent()).toBe(expected.message);
    expect(await rowOf(p.id).getAttribute('data-status')).toBe('OPEN');
    expect(await rowOf(p.id).locator('button[data-decision="LINK"]').isEnabled()).toBe(true);
    expect((await allCandidates('OPEN')).map((c) => c.id)).toContain(p.id);
    const after = await Promise.all([bySource('CRM', p.crm), bySource('SUPPORT', p.support)]);
    expect(after).toEqual(before);

    // The list itself, read with that key, is refused the same way.
    await page.click('#review-refresh');
    expect(await settled()).toBe('error');
    expect(await page.locator('#review-error .error-code').textContent()).toBe('FORBIDDEN');
    await page.evaluate((key) => sessionStorage.setItem('canon.appKey', key), stack.devKey);
  });

  it("made no request outside the gateway's origin and raised no page errors", () => {
    expect(opened.requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
  });
});
