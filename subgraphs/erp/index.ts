// The ERP subgraph: schema, resolvers and connector put together.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { ErpConnector, type ErpConnectorOptions, type ErpContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function erpSubgraph(opts: ErpConnectorOptions): SubgraphDefinition<ErpContext> {
  const connector = new ErpConnector(opts);
  return defineSubgraph({ name: 'erp', schema: new URL('./schema.graphql', import.meta.url), resolvers, createContext: () => connector.createContext() });
}
