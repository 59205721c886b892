// Identity subgraph resolvers: finding customers, paging through them, and their native ids.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { decodeCursor, encodeCursor } from '../kit/cursor.js';
import type { Resolvers } from './generated/types.js';

export const MAX_PAGE_SIZE = 1000;

/** A page position in `customers()`: the customer's creation sequence number. */
function afterSeq(cursor: string): number {
  try {
    return decodeCursor(cursor, ['number'], 'customers()')[0];
  } catch (e) {
    throw new GraphQLError((e as Error).message, { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'identity' } });
  }
}

export const resolvers: Resolvers = {
  Query: {
    customer: (_, { id }, ctx) => ctx.byId.load(id),
    customers: (_, { first, after }, ctx) => {
      const n = first ?? 20;
      if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
        throw new GraphQLError(`customers(first:) must be between 0 and ${MAX_PAGE_SIZE}; got ${n}.`, { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'identity' } });
      }
      const page = ctx.store.page(after ? afterSeq(after) : 0, n);
      const edges = page.records.map((node) => ({ cursor: encodeCursor([node.seq]), node }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
    customerBySourceId: (_, { system, id }, ctx) => ctx.bySource(system.toLowerCase() as SystemName).load(id),
  },
  Mutation: {
    identityLinkRecords: (_, { records }, ctx) => {
      const out = ctx.store.link({ crm: records.crm ?? null, erp: records.erp ?? null, marketing: records.marketing ?? null, support: records.support ?? null });
      if (!out.ok) throw new GraphQLError(out.message, { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'identity' } });
      return out.record;
    },
  },
  // Counted only when asked for: most pages never select it.
  CustomerConnection: {
    totalCount: (_c, _args, ctx) => ctx.store.count(),
  },
  Customer: {
    __resolveReference: (ref, ctx) => {
      if ('id' in ref && ref.id != null) return ctx.byId.load(String(ref.id));
      for (const system of SYSTEMS) {
        const native = (ref as Record<string, unknown>)[`${system}Id`];
        if (native != null) return ctx.bySource(system).load(String(native));
      }
      return null;
    },
    id: (r) => r.id,
    crmId: (r) => r.sourceIds.crm,
    erpId: (r) => r.sourceIds.erp,
    marketingId: (r) => r.sourceIds.marketing,
    supportId: (r) => r.sourceIds.support,
    sourceIds: (r) => r.sourceIds,
  },
};
