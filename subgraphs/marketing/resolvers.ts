// Marketing subgraph resolvers: list members mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import { bulkOutcome, itemError } from '../kit/batch-write.js';
import type { MarketingMember } from './connector.js';
import type { Resolvers } from './generated/types.js';

const consent = enumMapping('EmailConsent');

export const resolvers: Resolvers = {
  Mutation: {
    marketingUpsertMember: async (_, { input, idempotencyKey }, ctx) => {
      const status = consent.toNative(input.emailConsent);
      return ctx.connector.upsertMember(input.emailAddress, { status, status_if_new: status }, idempotencyKey);
    },
    marketingBulkUpdateCustomers: async (_, { updates, idempotencyKey }, ctx) => {
      // Only consent is marketing's to write; an update that sets none has nothing to send.
      const nothing = itemError('marketing', 'marketingBulkUpdateCustomers', 400, 'input.emailConsent is required: it is the only field marketing owns that canon writes');
      const wanted = updates.flatMap((u, i) => (u.input.emailConsent ? [{ i, hash: u.marketingId, status: consent.toNative(u.input.emailConsent) }] : []));
      const results: (MarketingMember | Error)[] = updates.map(() => nothing);
      (await ctx.connector.batchUpdateMembers(wanted, idempotencyKey)).forEach((r, j) => (results[wanted[j]!.i] = r));
      return results.map((r, i) => ({ marketingId: updates[i]!.marketingId, ...bulkOutcome(r) }));
    },
    marketingSetCopies: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.setCopies(
        updates.map((u) => ({
          hash: u.marketingId,
          ...(u.mergeFields ? { mergeFields: Object.fromEntries(Object.entries(u.mergeFields).filter((e): e is [string, string] => typeof e[1] === 'string')) } : {}),
          emailAddress: u.emailAddress ?? null,
        })),
        idempotencyKey,
      );
      return results.map((r, i) => ({ marketingId: r instanceof Error ? updates[i]!.marketingId : r.id, ...bulkOutcome(r) }));
    },
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
