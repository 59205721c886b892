// The identity subgraph: canonical ids and the crosswalk, served from canon's own SQLite file.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { createIdentityContext, IdentityStore, type IdentityContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function identitySubgraph(opts: { file: string }): SubgraphDefinition<IdentityContext> {
  const store = new IdentityStore(opts.file);
  return defineSubgraph({
    name: 'identity',
    schema: new URL('./schema.graphql', import.meta.url),
    resolvers,
    createContext: () => createIdentityContext(store),
    close: () => store.close(),
  });
}
