// The varied workload, the bench's headline: a seeded mix of request shapes with distinct variables on every request, the same for every contender.
//
// Terms used here:
//   shape      — one document: a root (a page at a cursor, a customer by id, a customer by a system's native id) with
//                a field subset touching one, two or four systems. 21 shapes in all; each document is fixed, only the
//                variables vary, as an app's operations do (so every gateway's plan and document caches can hit).
//   population — the ids, cursors and native ids the bench read from canon once, which the variables are drawn from.
//   stream     — the requests of one load run: drawn from one seed, so every contender of a round gets the same ones
//                in the same order. Within a root, the variables walk a seeded permutation of the population, so no
//                two requests of a stream repeat until the population is used up (2,000 of each root on the default data).

import type { SystemName } from '../../schema/model.js';
import { SYSTEMS } from '../../schema/model.js';
import { createRng } from '../../subgraphs/sandbox-kit/rng.js';
import { SYSTEM_FIELDS } from './queries.js';

/** The field subsets of the mix: each system alone, two pairs, and all four. */
export const SUBSETS: { name: string; systems: SystemName[] }[] = [
  ...SYSTEMS.map((s) => ({ name: s, systems: [s] })),
  { name: 'crm+erp', systems: ['crm', 'erp'] },
  { name: 'marketing+support', systems: ['marketing', 'support'] },
  { name: 'all', systems: [...SYSTEMS] },
];

export type Root = 'page' | 'byId' | 'bySource';
export const ROOTS: Root[] = ['page', 'byId', 'bySource'];

/** Customers per page in the mix's pages: the size an app's list view asks for. */
export const PAGE_SIZE = 20;

const fieldsOf = (systems: SystemName[]) => systems.map((s) => SYSTEM_FIELDS[s]).join(' ');
const opName = (root: Root, subset: string) => `${root}_${subset.replace('+', '_')}`;

/** The document of one shape. */
export function shapeDocument(root: Root, subset: { name: string; systems: SystemName[] }): string {
  const fields = `id ${fieldsOf(subset.systems)}`;
  const name = opName(root, subset.name);
  if (root === 'page') return `query ${name}($after: String) { customers(first: ${PAGE_SIZE}, after: $after) { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } } }`;
  if (root === 'byId') return `query ${name}($id: ID!) { customer(id: $id) { ${fields} } }`;
  return `query ${name}($system: System!, $id: ID!) { customerBySourceId(system: $system, id: $id) { ${fields} } }`;
}

export interface Population {
  /** Each customer's cursor in page order: the page after cursors[i] starts with customer i + 1. */
  cursors: string[];
  /** Canonical ids, in the same order. */
  ids: string[];
  /** Every native id the customers carry, with its system. */
  sourceIds: { system: SystemName; id: string }[];
}

type Post = (body: unknown) => Promise<{ status: number; json: any }>;

/** Reads every customer's cursor, id and native ids from a gateway, a page of 1,000 at a time. */
export async function readPopulation(post: Post): Promise<Population> {
  const pop: Population = { cursors: [], ids: [], sourceIds: [] };
  let after: string | null = null;
  for (;;) {
    const r = await post({
      query: 'query($after: String) { customers(first: 1000, after: $after) { edges { cursor node { id sourceIds { crm erp marketing support } } } pageInfo { hasNextPage endCursor } } }',
      variables: { after },
    });
    const page = r.json?.data?.customers;
    if (!page) throw new Error(`reading the customers for the mix failed: ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
    for (const e of page.edges as { cursor: string; node: { id: string; sourceIds: Record<SystemName, string | null> } }[]) {
      pop.cursors.push(e.cursor);
      pop.ids.push(e.node.id);
      for (const s of SYSTEMS) if (e.node.sourceIds[s]) pop.sourceIds.push({ system: s, id: e.node.sourceIds[s]! });
    }
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  if (pop.ids.length < 2 * PAGE_SIZE) throw new Error(`the mix needs at least ${2 * PAGE_SIZE} customers; the stack serves ${pop.ids.length}.`);
  return pop;
}

/** A seeded permutation of 0 … n-1 (Fisher–Yates), walked in a cycle. */
function cycle(n: number, rng: () => number): () => number {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let next = 0;
  return () => order[next++ % n]!;
}

export interface MixRequest {
  /** `root_subset`, e.g. `page_crm_erp`: the shape, for the answer check's report. */
  shape: string;
  body: string;
}

/**
 * The stream of one run: each call returns the next request. Roots are drawn evenly, subsets evenly within a root;
 * pages start at a cursor that leaves a full page after it.
 */
export function mixStream(pop: Population, seed: number): () => MixRequest {
  const rng = createRng(seed);
  const docs = new Map<string, string>();
  for (const root of ROOTS) for (const subset of SUBSETS) docs.set(opName(root, subset.name), shapeDocument(root, subset));
  const cursorAt = cycle(pop.cursors.length - PAGE_SIZE, rng);
  const idAt = cycle(pop.ids.length, rng);
  const sourceAt = cycle(pop.sourceIds.length, rng);
  return () => {
    const root = ROOTS[Math.floor(rng() * ROOTS.length)]!;
    const subset = SUBSETS[Math.floor(rng() * SUBSETS.length)]!;
    const shape = opName(root, subset.name);
    let variables: Record<string, string>;
    if (root === 'page') variables = { after: pop.cursors[cursorAt()]! };
    else if (root === 'byId') variables = { id: pop.ids[idAt()]! };
    else {
      const s = pop.sourceIds[sourceAt()]!;
      variables = { system: s.system.toUpperCase(), id: s.id };
    }
    return { shape, body: JSON.stringify({ query: docs.get(shape)!, variables, operationName: shape }) };
  };
}

/** Every shape once, with variables from the stream of `seed`: what the answer check sends to every contender. */
export function everyShape(pop: Population, seed: number, perShape: number): MixRequest[] {
  const next = mixStream(pop, seed);
  const want = ROOTS.length * SUBSETS.length * perShape;
  const byShape = new Map<string, number>();
  const out: MixRequest[] = [];
  // The stream draws shapes at random; keep drawing until each has its share (a few hundred draws at most).
  for (let i = 0; out.length < want && i < 100 * want; i++) {
    const r = next();
    const n = byShape.get(r.shape) ?? 0;
    if (n >= perShape) continue;
    byShape.set(r.shape, n + 1);
    out.push(r);
  }
  return out;
}
