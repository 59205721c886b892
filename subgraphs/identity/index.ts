// The identity subgraph: canonical ids and the crosswalk, served from canon's own SQLite file.

import { loadSubgraphSchema, type SubgraphDefinition } from '../kit/subgraph.js';
import { createIdentityContext, IdentityStore, type IdentityContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function identitySubgraph(opts: { file: string }): SubgraphDefinition<IdentityContext> {
  const store = new IdentityStore(opts.file);
  return {
    name: 'identity',
    typeDefs: loadSubgraphSchema(new URL('./schema.graphql', import.meta.url)),
    resolvers: resolvers as never,
    createContext: () => createIdentityContext(store),
    close: () => store.close(),
  };
}
