// The control subgraph: canon's own fields, served in the gateway process (no network hop).

import { loadSubgraphSchema, type SubgraphDefinition } from '../../subgraphs/subgraph.js';
import { resolvers } from './resolvers.js';

export const CONTROL_URL = 'local://control';

export function controlSubgraph(): SubgraphDefinition<Record<string, never>> {
  return {
    name: 'control',
    typeDefs: loadSubgraphSchema(new URL('./schema.graphql', import.meta.url)),
    resolvers: resolvers as never,
    createContext: () => ({}),
  };
}
