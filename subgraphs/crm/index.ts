// The CRM subgraph: schema, resolvers and connector put together.

import { loadSubgraphSchema, type SubgraphDefinition } from '../kit/subgraph.js';
import { CrmConnector, type CrmConnectorOptions, type CrmContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function crmSubgraph(opts: CrmConnectorOptions): SubgraphDefinition<CrmContext> {
  const connector = new CrmConnector(opts);
  return {
    name: 'crm',
    typeDefs: loadSubgraphSchema(new URL('./schema.graphql', import.meta.url)),
    resolvers: resolvers as never,
    createContext: () => connector.createContext(),
  };
}
