// Every subgraph's schema as canon composes it, without starting the subgraph: for `canon compose`, for a gateway whose subgraphs are services elsewhere, and for the control service's scope rules.

import type { DocumentNode } from 'graphql';
import { loadSubgraphSchema, type SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { SUBGRAPH_NAMES, type CanonConfig, type SubgraphName } from '../config.js';
import { composeCanon, type ComposeResult, type SubgraphSource } from '../federation/compose.js';
import { CONTROL_URL, controlTypeDefs } from '../writes/index.js';

/** The schema subgraph `name` serves: its schema.graphql with the model's descriptions, or control's derived one. */
export function subgraphTypeDefs(name: SubgraphName): DocumentNode {
  if (name === 'control') return controlTypeDefs();
  return loadSubgraphSchema(new URL(`../../subgraphs/${name}/schema.graphql`, import.meta.url));
}

/** A subgraph served elsewhere, as the gateway composes it: its schema, and nothing to run here. */
export function remoteSubgraph(name: SubgraphName): SubgraphDefinition {
  return {
    name,
    typeDefs: subgraphTypeDefs(name),
    resolvers: {},
    createContext: () => {
      throw new Error(`The ${name} subgraph is served by a service of its own; this process only routes to it.`);
    },
  };
}

/**
 * Where each subgraph is for a supergraph another router serves: its `<NAME>_SUBGRAPH_URL`, else where the local
 * stack puts it (`<NAME>_SUBGRAPH_PORT` on HOST); control has no local address but CONTROL_URL (in the gateway).
 */
export function subgraphUrlOf(config: CanonConfig, name: SubgraphName): string {
  const url = config.subgraphUrls[name];
  if (url) return url;
  if (name === 'control') return CONTROL_URL;
  return `http://${config.host}:${config.subgraphPorts[name]}/graphql`;
}

/** The supergraph of all six subgraphs at their configured URLs, with canon's ownership checks. */
export function composeConfigured(config: CanonConfig): ComposeResult & { sources: SubgraphSource[] } {
  const sources = SUBGRAPH_NAMES.map((name) => ({ name, url: subgraphUrlOf(config, name), typeDefs: subgraphTypeDefs(name) }));
  return { ...composeCanon(sources), sources };
}
