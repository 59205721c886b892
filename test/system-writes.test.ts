// Owns the tests of what the systems and subgraphs offer canon's workflows: each sandbox's create, batch and hold routes in its product's own shapes, limits and errors, and the hidden subgraph operations over them.

import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mutationOwnershipErrors } from '../gateway/federation/compose.js';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { generateDataset, seedAll, type Dataset } from '../subgraphs/sandbox-kit/seed.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { sandboxHeaders, TEST_CREDENTIALS } from './support/credentials.js';

const SEED = 5;
const SIZE = 120;
const md5 = (email: string) => createHash('md5').update(email.trim().toLowerCase()).digest('hex');

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Where a system's own API is, and the credentials it requires. */
interface Target {
  base: string;
  auth: Record<string, string>;
}

/** Calls a system's own API with its credentials and reads the answer, whatever its status. */
async function api(target: Target, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(target.base + path, {
    method,
    headers: { ...target.auth, ...(body === undefined ? headers : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('the sandboxes', () => {
  let dir: string;
  let data: Dataset;
  const s = {} as Record<SystemName, RunningSandbox>;
  const url = (system: SystemName) => s[system].url;
  const at = (system: SystemName): Target => ({ base: s[system].url, auth: sandboxHeaders(system) });
  const stats = async (system: SystemName) => (await api(at(system), 'GET', '/_admin/stats')).body;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canon-system-writes-'));
    seedAll(dir, { seed: SEED, size: SIZE });
    data = generateDataset({ seed: SEED, size: SIZE });
    [s.crm, s.erp, s.marketing, s.support] = await Promise.all(SYSTEMS.map((system) => startSandboxIn(system, dir, TEST_CREDENTIALS)));
  });
  afterAll(async () => {
    await Promise.all(Object.values(s).map((x) => x.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await Promise.all(Object.values(s).flatMap((x) => [fetch(`${x.url}/_admin/faults`, { method: 'DELETE' }), fetch(`${x.url}/_admin/stats`, { method: 'DELETE' })]));
  });

  const partner = (n: number, extra: Record<string, unknown> = {}) => ({
    BusinessPartnerName: `Kestrel Robotics ${n} GmbH`,
    Country: 'DE',
    CityName: 'Berlin',
    StreetName: 'Hauptstraße 1',
    PostalCode: '10115',
    ...extra,
  });

  describe('erp: creating business partners', () => {
    it('creates a partner with the next 7-digit number, an ETag, no block and its ExternalID, found again by ExternalID', async () => {
      const next = String(Math.max(...data.erp.map((p) => Number(p.BusinessPartner))) + 1);
      const created = await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(1, { TaxNumber: 'de 999 000 111', PaymentTerms: 'NT30', ExternalID: 'onboard-1' }));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        BusinessPartner: next,
        '@odata.etag': 'W/"1"',
        BusinessPartnerName: 'Kestrel Robotics 1 GmbH',
        TaxNumber: 'DE999000111',
        CentralBlockReason: '',
        ExternalID: 'onboard-1',
        Currency: 'EUR',
        CreditLimitAmount: '0.00',
        OpenBalanceAmount: '0.00',
      });
      expect(next).toMatch(/^\d{7}$/);
      expect(created.headers.get('etag')).toBe('W/"1"');
      expect(created.headers.get('location')).toBe(`${url('erp')}/odata/v4/BusinessPartners('${next}')`);

      const found = await api(at('erp'), 'GET', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent("ExternalID eq 'onboard-1'")}&$select=BusinessPartner,CentralBlockReason`);
      expect(found.body.value).toEqual([{ '@odata.etag': 'W/"1"', BusinessPartner: next, CentralBlockReason: '' }]);
      expect(await stats('erp')).toMatchObject({ writes: 1, byRoute: { 'POST /odata/v4/BusinessPartners': 1, 'GET /odata/v4/BusinessPartners': 1 } });
    });

    it('answers 204 with the entity id and no body when the client prefers return=minimal', async () => {
      const created = await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(2), { prefer: 'return=minimal' });
      expect(created.status).toBe(204);
      expect(created.body).toBeUndefined();
      expect(created.headers.get('odata-entityid')).toMatch(/\/odata\/v4\/BusinessPartners\('\d{7}'\)$/);
    });

    it('refuses missing mandatory properties with one OData error listing each of them, writing nothing', async () => {
      const refused = await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', { TaxNumber: 'DE000000001', StreetName: 'Nowhere 1' });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'MandatoryPropertyMissing', target: 'BusinessPartnerName', message: 'BusinessPartnerName is mandatory for a business partner' });
      expect(refused.body.error.details.map((d: any) => [d.code, d.target])).toEqual([
        ['MandatoryPropertyMissing', 'BusinessPartnerName'],
        ['MandatoryPropertyMissing', 'Country'],
        ['MandatoryPropertyMissing', 'CityName'],
      ]);
      const none = await api(at('erp'), 'GET', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent("TaxNumber eq 'DE000000001'")}`);
      expect(none.body.value).toEqual([]);
      expect((await stats('erp')).writes).toBe(0);
    });

    it('refuses a TaxNumber another partner holds, however it is spaced or cased, naming that partner', async () => {
      const holder = data.erp.find((p) => p.TaxNumber?.startsWith('DE'))!;
      const typed = holder.TaxNumber!.toLowerCase().replace(/(\d{3})(?=\d)/g, '$1 ');
      const refused = await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(3, { TaxNumber: typed }));
      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({
        code: 'DuplicateTaxNumber',
        message: `Tax number ${typed} is already assigned to business partner ${holder.BusinessPartner}`,
        target: 'TaxNumber',
        details: [{ code: 'DuplicateTaxNumber', message: `Tax number ${typed} is already assigned to business partner ${holder.BusinessPartner}`, target: 'TaxNumber' }],
      });
      expect((await stats('erp')).writes).toBe(0);
    });

    it('refuses the key, server-maintained and unknown properties', async () => {
      const refused = await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(4, { BusinessPartner: '1234567', OpenBalanceAmount: '5.00', Colour: 'blue', PaymentTerms: 'NT99' }));
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.map((d: any) => [d.code, d.target])).toEqual([
        ['KeyNotAllowed', 'BusinessPartner'],
        ['ReadOnlyProperty', 'OpenBalanceAmount'],
        ['InvalidProperty', 'Colour'],
        ['InvalidPropertyValue', 'PaymentTerms'],
      ]);
      expect((await stats('erp')).writes).toBe(0);
    });
  });

  describe('erp: credit-check holds', () => {
    afterAll(async () => {
      await api(at('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: false });
    });

    it('creates partners ON_HOLD while holdNewPartners is on, lists them, and releases one to ACTIVE', async () => {
      expect((await api(at('erp'), 'GET', '/_admin/approvals')).body).toEqual({ holdNewPartners: false, held: [] });
      expect(await api(at('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: true })).toMatchObject({ status: 200, body: { holdNewPartners: true, held: [] } });

      const held = (await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(10))).body;
      const other = (await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(11))).body;
      expect([held.CentralBlockReason, other.CentralBlockReason]).toEqual(['01', '01']);
      expect((await api(at('erp'), 'GET', '/_admin/approvals')).body).toEqual({ holdNewPartners: true, held: [held.BusinessPartner, other.BusinessPartner] });

      const released = await api(at('erp'), 'POST', '/_admin/approvals/release', { id: held.BusinessPartner });
      expect(released).toMatchObject({ status: 200, body: { id: held.BusinessPartner, CentralBlockReason: '' } });
      const after = (await api(at('erp'), 'GET', `/odata/v4/BusinessPartners('${held.BusinessPartner}')`)).body;
      expect(after).toMatchObject({ CentralBlockReason: '', '@odata.etag': 'W/"2"' });
      expect((await api(at('erp'), 'GET', '/_admin/approvals')).body.held).toEqual([other.BusinessPartner]);

      expect((await api(at('erp'), 'POST', '/_admin/approvals/release', { id: held.BusinessPartner })).status).toBe(409);
      expect((await api(at('erp'), 'POST', '/_admin/approvals/release', { id: '9999998' })).status).toBe(404);

      await api(at('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: false });
      expect((await api(at('erp'), 'POST', '/odata/v4/BusinessPartners', partner(12))).body.CentralBlockReason).toBe('');
    });

    it('serves approvals uncounted, unlogged and unfaulted, like every admin endpoint', async () => {
      await api(at('erp'), 'PUT', '/_admin/faults', { errorRate: 1 });
      expect((await api(at('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: false })).status).toBe(200);
      expect((await api(at('erp'), 'GET', '/_admin/approvals')).status).toBe(200);
      expect(await stats('erp')).toEqual({ requests: 0, reads: 0, writes: 0, byRoute: {} });
      expect((await api(at('erp'), 'GET', '/_admin/requests')).body).toEqual([]);
    });

    it('answers 405 naming the methods for a method the approvals endpoint does not take', async () => {
      const res = await api(at('erp'), 'DELETE', '/_admin/approvals');
      expect(res).toMatchObject({ status: 405, body: { error: 'use GET or PUT on /_admin/approvals' } });
      expect(res.headers.get('allow')).toBe('GET, PUT');
    });

    it('refuses a malformed approvals body', async () => {
      expect(await api(at('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: 'yes' })).toMatchObject({ status: 400, body: { error: 'approvals body must be {"holdNewPartners": true|false}' } });
      expect(await api(at('erp'), 'POST', '/_admin/approvals/release', {})).toMatchObject({ status: 400 });
    });
  });

  describe('erp: $batch', () => {
    it('answers each request of a JSON batch alone, in order, counting each committed change as one write', async () => {
      const [a, b] = data.erp.slice(20, 22);
      const res = await api(at('erp'), 'POST', '/odata/v4/$batch', {
        requests: [
          { id: 'new', method: 'POST', url: 'BusinessPartners', body: partner(20, { ExternalID: 'batch-1' }) },
          { id: 'patch', method: 'PATCH', url: `BusinessPartners('${a!.BusinessPartner}')`, headers: { 'If-Match': '*' }, body: { CityName: 'Leipzig' } },
          { id: 'stale', method: 'PATCH', url: `/odata/v4/BusinessPartners('${b!.BusinessPartner}')`, headers: { 'If-Match': 'W/"0"' }, body: { CityName: 'Dresden' } },
          { id: 'invalid', method: 'POST', url: 'BusinessPartners', body: { BusinessPartnerName: 'No Country AG' } },
          { id: 'read', method: 'GET', url: `BusinessPartners('${a!.BusinessPartner}')?$select=CityName` },
          { id: 'missing', method: 'PATCH', url: "BusinessPartners('9999998')", headers: { 'If-Match': '*' }, body: { CityName: 'Halle' } },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.responses.map((r: any) => [r.id, r.status])).toEqual([['new', 201], ['patch', 200], ['stale', 412], ['invalid', 400], ['read', 200], ['missing', 404]]);
      const [created, patched, stale, invalid, read] = res.body.responses;
      expect(created.body).toMatchObject({ ExternalID: 'batch-1', CentralBlockReason: '' });
      expect(created.headers.location).toMatch(/\/odata\/v4\/BusinessPartners\('\d{7}'\)$/);
      expect(patched.headers.etag).toBe(patched.body['@odata.etag']);
      expect(stale.body.error.code).toBe('PreconditionFailed');
      expect(invalid.body.error.details.map((d: any) => d.target)).toEqual(['Country', 'CityName']);
      expect(read.body).toMatchObject({ BusinessPartner: a!.BusinessPartner, CityName: 'Leipzig' });
      expect(await stats('erp')).toEqual({ requests: 1, reads: 0, writes: 2, byRoute: { 'POST /odata/v4/$batch': 1 } });
      expect((await api(at('erp'), 'GET', `/odata/v4/BusinessPartners('${b!.BusinessPartner}')`)).body.CityName).toBe(b!.CityName);
    });

    it.each([
      ['a multipart body', 'not json', /JSON batch format/],
      ['no requests array', { request: [] }, /\{"requests"/],
      ['two requests with one id', { requests: [{ id: '1', method: 'GET', url: 'BusinessPartners' }, { id: '1', method: 'GET', url: 'BusinessPartners' }] }, /used twice/],
      ['an atomicity group', { requests: [{ id: '1', method: 'PATCH', url: "BusinessPartners('1000001')", atomicityGroup: 'g', headers: { 'if-match': '*' }, body: { CityName: 'X' } }] }, /atomicityGroup is not supported/],
    ])('refuses %s whole, running none of it', async (_name, body, message) => {
      const res = await api(at('erp'), 'POST', '/odata/v4/$batch', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'InvalidBatch', message: expect.stringMatching(message) });
      expect((await stats('erp')).writes).toBe(0);
    });
  });

  describe('crm: batch update', () => {
    const ids = () => data.crm.slice(30, 34).map((c) => c.id);

    it('updates every input and answers 200 COMPLETE with the contacts, one write each', async () => {
      const [a, b, c] = ids();
      const res = await api(at('crm'), 'POST', '/crm/v3/objects/contacts/batch/update', { inputs: [a, b, c].map((id) => ({ id, properties: { jobtitle: `Batch ${id}` } })) });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('COMPLETE');
      expect(res.body.results.map((r: any) => [r.id, r.properties.jobtitle])).toEqual([a, b, c].map((id) => [id, `Batch ${id}`]));
      expect((await api(at('crm'), 'GET', `/crm/v3/objects/contacts/${b}?properties=jobtitle`)).body.properties.jobtitle).toBe(`Batch ${b}`);
      expect(await stats('crm')).toMatchObject({ writes: 3, byRoute: { 'POST /crm/v3/objects/contacts/batch/update': 1, 'GET /crm/v3/objects/contacts/{id}': 1 } });
    });

    it('refuses more than 100 inputs with VALIDATION_ERROR, writing nothing', async () => {
      const [a] = ids();
      const res = await api(at('crm'), 'POST', '/crm/v3/objects/contacts/batch/update', { inputs: Array.from({ length: 101 }, (_, i) => ({ id: i === 0 ? a : String(900000 + i), properties: { jobtitle: 'Too many' } })) });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', message: 'Batch input limit exceeded: got 101 inputs, at most 100 are allowed per call' });
      expect((await api(at('crm'), 'GET', `/crm/v3/objects/contacts/${a}?properties=jobtitle`)).body.properties.jobtitle).not.toBe('Too many');
      expect((await stats('crm')).writes).toBe(0);
    });

    it('fails a missing contact or a bad property alone, in a 207 with one error per input', async () => {
      const [a, b, , d] = ids();
      const res = await api(at('crm'), 'POST', '/crm/v3/objects/contacts/batch/update', {
        inputs: [
          { id: a, properties: { jobtitle: 'Kept' } },
          { id: '999999', properties: { jobtitle: 'Nobody' } },
          { id: b, properties: { hs_object_id: '1' } },
          { id: d, properties: { jobtitle: 'Kept too' } },
        ],
      });
      expect(res.status).toBe(207);
      expect(res.body.results.map((r: any) => r.id)).toEqual([a, d]);
      expect(res.body.numErrors).toBe(2);
      expect(res.body.errors.map((e: any) => [e.category, e.context.ids])).toEqual([['OBJECT_NOT_FOUND', ['999999']], ['VALIDATION_ERROR', [b]]]);
      expect((await stats('crm')).writes).toBe(2);
    });

    it('refuses the same contact twice in one call', async () => {
      const [a] = ids();
      const res = await api(at('crm'), 'POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: a, properties: { jobtitle: 'One' } }, { id: a, properties: { jobtitle: 'Two' } }] });
      expect(res).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR', message: `Duplicate IDs found in batch input: [${a}]. IDs must be unique` } });
      expect((await stats('crm')).writes).toBe(0);
    });

    it('finds a contact by email however it is cased or padded, as HubSpot matches email', async () => {
      const contact = data.crm[40]!;
      const typed = `  ${contact.email!.toUpperCase()} `;
      const res = await api(at('crm'), 'POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: typed }] }], properties: ['email'] });
      expect(res.body.results[0]).toMatchObject({ id: contact.id, properties: { email: contact.email } });
    });
  });

  describe('marketing: batch subscribe', () => {
    it('adds new members and updates existing ones with update_existing, listing each failure by address', async () => {
      const existing = data.marketing[5]!;
      const next = existing.status === 'unsubscribed' ? 'subscribed' : 'unsubscribed';
      const res = await api(at('marketing'), 'POST', `/3.0/lists/${MARKETING_LIST_ID}`, {
        members: [
          { email_address: existing.email_address, status: next },
          { email_address: 'New.Member@Example.com', status: 'subscribed', merge_fields: { FNAME: 'New' } },
          { email_address: 'not-an-email', status: 'subscribed' },
          { email_address: 'odd.status@example.com', status: 'maybe' },
        ],
        update_existing: true,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total_created: 1, total_updated: 1, error_count: 2 });
      expect(res.body.new_members.map((m: any) => [m.id, m.status, m.merge_fields.FNAME])).toEqual([[md5('new.member@example.com'), 'subscribed', 'New']]);
      expect(res.body.updated_members.map((m: any) => [m.id, m.status])).toEqual([[existing.subscriber_hash, next]]);
      expect(res.body.errors.map((e: any) => [e.email_address, e.error_code])).toEqual([['not-an-email', 'ERROR_GENERIC'], ['odd.status@example.com', 'ERROR_GENERIC']]);
      expect((await api(at('marketing'), 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${existing.subscriber_hash}`)).body.status).toBe(next);
      expect(await stats('marketing')).toMatchObject({ writes: 2, byRoute: { 'POST /3.0/lists/{list_id}': 1 } });
    });

    it('leaves existing members alone without update_existing, each answered ERROR_CONTACT_EXISTS', async () => {
      const existing = data.marketing[6]!;
      const res = await api(at('marketing'), 'POST', `/3.0/lists/${MARKETING_LIST_ID}`, { members: [{ email_address: existing.email_address, status: 'cleaned' }] });
      expect(res.body).toMatchObject({ total_created: 0, total_updated: 0, error_count: 1, errors: [{ email_address: existing.email_address, error_code: 'ERROR_CONTACT_EXISTS' }] });
      expect((await api(at('marketing'), 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${existing.subscriber_hash}`)).body.status).toBe(existing.status);
      expect((await stats('marketing')).writes).toBe(0);
    });

    it('refuses more than 500 members as an invalid resource, writing nothing', async () => {
      const members = Array.from({ length: 501 }, (_, i) => ({ email_address: `bulk${i}@example.com`, status: 'subscribed' }));
      const res = await api(at('marketing'), 'POST', `/3.0/lists/${MARKETING_LIST_ID}`, { members, update_existing: true });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ title: 'Invalid Resource', status: 400, errors: [{ field: 'members', message: 'Schema describes array with at most 500 items, 501 given' }] });
      expect((await api(at('marketing'), 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${md5('bulk0@example.com')}`)).status).toBe(404);
      expect((await stats('marketing')).writes).toBe(0);
    });

    it('answers 404 for a list it does not host', async () => {
      const res = await api(at('marketing'), 'POST', '/3.0/lists/ffffffffff', { members: [] });
      expect(res).toMatchObject({ status: 404, body: { title: 'Resource Not Found' } });
    });
  });

  describe('support: organizations', () => {
    it('creates an organization, found again by external_id and by its exact name in any case', async () => {
      const created = await api(at('support'), 'POST', '/api/v2/organizations.json', {
        organization: { name: 'Kestrel Robotics', external_id: 'onboard-7', domain_names: ['Kestrel.example'], organization_fields: { support_plan: 'business' } },
      });
      expect(created.status).toBe(201);
      const org = created.body.organization;
      expect(org).toMatchObject({ name: 'Kestrel Robotics', external_id: 'onboard-7', domain_names: ['kestrel.example'], organization_fields: { support_plan: 'business' } });
      expect(org.url).toBe(`${url('support')}/api/v2/organizations/${org.id}.json`);
      expect(org.id).toBe(Math.max(...data.supportOrganizations.map((o) => o.id)) + 1);

      const byExternal = await api(at('support'), 'GET', '/api/v2/organizations/search.json?external_id=onboard-7');
      expect(byExternal.body).toMatchObject({ count: 1, next_page: null, previous_page: null });
      expect(byExternal.body.organizations.map((o: any) => o.id)).toEqual([org.id]);
      const byName = await api(at('support'), 'GET', `/api/v2/organizations/search.json?name=${encodeURIComponent('KESTREL robotics')}`);
      expect(byName.body.organizations.map((o: any) => o.id)).toEqual([org.id]);
      expect((await api(at('support'), 'GET', '/api/v2/organizations/search.json?external_id=nobody')).body).toMatchObject({ organizations: [], count: 0 });
      expect((await stats('support')).writes).toBe(1);
    });

    it('refuses a name another organization holds, as Zendesk does, and a blank one', async () => {
      const taken = data.supportOrganizations[3]!.name;
      const dup = await api(at('support'), 'POST', '/api/v2/organizations.json', { organization: { name: ` ${taken.toUpperCase()} `, external_id: 'onboard-8' } });
      expect(dup).toMatchObject({ status: 422, body: { error: 'RecordInvalid', description: 'Record validation errors', details: { name: [{ description: 'Name: has already been taken', error: 'DuplicateValue' }] } } });
      const blank = await api(at('support'), 'POST', '/api/v2/organizations.json', { organization: { name: '  ' } });
      expect(blank).toMatchObject({ status: 422, body: { details: { name: [{ error: 'BlankValue' }] } } });
      expect((await api(at('support'), 'GET', '/api/v2/organizations/search.json?external_id=onboard-8')).body.count).toBe(0);
      expect((await stats('support')).writes).toBe(0);
    });

    it('searches by exactly one of name or external_id', async () => {
      expect((await api(at('support'), 'GET', '/api/v2/organizations/search.json')).status).toBe(400);
      expect((await api(at('support'), 'GET', '/api/v2/organizations/search.json?name=a&external_id=b')).status).toBe(400);
    });

    it('updates many organizations by ?ids= and answers a completed job, served again at its url', async () => {
      const [a, b] = data.supportOrganizations.slice(10, 12).map((o) => o.id);
      const res = await api(at('support'), 'PUT', `/api/v2/organizations/update_many.json?ids=${a},${b}`, { organization: { organization_fields: { support_plan: 'enterprise' } } });
      expect(res.status).toBe(200);
      const job = res.body.job_status;
      expect(job).toMatchObject({ total: 2, progress: 2, status: 'completed', results: [{ id: a, action: 'update', success: true, status: 'Updated' }, { id: b, action: 'update', success: true, status: 'Updated' }] });
      expect(job.id).toMatch(/^[0-9a-f]{32}$/);
      expect(job.url).toBe(`${url('support')}/api/v2/job_statuses/${job.id}.json`);
      expect((await api(at('support'), 'GET', `/api/v2/job_statuses/${job.id}.json`)).body).toEqual({ job_status: job });
      const shown = await api(at('support'), 'GET', `/api/v2/organizations/show_many.json?ids=${a},${b}`);
      expect(shown.body.organizations.map((o: any) => o.organization_fields.support_plan)).toEqual(['enterprise', 'enterprise']);
      expect(await stats('support')).toMatchObject({ writes: 2, byRoute: { 'PUT /api/v2/organizations/update_many.json': 1 } });
    });

    it('updates many organizations each with its own change, failing a missing one or a taken name alone', async () => {
      const [a, b, c] = data.supportOrganizations.slice(12, 15);
      const res = await api(at('support'), 'PUT', '/api/v2/organizations/update_many.json', {
        organizations: [
          { id: a!.id, organization_fields: { support_plan: 'basic' } },
          { id: 99999999, organization_fields: { support_plan: 'basic' } },
          { id: b!.id, name: c!.name },
          { id: c!.id, notes: 'Moved to the new plan.' },
        ],
      });
      expect(res.body.job_status.results).toEqual([
        { id: a!.id, action: 'update', success: true, status: 'Updated' },
        { id: 99999999, action: 'update', success: false, status: 'Failed', errors: 'RecordNotFound: organization 99999999 does not exist' },
        { id: b!.id, action: 'update', success: false, status: 'Failed', errors: 'Name: has already been taken' },
        { id: c!.id, action: 'update', success: true, status: 'Updated' },
      ]);
      expect((await api(at('support'), 'GET', `/api/v2/organizations/${b!.id}.json`)).body.organization.name).toBe(b!.name);
      expect((await stats('support')).writes).toBe(2);
    });

    it('refuses more than 100 organizations in one update_many, writing nothing', async () => {
      const ids = Array.from({ length: 101 }, (_, i) => data.supportOrganizations[0]!.id + i);
      const res = await api(at('support'), 'PUT', `/api/v2/organizations/update_many.json?ids=${ids.join(',')}`, { organization: { notes: 'Too many' } });
      expect(res).toMatchObject({ status: 400, body: { error: 'InvalidParameter', description: 'too many organizations: update_many takes at most 100 per call, got 101' } });
      expect((await stats('support')).writes).toBe(0);
      expect((await api(at('support'), 'GET', '/api/v2/job_statuses/0123456789abcdef0123456789abcdef.json')).status).toBe(404);
    });
  });
});

describe('the subgraph operations', () => {
  let stack: TestStack;
  let data: Dataset;

  beforeAll(async () => {
    stack = await startTestStack({ seed: 9, seedSize: 150 });
    data = generateDataset({ seed: 9, size: 150 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await stack.clearFaults();
    await stack.resetStats();
  });

  /** Calls a subgraph directly: these operations are @inaccessible at the gateway. */
  async function sg(name: SystemName | 'identity', query: string, variables: Record<string, unknown> = {}): Promise<{ data?: any; errors?: any[] }> {
    const res = await fetch(stack.subgraphs[name].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return res.json();
  }
  const system = (name: SystemName): Target => ({ base: stack.systems[name].url, auth: sandboxHeaders(name, stack.credentials) });
  const byRoute = async (name: SystemName) => (await stack.systemStats())[name].byRoute;
  const writes = async (name: SystemName) => (await stack.systemStats())[name].writes;

  const FIND_OR_CREATE_CONTACT = `mutation($input: CrmContactInput!, $ext: String, $key: String) {
    crmFindOrCreateContact(input: $input, externalId: $ext, idempotencyKey: $key) { crmId name email phone lifecycleStage }
  }`;
  const CREATE_PARTNER = `mutation($input: ErpPartnerInput!, $ext: String!, $key: String) {
    erpCreatePartner(input: $input, externalId: $ext, idempotencyKey: $key) { erpId legalName taxId billingAddress { line1 city postalCode country } paymentTerms accountStatus creditLimit { amount currency } }
  }`;
  const PARTNER_STATUS = 'query($id: ID!) { erpPartnerStatus(erpId: $id) }';
  const newPartner = (n: number, taxId: string | null = null) => ({
    legalName: `Heron Analytics ${n} SAS`,
    taxId,
    billingAddress: { line1: '12 Rue du Moulin', city: 'Lyon', postalCode: '69001', country: 'FR' },
    paymentTerms: 'NET_30',
  });

  describe('crmFindOrCreateContact', () => {
    it('creates a contact for a new email and finds that one again by email, however cased, without a second create', async () => {
      const input = { name: 'Grace Brewster Hopper', email: 'grace.hopper@kestrel.example', phone: '+4930901820', country: 'DE', lifecycleStage: 'LEAD' };
      const first = await sg('crm', FIND_OR_CREATE_CONTACT, { input, ext: 'cus_pending0001', key: 'onboard-crm-1' });
      expect(first.errors).toBeUndefined();
      expect(first.data.crmFindOrCreateContact).toMatchObject({ name: 'Grace Brewster Hopper', email: 'grace.hopper@kestrel.example', phone: '+4930901820', lifecycleStage: 'LEAD' });
      const again = await sg('crm', FIND_OR_CREATE_CONTACT, { input: { ...input, email: 'Grace.Hopper@Kestrel.Example' }, key: 'onboard-crm-1' });
      expect(again.data.crmFindOrCreateContact.crmId).toBe(first.data.crmFindOrCreateContact.crmId);
      expect(await byRoute('crm')).toEqual({ 'POST /crm/v3/objects/contacts/search': 2, 'POST /crm/v3/objects/contacts': 1 });
      const stored = await api(system('crm'), 'GET', `/crm/v3/objects/contacts/${first.data.crmFindOrCreateContact.crmId}?properties=firstname,lastname,country,canon_external_id`);
      expect(stored.body.properties).toMatchObject({ firstname: 'Grace', lastname: 'Brewster Hopper', country: 'DE', canon_external_id: 'cus_pending0001' });
    });

    it('finds an existing contact by its email and changes nothing', async () => {
      const contact = data.crm[7]!;
      const res = await sg('crm', FIND_OR_CREATE_CONTACT, { input: { name: 'Someone Else', email: contact.email!.toUpperCase() }, key: 'onboard-crm-2' });
      expect(res.data.crmFindOrCreateContact).toMatchObject({ crmId: contact.id, email: contact.email });
      expect(await writes('crm')).toBe(0);
    });
  });

  describe('erpCreatePartner and erpPartnerStatus', () => {
    it('creates an ACTIVE partner under an external id, and a repeat under it finds that partner', async () => {
      const first = await sg('erp', CREATE_PARTNER, { input: newPartner(1, 'FR12345678901'), ext: 'onboard-erp-1', key: 'k-erp-1' });
      expect(first.errors).toBeUndefined();
      const created = first.data.erpCreatePartner;
      expect(created).toMatchObject({
        legalName: 'Heron Analytics 1 SAS',
        taxId: 'FR12345678901',
        billingAddress: { line1: '12 Rue du Moulin', city: 'Lyon', postalCode: '69001', country: 'FR' },
        paymentTerms: 'NET_30',
        accountStatus: 'ACTIVE',
        creditLimit: { amount: '0.00', currency: 'EUR' },
      });
      expect(created.erpId).toMatch(/^\d{7}$/);
      const again = await sg('erp', CREATE_PARTNER, { input: newPartner(1, 'FR12345678901'), ext: 'onboard-erp-1', key: 'k-erp-1' });
      expect(again.data.erpCreatePartner.erpId).toBe(created.erpId);
      expect(await writes('erp')).toBe(1);
      expect((await sg('erp', PARTNER_STATUS, { id: created.erpId })).data).toEqual({ erpPartnerStatus: 'ACTIVE' });
    });

    it("refuses a tax id another partner holds with the ERP's own message, BAD_USER_INPUT and system erp, writing nothing", async () => {
      const holder = data.erp[2]!;
      const res = await sg('erp', CREATE_PARTNER, { input: newPartner(2, holder.TaxNumber), ext: 'onboard-erp-2', key: 'k-erp-2' });
      expect(res.data).toBeNull();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].message).toContain(`Tax number ${holder.TaxNumber} is already assigned to business partner ${holder.BusinessPartner}`);
      expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', system: 'erp', retryable: false, status: 400 });
      expect(await writes('erp')).toBe(0);
      expect(await byRoute('erp')).toEqual({ 'GET /odata/v4/BusinessPartners': 1, 'POST /odata/v4/BusinessPartners': 1 });
    });

    it('reads ON_HOLD for a partner held by the credit check, ACTIVE once released, and null for none', async () => {
      await api(system('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: true });
      try {
        const held = (await sg('erp', CREATE_PARTNER, { input: newPartner(3), ext: 'onboard-erp-3', key: 'k-erp-3' })).data.erpCreatePartner;
        expect(held.accountStatus).toBe('ON_HOLD');
        expect((await sg('erp', PARTNER_STATUS, { id: held.erpId })).data).toEqual({ erpPartnerStatus: 'ON_HOLD' });
        await api(system('erp'), 'POST', '/_admin/approvals/release', { id: held.erpId });
        expect((await sg('erp', PARTNER_STATUS, { id: held.erpId })).data).toEqual({ erpPartnerStatus: 'ACTIVE' });
      } finally {
        await api(system('erp'), 'PUT', '/_admin/approvals', { holdNewPartners: false });
      }
      expect((await sg('erp', PARTNER_STATUS, { id: '9999998' })).data).toEqual({ erpPartnerStatus: null });
    });
  });

  describe('marketingUpsertMember', () => {
    it('creates the member keyed by the hash of its address, updates that member, and sends nothing for a repeat', async () => {
      const upsert = `mutation($input: MarketingMemberInput!, $key: String) { marketingUpsertMember(input: $input, idempotencyKey: $key) { marketingId emailConsent } }`;
      const first = await sg('marketing', upsert, { input: { emailAddress: 'Ada.Byron@Kestrel.example', emailConsent: 'PENDING' }, key: 'k-mkt-1' });
      expect(first.data.marketingUpsertMember).toEqual({ marketingId: md5('ada.byron@kestrel.example'), emailConsent: 'PENDING' });
      const again = await sg('marketing', upsert, { input: { emailAddress: 'ada.byron@kestrel.example', emailConsent: 'SUBSCRIBED' }, key: 'k-mkt-2' });
      expect(again.data.marketingUpsertMember).toEqual({ marketingId: md5('ada.byron@kestrel.example'), emailConsent: 'SUBSCRIBED' });
      const repeat = await sg('marketing', upsert, { input: { emailAddress: 'ada.byron@kestrel.example', emailConsent: 'SUBSCRIBED' }, key: 'k-mkt-2' });
      expect(repeat.data).toEqual(again.data);
      // Under a key each call looks first; only the two that changed something wrote.
      expect(await byRoute('marketing')).toEqual({ 'GET /3.0/lists/{list_id}/members/{subscriber_hash}': 3, 'PUT /3.0/lists/{list_id}/members/{subscriber_hash}': 2 });
      expect(await writes('marketing')).toBe(2);
    });
  });

  describe('supportFindOrCreateOrganization', () => {
    const findOrCreate = `mutation($input: SupportOrganizationInput!, $ext: String!, $key: String) {
      supportFindOrCreateOrganization(input: $input, externalId: $ext, idempotencyKey: $key) { supportId supportPlan openTickets }
    }`;

    it('creates an organization under an external id, and a repeat under it finds that organization', async () => {
      const input = { organizationName: 'Heron Analytics', domainNames: ['heron.example'], supportPlan: 'BUSINESS' };
      const first = await sg('support', findOrCreate, { input, ext: 'onboard-sup-1', key: 'k-sup-1' });
      expect(first.errors).toBeUndefined();
      expect(first.data.supportFindOrCreateOrganization).toMatchObject({ supportPlan: 'BUSINESS', openTickets: 0 });
      const again = await sg('support', findOrCreate, { input, ext: 'onboard-sup-1', key: 'k-sup-1' });
      expect(again.data.supportFindOrCreateOrganization.supportId).toBe(first.data.supportFindOrCreateOrganization.supportId);
      expect(await writes('support')).toBe(1);
      const stored = await api(system('support'), 'GET', '/api/v2/organizations/search.json?external_id=onboard-sup-1');
      expect(stored.body.organizations.map((o: any) => [String(o.id), o.name, o.domain_names])).toEqual([[first.data.supportFindOrCreateOrganization.supportId, 'Heron Analytics', ['heron.example']]]);
    });

    it('refuses a name another organization holds with BAD_USER_INPUT and system support', async () => {
      const res = await sg('support', findOrCreate, { input: { organizationName: data.supportOrganizations[0]!.name }, ext: 'onboard-sup-2', key: 'k-sup-2' });
      expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', system: 'support', status: 422 });
      expect(res.errors![0].message).toContain('Name: has already been taken');
      expect(await writes('support')).toBe(0);
    });
  });

  describe('bulk updates', () => {
    it('sends 150 CRM updates as 2 batch calls and no single PATCH, one result per update in order, a missing contact failing alone', async () => {
      const contacts = data.crm.slice(0, 149).map((c) => c.id);
      const updates = contacts.map((id) => ({ crmId: id, input: { lifecycleStage: 'CUSTOMER' } }));
      updates.splice(75, 0, { crmId: '999999', input: { lifecycleStage: 'CUSTOMER' } });
      const res = await sg('crm', `mutation($u: [CrmBulkUpdateInput!]!, $key: String) { crmBulkUpdateCustomers(updates: $u, idempotencyKey: $key) { crmId customer { crmId lifecycleStage } error { code message retryable } } }`, { u: updates, key: 'bulk-crm-1' });
      expect(res.errors).toBeUndefined();
      const results = res.data.crmBulkUpdateCustomers;
      expect(results.map((r: any) => r.crmId)).toEqual(updates.map((u) => u.crmId));
      expect(results[75]).toEqual({ crmId: '999999', customer: null, error: { code: 'NOT_FOUND', message: expect.stringContaining('999999'), retryable: false } });
      expect(results.filter((r: any) => r.customer?.lifecycleStage === 'CUSTOMER')).toHaveLength(149);
      expect(await byRoute('crm')).toEqual({ 'POST /crm/v3/objects/contacts/batch/update': 2 });
      expect(await writes('crm')).toBe(149);
      const keys = ((await api(system('crm'), 'GET', '/_admin/requests?limit=5')).body as any[]).map((e) => e.idempotencyKey);
      expect(keys).toEqual(['bulk-crm-1:2', 'bulk-crm-1:1']);
    });

    it('sends ERP updates as one $batch, refusing a stale version and a missing partner alone', async () => {
      const [a, b, c] = data.erp.slice(5, 8);
      const res = await sg('erp', `mutation($u: [ErpBulkUpdateInput!]!) { erpBulkUpdateCustomers(updates: $u, idempotencyKey: "bulk-erp-1") { erpId customer { paymentTerms } error { code } } }`, {
        u: [
          { erpId: a!.BusinessPartner, input: { paymentTerms: 'PREPAID' } },
          { erpId: b!.BusinessPartner, input: { paymentTerms: 'PREPAID' }, expectedVersion: 'W/"0"' },
          { erpId: '9999998', input: { paymentTerms: 'PREPAID' } },
          { erpId: c!.BusinessPartner, input: { paymentTerms: 'PREPAID' } },
        ],
      });
      expect(res.data.erpBulkUpdateCustomers).toEqual([
        { erpId: a!.BusinessPartner, customer: { paymentTerms: 'PREPAID' }, error: null },
        { erpId: b!.BusinessPartner, customer: null, error: { code: 'STALE_WRITE' } },
        { erpId: '9999998', customer: null, error: { code: 'NOT_FOUND' } },
        { erpId: c!.BusinessPartner, customer: { paymentTerms: 'PREPAID' }, error: null },
      ]);
      expect(await byRoute('erp')).toEqual({ 'POST /odata/v4/$batch': 1 });
      expect(await writes('erp')).toBe(2);
    });

    it('sends marketing updates as one batch subscribe after one batch read, a hash the list lacks failing alone', async () => {
      const [a, b] = data.marketing.slice(8, 10);
      const res = await sg('marketing', `mutation($u: [MarketingBulkUpdateInput!]!) { marketingBulkUpdateCustomers(updates: $u, idempotencyKey: "bulk-mkt-1") { marketingId customer { emailConsent } error { code } } }`, {
        u: [
          { marketingId: a!.subscriber_hash, input: { emailConsent: 'CLEANED' } },
          { marketingId: md5('nobody@nowhere.example'), input: { emailConsent: 'CLEANED' } },
          { marketingId: b!.subscriber_hash, input: { emailConsent: 'CLEANED' } },
        ],
      });
      expect(res.data.marketingBulkUpdateCustomers).toEqual([
        { marketingId: a!.subscriber_hash, customer: { emailConsent: 'CLEANED' }, error: null },
        { marketingId: md5('nobody@nowhere.example'), customer: null, error: { code: 'NOT_FOUND' } },
        { marketingId: b!.subscriber_hash, customer: { emailConsent: 'CLEANED' }, error: null },
      ]);
      expect(await byRoute('marketing')).toEqual({ 'POST /3.0/lists/{list_id}/members/batch-read': 1, 'POST /3.0/lists/{list_id}': 1 });
      expect(await writes('marketing')).toBe(2);
    });

    it('sends support updates as one update_many, a missing organization failing alone', async () => {
      const [a, b] = data.supportOrganizations.slice(4, 6);
      const res = await sg('support', `mutation($u: [SupportBulkUpdateInput!]!) { supportBulkUpdateCustomers(updates: $u, idempotencyKey: "bulk-sup-1") { supportId customer { supportPlan } error { code } } }`, {
        u: [
          { supportId: String(a!.id), input: { supportPlan: 'ENTERPRISE' } },
          { supportId: '99999999', input: { supportPlan: 'ENTERPRISE' } },
          { supportId: String(b!.id), input: { supportPlan: 'BASIC' } },
        ],
      });
      expect(res.data.supportBulkUpdateCustomers).toEqual([
        { supportId: String(a!.id), customer: { supportPlan: 'ENTERPRISE' }, error: null },
        { supportId: '99999999', customer: null, error: { code: 'NOT_FOUND' } },
        { supportId: String(b!.id), customer: { supportPlan: 'BASIC' }, error: null },
      ]);
      expect(await byRoute('support')).toEqual({ 'PUT /api/v2/organizations/update_many.json': 1, 'GET /api/v2/organizations/show_many.json': 1 });
      expect(await writes('support')).toBe(2);
    });
  });

  describe('identityLinkRecords', () => {
    const LINK = 'mutation($r: LinkRecordsInput!) { identityLinkRecords(records: $r) { id sourceIds { crm erp marketing support } } }';

    it('links new records into one new customer, answers the same customer again, and the gateway finds it by any of them', async () => {
      const records = { crm: '880001', erp: '8800001', marketing: md5('linked@kestrel.example'), support: '88000001' };
      const first = await sg('identity', LINK, { r: records });
      expect(first.errors).toBeUndefined();
      const customer = first.data.identityLinkRecords;
      expect(customer.id).toMatch(/^cus_[0-9a-z]{10}$/);
      expect(customer.sourceIds).toEqual(records);
      expect((await sg('identity', LINK, { r: records })).data.identityLinkRecords).toEqual(customer);
      expect((await sg('identity', LINK, { r: { erp: records.erp } })).data.identityLinkRecords.id).toBe(customer.id);
      const viaGateway = await stack.gql('query($id: ID!) { customerBySourceId(system: SUPPORT, id: $id) { id sourceIds { crm } } }', { id: records.support });
      expect(viaGateway.data.customerBySourceId).toEqual({ id: customer.id, sourceIds: { crm: records.crm } });
    });

    /** Every customer canon's sync built, with its linked records: canon's ids, not the seed truth's. */
    async function known(): Promise<{ id: string; records: { system: string; nativeId: string; primary: boolean }[] }[]> {
      const res = await sg('identity', '{ customers(first: 1000) { edges { node { id records { system nativeId primary } } } } }');
      return res.data.customers.edges.map((e: any) => e.node);
    }
    const primaryIn = (c: { records: { system: string; nativeId: string; primary: boolean }[] }, system: string) => c.records.find((r) => r.system === system && r.primary)?.nativeId;

    it('links a new record to the existing customer holding another of them', async () => {
      const seeded = (await known()).find((c) => primaryIn(c, 'CRM') && !primaryIn(c, 'SUPPORT'))!;
      const crm = primaryIn(seeded, 'CRM')!;
      const res = await sg('identity', LINK, { r: { crm, support: '88000002' } });
      expect(res.data.identityLinkRecords).toMatchObject({ id: seeded.id, sourceIds: { crm, support: '88000002' } });
    });

    it('links a second record of a system the customer already has as a duplicate, its primary kept', async () => {
      const seeded = (await known()).find((c) => primaryIn(c, 'ERP'))!;
      const erp = primaryIn(seeded, 'ERP')!;
      const res = await sg('identity', LINK, { r: { erp, support: null, crm: null, marketing: md5('second.record@kestrel.example') } });
      expect(res.data.identityLinkRecords.id).toBe(seeded.id);
      const duplicate = await sg('identity', LINK, { r: { erp: '8800009', marketing: md5('second.record@kestrel.example') } });
      expect(duplicate.data.identityLinkRecords).toMatchObject({ id: seeded.id, sourceIds: { erp } });
      const viaGateway = await stack.gql('query($id: ID!) { customerBySourceId(system: ERP, id: $id) { id } }', { id: '8800009' });
      expect(viaGateway.data.customerBySourceId).toEqual({ id: seeded.id });
    });

    it('refuses records of two different customers, and no record at all, with BAD_USER_INPUT', async () => {
      const all = await known();
      const a = all.find((c) => primaryIn(c, 'CRM'))!;
      const b = all.find((c) => c.id !== a.id && primaryIn(c, 'ERP'))!;
      const crm = primaryIn(a, 'CRM')!;
      const erp = primaryIn(b, 'ERP')!;
      const split = await sg('identity', LINK, { r: { crm, erp } });
      expect(split.data).toBeNull();
      expect(split.errors![0]).toMatchObject({
        message: `These records belong to different customers (crm ${crm} → ${a.id}, erp ${erp} → ${b.id}); merge the customers instead of linking.`,
        extensions: { code: 'BAD_USER_INPUT', system: 'identity' },
      });
      const none = await sg('identity', LINK, { r: {} });
      expect(none.errors![0]).toMatchObject({ message: expect.stringContaining('at least one native record'), extensions: { code: 'BAD_USER_INPUT', system: 'identity' } });
    });
  });

  it('keeps every one of these operations from apps: the gateway refuses them', async () => {
    const res = await stack.gql('mutation { identityLinkRecords(records: { crm: "1" }) { id } }');
    expect(res.errors![0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });
});

describe('mutationOwnershipErrors', () => {
  it('refuses a subgraph mutation whose own argument is named like a field another system owns', () => {
    const typeDefs = parse(`
      type Customer @key(fields: "marketingId") { marketingId: ID! }
      type Mutation { marketingSubscribe(email: String!, emailAddress: String!): Customer }
    `);
    expect(mutationOwnershipErrors([{ name: 'marketing', url: 'http://marketing', typeDefs }])).toEqual([
      'Mutation.marketingSubscribe in subgraph "marketing" writes Customer.email (argument email), but its owner is "crm"; a write goes only to the owner.',
    ]);
  });
});
