// The federated customer graph: every field read from its owner, one batched call per system, partial results when a system is down.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enumMapping } from '../schema/ownership.js';
import { MODEL, SYSTEMS } from '../schema/model.js';
import { toE164 } from '../subgraphs/kit/phone.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startTestStack, type TestStack } from './support/stack.js';

const ALL_SYSTEMS_QUERY = /* GraphQL */ `
  query All($first: Int, $after: String) {
    customers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id
          sourceIds { crm erp marketing support }
          name email phone lifecycleStage crmVersion
          legalName taxId billingAddress { line1 line2 city postalCode country } paymentTerms
          creditLimit { amount currency } accountStatus openBalance { amount currency } erpVersion
          emailConsent marketingVersion
          supportPlan openTickets supportVersion
        }
      }
    }
  }
`;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 600 });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());

describe('reading customers', () => {
  it('returns for every customer exactly the values stored in each owning system', async () => {
    const res = await stack.gql(ALL_SYSTEMS_QUERY, { first: 100 });
    expect(res.errors).toBeUndefined();
    const nodes = res.data.customers.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(100);

    const ids = (s: 'crm' | 'erp' | 'marketing' | 'support') => nodes.map((n: any) => n.sourceIds[s]).filter((x: string | null) => x !== null);
    const crm = await stack.systemApi('crm', 'POST', '/crm/v3/objects/contacts/batch/read', {
      properties: ['firstname', 'lastname', 'email', 'phone', 'country', 'lifecyclestage', 'lastmodifieddate'],
      inputs: ids('crm').map((id: string) => ({ id })),
    });
    const erp = await stack.systemApi('erp', 'POST', '/odata/v4/BusinessPartners/$query', `$filter=${encodeURIComponent(`BusinessPartner in (${ids('erp').map((i: string) => `'${i}'`).join(',')})`)}`);
    const marketing = await stack.systemApi('marketing', 'POST', `/3.0/lists/${MARKETING_LIST_ID}/members/batch-read`, { subscriber_hashes: ids('marketing') });
    const support = await stack.systemApi('support', 'GET', `/api/v2/organizations/show_many.json?ids=${ids('support').join(',')}&include=open_ticket_counts`);

    const crmById = new Map(crm.results.map((c: any) => [c.id, c.properties]));
    const erpById = new Map(erp.value.map((p: any) => [p.BusinessPartner, p]));
    const mkById = new Map(marketing.members.map((m: any) => [m.id, m]));
    const supById = new Map(support.organizations.map((o: any) => [String(o.id), o]));
    const lifecycle = enumMapping('LifecycleStage');
    const terms = enumMapping('PaymentTerms');
    const status = enumMapping('AccountStatus');
    const consent = enumMapping('EmailConsent');
    const plan = enumMapping('SupportPlan');

    let compared = { crm: 0, erp: 0, marketing: 0, support: 0 };
    for (const n of nodes) {
      const c: any = n.sourceIds.crm && crmById.get(n.sourceIds.crm);
      if (c) {
        compared.crm++;
        expect(n.name).toBe([c.firstname, c.lastname].filter(Boolean).join(' ').trim() || null);
        expect(n.email).toBe(c.email?.trim().toLowerCase() ?? null);
        // E.164 or nothing: what canon cannot parse is null here and an issue in dataQuality.
        expect(n.phone).toBe(toE164(c.phone, c.country));
        expect(n.lifecycleStage).toBe(lifecycle.toCanonical(c.lifecyclestage));
        expect(n.crmVersion).toBe(c.lastmodifieddate);
      }
      const p: any = n.sourceIds.erp && erpById.get(n.sourceIds.erp);
      if (p) {
        compared.erp++;
        expect(n.legalName).toBe(p.BusinessPartnerName);
        expect(n.taxId).toBe(p.TaxNumber);
        expect(n.billingAddress).toEqual({ line1: p.StreetName, line2: p.AdditionalStreetName, city: p.CityName, postalCode: p.PostalCode, country: p.Country });
        expect(n.paymentTerms).toBe(terms.toCanonical(p.PaymentTerms));
        expect(n.creditLimit).toEqual({ amount: p.CreditLimitAmount, currency: p.Currency });
        expect(n.openBalance).toEqual({ amount: p.OpenBalanceAmount, currency: p.Currency });
        expect(n.accountStatus).toBe(status.toCanonical(p.CentralBlockReason ?? ''));
        expect(n.erpVersion).toBe(p['@odata.etag']);
      }
      const m: any = n.sourceIds.marketing && mkById.get(n.sourceIds.marketing);
      if (m) {
        compared.marketing++;
        expect(n.emailConsent).toBe(consent.toCanonical(m.status));
        expect(n.marketingVersion).toBe(m.last_changed);
      }
      const o: any = n.sourceIds.support && supById.get(n.sourceIds.support);
      if (o) {
        compared.support++;
        expect(n.supportPlan).toBe(plan.toCanonical(o.organization_fields.support_plan));
        expect(n.openTickets).toBe(support.open_ticket_counts[String(o.id)]);
        expect(n.supportVersion).toBe(o.updated_at);
      }
    }
    // The page must exercise every system, or the comparison above proves little.
    for (const s of SYSTEMS) expect(compared[s]).toBeGreaterThan(20);
  });

  it('gives a customer absent from a system null for that system\'s fields and no error', async () => {
    const res = await stack.gql(ALL_SYSTEMS_QUERY, { first: 100 });
    expect(res.errors).toBeUndefined();
    const nodes = res.data.customers.edges.map((e: any) => e.node);
    const noErp = nodes.find((n: any) => n.sourceIds.erp === null);
    const noSupport = nodes.find((n: any) => n.sourceIds.support === null);
    expect(noErp).toBeDefined();
    expect(noSupport).toBeDefined();
    expect([noErp.legalName, noErp.taxId, noErp.billingAddress, noErp.creditLimit, noErp.erpVersion]).toEqual([null, null, null, null, null]);
    expect([noSupport.supportPlan, noSupport.openTickets, noSupport.supportVersion]).toEqual([null, null, null]);
  });

  it.each([10, 100, 500])('sends each system one read and each subgraph one request for first: %i', async (first) => {
    const res = await stack.gql(ALL_SYSTEMS_QUERY, { first });
    expect(res.errors).toBeUndefined();
    expect(res.data.customers.edges).toHaveLength(first);
    const stats = await stack.systemStats();
    for (const s of SYSTEMS) {
      expect({ system: s, requests: stats[s].requests, reads: stats[s].reads }).toEqual({ system: s, requests: 1, reads: 1 });
    }
    for (const [name, sg] of Object.entries(stack.subgraphs)) {
      expect({ name, requests: sg.stats().requests }).toEqual({ name, requests: 1 });
    }
  });

  it('pages through customers with cursors, without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res: any = await stack.gql('query($after: String) { customers(first: 250, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }', { after });
      expect(res.errors).toBeUndefined();
      seen.push(...res.data.customers.edges.map((e: any) => e.node.id));
      after = res.data.customers.pageInfo.hasNextPage ? res.data.customers.pageInfo.endCursor : null;
    } while (after);
    // As many as canon found (its matcher's count, not the seed's), each once.
    const total = (await stack.gql('{ customers(first: 0) { totalCount } }')).data.customers.totalCount;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('finds a customer by canonical id and by any native id, duplicate CRM contacts included', async () => {
    const dup = await stack.systemFetch('crm', '/crm/v3/objects/contacts?limit=100').then((r) => r.json());
    expect(dup.results.length).toBeGreaterThan(0);
    const first = await stack.gql('{ customers(first: 1) { edges { node { id sourceIds { crm erp marketing support } } } } }');
    const node = first.data.customers.edges[0].node;
    const byId = await stack.gql('query($id: ID!) { customer(id: $id) { id sourceIds { crm erp } } }', { id: node.id });
    expect(byId.data.customer).toEqual({ id: node.id, sourceIds: { crm: node.sourceIds.crm, erp: node.sourceIds.erp } });
    for (const [system, native] of Object.entries(node.sourceIds)) {
      if (native === null) continue;
      const bySource = await stack.gql('query($s: System!, $id: ID!) { customerBySourceId(system: $s, id: $id) { id } }', { s: system.toUpperCase(), id: native });
      expect(bySource.data.customerBySourceId).toEqual({ id: node.id });
    }
    const unknown = await stack.gql('{ customer(id: "cus_nobody") { id } }');
    expect(unknown.data).toEqual({ customer: null });
    expect(unknown.errors).toBeUndefined();
  });

  it('resolves a duplicate CRM contact to the same canonical customer as its primary', async () => {
    // The crosswalk's non-primary CRM rows: the duplicates canon's matcher found among the generator's.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${stack.config.dataDir}/identity.sqlite`, { readonly: true });
    const dup = db.prepare(`SELECT d.native_id AS dup, d.customer_id AS customer FROM source_records d WHERE d.system = 'crm' AND d.is_primary = 0 LIMIT 1`).get() as { dup: string; customer: string };
    db.close();
    expect(dup).toBeDefined();
    const res = await stack.gql('query($id: ID!) { customerBySourceId(system: CRM, id: $id) { id sourceIds { crm } } }', { id: dup.dup });
    expect(res.data.customerBySourceId.id).toBe(dup.customer);
    expect(res.data.customerBySourceId.sourceIds.crm).not.toBe(dup.dup);
  });

  it('refuses a page size over the limit with BAD_USER_INPUT', async () => {
    const res = await stack.gql('{ customers(first: 5000) { totalCount } }');
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', system: 'identity' });
  });

  it('serves the canonical model as data, field for field', async () => {
    const res = await stack.gql('{ dataModel { types { name kind fields { name type owner description sourceField writable } values { name sourceValue } } } }');
    expect(res.errors).toBeUndefined();
    const customer = res.data.dataModel.types.find((t: any) => t.name === 'Customer');
    const declared = MODEL.types.find((t) => t.name === 'Customer')!;
    expect(customer.fields.map((f: any) => f.name)).toEqual(declared.kind === 'object' ? declared.fields.map((f) => f.name) : []);
    expect(customer.fields.find((f: any) => f.name === 'phone')).toMatchObject({ owner: 'crm', writable: true, sourceField: expect.stringContaining('properties.phone') });
    expect(customer.fields.find((f: any) => f.name === 'creditLimit')).toMatchObject({ owner: 'erp', writable: false });
    expect(res.data.dataModel.types.map((t: any) => t.name)).toEqual(MODEL.types.map((t) => t.name));
  });

  it('serves the model descriptions in the API schema itself', async () => {
    const res = await stack.gql('{ __type(name: "Customer") { description fields { name description } } }');
    const phone = res.data.__type.fields.find((f: any) => f.name === 'phone');
    const declared = MODEL.types.find((t) => t.name === 'Customer');
    expect(phone.description).toBe(declared?.kind === 'object' ? declared.fields.find((f) => f.name === 'phone')!.description : undefined);
    // Join keys stay internal: apps use sourceIds.
    expect(res.data.__type.fields.map((f: any) => f.name)).not.toContain('crmId');
  });
});

describe('a system that is down', () => {
  it('leaves the other systems\' data intact and names the failing system in the error', async () => {
    await stack.setFaults('erp', { down: true });
    const res = await stack.gql('{ customers(first: 20) { edges { node { id name legalName emailConsent } } } }');
    const nodes = res.data.customers.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(20);
    expect(nodes.every((n: any) => n.legalName === null)).toBe(true);
    expect(nodes.some((n: any) => n.name !== null)).toBe(true);
    expect(nodes.some((n: any) => n.emailConsent !== null)).toBe(true);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toMatchObject({ code: 'SYSTEM_UNAVAILABLE', system: 'erp', retryable: true });
  });

  it('does not disturb queries that do not touch it', async () => {
    await stack.setFaults('erp', { down: true });
    const res = await stack.gql('{ customers(first: 20) { edges { node { id name emailConsent } } } }');
    expect(res.errors).toBeUndefined();
    expect((await stack.systemStats()).erp.requests).toBe(0);
  });

  it('makes /health report degraded and name the system, while the gateway keeps serving', async () => {
    await stack.setFaults('support', { down: true });
    const health = await fetch(`${stack.gateway.url}/health`).then((r) => r.json());
    expect(health.status).toBe('degraded');
    expect(health.systems.filter((s: any) => !s.ok).map((s: any) => s.name)).toEqual(['support']);
    expect(health.subgraphs.every((s: any) => s.ok)).toBe(true);
    const res = await stack.gql('{ customers(first: 2) { edges { node { id } } } }');
    expect(res.data.customers.edges).toHaveLength(2);
    await stack.clearFaults();
    expect((await fetch(`${stack.gateway.url}/health`).then((r) => r.json())).status).toBe('ok');
  });
});

describe('a subgraph that is down', () => {
  it('returns the rest of the data and an error naming the subgraph\'s system', async () => {
    const { startTestStack: start } = await import('./support/stack.js');
    const own = await start({ seedSize: 50 });
    try {
      await own.subgraphs.marketing.close();
      const res = await own.gql('{ customers(first: 5) { edges { node { id name emailConsent } } } }');
      expect(res.data.customers.edges).toHaveLength(5);
      expect(res.data.customers.edges.some((e: any) => e.node.name !== null)).toBe(true);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'SYSTEM_UNAVAILABLE', system: 'marketing' });
      const health = await fetch(`${own.gateway.url}/health`).then((r) => r.json());
      expect(health.status).toBe('degraded');
      expect(health.subgraphs.filter((s: any) => !s.ok).map((s: any) => s.name)).toEqual(['marketing']);
    } finally {
      await own.stop().catch(() => undefined);
    }
  });
});
