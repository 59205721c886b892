// Identity subgraph resolvers: finding customers, paging through them, their native records; review candidates, merge and unlink; and the hidden fields canon's sync uses.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { decodeCursor, encodeCursor } from '../kit/cursor.js';
import type { MatchStatus } from './connector.js';
import type { IdentityContext } from './context.js';
import type { Resolvers } from './generated/types.js';
import { parseRef, ResolutionError } from './records.js';

export const MAX_PAGE_SIZE = 1000;

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'identity' } });

/** A page position: a sequence number (a customer's creation order, a candidate's). */
function position(cursor: string, from: string): number {
  try {
    return decodeCursor(cursor, ['number'], from)[0];
  } catch (e) {
    throw badInput((e as Error).message);
  }
}

function pageSize(first: number | null | undefined, field: string): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw badInput(`${field}(first:) must be between 0 and ${MAX_PAGE_SIZE}; got ${n}.`);
  return n;
}

const lower = (system: string) => system.toLowerCase() as SystemName;
const upper = (system: SystemName) => system.toUpperCase() as 'CRM';

/** Runs a resolution operation; its refusals become GraphQL errors with their code. */
function resolving<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ResolutionError) throw new GraphQLError(e.message, { extensions: { code: ErrorCode[e.code], system: 'identity' } });
    throw e;
  }
}

const customer = async (ctx: IdentityContext, id: string) => (await ctx.byId.load(id))!;

export const resolvers: Resolvers = {
  Query: {
    customer: (_, { id }, ctx) => ctx.byId.load(id),
    customers: (_, { first, after }, ctx) => {
      const n = pageSize(first, 'customers');
      const page = ctx.store.page(after ? position(after, 'customers()') : 0, n);
      const edges = page.records.map((node) => ({ cursor: encodeCursor([node.seq]), node }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
    customerBySourceId: (_, { system, id }, ctx) => ctx.bySource(lower(system)).load(id),
    matchCandidates: (_, { status, first, after }, ctx) => {
      const n = pageSize(first, 'matchCandidates');
      const page = ctx.store.candidates((status ?? 'OPEN') as MatchStatus, after ? position(after, 'matchCandidates()') : 0, n);
      const edges = page.rows.map((node) => ({ cursor: encodeCursor([node.n]), node }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
    identitySync: (_, __, ctx) => ctx.store.syncStates(),
    identityStatus: (_, __, ctx) => ctx.store.status(),
  },
  Mutation: {
    identityLinkRecords: (_, { records }, ctx) => {
      const given = SYSTEMS.flatMap((system) => (records[system] != null && records[system] !== '' ? [{ system, nativeId: String(records[system]) }] : []));
      return customer(ctx, resolving(() => ctx.resolution.link(given)));
    },
    identityApplyRecords: (_, { system, records, cursor, complete }, ctx) =>
      resolving(() => ctx.resolution.applyRecords(lower(system), records, cursor ?? null, complete ?? false)),
    identityClaimCopies: (_, { claims }, ctx) =>
      ctx.store.copies.claim(claims.map((c) => ({ system: lower(c.system), nativeId: c.nativeId, field: c.field, value: c.value, stamp: c.stamp, operationId: c.operationId ?? null }))),
    identityMoveRecord: (_, { system, from, to, fields }, ctx) => customer(ctx, resolving(() => ctx.resolution.move(lower(system), from, to, fields))),
    resolveMatch: (_, { id, decision }, ctx) => {
      resolving(() => ctx.resolution.resolve(id, decision));
      return ctx.store.candidate(id)!;
    },
    mergeCustomers: (_, { survivor, merged }, ctx) => customer(ctx, resolving(() => ctx.resolution.merge(survivor, merged))),
    unlinkRecord: (_, { system, nativeId }, ctx) => customer(ctx, resolving(() => ctx.resolution.unlink(lower(system), nativeId))),
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
    records: (r, _, ctx) => ctx.records.load(r.id),
  },
  SourceRecord: {
    system: (r) => upper(r.system),
  },
  MatchRecord: {
    system: (r) => upper(r.system),
  },
  MatchCandidate: {
    rules: (c) => JSON.parse(c.rules_json),
    records: (c) => [c.record_a, c.record_b].map((ref) => ({ ...parseRef(ref), primary: false })),
  },
  CopyEvent: {
    system: (e) => upper(e.system),
  },
  SyncState: {
    system: (s) => upper(s.system),
    fullSyncAt: (s) => s.full_sync_at,
    lastSyncAt: (s) => s.last_sync_at,
  },
};
