// Composition with ownership checks: each way a subgraph can disagree with schema/model.ts, proved with a deliberately wrong fixture.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeCanon, type SubgraphSource } from '../gateway/federation/compose.js';
import { controlTypeDefs } from '../gateway/writes/index.js';
import { MODEL, SYSTEMS, type CanonicalModel } from '../schema/model.js';
import { validateModel, validateSystemRecords } from '../schema/ownership.js';
import { SYSTEM_RECORDS } from '../schema/model.js';
import { loadSubgraphSchema } from '../subgraphs/kit/subgraph.js';

const run = promisify(execFile);
const FED = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@inaccessible"])';

function realSubgraphs(): SubgraphSource[] {
  return [
    ...(['identity', ...SYSTEMS] as const).map((name) => ({
      name,
      url: `http://127.0.0.1:1/${name}`,
      typeDefs: loadSubgraphSchema(new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url)),
    })),
    { name: 'control', url: 'local://control', typeDefs: controlTypeDefs() },
  ];
}

/** The real subgraphs with one replaced (or added) by a fixture. */
function withFixture(name: string, sdl: string): SubgraphSource[] {
  const fixture = { name, url: `http://127.0.0.1:1/${name}`, typeDefs: parse(`${FED}\n${sdl}`) };
  const others = realSubgraphs().filter((s) => s.name !== name);
  return [...others, fixture];
}

function errorsOf(subgraphs: SubgraphSource[], model?: CanonicalModel): string[] {
  const result = composeCanon(subgraphs, model);
  if (result.ok) throw new Error('expected composition to fail, but it succeeded');
  return result.errors;
}


/** The support fixture's types besides Customer, the same in every support fixture. */
const SUPPORT_TYPES = `type Ticket { id: ID! subject: String body: String status: TicketStatus priority: String createdAt: String }
  enum SupportPlan { BASIC BUSINESS ENTERPRISE }
  enum TicketStatus { NEW OPEN PENDING HOLD SOLVED CLOSED }`;
describe('composeCanon', () => {
  it('composes the real subgraphs into a supergraph', () => {
    const result = composeCanon(realSubgraphs());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.supergraphSdl).toContain('join__graph(name: "crm"');
  });

  it('fails when a subgraph resolves a canonical field it does not own, naming field, subgraph and owner', () => {
    const errors = errorsOf(
      withFixture('marketing', `
        type Customer @key(fields: "marketingId") { marketingId: ID! emailConsent: EmailConsent marketingVersion: String email: String }
        enum EmailConsent { SUBSCRIBED UNSUBSCRIBED CLEANED PENDING }`),
    );
    expect(errors).toContain('Customer.email is resolved by subgraph "marketing", but its declared owner is "crm" (schema/model.ts); only crm may resolve it.');
    expect(errors).toContain('Customer.email is resolved by several subgraphs (crm, marketing); a canonical field has exactly one owner, declared as "crm".');
  });

  it('fails when no subgraph resolves a canonical field (it has no owner serving it)', () => {
    const errors = errorsOf(
      withFixture('support', `
        type Customer @key(fields: "supportId") { supportId: ID! supportPlan: SupportPlan tickets(first: Int = 10): [Ticket!] supportVersion: String }
        ${SUPPORT_TYPES}`),
    );
    expect(errors).toEqual(['Customer.openTickets has no owner serving it: its declared owner is "support", but subgraph "support" does not resolve it.']);
  });

  it('fails when an owned field is marked @shareable', () => {
    const errors = errorsOf(
      withFixture('marketing', `
        type Customer @key(fields: "marketingId") { marketingId: ID! emailConsent: EmailConsent @shareable marketingVersion: String }
        enum EmailConsent { SUBSCRIBED UNSUBSCRIBED CLEANED PENDING }`),
    );
    expect(errors).toEqual(['Customer.emailConsent is marked @shareable in subgraph "marketing"; it is owned by "marketing" and an owned field has exactly one source of truth.']);
  });

  it('fails when a subgraph serves a Customer field the model does not declare', () => {
    const errors = errorsOf(
      withFixture('crm', `
        type Customer @key(fields: "crmId") { crmId: ID! name: String email: String phone: String lifecycleStage: LifecycleStage crmVersion: String twitterHandle: String }
        enum LifecycleStage { SUBSCRIBER LEAD MARKETING_QUALIFIED_LEAD SALES_QUALIFIED_LEAD OPPORTUNITY CUSTOMER EVANGELIST OTHER }`),
    );
    expect(errors).toEqual(['Customer.twitterHandle is resolved by subgraph "crm" but is not in the canonical model; declare it in schema/model.ts with its owner first.']);
  });

  it('fails when a field type differs from the model', () => {
    const errors = errorsOf(
      withFixture('support', `
        type Customer @key(fields: "supportId") { supportId: ID! supportPlan: SupportPlan openTickets: String tickets(first: Int = 10): [Ticket!] supportVersion: String }
        ${SUPPORT_TYPES}`),
    );
    expect(errors).toEqual(['Customer.openTickets has type String in subgraph "support", but schema/model.ts declares Int.']);
  });

  it('fails when a subgraph mutation writes a field another system owns', () => {
    const errors = errorsOf(
      withFixture('marketing', `
        type Customer @key(fields: "marketingId") { marketingId: ID! emailConsent: EmailConsent marketingVersion: String }
        enum EmailConsent { SUBSCRIBED UNSUBSCRIBED CLEANED PENDING }
        input MarketingMemberInput { emailConsent: EmailConsent email: String }
        type Mutation { marketingUpdateMember(marketingId: ID!, input: MarketingMemberInput!): Customer @inaccessible }`),
    );
    expect(errors).toEqual(['Mutation.marketingUpdateMember in subgraph "marketing" writes Customer.email (input MarketingMemberInput.email), but its owner is "crm"; a write goes only to the owner.']);
  });

  it("fails when a copy mutation takes a value that sets no copy the model declares, as the real ones pass", () => {
    const errors = errorsOf(
      withFixture('marketing', `
        type Customer @key(fields: "marketingId") { marketingId: ID! emailConsent: EmailConsent marketingVersion: String }
        enum EmailConsent { SUBSCRIBED UNSUBSCRIBED CLEANED PENDING }
        input MarketingMergeFieldsInput { FNAME: String TAGS: String }
        input MarketingCopyInput { marketingId: ID! mergeFields: MarketingMergeFieldsInput status: String }
        type Result { marketingId: ID! }
        type Mutation { marketingSetCopies(updates: [MarketingCopyInput!]!, idempotencyKey: String): [Result!]! @inaccessible }`),
    );
    expect(errors).toEqual([
      'Mutation.marketingSetCopies in subgraph "marketing" takes mergeFields.TAGS, which sets no copy schema/model.ts declares in marketing; a copy mutation writes declared copies only.',
      'Mutation.marketingSetCopies in subgraph "marketing" takes status, which sets no copy schema/model.ts declares in marketing; a copy mutation writes declared copies only.',
    ]);
  });

  it('fails when an enum disagrees with the model', () => {
    const errors = errorsOf(
      withFixture('marketing', `
        type Customer @key(fields: "marketingId") { marketingId: ID! emailConsent: EmailConsent marketingVersion: String }
        enum EmailConsent { SUBSCRIBED UNSUBSCRIBED }`),
    );
    expect(errors).toEqual(['enum EmailConsent in subgraph "marketing" has values [SUBSCRIBED, UNSUBSCRIBED], but schema/model.ts declares [CLEANED, PENDING, SUBSCRIBED, UNSUBSCRIBED].']);
  });
});

describe('validateModel', () => {
  function modelWithPhone(patch: Record<string, unknown>): CanonicalModel {
    return {
      types: MODEL.types.map((t) =>
        t.kind === 'object' && t.name === 'Customer' ? { ...t, fields: t.fields.map((f) => (f.name === 'phone' ? ({ ...f, ...patch } as typeof f) : f)) } : t,
      ),
    };
  }

  it('accepts the real model', () => {
    expect(validateModel(MODEL)).toEqual([]);
  });

  it('refuses a canonical field with several owners', () => {
    expect(validateModel(modelWithPhone({ owner: ['crm', 'marketing'] }))).toEqual([
      'Customer.phone declares several owners (crm, marketing); every canonical field has exactly one owner.',
    ]);
  });

  it('refuses a canonical field with no owner', () => {
    const model: CanonicalModel = {
      types: MODEL.types.map((t) => (t.kind === 'object' && t.name === 'Customer' ? { ...t, owner: undefined as never, fields: t.fields.map((f) => (f.name === 'phone' ? { ...f, owner: undefined } : f)) } : t)),
    };
    expect(validateModel(model)).toContain('Customer.phone has no owner; every canonical field has exactly one owner.');
  });

  it('is applied by composition, so an unsound model never composes', () => {
    const errors = errorsOf(realSubgraphs(), modelWithPhone({ owner: 'billing' }));
    expect(errors).toContain('schema/model.ts: Customer.phone is owned by "billing", which is not a known system (identity, crm, erp, marketing, support).');
  });
});

describe('npm run compose', () => {
  it('writes the supergraph to the given file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canon-compose-'));
    try {
      const out = join(dir, 'supergraph.graphql');
      const { stdout } = await run('npx', ['tsx', 'gateway/federation/compose-cli.ts', '--out', out], { cwd: join(import.meta.dirname, '..') });
      expect(stdout).toContain('ownership checked');
      const sdl = readFileSync(out, 'utf8');
      for (const name of ['identity', 'crm', 'erp', 'marketing', 'support', 'control']) expect(sdl).toContain(`join__graph(name: "${name}"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('copies at composition', () => {
  it('refuses a copy declared on its owner, or in a native field its system does not have, naming both', () => {
    const model = structuredClone(MODEL);
    const customer = model.types.find((t) => t.name === 'Customer')!;
    if (customer.kind !== 'object') throw new Error('Customer is an object type');
    customer.fields.find((f) => f.name === 'name')!.copies = [{ system: 'crm', sourceField: 'properties.firstname' }];
    customer.fields.find((f) => f.name === 'legalName')!.copies = [{ system: 'support', sourceField: 'organization.trade_name', policy: 'ENFORCE' }];
    expect(errorsOf(realSubgraphs(), model)).toEqual([
      "schema/model.ts: Customer.name's copy in crm is kept by its owner; a copy is another system's.",
      "schema/model.ts: Customer.legalName's copy in support names organization.trade_name, which is no native field of its organization.",
    ]);
  });
});

describe('validateSystemRecords', () => {
  it('finds every native mapping consistent with the owners', () => {
    expect(validateSystemRecords()).toEqual([]);
  });

  it('refuses a native field mapped to a field another system owns, and an owned field nothing feeds', () => {
    const records = SYSTEM_RECORDS.map((r) =>
      r.system === 'marketing' ? { ...r, fields: r.fields.map((f) => (f.name === 'email_address' ? { ...f, mapsTo: ['Customer.email'] } : f.name === 'status' ? { ...f, mapsTo: [] } : f)) } : r,
    );
    expect(validateSystemRecords(MODEL, records)).toEqual([
      'marketing member.email_address maps to Customer.email, but that field is owned by crm.',
      'Customer.emailConsent is owned by marketing, but no native field of its member maps to it.',
    ]);
  });
});
