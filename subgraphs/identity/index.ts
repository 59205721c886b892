// The identity subgraph: canonical ids and the crosswalk, served from canon's own SQLite file, and the data-quality report over the records it keeps.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { createIdentityContext, IdentityStore, type IdentityContext } from './connector.js';
import { QualityStore } from './quality/report.js';
import { qualityResolvers } from './quality/resolvers.js';
import { resolvers } from './resolvers.js';

export function identitySubgraph(opts: { file: string }): SubgraphDefinition<IdentityContext> {
  const store = new IdentityStore(opts.file);
  const quality = new QualityStore(opts.file);
  const dq = qualityResolvers(quality);
  return defineSubgraph({
    name: 'identity',
    schema: new URL('./schema.graphql', import.meta.url),
    resolvers: { ...resolvers, ...dq, Query: { ...resolvers.Query, ...dq.Query } },
    createContext: () => createIdentityContext(store),
    close: () => {
      quality.close();
      store.close();
    },
  });
}
