// The ERP subgraph: schema, resolvers and connector put together.

import { loadSubgraphSchema, type SubgraphDefinition } from '../kit/subgraph.js';
import { ErpConnector, type ErpConnectorOptions, type ErpContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function erpSubgraph(opts: ErpConnectorOptions): SubgraphDefinition<ErpContext> {
  const connector = new ErpConnector(opts);
  return {
    name: 'erp',
    typeDefs: loadSubgraphSchema(new URL('./schema.graphql', import.meta.url)),
    resolvers: resolvers as never,
    createContext: () => connector.createContext(),
  };
}
