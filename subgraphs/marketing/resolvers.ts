// Marketing subgraph resolvers: list members mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import type { Resolvers } from './generated/types.js';

const consent = enumMapping('EmailConsent');

export const resolvers: Resolvers = {
  Mutation: {
    marketingUpdateCustomer: async (_, { marketingId, input, expectedVersion, idempotencyKey }, ctx) => {
      const body: { status?: string } = {};
      if (input.emailConsent != null) body.status = consent.toNative(input.emailConsent);
      return ctx.connector.updateMember(marketingId, body, expectedVersion, idempotencyKey);
    },
  },
  Customer: {
    __resolveReference: (ref, ctx) => (ref.marketingId == null ? null : ctx.members.load(String(ref.marketingId))),
    marketingId: (m) => m.id,
    emailConsent: (m) => consent.toCanonical(m.status) as never,
    marketingVersion: (m) => m.last_changed,
  },
};
