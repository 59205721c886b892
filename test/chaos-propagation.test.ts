// Chaos for propagation: owner changes made through canon and in the CRM itself, while the CRM and marketing fail often (errors, timeouts, answers lost after commit), end with every copy equal to its owner, each copy write under one key per owner change, and nothing written from a copy to its owner.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import type { SystemName } from '../schema/model.js';
import { toE164 } from '../subgraphs/kit/phone.js';
import { createRng } from '../subgraphs/sandbox-kit/server.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { until } from './support/until.js';

const CHANGES = 500;
const WORKERS = 16;
const CUSTOMERS = 24;
const MAX_TRIES = 80;

let stack: TestStack;
let customers: { id: string; sourceIds: Record<SystemName, string> }[];

beforeAll(async () => {
  stack = await startTestStack({
    seedSize: 120,
    systemResilience: { attemptTimeoutMs: 150, budgetMs: 2500, maxAttempts: 4, initialDelayMs: 2, maxDelayMs: 20, breakerThreshold: 8, halfOpenAfterMs: 50 },
    // Copies are propagated; a copy write that keeps failing is sent again up to ten times from its queue.
    // The queues are polled often and write to each system 16 at a time, so 500 changes drain in seconds.
    workflows: { ...testConfig('').workflows, propagateCopies: true, queuedMaxAttempts: 10, queuePollMs: 20, systemConcurrency: { crm: 16, erp: 16, marketing: 16, support: 16 } },
  });
  customers = (await stack.customersInEverySystem(120)).slice(0, CUSTOMERS);
  expect(customers.length).toBe(CUSTOMERS);
}, 120_000);
afterAll(() => stack?.stop());

type Log = { method: string; path: string; route: string; status: number; idempotencyKey: string | null }[];
const requests = async (s: SystemName): Promise<Log> => fetch(`${stack.systems[s].url}/_admin/requests?limit=20000`).then((r) => r.json());

/** What the CRM and marketing hold of a customer's name and phone, as canon compares them. */
async function held(c: (typeof customers)[number]) {
  const [crm, mk] = await Promise.all([
    stack.systemApi('crm', 'GET', `/crm/v3/objects/contacts/${c.sourceIds.crm}?properties=firstname,lastname,phone,country`),
    stack.systemApi('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`),
  ]);
  const name = [crm.properties.firstname, crm.properties.lastname].filter(Boolean).join(' ');
  return {
    owner: { name, phone: toE164(crm.properties.phone, crm.properties.country) },
    copy: { name: [mk.merge_fields.FNAME, mk.merge_fields.LNAME].filter(Boolean).join(' '), phone: mk.merge_fields.PHONE || null },
  };
}

describe('propagation under chaos', () => {
  it('ends with every copy equal to its owner: one key per owner change and copy, nothing written from a copy to its owner', async () => {
    await stack.setFaults('crm', { errorRate: 0.2, timeoutRate: 0.1, resetAfterCommitRate: 0.1, seed: 7001 });
    await stack.setFaults('marketing', { errorRate: 0.2, timeoutRate: 0.1, resetAfterCommitRate: 0.1, seed: 7002 });
    await stack.resetStats();
    const rng = createRng(20261203);
    const owned = Array.from({ length: WORKERS }, (_, w) => customers.filter((_, i) => i % WORKERS === w));
    // The fields each customer had changed: only those are propagated (the seed's other copies may differ still).
    const touched = new Map<string, Set<'name' | 'phone'>>();
    let direct = 0;
    let tries = 0;
    await Promise.all(
      owned.map(async (pool, worker) => {
        for (let i = worker; i < CHANGES; i += WORKERS) {
          const c = pool[Math.floor(rng() * pool.length)]!;
          const inCrm = rng() < 0.25;
          const phone = `+49301${String(1_000_000 + Math.floor(rng() * 8_999_999))}`;
          const name = `Chaos${i} Copy${Math.floor(rng() * 1000)}`;
          const input = rng() < 0.5 ? { name } : { phone };
          // Retried under one key, as an app does.
          const key = randomUUID();
          for (let attempt = 1; ; attempt++) {
            tries++;
            let done: boolean;
            if (inCrm) {
              // A change made in the CRM itself: canon learns it from the CRM's feed. Sent with a timeout, as an app
              // would: the sandbox holds a request picked by timeoutRate for 30 s.
              const res = await stack.systemFetch('crm', `/crm/v3/objects/contacts/${c.sourceIds.crm}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ properties: { firstname: name.split(' ')[0], lastname: name.split(' ')[1] } }), signal: AbortSignal.timeout(1000) }).catch(() => null);
              done = res?.ok === true;
            } else {
              const res = await stack.postGraphql({ query: 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { results { status } } }', variables: { id: c.id, input } }, { 'idempotency-key': key }).then((r) => r.json());
              done = !res.errors && res.data?.updateCustomer.results.every((r: any) => r.status === 'SUCCEEDED');
            }
            if (done) break;
            if (attempt >= MAX_TRIES) throw new Error(`change ${i} did not land in ${MAX_TRIES} tries`);
          }
          if (inCrm) direct++;
          touched.set(c.id, (touched.get(c.id) ?? new Set()).add(inCrm || 'name' in input ? 'name' : 'phone'));
          if (i % 40 === 0) await stack.sync.syncNow();
        }
      }),
    );
    await stack.clearFaults();
    expect(tries).toBeGreaterThan(CHANGES);
    expect(direct).toBeGreaterThan(0);

    // With the faults gone, the feeds are read until every copy holds its owner's value and no propagation is running.
    const mine = customers.filter((c) => touched.has(c.id));
    await until(
      'every copy equal to its owner',
      async () => {
        await stack.sync.syncNow();
        const pending = (await stack.gql('{ operations(status: [PENDING], first: 100) { edges { node { workflow } } } }')).data.operations.edges.filter((e: any) => e.node.workflow === 'propagate');
        if (pending.length) return false;
        const all = await Promise.all(mine.map(async (c) => ({ c, h: await held(c) })));
        return all.every(({ c, h }) => [...touched.get(c.id)!].every((f) => h.copy[f] === h.owner[f]));
      },
      200,
      100,
    );

    // Echo: more rounds read canon's own copy writes back, and write nothing anywhere.
    const before = await stack.systemStats();
    for (let i = 0; i < 3; i++) await stack.sync.syncNow();
    const after = await stack.systemStats();
    expect({ crm: after.crm.writes - before.crm.writes, marketing: after.marketing.writes - before.marketing.writes }).toEqual({ crm: 0, marketing: 0 });
    const drift = (await stack.gql('{ dataQuality { drift(first: 1000) { edges { node { customer { id } } } } } }')).data.dataQuality.drift.edges.filter((e: any) => touched.has(e.node.customer.id));
    expect(drift).toEqual([]);

    // Every write marketing received was a copy write under a propagation's key; each key names one owner change's
    // propagation to one member, and every request under it is a retry of the same write.
    const mk = (await requests('marketing')).filter((r) => r.method !== 'GET' && !r.route.includes('batch-read'));
    expect(mk.length).toBeGreaterThan(0);
    expect(mk.filter((r) => !/^propagate\.cus_[a-z0-9]+\.(name|phone)\.\d+:marketing:setCopies:[0-9a-f]{32}$/.test(r.idempotencyKey ?? ''))).toEqual([]);
    const byKey = new Map<string, Set<string>>();
    for (const r of mk) byKey.set(r.idempotencyKey!, (byKey.get(r.idempotencyKey!) ?? new Set()).add(`${r.method} ${r.path}`));
    expect([...byKey.values()].filter((paths) => paths.size !== 1)).toEqual([]);
    // No more propagations than owner versions: each CRM write that reached the CRM made at most one.
    const crm = (await requests('crm')).filter((r) => r.method === 'PATCH');
    expect(byKey.size).toBeLessThanOrEqual(crm.length);
    // Nothing from a copy to its owner: the CRM received only canon's owner writes and the test's own changes.
    expect(crm.filter((r) => r.idempotencyKey !== null && !r.idempotencyKey.endsWith(':crm:updateCustomer'))).toEqual([]);
    expect(Object.keys(after.crm.byRoute).filter((r) => !r.startsWith('GET') && !r.includes('batch/read') && !r.includes('search'))).toEqual(['PATCH /crm/v3/objects/contacts/{id}']);
  }, 180_000);
});
