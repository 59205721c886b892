// The support subgraph: schema, resolvers and connector put together.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { SupportConnector, type SupportConnectorOptions, type SupportContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function supportSubgraph(opts: SupportConnectorOptions): SubgraphDefinition<SupportContext> {
  const connector = new SupportConnector(opts);
  return defineSubgraph({ name: 'support', schema: new URL('./schema.graphql', import.meta.url), resolvers, createContext: () => connector.createContext() });
}
