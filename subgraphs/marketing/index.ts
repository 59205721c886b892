// The marketing subgraph: schema, resolvers and connector put together.

import { loadSubgraphSchema, type SubgraphDefinition } from '../kit/subgraph.js';
import { MarketingConnector, type MarketingConnectorOptions, type MarketingContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function marketingSubgraph(opts: MarketingConnectorOptions): SubgraphDefinition<MarketingContext> {
  const connector = new MarketingConnector(opts);
  return {
    name: 'marketing',
    typeDefs: loadSubgraphSchema(new URL('./schema.graphql', import.meta.url)),
    resolvers: resolvers as never,
    createContext: () => connector.createContext(),
  };
}
