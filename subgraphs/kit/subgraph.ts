// The shape every subgraph module has, the one factory that builds it, and loading a subgraph's schema.graphql with descriptions taken from the canonical model.

import { readFileSync } from 'node:fs';
import { Kind, parse, visit, type DocumentNode, type StringValueNode } from 'graphql';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { MODEL } from '../../schema/model.js';
import { objectTypes, enumTypes } from '../../schema/ownership.js';
import type { Owner } from '../../schema/model.js';

export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
  /** Who called, as the server's access rule admitted them (a subgraph served on its own); absent in process. */
  caller?: unknown;
}

/** One subgraph: its name (the owner it speaks for), schema, resolvers, and a fresh context (DataLoaders) per request. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- contexts differ per subgraph; each module is typed inside.
export interface SubgraphDefinition<Ctx = any> {
  name: Owner | 'control';
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<Ctx>;
  createContext(req: RequestInfo): Ctx;
  /** Releases what the subgraph holds open (database handles). */
  close?(): Promise<void> | void;
}

/** What a subgraph module declares; `defineSubgraph` turns it into the definition servers and the gateway take. */
export interface SubgraphSpec<Ctx> {
  name: Owner | 'control';
  /** Its schema.graphql (`new URL('./schema.graphql', import.meta.url)`), given model descriptions; or a parsed schema as is. */
  schema: URL | DocumentNode;
  /** Its resolvers, typed by the subgraph's generated `Resolvers` (which @apollo/subgraph's map type does not name). */
  resolvers: object;
  createContext(req: RequestInfo): Ctx;
  /** Releases what the subgraph holds open (database handles). Default: nothing to release. */
  close?(): Promise<void> | void;
}

/** The one subgraph factory: every subgraph module is a call to this. */
export function defineSubgraph<Ctx>(spec: SubgraphSpec<Ctx>): SubgraphDefinition<Ctx> {
  return {
    name: spec.name,
    typeDefs: spec.schema instanceof URL ? loadSubgraphSchema(spec.schema) : spec.schema,
    resolvers: spec.resolvers as GraphQLResolverMap<Ctx>,
    createContext: (req) => spec.createContext(req),
    ...(spec.close ? { close: () => spec.close!() } : {}),
  };
}

function description(value: string): StringValueNode {
  return { kind: Kind.STRING, value, block: true };
}

/**
 * Parses a subgraph's schema.graphql and gives every canonical type, field and enum value the description
 * declared in schema/model.ts, so descriptions are written once and every subgraph serves the same text.
 */
export function loadSubgraphSchema(file: URL): DocumentNode {
  const doc = parse(readFileSync(file, 'utf8'));
  return withModelDescriptions(doc);
}

export function withModelDescriptions(doc: DocumentNode): DocumentNode {
  const objects = new Map(objectTypes(MODEL).map((t) => [t.name, t]));
  const enums = new Map(enumTypes(MODEL).map((t) => [t.name, t]));
  return visit(doc, {
    ObjectTypeDefinition(node) {
      const spec = objects.get(node.name.value);
      if (!spec) return undefined;
      const byName = new Map(spec.fields.map((f) => [f.name, f]));
      return {
        ...node,
        description: description(spec.description),
        fields: node.fields?.map((f) => {
          const fs = byName.get(f.name.value);
          return fs ? { ...f, description: description(fs.description) } : f;
        }),
      };
    },
    EnumTypeDefinition(node) {
      const spec = enums.get(node.name.value);
      if (!spec) return undefined;
      const byName = new Map(spec.values.map((v) => [v.name, v]));
      return {
        ...node,
        description: description(spec.description),
        values: node.values?.map((v) => {
          const vs = byName.get(v.name.value);
          return vs ? { ...v, description: description(vs.description) } : v;
        }),
      };
    },
  });
}
