// The identity subgraph: canonical ids, the crosswalk canon builds from the systems' records (its own SQLite file), the matcher over them, review, merge and unlink, and the data-quality report over the records it keeps.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { IdentityStore } from './connector.js';
import { createIdentityContext, type IdentityContext } from './context.js';
import { QualityStore } from './quality/report.js';
import { qualityResolvers } from './quality/resolvers.js';
import { IdentityResolution } from './resolution.js';
import { resolvers } from './resolvers.js';

export function identitySubgraph(opts: { file: string }): SubgraphDefinition<IdentityContext> {
  const store = new IdentityStore(opts.file);
  const quality = new QualityStore(opts.file);
  const dq = qualityResolvers(quality);
  // The matcher is rebuilt from the store's records and decisions here, before the subgraph serves anything.
  const resolution = new IdentityResolution(store);
  return defineSubgraph({
    name: 'identity',
    schema: new URL('./schema.graphql', import.meta.url),
    resolvers: { ...resolvers, ...dq, Query: { ...resolvers.Query, ...dq.Query } },
    createContext: () => createIdentityContext(store, resolution),
    close: () => {
      quality.close();
      store.close();
    },
  });
}
