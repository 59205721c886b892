// dataQuality's resolvers: the report of ./report.ts as the summary and two connections, paged by keyset cursors.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../../schema/model.js';
import { decodeCursor, encodeCursor } from '../../kit/cursor.js';
import type { Resolvers, System } from '../generated/types.js';
import { MAX_PAGE_SIZE } from '../resolvers.js';
import { comparisons, ISSUE_KINDS } from './comparisons.js';
import { compareIds, type DataIssue, type Disagreement, type QualityStore } from './report.js';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'identity' } });
const upper = (s: SystemName) => s.toUpperCase() as System;

function pageSize(first: number | null | undefined, list: string): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw badInput(`${list}(first:) must be between 0 and ${MAX_PAGE_SIZE}; got ${n}.`);
  return n;
}

/**
 * One page of `items` after the cursor's position. A position is the key an item sorts by, so a page goes on from the
 * right place even when the item the cursor names has since left the report.
 */
function page<T, K extends (string | number)[]>(items: T[], keyOf: (item: T) => K, compare: (a: K, b: K) => number, first: number, after: K | null) {
  const from = after === null ? 0 : items.findIndex((i) => compare(keyOf(i), after) > 0);
  const rest = from < 0 ? [] : items.slice(from);
  const edges = rest.slice(0, first).map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: rest.length > first, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: items.length };
}

const FIELD_ORDER = () => comparisons().map((c) => c.field);

type DisagreementKey = [number, string, number];
const disagreementKey = (d: Disagreement): DisagreementKey => [d.customer.seq > 0 ? d.customer.seq : Number.MAX_SAFE_INTEGER, d.customer.id, FIELD_ORDER().indexOf(d.field)];
const compareDisagreements = (a: DisagreementKey, b: DisagreementKey) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];

type IssueKey = [number, string, string];
const issueKey = (i: DataIssue): IssueKey => [SYSTEMS.indexOf(i.system), i.nativeId, i.field];
const compareIssues = (a: IssueKey, b: IssueKey) => a[0] - b[0] || compareIds(a[1], b[1]) || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

function cursorOf<S extends readonly ('string' | 'number')[]>(after: string | null | undefined, shape: S, list: string) {
  if (!after) return null;
  try {
    return decodeCursor(after, shape, list);
  } catch (e) {
    throw badInput((e as Error).message);
  }
}

/** Query.dataQuality and its types, over `store`. */
export function qualityResolvers(store: QualityStore): Pick<Resolvers, 'DataQuality' | 'Drift'> & { Query: Pick<NonNullable<Resolvers['Query']>, 'dataQuality'> } {
  return {
    Query: {
      // Each field below reads the report; it is computed once per change of the store.
      dataQuality: () => ({}) as never,
    },
    DataQuality: {
      summary: () => store.report().summary.map((s) => ({ ...s, owner: upper(s.owner) })),
      disagreements: (_dq, { field, first, after }) => {
        const fields = FIELD_ORDER();
        if (field != null && !fields.includes(field)) throw badInput(`dataQuality.disagreements(field:) "${field}" is no compared field; the fields with copies are: ${fields.join(', ')}.`);
        const n = pageSize(first, 'dataQuality.disagreements');
        const items = store.report().disagreements.filter((d) => field == null || d.field === field);
        const out = page(items, disagreementKey, compareDisagreements, n, cursorOf(after, ['number', 'string', 'number'] as const, 'dataQuality.disagreements()') as DisagreementKey | null);
        return { ...out, edges: out.edges.map((e) => ({ cursor: e.cursor, node: { ...e.node, owner: upper(e.node.owner), copies: e.node.copies.map((c) => ({ ...c, system: upper(c.system) })) } })) };
      },
      // Drift is what the sync saw happen (copies.ts), not computed from the latest records: read from its own table.
      drift: (_dq, { first, after }, ctx) => {
        const n = pageSize(first, 'dataQuality.drift');
        const from = after ? (cursorOf(after, ['number'] as const, 'dataQuality.drift()') as [number])[0] : 0;
        const got = ctx.store.copies.drift(from, n);
        const edges = got.rows.map((node) => ({ cursor: encodeCursor([node.n]), node }));
        return { edges, pageInfo: { hasNextPage: got.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: got.total };
      },
      issues: (_dq, { kind, first, after }) => {
        if (kind != null && !ISSUE_KINDS.includes(kind)) throw badInput(`dataQuality.issues(kind:) "${kind}" is no issue kind; the kinds are: ${ISSUE_KINDS.join(', ')}.`);
        const n = pageSize(first, 'dataQuality.issues');
        const items = store.report().issues.filter((i) => kind == null || i.kind === kind);
        const out = page(items, issueKey, compareIssues, n, cursorOf(after, ['number', 'string', 'string'] as const, 'dataQuality.issues()') as IssueKey | null);
        return { ...out, edges: out.edges.map((e) => ({ cursor: e.cursor, node: { ...e.node, system: upper(e.node.system) } })) };
      },
    },
    Drift: {
      customer: async (d, _args, ctx) => (await ctx.byId.load(d.customer_id))!,
      system: (d) => upper(d.system),
      sourceField: (d) => d.source_field,
      copyValue: (d) => d.copy_value,
      ownerValue: (d) => d.owner_value,
      seenAt: (d) => d.seen_at,
    },
  };
}
