// CRM subgraph resolvers: contacts mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import { toE164 } from '../kit/phone.js';
import { bulkOutcome } from '../kit/batch-write.js';
import type { CrmCustomerInput, Resolvers } from './generated/types.js';

const lifecycle = enumMapping('LifecycleStage');

/** HubSpot keeps first and last name apart; canon serves one name. */
export function joinName(first: string | null | undefined, last: string | null | undefined): string | null {
  const name = [first, last].map((p) => p?.trim()).filter(Boolean).join(' ');
  return name || null;
}

/** HubSpot stores first and last name apart: the first word is the first name, the rest the last name. */
export function splitName(name: string): { firstname: string; lastname: string | null } {
  const [first, ...rest] = name.trim().split(/\s+/);
  return { firstname: first!, lastname: rest.length ? rest.join(' ') : null };
}

/** Canonical CRM-owned fields as HubSpot contact properties; a field absent from `input` is left out. */
export function contactProperties(input: CrmCustomerInput): Record<string, string | null> {
  const properties: Record<string, string | null> = {};
  if (input.name !== undefined) Object.assign(properties, input.name === null ? { firstname: null, lastname: null } : splitName(input.name));
  if (input.email !== undefined) properties.email = input.email;
  if (input.phone !== undefined) properties.phone = input.phone;
  if (input.lifecycleStage !== undefined) properties.lifecyclestage = input.lifecycleStage === null ? null : lifecycle.toNative(input.lifecycleStage);
  return properties;
}

export const resolvers: Resolvers = {
  Query: {
    crmContactCountry: async (_, { crmId }, ctx) => (await ctx.contacts.load(crmId))?.properties.country?.trim().toUpperCase() || null,
  },
  Mutation: {
    crmUpdateCustomer: async (_, { crmId, input, expectedVersion, idempotencyKey }, ctx) =>
      ctx.connector.updateContact(crmId, contactProperties(input), expectedVersion, idempotencyKey),
    crmFindOrCreateContact: async (_, { input, externalId, idempotencyKey }, ctx) => {
      const properties = { ...contactProperties(input), email: input.email, ...(input.country ? { country: input.country } : {}), ...(externalId ? { canon_external_id: externalId } : {}) };
      return ctx.connector.findOrCreateContact(properties, idempotencyKey);
    },
    crmSetCopies: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.batchUpdateContacts(updates.map((u) => ({ id: u.crmId, properties: (u.company != null ? { company: u.company } : {}) as Record<string, string | null> })), idempotencyKey);
      return results.map((r, i) => ({ crmId: updates[i]!.crmId, ...bulkOutcome(r) }));
    },
    crmBulkUpdateCustomers: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.batchUpdateContacts(updates.map((u) => ({ id: u.crmId, properties: contactProperties(u.input) })), idempotencyKey);
      return results.map((r, i) => ({ crmId: updates[i]!.crmId, ...bulkOutcome(r) }));
    },
  },
  Customer: {
    // The identity subgraph sends every customer, with crmId null for those the CRM does not hold.
    __resolveReference: (ref, ctx) => (ref.crmId == null ? null : ctx.contacts.load(String(ref.crmId))),
    crmId: (c) => c.id,
    name: (c) => joinName(c.properties.firstname, c.properties.lastname),
    email: (c) => c.properties.email?.trim().toLowerCase() || null,
    // Served in E.164 or not at all: a number canon cannot parse is null here and an issue in dataQuality, with its raw value.
    phone: (c) => toE164(c.properties.phone, c.properties.country),
    lifecycleStage: (c) => lifecycle.toCanonical(c.properties.lifecyclestage) as never,
    crmVersion: (c) => c.properties.lastmodifieddate ?? c.updatedAt,
  },
};
