// The console's match review in headless Chromium: open candidates with their evidence and the customers their records are in, Link and Keep apart, a customer's records with Unlink, and errors shown, not swallowed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, openPage, type OpenPage } from './support/browser.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const chromium = await findChromium();
if ('skip' in chromium) console.warn(chromium.skip);

const CANDIDATES = '{ matchCandidates(first: 1000) { edges { node { id score rules { name weight } records { system nativeId } } } } }';
const OWNER = 'query($s: System!, $id: ID!) { customerBySourceId(system: $s, id: $id) { id records { system nativeId } } }';

describe.skipIf('skip' in chromium)('console match review', () => {
  let stack: TestStack;
  let opened: OpenPage;
  let open: { id: string; score: number; rules: { name: string; weight: number }[]; records: { system: string; nativeId: string }[] }[];
  const ownerOf = async (r: { system: string; nativeId: string }) => (await stack.gql(OWNER, { s: r.system, id: r.nativeId })).data.customerBySourceId;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startTestStack();
    open = (await stack.gql(CANDIDATES)).data.matchCandidates.edges.map((e: any) => e.node);
    opened = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/console`, { key: stack.devKey });
  }, 120_000);
  afterAll(async () => {
    await opened?.browser.close();
    await stack?.stop();
  });

  it('lists the open candidates in the matcher\'s order, each with its evidence and the customers its records are in now', async () => {
    const { page } = opened;
    // The default seed leaves the matcher pairs it cannot decide.
    expect(open.length).toBeGreaterThan(1);
    await page.waitForSelector('#review[data-state="loaded"]');
    const rows = page.locator('#review-rows tr');
    expect(await rows.evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.candidate))).toEqual(open.slice(0, 20).map((c) => c.id));
    const first = rows.first();
    expect(await first.locator('td.score').textContent()).toBe(open[0]!.score.toFixed(1));
    expect(await first.locator('td.evidence li').evaluateAll((lis) => lis.map((l) => (l as HTMLElement).dataset.rule))).toEqual(open[0]!.rules.map((r) => r.name));
    const owners = await Promise.all(open[0]!.records.map(ownerOf));
    expect(await first.locator('td.candidate-record .belongs').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.customer))).toEqual(owners.map((o) => o.id));
    expect(await page.locator('#review-count').textContent()).toBe(`Showing ${Math.min(20, open.length)} open candidates`);
    await page.screenshot({ path: join(ARTIFACTS, 'console-review.png'), fullPage: true });
  });

  it('links the two records into one customer when Link is pressed, and keeps the next pair apart for good with Keep apart', async () => {
    const { page } = opened;
    const [a, b] = open as [typeof open[0], typeof open[0]];
    const rowA = page.locator(`#review-rows tr[data-candidate="${a.id}"]`);
    await rowA.locator('button.link-button').click();
    await expect.poll(() => rowA.getAttribute('data-status')).toBe('LINKED');
    const [a0, a1] = await Promise.all(a.records.map(ownerOf));
    expect(a0.id).toBe(a1.id);

    const rowB = page.locator(`#review-rows tr[data-candidate="${b.id}"]`);
    const apartBefore = await Promise.all(b.records.map(ownerOf));
    await rowB.locator('button.distinct-button').click();
    await expect.poll(() => rowB.getAttribute('data-status')).toBe('DISTINCT');
    const apart = await Promise.all(b.records.map(ownerOf));
    expect(apart.map((c) => c.id)).toEqual(apartBefore.map((c) => c.id));
    expect(apart[0].id).not.toBe(apart[1].id);

    // The status chips list what was decided.
    await page.click('[data-review-status="LINKED"]');
    await expect.poll(() => page.locator('#review-rows tr').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.candidate))).toContain(a.id);
    await page.click('[data-review-status="DISTINCT"]');
    await expect.poll(() => page.locator('#review-rows tr').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.candidate))).toContain(b.id);
  });

  it("shows a customer's records and splits one off when Unlink is pressed", async () => {
    const { page } = opened;
    const linked = await ownerOf(open[0]!.records[0]!);
    await page.selectOption('#lookup-system', '');
    await page.fill('#lookup-id', linked.id);
    await page.click('#lookup-go');
    await page.waitForSelector(`#customer-result[data-customer="${linked.id}"]`);
    const shown = await page.locator('#customer-records li').evaluateAll((lis) => lis.map((l) => [(l as HTMLElement).dataset.system, (l as HTMLElement).dataset.native]));
    expect(shown).toEqual(linked.records.map((r: any) => [r.system, r.nativeId]));
    const leaving = open[0]!.records[1]!;
    await page.locator(`#customer-records li[data-system="${leaving.system}"][data-native="${leaving.nativeId}"] button.unlink-button`).click();
    await expect.poll(() => page.locator('#customer-note').textContent()).toContain(`${leaving.system.toLowerCase()} ${leaving.nativeId} is now customer`);
    const after = await ownerOf(leaving);
    expect(after.id).not.toBe(linked.id);
    expect(await page.locator('#customer-records li').evaluateAll((lis) => lis.map((l) => (l as HTMLElement).dataset.native))).not.toContain(leaving.nativeId);
  });

  it('shows the error an app key without admin gets, with its code', async () => {
    const reader = await openPage((chromium as { path: string }).path, `${stack.gateway.url}/console`, { key: await stack.createApp('review-reader', ['read:crm']) });
    try {
      await reader.page.waitForSelector('#review[data-state="error"]');
      expect(await reader.page.locator('#review-error').textContent()).toContain('(FORBIDDEN)');
      expect(await reader.page.locator('#review-rows tr').count()).toBe(0);
    } finally {
      await reader.browser.close();
    }
  });

  it("made no request outside the gateway's origin and raised no page errors", () => {
    const origin = new URL(stack.gateway.url).origin;
    expect(opened.requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
  });
});
