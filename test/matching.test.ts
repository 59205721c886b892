// The identity matcher as a library: normalised keys, rules and their evidence, vetoes, review, decisions, and the
// incremental API giving what the batch gives.

import { describe, expect, it } from 'vitest';
import {
  fromCrmContact, fromErpPartner, fromMarketingMember, fromSupportOrganization, Matcher, matchAll, toKeys,
  type MatchInput, type MatchResult,
} from '../subgraphs/identity/matching/index.js';
import { generateIdentitySet } from './bench/identity-data.js';

const crm = (id: string, p: Record<string, string | null>): MatchInput => fromCrmContact({ id, properties: p });
const erp = (id: string, name: string, extra: { TaxNumber?: string | null; Country?: string | null; PostalCode?: string | null; CityName?: string | null } = {}): MatchInput =>
  fromErpPartner({ BusinessPartner: id, BusinessPartnerName: name, TaxNumber: null, Country: null, PostalCode: null, CityName: null, ...extra });
const member = (id: string, email: string, m: Record<string, string>): MatchInput => fromMarketingMember({ id, email_address: email, merge_fields: m });

const clustersOf = (r: MatchResult) => r.clusters.map((c) => c.records);
const rulesOf = (rules: { name: string }[]) => rules.map((r) => r.name);

describe('match keys', () => {
  it('normalises an email by case and whitespace, and drops dots and +tags only where the provider ignores them', () => {
    const key = (email: string) => toKeys({ system: 'crm', nativeId: '1', email }).email;
    expect(key('  Anna.Schmidt @Nordwind.DE ')?.address).toBe('anna.schmidt@nordwind.de');
    expect(key('Anna.Schmidt+news@googlemail.com')?.address).toBe('annaschmidt@gmail.com');
    expect(key('anna.schmidt+news@nordwind.de')?.address).toBe('anna.schmidt+news@nordwind.de');
    expect(key('Info@Nordwind.de')).toMatchObject({ address: 'info@nordwind.de', role: true });
    expect(key('not an address')).toBeNull();
  });

  it('reads phones as E.164 in the record country and refuses placeholders and national formats without a country', () => {
    const phone = (p: string, country: string | null) => toKeys({ system: 'crm', nativeId: '1', phone: p, country }).phone;
    expect(phone('(415) 555-0199', 'US')).toBe('+14155550199');
    expect(phone('0049 30 2638471', null)).toBe('+49302638471');
    expect(phone('030 2638471', null)).toBeNull();
    expect(phone('+49 30 1234567', 'DE')).toBeNull();
    expect(phone('+49 30 0000000', 'DE')).toBeNull();
  });

  it('strips legal forms, qualifiers and punctuation from organisation names, never the last word', () => {
    const org = (name: string) => toKeys({ system: 'erp', nativeId: '1', organisation: name }).organisation?.name;
    expect(org('ACME Holdings GmbH & Co. KG')).toBe('acme holdings');
    expect(org('Acme G.m.b.H.')).toBe('acme');
    expect(org('Bâtiments Rivière S.A.R.L.')).toBe('batiments riviere');
    expect(org('Nordwind Logistik (Berlin)')).toBe('nordwind logistik');
    expect(org('Belgarce Public Limited Compnay')).toBe('belgarce');
    expect(org('AG')).toBe('ag');
  });

  it('normalises tax ids, countries and the country a VAT number names', () => {
    const keys = toKeys({ system: 'erp', nativeId: '1', taxId: '123.456.789', country: 'Germany' });
    expect([keys.taxId, keys.country]).toEqual(['DE123456789', 'DE']);
    expect(toKeys({ system: 'erp', nativeId: '1', taxId: 'fr 40 303265045' }).country).toBe('FR');
    expect(toKeys({ system: 'crm', nativeId: '1', country: 'UK' }).country).toBe('GB');
    expect(toKeys({ system: 'crm', nativeId: '1', country: 'deu' }).country).toBe('DE');
  });
});

describe('adapters', () => {
  it('read each system\'s native record as the connector returns it', () => {
    expect(fromCrmContact({ id: '1001', properties: { firstname: 'Anna', lastname: 'Schmidt', email: 'a@x.de', phone: '030 2345678', company: 'Acme', country: 'DE', zip: '10115', city: 'Berlin', canon_external_id: 'cus_1' } }))
      .toEqual({ system: 'crm', nativeId: '1001', externalId: 'cus_1', firstName: 'Anna', lastName: 'Schmidt', email: 'a@x.de', phone: '030 2345678', organisation: 'Acme', country: 'DE', postalCode: '10115', city: 'Berlin' });
    expect(fromErpPartner({ BusinessPartner: '1000001', BusinessPartnerName: 'Acme GmbH', TaxNumber: 'DE123456789', Country: 'DE', PostalCode: '10115', CityName: 'Berlin', ExternalID: 'cus_1' }))
      .toEqual({ system: 'erp', nativeId: '1000001', externalId: 'cus_1', organisation: 'Acme GmbH', taxId: 'DE123456789', country: 'DE', postalCode: '10115', city: 'Berlin' });
    expect(fromMarketingMember({ id: 'abc', email_address: 'A@x.de', merge_fields: { FNAME: 'Anna', LNAME: 'Schmidt', PHONE: '', COMPANY: 'Acme' } }))
      .toEqual({ system: 'marketing', nativeId: 'abc', firstName: 'Anna', lastName: 'Schmidt', email: 'A@x.de', phone: null, organisation: 'Acme' });
    expect(fromSupportOrganization({ id: 90000001, name: 'Acme (Berlin)', external_id: null, domain_names: ['acme.de'] }))
      .toEqual({ system: 'support', nativeId: '90000001', externalId: null, organisation: 'Acme (Berlin)', domains: ['acme.de'], postalCode: null, city: null });
    expect(fromSupportOrganization({ id: 2, name: 'Acme', external_id: null, details: 'Gartenweg 91, 10285 Berlin' })).toMatchObject({ postalCode: '10285', city: 'Berlin' });
    expect(fromSupportOrganization({ id: 3, name: 'Acme', external_id: null, details: 'Mill Lane 53, EC1 4AB London' })).toMatchObject({ postalCode: 'EC1 4AB', city: 'London' });
    expect(fromSupportOrganization({ id: 4, name: 'Acme', external_id: null, details: 'Prefers email.' })).toMatchObject({ postalCode: null, city: null });
  });
});

describe('matchAll', () => {
  it('links Acme and ACME Holdings GmbH with one tax id, and keeps them apart when the tax ids differ', () => {
    const acme = { system: 'crm', nativeId: '1', organisation: 'Acme', country: 'DE' } as const;
    const linked = matchAll([{ ...acme, taxId: 'DE123456789' }, erp('2', 'ACME Holdings GmbH', { TaxNumber: 'DE 123 456 789', Country: 'DE' })]);
    expect(clustersOf(linked)).toEqual([['crm:1', 'erp:2']]);
    expect(rulesOf(linked.clusters[0]!.links[0]!.rules)).toEqual(['taxId', 'organisationContained', 'country']);

    const apart = matchAll([{ ...acme, taxId: 'DE123456789' }, erp('2', 'ACME Holdings GmbH', { TaxNumber: 'DE987654321', Country: 'DE' })]);
    expect(clustersOf(apart)).toEqual([['crm:1'], ['erp:2']]);
    expect(apart.candidates).toEqual([]);
  });

  it('makes a review candidate, with the rules that fired, of a pair between the thresholds', () => {
    const result = matchAll([crm('1', { company: 'Acme', country: 'DE' }), erp('2', 'ACME Holdings GmbH', { Country: 'DE' })]);
    expect(clustersOf(result)).toEqual([['crm:1'], ['erp:2']]);
    expect(result.candidates).toEqual([{
      id: 'crm:1|erp:2', score: 7, records: ['crm:1', 'erp:2'], clusters: ['crm:1', 'erp:2'], refused: false,
      rules: [{ name: 'organisationContained', weight: 5 }, { name: 'country', weight: 2 }],
    }]);
  });

  it('links a person whose name has a typo by the same email', () => {
    const result = matchAll([
      crm('1', { firstname: 'Katrin', lastname: 'Hoffmann', email: 'k.hoffmann@nordwind.de' }),
      member('m1', ' K.Hoffmann@Nordwind.de', { FNAME: 'Katrin', LNAME: 'Hofmann' }),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1', 'marketing:m1']]);
    expect(rulesOf(result.clusters[0]!.links[0]!.rules)).toEqual(['email', 'nameSimilar']);
  });

  it('links an organisation name with transposed letters, found by blocking on its first word\'s deletions', () => {
    const result = matchAll([
      crm('1', { firstname: 'Jonas', lastname: 'Weber', company: 'Dutordu Logistik', country: 'DE' }),
      erp('2', 'Dutodru Logistik GmbH', { Country: 'DE' }),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1', 'erp:2']]);
    expect(rulesOf(result.clusters[0]!.links[0]!.rules)).toEqual(['organisationSimilar', 'rareOrganisation', 'country']);
  });

  it('links a contact to the legal entity its mail domain names, though the ERP adds words to the trade name', () => {
    const result = matchAll([
      crm('1', { firstname: 'Isla', lastname: 'Taylor', email: 'isla.taylor@sternmedia.co.uk', company: 'Stern Media LLP', country: 'GB' }),
      erp('2', 'Stern Media Group LLP', { Country: 'GB' }),
      erp('3', 'Stern Logistics Group LLP', { Country: 'GB' }),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1', 'erp:2'], ['erp:3']]);
    expect(rulesOf(result.clusters[0]!.links[0]!.rules)).toEqual(['organisationDomain', 'organisationContained', 'country']);
  });

  it('never merges two companies over a shared role mailbox such as info@', () => {
    const result = matchAll([
      crm('1', { email: 'info@brightdesk-agency.com', company: 'Alpha Logistik GmbH', country: 'DE' }),
      crm('2', { email: ' Info@BrightDesk-Agency.com', company: 'Beta Bau AG', country: 'DE' }),
      member('m1', 'info@brightdesk-agency.com', {}),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1'], ['crm:2'], ['marketing:m1']]);
    expect(result.candidates).toEqual([]);
    const matcher = new Matcher();
    matcher.apply([crm('1', { email: 'info@brightdesk-agency.com', country: 'DE' }), member('m1', 'info@brightdesk-agency.com', {})]);
    expect(matcher.explain('crm:1', 'marketing:m1').rules).toEqual([{ name: 'roleEmail', weight: 0 }]);
  });

  it('links the same person twice in the CRM, typed differently', () => {
    const result = matchAll([
      crm('1001', { firstname: 'Anna', lastname: 'Schmidt', email: 'anna.schmidt@nordwind.de', phone: '+49 30 2638471', company: 'Nordwind Logistik GmbH', country: 'DE' }),
      crm('1002', { firstname: 'A.', lastname: 'Schmidt', email: '  Anna.Schmidt@Nordwind.de', phone: '030 2638471', company: 'Nordwind Logistik', country: 'DE' }),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1001', 'crm:1002']]);
    expect(result.clusters[0]!.links[0]!.score).toBe(9 + 7 + 2 + 9 + 2 + 2);
  });

  it('keeps two colleagues apart though both match their company, and offers the refused link for review', () => {
    const result = matchAll([
      crm('1', { firstname: 'Anna', lastname: 'Schmidt', email: 'anna.schmidt@nordwind.de', company: 'Nordwind Logistik', country: 'DE' }),
      crm('2', { firstname: 'Tom', lastname: 'Becker', email: 'tom.becker@nordwind.de', company: 'Nordwind Logistik', country: 'DE' }),
      erp('3', 'Nordwind Logistik GmbH', { Country: 'DE' }),
    ]);
    expect(clustersOf(result)).toEqual([['crm:1', 'erp:3'], ['crm:2']]);
    expect(result.candidates.map((c) => [c.records, c.refused])).toEqual([[['crm:2', 'erp:3'], true]]);
  });

  it('links records carrying the same canon id whatever else differs', () => {
    const result = matchAll([crm('1', { company: 'Acme', canon_external_id: 'cus_1' }), fromSupportOrganization({ id: 7, name: 'Globex', external_id: 'cus_1' })]);
    expect(clustersOf(result)).toEqual([['crm:1', 'support:7']]);
  });
});

describe('Matcher', () => {
  const acme = crm('1', { company: 'Acme', country: 'DE' });
  const acmeHoldings = erp('2', 'ACME Holdings GmbH', { Country: 'DE' });

  it('reports what a change did: clusters gone and new, links, candidates', () => {
    const matcher = new Matcher();
    expect(matcher.apply(acme)).toMatchObject({ clusters: { added: [{ id: 'crm:1', records: ['crm:1'] }], removed: [] }, candidates: { added: [], removed: [] } });
    const review = matcher.apply(acmeHoldings);
    expect(review.clusters.added.map((c) => c.id)).toEqual(['erp:2']);
    expect(review.candidates.added.map((c) => c.id)).toEqual(['crm:1|erp:2']);

    const linked = matcher.apply({ ...acmeHoldings, taxId: 'DE123456789' });
    expect(linked.clusters).toMatchObject({ added: [], removed: [] });
    const both = matcher.apply({ ...acme, taxId: 'DE123456789' });
    expect(both.clusters.added.map((c) => c.records)).toEqual([['crm:1', 'erp:2']]);
    expect(both.clusters.removed.map((c) => c.id).sort()).toEqual(['crm:1', 'erp:2']);
    expect(both.links.added.map((l) => [l.a, l.b])).toEqual([['crm:1', 'erp:2']]);
    expect(both.candidates.removed.map((c) => c.id)).toEqual(['crm:1|erp:2']);
  });

  it('splits a cluster when the record that joined it is removed', () => {
    const matcher = new Matcher();
    matcher.apply([
      crm('1', { firstname: 'Anna', lastname: 'Schmidt', email: 'anna@nordwind.de', company: 'Nordwind Logistik', country: 'DE' }),
      member('m1', 'anna@nordwind.de', { FNAME: 'Anna', LNAME: 'Schmidt' }),
      erp('3', 'Nordwind Logistik GmbH', { Country: 'DE' }),
    ]);
    expect(clustersOf(matcher.snapshot())).toEqual([['crm:1', 'erp:3', 'marketing:m1']]);
    const change = matcher.remove('crm:1');
    expect(clustersOf(matcher.snapshot())).toEqual([['erp:3'], ['marketing:m1']]);
    expect(change.clusters.removed.map((c) => c.id)).toEqual(['crm:1']);
  });

  it('follows reviewers: LINK joins a candidate pair, DISTINCT keeps apart for good, withdrawing restores', () => {
    const matcher = new Matcher();
    matcher.apply([acme, acmeHoldings]);
    matcher.decide('crm:1', 'erp:2', 'LINK');
    expect(clustersOf(matcher.snapshot())).toEqual([['crm:1', 'erp:2']]);
    expect(matcher.snapshot().clusters[0]!.links[0]!.decided).toBe(true);

    matcher.decide('crm:1', 'erp:2', 'DISTINCT');
    matcher.apply({ ...acmeHoldings, taxId: 'DE123456789' });
    matcher.apply({ ...acme, taxId: 'DE123456789' });
    expect(matcher.snapshot()).toMatchObject({ clusters: [{ records: ['crm:1'] }, { records: ['erp:2'] }], candidates: [] });

    matcher.decide('crm:1', 'erp:2', null);
    expect(clustersOf(matcher.snapshot())).toEqual([['crm:1', 'erp:2']]);
  });

  it('refuses a decision on one record with itself', () => {
    expect(() => new Matcher().decide('crm:1', 'crm:1', 'LINK')).toThrow('a decision needs two different records, got crm:1 twice');
  });

  describe('incremental apply', () => {
    const set = generateIdentitySet({ seed: 7, customers: 400 });

    it('equals the batch result when records arrive one at a time, in any order', () => {
      const batch = matchAll(set.records);
      expect(batch.clusters.length).toBeLessThan(set.records.length);
      expect(batch.candidates.length).toBeGreaterThan(0);
      for (const order of [set.records, [...set.records].reverse()]) {
        const matcher = new Matcher();
        for (const record of order) matcher.apply(record);
        expect(matcher.snapshot()).toEqual(batch);
      }
    });

    it('equals the batch result after changes and removals, and when blocks cross their size limits', () => {
      const options = { maxBlockSize: 3, rareOrganisationMax: 1 };
      const matcher = new Matcher(options);
      for (const record of set.records) matcher.apply(record);
      const removed = set.records.filter((_, i) => i % 9 === 0);
      matcher.remove(removed.map((r) => `${r.system}:${r.nativeId}`));
      const changed = set.records.filter((_, i) => i % 7 === 1).map((r) => ({ ...r, organisation: r.organisation ? `${r.organisation} Group` : 'Group' }));
      for (const record of changed) matcher.apply(record);
      const final = new Map(set.records.map((r) => [`${r.system}:${r.nativeId}`, r]));
      for (const r of removed) final.delete(`${r.system}:${r.nativeId}`);
      for (const r of changed) final.set(`${r.system}:${r.nativeId}`, r);
      expect(matcher.snapshot()).toEqual(matchAll([...final.values()], options));
    });
  });
});
