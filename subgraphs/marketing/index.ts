// The marketing subgraph: schema, resolvers and connector put together.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { MarketingConnector, type MarketingConnectorOptions, type MarketingContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function marketingSubgraph(opts: MarketingConnectorOptions): SubgraphDefinition<MarketingContext> {
  const connector = new MarketingConnector(opts);
  return defineSubgraph({ name: 'marketing', schema: new URL('./schema.graphql', import.meta.url), resolvers, createContext: () => connector.createContext() });
}
