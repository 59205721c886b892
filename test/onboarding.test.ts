// onboardCustomer end to end: one record in each system (counted through each system's own API) linked into one customer; an ERP refusal that skips every later step; a partner held for the credit check, waited for durably and released.

import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { taxIdCountry } from '../gateway/writes/validation.js';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 40 });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.reset();
});
afterEach(async () => {
  await stack.systemApi('erp', 'PUT', '/_admin/approvals', { holdNewPartners: false });
});

const ONBOARD = `mutation($input: OnboardCustomerInput!, $mode: Mode) {
  onboardCustomer(input: $input, mode: $mode) {
    customer { id sourceIds { crm erp marketing support } }
    operation { id status workflow mode steps { name system status error { code message } } }
  }
}`;
const OPERATION = 'query($id: ID!) { operation(id: $id) { status customerId steps { name status error { code message } } } }';
const md5 = (s: string) => createHash('md5').update(s.trim().toLowerCase()).digest('hex');
const STEP_NAMES = ['crm.findOrCreateContact', 'erp.createPartner', 'erp.partnerActive', 'marketing.upsertMember', 'support.findOrCreateOrganization', 'identity.linkRecords'];

/** A new customer nobody holds yet: its own email, company name and German VAT number. */
function newcomer(extra: Record<string, unknown> = {}) {
  const tag = randomUUID().slice(0, 8);
  return {
    name: `Ada ${tag}`,
    email: `ada.${tag}@onboard.example`,
    phone: '+49 30 1234567',
    legalName: `Onboard ${tag} GmbH`,
    taxId: `DE${String(parseInt(tag, 16) % 1e9).padStart(9, '0')}`,
    billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    paymentTerms: 'NET_30',
    emailConsent: 'SUBSCRIBED',
    supportPlan: 'BUSINESS',
    ...extra,
  };
}

/** Polls operation(id) until `done` holds of it. */
async function until(id: string, done: (op: any) => boolean): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const op = (await stack.gql(OPERATION, { id })).data.operation;
    if (op && done(op)) return op;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`operation ${id} never reached the state waited for`);
}

/** How many records each system holds for a customer, asked the way each product is asked. */
async function recordsHeld(c: ReturnType<typeof newcomer>, externalId: string) {
  const contacts = await stack.systemApi('crm', 'POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: c.email }] }] });
  const partners = await stack.systemApi('erp', 'GET', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent(`ExternalID eq '${externalId}'`)}`);
  const member = await stack.systemFetch('marketing', `/3.0/lists/${MARKETING_LIST_ID}/members/${md5(c.email)}`);
  const orgs = await stack.systemApi('support', 'GET', `/api/v2/organizations/search.json?external_id=${encodeURIComponent(externalId)}`);
  return { crm: contacts.total, erp: partners.value.length, marketing: member.status === 200 ? 1 : 0, support: orgs.organizations.length };
}

const writes = async () => {
  const s = await stack.systemStats();
  return { crm: s.crm.writes, erp: s.erp.writes, marketing: s.marketing.writes, support: s.support.writes };
};

describe('onboardCustomer', () => {
  it('creates one record in each system in REALTIME, links them, and customerBySourceId finds the customer', async () => {
    const c = newcomer();
    const res = await stack.gql(ONBOARD, { input: c });
    expect(res.errors).toBeUndefined();
    const { customer, operation } = res.data.onboardCustomer;
    expect([operation.status, operation.workflow, operation.mode]).toEqual(['SUCCEEDED', 'onboardCustomer', 'REALTIME']);
    expect(operation.steps.map((s: any) => [s.name, s.system, s.status])).toEqual([
      ['crm.findOrCreateContact', 'CRM', 'SUCCEEDED'],
      ['erp.createPartner', 'ERP', 'SUCCEEDED'],
      ['erp.partnerActive', 'ERP', 'SUCCEEDED'],
      ['marketing.upsertMember', 'MARKETING', 'SUCCEEDED'],
      ['support.findOrCreateOrganization', 'SUPPORT', 'SUCCEEDED'],
      ['identity.linkRecords', null, 'SUCCEEDED'],
    ]);
    expect(await recordsHeld(c, operation.id)).toEqual({ crm: 1, erp: 1, marketing: 1, support: 1 });
    expect(await writes()).toEqual({ crm: 1, erp: 1, marketing: 1, support: 1 });
    expect(Object.values(customer.sourceIds).every((v) => typeof v === 'string')).toBe(true);

    const found = await stack.gql('query($id: ID!) { customerBySourceId(system: ERP, id: $id) { id name email legalName taxId emailConsent supportPlan accountStatus } }', { id: customer.sourceIds.erp });
    expect(found.data.customerBySourceId).toEqual({ id: customer.id, name: c.name, email: c.email, legalName: c.legalName, taxId: c.taxId, emailConsent: 'SUBSCRIBED', supportPlan: 'BUSINESS', accountStatus: 'ACTIVE' });
    expect((await stack.gql(OPERATION, { id: operation.id })).data.operation.customerId).toBe(customer.id);
  });

  it('skips marketing without emailConsent, and the onboarding still SUCCEEDS', async () => {
    const res = await stack.gql(ONBOARD, { input: newcomer({ emailConsent: null }) });
    const { operation } = res.data.onboardCustomer;
    expect(operation.status).toBe('SUCCEEDED');
    expect(operation.steps[3]).toEqual({ name: 'marketing.upsertMember', system: 'MARKETING', status: 'SKIPPED', error: { code: 'PRECONDITION_FAILED', message: expect.stringContaining('no emailConsent') } });
    expect((await stack.systemStats()).marketing.requests).toBe(0);
  });

  it('leaves every step after a refused ERP partner SKIPPED, and marketing and support receive nothing', async () => {
    const seeded = await stack.gql('{ customers(first: 40) { edges { node { taxId billingAddress { country } } } } }');
    const taken = seeded.data.customers.edges.map((e: any) => e.node).find((n: any) => n.taxId && n.billingAddress && taxIdCountry(n.taxId) === n.billingAddress.country);
    const c = newcomer({ taxId: taken.taxId, billingAddress: { line1: 'Rue 1', city: 'Town', postalCode: '1000', country: taken.billingAddress.country } });
    const res = await stack.gql(ONBOARD, { input: c });
    expect(res.errors).toBeUndefined();
    const { customer, operation } = res.data.onboardCustomer;
    expect(customer).toBeNull();
    expect(operation.status).toBe('FAILED');
    expect(operation.steps.map((s: any) => [s.name, s.status, s.error?.code ?? null])).toEqual([
      ['crm.findOrCreateContact', 'SUCCEEDED', null],
      ['erp.createPartner', 'FAILED', 'BAD_USER_INPUT'],
      ['erp.partnerActive', 'SKIPPED', 'PRECONDITION_FAILED'],
      ['marketing.upsertMember', 'SKIPPED', 'PRECONDITION_FAILED'],
      ['support.findOrCreateOrganization', 'SKIPPED', 'PRECONDITION_FAILED'],
      ['identity.linkRecords', 'SKIPPED', 'PRECONDITION_FAILED'],
    ]);
    expect(operation.steps[1].error.message).toContain(`Tax number ${taken.taxId} is already assigned`);
    expect(operation.steps[4].error.message).toContain('erp.createPartner failed');
    const stats = await stack.systemStats();
    expect([stats.erp.writes, stats.marketing.requests, stats.support.requests]).toEqual([0, 0, 0]);
    expect(await recordsHeld(c, operation.id)).toEqual({ crm: 1, erp: 0, marketing: 0, support: 0 });
  });

  it('waits while the ERP holds the new partner, writes nothing downstream, and finishes once it is released', async () => {
    await stack.systemApi('erp', 'PUT', '/_admin/approvals', { holdNewPartners: true });
    const c = newcomer();
    const res = await stack.gql(ONBOARD, { input: c, mode: 'QUEUED' });
    expect(res.errors).toBeUndefined();
    const id = res.data.onboardCustomer.operation.id;
    expect(res.data.onboardCustomer.operation.status).toBe('PENDING');
    const waiting = await until(id, (op) => op.steps[2].status === 'WAITING');
    expect(waiting.steps.map((s: any) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'WAITING', 'PENDING', 'PENDING', 'PENDING']);
    const { held } = await stack.systemApi('erp', 'GET', '/_admin/approvals');
    expect(held).toHaveLength(1);
    // Re-read while held (ONBOARDING_RECHECK_MS is 50 ms in tests), and nothing else sent meanwhile.
    const reads = async () => (await stack.systemStats()).erp.byRoute["GET /odata/v4/BusinessPartners('{id}')"] ?? 0;
    for (let i = 0; i < 400 && (await reads()) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await reads()).toBeGreaterThanOrEqual(3);
    const before = await stack.systemStats();
    expect([before.marketing.requests, before.support.requests]).toEqual([0, 0]);

    await stack.systemApi('erp', 'POST', '/_admin/approvals/release', { id: held[0] });
    const done = await until(id, (op) => op.status !== 'PENDING');
    expect(done.steps.map((s: any) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(await recordsHeld(c, id)).toEqual({ crm: 1, erp: 1, marketing: 1, support: 1 });
  });

  it('refuses an invalid input whole with BAD_USER_INPUT before calling any system', async () => {
    const res = await stack.gql(ONBOARD, { input: newcomer({ email: 'not-an-email', phone: '12' }) });
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.fields])).toEqual([['BAD_USER_INPUT', ['email', 'phone']]]);
    const stats = await stack.systemStats();
    expect([stats.crm.requests, stats.erp.requests, stats.marketing.requests, stats.support.requests]).toEqual([0, 0, 0, 0]);
  });

  it('needs workflows:run besides the write scopes of the systems it writes', async () => {
    const headers = await stack.appHeaders('onboard-no-run', ['write:crm', 'write:erp', 'write:marketing', 'write:support', 'read:crm']);
    const res = await stack.gql(ONBOARD, { input: newcomer() }, headers);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.scope])).toEqual([['FORBIDDEN', 'workflows:run']]);
    expect((await stack.systemStats()).crm.requests).toBe(0);
  });

  it('is served among the workflows with its steps in order', async () => {
    const res = await stack.gql('{ workflows { name defaultMode steps { name after } } }');
    const w = res.data.workflows.find((x: any) => x.name === 'onboardCustomer');
    expect(w.steps.map((s: any) => s.name)).toEqual(STEP_NAMES);
    expect(w.steps.map((s: any) => s.after)).toEqual([[], [STEP_NAMES[0]], [STEP_NAMES[1]], [STEP_NAMES[2]], [STEP_NAMES[2]], [STEP_NAMES[3], STEP_NAMES[4]]]);
  });
});
