// CRM subgraph resolvers: contacts mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import { toE164 } from '../kit/phone.js';
import type { Resolvers } from './generated/types.js';

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

export const resolvers: Resolvers = {
  Mutation: {
    crmUpdateCustomer: async (_, { crmId, input, expectedVersion, idempotencyKey }, ctx) => {
      const properties: Record<string, string | null> = {};
      if (input.name !== undefined) Object.assign(properties, input.name === null ? { firstname: null, lastname: null } : splitName(input.name));
      if (input.email !== undefined) properties.email = input.email;
      if (input.phone !== undefined) properties.phone = input.phone;
      if (input.lifecycleStage !== undefined) properties.lifecyclestage = input.lifecycleStage === null ? null : lifecycle.toNative(input.lifecycleStage);
      return ctx.connector.updateContact(crmId, properties, expectedVersion, idempotencyKey);
    },
  },
  Customer: {
    // The identity subgraph sends every customer, with crmId null for those the CRM does not hold.
    __resolveReference: (ref, ctx) => (ref.crmId == null ? null : ctx.contacts.load(String(ref.crmId))),
    crmId: (c) => c.id,
    name: (c) => joinName(c.properties.firstname, c.properties.lastname),
    email: (c) => c.properties.email?.trim().toLowerCase() || null,
    // A number canon cannot parse is passed through as typed rather than hidden.
    phone: (c) => toE164(c.properties.phone, c.properties.country) ?? (c.properties.phone?.trim() || null),
    lifecycleStage: (c) => lifecycle.toCanonical(c.properties.lifecyclestage) as never,
    crmVersion: (c) => c.properties.lastmodifieddate ?? c.updatedAt,
  },
};
