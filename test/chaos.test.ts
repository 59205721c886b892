// Chaos: every system failing often (errors, timeouts, answers lost after commit); 500 mutations retried by the client under their keys lose nothing and duplicate nothing.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { enumMapping } from '../schema/ownership.js';
import { createRng } from '../subgraphs/sandbox-kit/server.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startTestStack, type TestStack } from './support/stack.js';

const OPERATIONS = 500;
const WORKERS = 8;
const MAX_TRIES = 80;

type Field = 'name' | 'lifecycleStage' | 'legalName' | 'paymentTerms' | 'emailConsent' | 'supportPlan';
const OWNER: Record<Field, SystemName> = { name: 'crm', lifecycleStage: 'crm', legalName: 'erp', paymentTerms: 'erp', emailConsent: 'marketing', supportPlan: 'support' };
const VALUES: Record<Exclude<Field, 'name' | 'legalName'>, string[]> = {
  lifecycleStage: ['LEAD', 'OPPORTUNITY', 'CUSTOMER', 'EVANGELIST'],
  paymentTerms: ['NET_14', 'NET_30', 'NET_60', 'PREPAID'],
  emailConsent: ['SUBSCRIBED', 'UNSUBSCRIBED', 'PENDING'],
  supportPlan: ['BASIC', 'BUSINESS', 'ENTERPRISE'],
};

interface Customer {
  id: string;
  sourceIds: Record<SystemName, string>;
}

let stack: TestStack;
let customers: Customer[];

beforeAll(async () => {
  stack = await startTestStack({
    seedSize: 240,
    // Short attempts so a held request costs little; a breaker that opens under a 40% failure rate and probes soon.
    systemResilience: { attemptTimeoutMs: 150, budgetMs: 2500, maxAttempts: 4, initialDelayMs: 2, maxDelayMs: 20, breakerThreshold: 8, halfOpenAfterMs: 50 },
  });
  customers = await stack.customersInEverySystem(240);
  expect(customers.length).toBeGreaterThanOrEqual(WORKERS * 3);
});
afterAll(() => stack?.stop());

async function post(body: unknown, key: string): Promise<any> {
  const res = await stack.postGraphql(body, { 'idempotency-key': key });
  return res.json();
}

/** Each system's version token for a customer, read from the system's own API. */
async function versions(c: Customer): Promise<Record<SystemName, string>> {
  const [crm, erp, mk, sup] = await Promise.all([
    stack.systemFetch('crm', `/crm/v3/objects/contacts/${c.sourceIds.crm}?properties=lastmodifieddate`).then((r) => r.json()),
    stack.systemFetch('erp', `/odata/v4/BusinessPartners('${c.sourceIds.erp}')`).then((r) => r.json()),
    stack.systemFetch('marketing', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`).then((r) => r.json()),
    stack.systemFetch('support', `/api/v2/organizations/${c.sourceIds.support}.json`).then((r) => r.json()),
  ]);
  return { crm: crm.properties.lastmodifieddate, erp: erp['@odata.etag'], marketing: mk.last_changed, support: sup.organization.updated_at };
}

describe('canon under chaos', () => {
  it('completes 500 keyed mutations with no duplicate, no lost update and no write to a non-owner', async () => {
    const before = new Map<string, Record<SystemName, string>>();
    for (const c of customers) before.set(c.id, await versions(c));

    for (const s of SYSTEMS) await stack.setFaults(s, { errorRate: 0.2, timeoutRate: 0.1, resetAfterCommitRate: 0.1, seed: 1000 + SYSTEMS.indexOf(s) });
    await stack.resetStats();

    const rng = createRng(20261129);
    // Each worker owns its own customers, so the model's order of acknowledged writes is the systems' order.
    const owned = Array.from({ length: WORKERS }, (_, w) => customers.filter((_, i) => i % WORKERS === w));
    const plans = Array.from({ length: OPERATIONS }, (_, i) => {
      const worker = i % WORKERS;
      const pool = owned[worker]!;
      const customer = pool[Math.floor(rng() * pool.length)]!;
      if (rng() < 0.2) return { worker, i, customer, kind: 'ticket' as const, subject: `Chaos ticket ${i} ${randomUUID().slice(0, 8)}` };
      const fields = (Object.keys(OWNER) as Field[]).filter(() => rng() < 0.35);
      if (fields.length === 0) fields.push((Object.keys(OWNER) as Field[])[Math.floor(rng() * 6)]!);
      const input: Record<string, string> = {};
      for (const f of fields) input[f] = f === 'name' ? `Chaos Name${i}` : f === 'legalName' ? `Chaos ${i} GmbH` : VALUES[f][Math.floor(rng() * VALUES[f].length)]!;
      return { worker, i, customer, kind: 'update' as const, input };
    });

    const model = new Map<string, Partial<Record<Field, string>>>();
    const touched = new Map<string, Set<SystemName>>();
    const tickets: { subject: string; org: string }[] = [];
    let tries = 0;

    await Promise.all(
      owned.map(async (_, worker) => {
        for (const plan of plans.filter((p) => p.worker === worker)) {
          const key = randomUUID();
          const body =
            plan.kind === 'ticket'
              ? { query: 'mutation($id: ID!, $s: String!) { openTicket(customerId: $id, subject: $s, body: "chaos") { ticket { id } } }', variables: { id: plan.customer.id, s: plan.subject } }
              : { query: 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { results { system status error { code message } } } }', variables: { id: plan.customer.id, input: plan.input } };
          for (let attempt = 1; ; attempt++) {
            tries++;
            const res = await post(body, key);
            const done = plan.kind === 'ticket' ? Boolean(res.data?.openTicket?.ticket?.id) : !res.errors && res.data?.updateCustomer.results.every((r: any) => r.status === 'SUCCEEDED');
            if (done) break;
            if (attempt >= MAX_TRIES) throw new Error(`operation ${plan.i} did not succeed in ${MAX_TRIES} tries; last answer ${JSON.stringify(res)}`);
            await new Promise((r) => setImmediate(r));
          }
          const t = touched.get(plan.customer.id) ?? new Set<SystemName>();
          if (plan.kind === 'ticket') {
            tickets.push({ subject: plan.subject, org: plan.customer.sourceIds.support });
          } else {
            model.set(plan.customer.id, { ...(model.get(plan.customer.id) ?? {}), ...plan.input });
            for (const f of Object.keys(plan.input) as Field[]) t.add(OWNER[f]);
          }
          touched.set(plan.customer.id, t);
        }
      }),
    );
    await stack.clearFaults();

    // The faults really happened: more tries than operations, and the systems saw retried requests.
    expect(tries).toBeGreaterThan(OPERATIONS);
    const stats = await stack.systemStats();
    const log = await fetch(`${stack.systems.crm.url}/_admin/requests?limit=2000`).then((r) => r.json());
    expect(log.some((e: any) => e.status === 0)).toBe(true); // dropped connections: timeouts and resets

    // Zero duplicate tickets: every acknowledged ticket exists exactly once.
    const orgs = [...new Set(tickets.map((t) => t.org))];
    const all = await stack.systemFetch('support', `/api/v2/tickets.json?organization_ids=${orgs.join(',')}&per_org=1000`).then((r) => r.json());
    for (const t of tickets) expect({ subject: t.subject, copies: all.tickets.filter((x: any) => x.subject === t.subject).length }).toEqual({ subject: t.subject, copies: 1 });
    expect(all.tickets.filter((x: any) => String(x.subject).startsWith('Chaos ticket')).length).toBe(tickets.length);

    // Every acknowledged update is in its owner, and each system's final state equals the model.
    const lifecycle = enumMapping('LifecycleStage');
    const terms = enumMapping('PaymentTerms');
    const consent = enumMapping('EmailConsent');
    const plan = enumMapping('SupportPlan');
    for (const c of customers) {
      const want = model.get(c.id);
      if (!want) continue;
      const [crm, erp, mk, sup] = await Promise.all([
        stack.systemFetch('crm', `/crm/v3/objects/contacts/${c.sourceIds.crm}`).then((r) => r.json()),
        stack.systemFetch('erp', `/odata/v4/BusinessPartners('${c.sourceIds.erp}')`).then((r) => r.json()),
        stack.systemFetch('marketing', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`).then((r) => r.json()),
        stack.systemFetch('support', `/api/v2/organizations/${c.sourceIds.support}.json`).then((r) => r.json()),
      ]);
      const held: Partial<Record<Field, string>> = {};
      if (want.name) held.name = `${crm.properties.firstname} ${crm.properties.lastname}`;
      if (want.lifecycleStage) held.lifecycleStage = lifecycle.toCanonical(crm.properties.lifecyclestage)!;
      if (want.legalName) held.legalName = erp.BusinessPartnerName;
      if (want.paymentTerms) held.paymentTerms = terms.toCanonical(erp.PaymentTerms)!;
      if (want.emailConsent) held.emailConsent = consent.toCanonical(mk.status)!;
      if (want.supportPlan) held.supportPlan = plan.toCanonical(sup.organization.organization_fields.support_plan)!;
      expect({ customer: c.id, ...held }).toEqual({ customer: c.id, ...want });
    }

    // No write to a non-owner: a system no operation targeted for a customer still holds that record unchanged.
    for (const c of customers) {
      const now = await versions(c);
      const hit = touched.get(c.id) ?? new Set<SystemName>();
      for (const s of SYSTEMS) if (!hit.has(s)) expect({ customer: c.id, system: s, version: now[s] }).toEqual({ customer: c.id, system: s, version: before.get(c.id)![s] });
    }
    // And each system only ever received writes on its own write routes.
    expect(Object.keys(stats.crm.byRoute).filter((r) => !r.startsWith('GET') && !r.includes('batch/read') && !r.includes('search'))).toEqual(['PATCH /crm/v3/objects/contacts/{id}']);
  }, 240_000); // 500 workflows with retries under faults: minutes on a loaded two-core machine, never a hang (each request has its budget)
});
