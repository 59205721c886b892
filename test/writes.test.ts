// Writes go only to the owner: updateCustomer split by owning system, validation before any write, stale-write protection under races.

import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
/** Customers present in all four systems, so any field can be written to them. */
let everywhere: { id: string; sourceIds: Record<SystemName, string> }[];

const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateCustomerInput!, $v: ExpectedVersionsInput) {
    updateCustomer(id: $id, input: $input, expectedVersions: $v) {
      customer { id name email phone lifecycleStage legalName taxId billingAddress { line1 line2 city postalCode country } paymentTerms emailConsent supportPlan crmVersion erpVersion marketingVersion supportVersion }
      results { system status fields version error { code message retryable } }
    }
  }
`;

const READ = /* GraphQL */ `
  query Read($id: ID!) {
    customer(id: $id) { id name email phone lifecycleStage legalName taxId billingAddress { line1 line2 city postalCode country } paymentTerms emailConsent supportPlan crmVersion erpVersion marketingVersion supportVersion }
  }
`;

async function writes(): Promise<Record<SystemName, number>> {
  const stats = await stack.systemStats();
  return Object.fromEntries(SYSTEMS.map((s) => [s, stats[s].writes])) as Record<SystemName, number>;
}

function delta(before: Record<SystemName, number>, after: Record<SystemName, number>): Record<SystemName, number> {
  return Object.fromEntries(SYSTEMS.map((s) => [s, after[s] - before[s]])) as Record<SystemName, number>;
}

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 300 });
  everywhere = await stack.customersInEverySystem(300);
  expect(everywhere.length).toBeGreaterThan(40);
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  await stack.clearFaults();
});

describe('updateCustomer routing', () => {
  const oneFieldPerOwner: [string, Record<string, unknown>, SystemName][] = [
    ['phone', { phone: '+49 30 901820' }, 'crm'],
    ['legalName', { legalName: 'Routing Test GmbH' }, 'erp'],
    ['emailConsent', { emailConsent: 'UNSUBSCRIBED' }, 'marketing'],
    ['supportPlan', { supportPlan: 'ENTERPRISE' }, 'support'],
  ];

  it.each(oneFieldPerOwner)('writes %s to its owner once and to no other system', async (_field, input, owner) => {
    const customer = everywhere[0]!;
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: customer.id, input });
    expect(res.errors).toBeUndefined();
    expect(res.data.updateCustomer.results).toEqual([{ system: owner.toUpperCase(), status: 'SUCCEEDED', fields: Object.keys(input), version: expect.any(String), error: null }]);
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0, [owner]: 1 });
  });

  it('sends a multi-owner update one slice per owner, touching exactly those owners', async () => {
    const customer = everywhere[1]!;
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Ada Lovelace', email: 'ADA@Example.com ', legalName: 'Analytical Engines Ltd', emailConsent: 'SUBSCRIBED' } });
    expect(res.errors).toBeUndefined();
    const results = res.data.updateCustomer.results;
    expect(results.map((r: any) => [r.system, r.status, r.fields])).toEqual([
      ['CRM', 'SUCCEEDED', ['name', 'email']],
      ['ERP', 'SUCCEEDED', ['legalName']],
      ['MARKETING', 'SUCCEEDED', ['emailConsent']],
    ]);
    expect(delta(before, await writes())).toEqual({ crm: 1, erp: 1, marketing: 1, support: 0 });
    expect(res.data.updateCustomer.customer).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', legalName: 'Analytical Engines Ltd', emailConsent: 'SUBSCRIBED' });
  });

  it('keeps the other owners\' results when one owner fails, and says which slice failed and why', async () => {
    const customer = everywhere[2]!;
    await stack.setFaults('erp', { errorRate: 1, errorStatus: 503 });
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: customer.id, input: { phone: '+33 1 42 68 53 00', legalName: 'Will Not Land SA' } });
    // The payload's customer is read back from every owner; the ERP cannot answer that read either, and says so.
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.system])).toEqual([['SYSTEM_UNAVAILABLE', 'erp']]);
    expect(res.data.updateCustomer.customer.phone).toBe('+33142685300');
    const [crm, erp] = res.data.updateCustomer.results;
    expect(crm).toMatchObject({ system: 'CRM', status: 'SUCCEEDED', fields: ['phone'] });
    expect(erp).toMatchObject({ system: 'ERP', status: 'FAILED', fields: ['legalName'], error: { code: 'SYSTEM_UNAVAILABLE', retryable: true } });
    expect(erp.error.message).toContain('erp answered 503');
    expect(delta(before, await writes())).toEqual({ crm: 1, erp: 0, marketing: 0, support: 0 });
    await stack.clearFaults();
    const read = await stack.gql(READ, { id: customer.id });
    expect(read.data.customer.phone).toBe('+33142685300');
    expect(read.data.customer.legalName).not.toBe('Will Not Land SA');
  });

  it('refuses the system mutations at the gateway: apps cannot go around the router', async () => {
    const res = await stack.gql('mutation { crmUpdateCustomer(crmId: "1001", input: { name: "Sneaky" }) { crmVersion } }');
    expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const schema = await stack.gql('{ __type(name: "Mutation") { fields { name } } }');
    expect(schema.data.__type.fields.map((f: any) => f.name).sort()).toEqual(['bulkUpdateCustomers', 'mergeCustomers', 'onboardCustomer', 'openTicket', 'resolveMatch', 'retryOperation', 'unlinkRecord', 'updateCustomer']);
  });

  it('answers NOT_FOUND for an unknown customer and writes nothing', async () => {
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: 'cus_nobody', input: { name: 'Nobody' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', system: 'identity' });
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
  });

  it('refuses a write to an owner that has no record of the customer, before writing to any owner', async () => {
    const all = await stack.gql('{ customers(first: 300) { edges { node { id sourceIds { crm erp } } } } }');
    const noErp = all.data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && !n.sourceIds.erp);
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: noErp.id, input: { name: 'Half Written', legalName: 'Nowhere Ltd' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', system: 'erp' });
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
  });
});

describe('refused writes change nothing', () => {
  it.each([
    ['creditLimit', '{ creditLimit: { amount: "1", currency: "EUR" } }', 'erp'],
    ['accountStatus', '{ accountStatus: ACTIVE }', 'erp'],
    ['openBalance', '{ openBalance: { amount: "0", currency: "EUR" } }', 'erp'],
    ['openTickets', '{ openTickets: 0 }', 'support'],
    ['id', '{ id: "cus_other" }', 'identity'],
    ['sourceIds', '{ sourceIds: { crm: "1" } }', 'identity'],
  ])('refuses %s with FIELD_NOT_WRITABLE naming field and owner', async (field, literal, owner) => {
    const before = await writes();
    const res = await stack.gql(`mutation($id: ID!) { updateCustomer(id: $id, input: ${literal}) { results { system } } }`, { id: everywhere[3]!.id });
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toMatchObject({ code: 'FIELD_NOT_WRITABLE', field, owner });
    expect(res.errors![0].message).toContain(`Customer.${field}`);
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
  });

  it('refuses a non-writable field passed in variables too', async () => {
    const res = await stack.gql(UPDATE, { id: everywhere[3]!.id, input: { name: 'Fine', creditLimit: { amount: '9', currency: 'EUR' } } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FIELD_NOT_WRITABLE', field: 'creditLimit', owner: 'erp' });
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ phone: '12345' }, 'phone'],
    // A national number is read in the customer's stored country (test/data-quality.test.ts); this one is too short anywhere.
    [{ phone: '030 12' }, 'phone'],
    [{ taxId: 'DE12' }, 'taxId'],
    [{ taxId: 'FR12345678901', billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' } }, 'taxId'],
    [{ billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'XX' } }, 'billingAddress.country'],
    [{ billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'germany' } }, 'billingAddress.country'],
    [{ billingAddress: { city: 'Berlin', postalCode: '10115', country: 'DE' } }, 'billingAddress.line1'],
    [{ name: '   ' }, 'name'],
    [{ legalName: 'x'.repeat(201) }, 'legalName'],
    [{ lifecycleStage: null }, 'lifecycleStage'],
    [{}, 'input'],
  ])('refuses %j with BAD_USER_INPUT naming %s, and no system receives a write', async (input, field) => {
    const before = await writes();
    // A valid field of another owner rides along: it must not be written either.
    const payload = field === 'input' ? {} : { name: 'Valid Name', ...input };
    const res = await stack.gql(UPDATE, { id: everywhere[3]!.id, input: payload });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].extensions?.fields).toContain(field);
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
  });

  it('refuses an enum value outside the model through GraphQL itself', async () => {
    const res = await stack.gql(UPDATE, { id: everywhere[3]!.id, input: { paymentTerms: 'NET_90' } });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.each(SYSTEMS)('refuses a stale %s write with STALE_WRITE and leaves that system unchanged', async (system) => {
    const customer = everywhere[4]!;
    const input = { crm: { name: 'Stale Name' }, erp: { legalName: 'Stale Ltd' }, marketing: { emailConsent: 'PENDING' }, support: { supportPlan: 'BASIC' } }[system];
    const fresh = { crm: { name: 'Fresh Name' }, erp: { legalName: 'Fresh Ltd' }, marketing: { emailConsent: 'CLEANED' }, support: { supportPlan: 'BUSINESS' } }[system];
    const read = await stack.gql(READ, { id: customer.id });
    const old = read.data.customer[`${system}Version`];
    // Someone else writes first: the version the app read is now old.
    const other = await stack.gql(UPDATE, { id: customer.id, input: fresh });
    expect(other.data.updateCustomer.results[0].status).toBe('SUCCEEDED');
    const before = await writes();
    const res = await stack.gql(UPDATE, { id: customer.id, input, v: { [system]: old } });
    expect(res.data.updateCustomer.results).toEqual([{ system: system.toUpperCase(), status: 'FAILED', fields: Object.keys(input), version: null, error: expect.objectContaining({ code: 'STALE_WRITE', retryable: false }) }]);
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
    const after = await stack.gql(READ, { id: customer.id });
    expect(after.data.customer).toMatchObject(fresh);
  });
});

describe('stale-write races', () => {
  const raced: Record<SystemName, (i: number) => [Record<string, unknown>, Record<string, unknown>]> = {
    crm: (i) => [{ name: `Writer A${i}` }, { name: `Writer B${i}` }],
    erp: (i) => [{ legalName: `A ${i} GmbH` }, { legalName: `B ${i} GmbH` }],
    marketing: (i) => (i % 2 ? [{ emailConsent: 'SUBSCRIBED' }, { emailConsent: 'UNSUBSCRIBED' }] : [{ emailConsent: 'PENDING' }, { emailConsent: 'CLEANED' }]),
    support: (i) => (i % 2 ? [{ supportPlan: 'BASIC' }, { supportPlan: 'BUSINESS' }] : [{ supportPlan: 'ENTERPRISE' }, { supportPlan: 'BASIC' }]),
  };

  const RACE = 'mutation($id: ID!, $input: UpdateCustomerInput!, $v: ExpectedVersionsInput) { updateCustomer(id: $id, input: $input, expectedVersions: $v) { results { system status version error { code } } } }';

  it.each(SYSTEMS)('lets exactly one of two racing %s writers with the same version win, 200 times, losing no update', async (system) => {
    const fields = Object.keys(raced[system](0)[0]).join(' ');
    const readOwn = `query($id: ID!) { customer(id: $id) { ${fields} ${system}Version } }`;
    const customer = everywhere[5 + SYSTEMS.indexOf(system)]!;
    let version = (await stack.gql(readOwn, { id: customer.id })).data.customer[`${system}Version`];
    for (let i = 0; i < 200; i++) {
      const [a, b] = raced[system](i);
      const [ra, rb] = await Promise.all([
        stack.gql(RACE, { id: customer.id, input: a, v: { [system]: version } }),
        stack.gql(RACE, { id: customer.id, input: b, v: { [system]: version } }),
      ]);
      const results = [ra.data.updateCustomer.results[0], rb.data.updateCustomer.results[0]];
      const winners = results.filter((r) => r.status === 'SUCCEEDED');
      const losers = results.filter((r) => r.status === 'FAILED');
      expect({ i, winners: winners.length, loserCodes: losers.map((l) => l.error.code) }).toEqual({ i, winners: 1, loserCodes: ['STALE_WRITE'] });
      const winningInput = results[0].status === 'SUCCEEDED' ? a : b;
      const now = (await stack.gql(readOwn, { id: customer.id })).data.customer;
      // The winner's value is what the owner holds, and the version moved to the winner's.
      expect(now).toMatchObject(winningInput);
      expect(now[`${system}Version`]).toBe(winners[0].version);
      version = winners[0].version;
    }
  });
});

describe('updateCustomer with random inputs', () => {
  const countries = ['DE', 'FR', 'GB', 'NL', 'US'] as const;
  const phones: Record<(typeof countries)[number], string[]> = {
    DE: ['+49 30 901820', '+49 89 12345678', '+4940 3037 2500'],
    FR: ['+33 1 42 68 53 00', '+33 4 78 42 10 10'],
    GB: ['+44 20 7946 0018', '+44 161 496 0123'],
    NL: ['+31 20 624 1111', '+31 10 414 2222'],
    US: ['+1 415 555 2671', '+1 (212) 555-2368'],
  };
  const taxIds: Record<(typeof countries)[number], fc.Arbitrary<string>> = {
    DE: fc.stringMatching(/^\d{9}$/).map((d) => `DE${d}`),
    FR: fc.stringMatching(/^\d{11}$/).map((d) => `FR${d}`),
    GB: fc.stringMatching(/^\d{9}$/).map((d) => `GB${d}`),
    NL: fc.stringMatching(/^\d{9}$/).map((d) => `NL${d}B01`),
    US: fc.stringMatching(/^\d{9}$/).map((d) => `${d.slice(0, 2)}-${d.slice(2)}`),
  };
  const word = fc.stringMatching(/^[A-Z][a-z]{1,9}$/);
  const inputArb = fc.constantFrom(...countries).chain((country) =>
    fc.record(
      {
        name: fc.tuple(word, word).map(([a, b]) => `  ${a}   ${b} `),
        email: fc.tuple(word, word).map(([a, b]) => ` ${a}.${b}@Example.COM`),
        phone: fc.constantFrom(...phones[country]),
        lifecycleStage: fc.constantFrom('LEAD', 'CUSTOMER', 'OPPORTUNITY', 'EVANGELIST'),
        legalName: fc.tuple(word, fc.constantFrom('GmbH', 'SA', 'Ltd', 'BV', 'Inc.')).map(([a, b]) => `${a} ${b}`),
        taxId: taxIds[country],
        billingAddress: fc.record({ line1: word.map((w) => `${w}straat 12`), line2: fc.constantFrom(null, 'Floor 3'), city: word, postalCode: fc.stringMatching(/^\d{5}$/), country: fc.constant(country) }),
        paymentTerms: fc.constantFrom('DUE_ON_RECEIPT', 'NET_14', 'NET_30', 'NET_60', 'PREPAID'),
        emailConsent: fc.constantFrom('SUBSCRIBED', 'UNSUBSCRIBED', 'PENDING', 'CLEANED'),
        supportPlan: fc.constantFrom('BASIC', 'BUSINESS', 'ENTERPRISE'),
      },
      { requiredKeys: [] },
    ).filter((r) => Object.keys(r).length > 0),
  );

  /** What canon promises to store for each input value. */
  function normalised(input: Record<string, any>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      if (k === 'name' || k === 'legalName') out[k] = String(v).trim().replace(/\s+/g, ' ');
      else if (k === 'email') out[k] = String(v).trim().toLowerCase();
      else if (k === 'phone') out[k] = '+' + String(v).replace(/\D/g, '');
      else out[k] = v;
    }
    return out;
  }

  it('reads back the normalised input after every update, and writes only to the owners of its fields', async () => {
    const ownerOf: Record<string, SystemName> = { name: 'crm', email: 'crm', phone: 'crm', lifecycleStage: 'crm', legalName: 'erp', taxId: 'erp', billingAddress: 'erp', paymentTerms: 'erp', emailConsent: 'marketing', supportPlan: 'support' };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 10, max: everywhere.length - 1 }), inputArb, async (which, input) => {
        const customer = everywhere[which]!;
        const before = await writes();
        const res = await stack.gql(UPDATE, { id: customer.id, input });
        expect(res.errors).toBeUndefined();
        expect(res.data.updateCustomer.results.every((r: any) => r.status === 'SUCCEEDED')).toBe(true);
        const read = await stack.gql(READ, { id: customer.id });
        expect(read.data.customer).toMatchObject(normalised(input));
        const owners = new Set(Object.keys(input).map((k) => ownerOf[k]!));
        expect(delta(before, await writes())).toEqual(Object.fromEntries(SYSTEMS.map((s) => [s, owners.has(s) ? 1 : 0])));
      }),
      { numRuns: 60, seed: 20261129 },
    );
  });
});

describe('openTicket', () => {
  it('creates one ticket in the support system and nothing anywhere else', async () => {
    const customer = everywhere[12]!;
    const before = await writes();
    const res = await stack.gql('mutation($id: ID!) { openTicket(customerId: $id, subject: " Printer on fire ", body: "Please send help.") { ticket { id subject body status } operation { status workflow mode } } }', { id: customer.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.openTicket.ticket).toMatchObject({ subject: 'Printer on fire', body: 'Please send help.', status: 'NEW' });
    expect(res.data.openTicket.operation).toEqual({ status: 'SUCCEEDED', workflow: 'openTicket', mode: 'REALTIME' });
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 1 });
    const ticket = await stack.systemFetch('support', `/api/v2/tickets/${res.data.openTicket.ticket.id}.json`).then((r) => r.json());
    expect(ticket.ticket.organization_id).toBe(Number(customer.sourceIds.support));
  });

  it('refuses an empty subject with BAD_USER_INPUT and creates nothing', async () => {
    const before = await writes();
    const res = await stack.gql('mutation($id: ID!) { openTicket(customerId: $id, subject: "  ", body: "x") { ticket { id } } }', { id: everywhere[12]!.id });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'subject' });
    expect(delta(before, await writes())).toEqual({ crm: 0, erp: 0, marketing: 0, support: 0 });
  });
});
