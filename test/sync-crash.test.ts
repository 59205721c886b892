// A gateway killed in the middle of its first full sync: the round resumes from the last page it stored, and no record is lost or linked twice.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { SEED_TRUTH_FILE, type SeedTruth } from '../subgraphs/sandbox-kit/seed.js';
import { startChildStack, type ChildStack } from './support/child-stack.js';
import { scratch } from './support/scratch.js';

const json = (url: string, init?: RequestInit) => fetch(url, init).then((r) => r.json());

const scratchpad = scratch();

describe('a gateway killed mid-way through its full sync', () => {
  let child: ChildStack | undefined;
  afterAll(async () => {
    await child?.stop();
  });

  it('resumes the round from its cursor after the restart, and every seeded record is in exactly one customer', async () => {
    const dir = { path: scratchpad.dir('canon-sync-crash-') };
    child = await startChildStack(dir.path, { seedSize: 2000 }, { waitForSync: false });
    // Each CRM page takes a while, so that the kill lands between pages.
    await fetch(`${child.ready.systems.crm}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 250 }) });
    let before: any;
    for (let i = 0; i < 600 && !before; i++) {
      const h = await json(`${child.ready.gateway}/health`);
      const crm = h.sync.find((s: any) => s.system === 'crm');
      if (h.status === 'starting' && crm.lastSyncAt === null && crm.records >= 300) before = crm;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(before, 'the CRM full sync was seen part-way').toBeDefined();
    await child.kill();

    child = await startChildStack(dir.path, { seedSize: 2000 });
    const truth = JSON.parse(readFileSync(join(dir.path, SEED_TRUTH_FILE), 'utf8')) as SeedTruth;
    const crmRecords = truth.customers.reduce((n, c) => n + c.records.crm.length, 0);
    // The restarted gateway read only what was left: what it read and what the killed one had read make up the
    // CRM's records (a page in flight at the kill is read again), and it read fewer than all of them.
    const crm = (await json(`${child.ready.gateway}/health`)).sync.find((s: any) => s.system === 'crm');
    expect(crm.records + before.records).toBeGreaterThanOrEqual(crmRecords);
    expect(crm.records).toBeLessThan(crmRecords);

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res: any = await child.gql('query($after: String) { customers(first: 1000, after: $after) { edges { node { records { system nativeId } } } pageInfo { hasNextPage endCursor } } }', { after });
      for (const e of res.data.customers.edges) for (const r of e.node.records) seen.push(`${r.system.toLowerCase()}:${r.nativeId}`);
      after = res.data.customers.pageInfo.hasNextPage ? res.data.customers.pageInfo.endCursor : null;
    } while (after);
    const expected = truth.customers.flatMap((c) => SYSTEMS.flatMap((s) => c.records[s].map((id) => `${s}:${id}`)));
    expect(seen.length).toBe(new Set(seen).size);
    expect([...seen].sort()).toEqual([...expected].sort());
  });
});
