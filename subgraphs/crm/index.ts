// The CRM subgraph: schema, resolvers and connector put together.

import { defineSubgraph, type SubgraphDefinition } from '../kit/subgraph.js';
import { CrmConnector, type CrmConnectorOptions, type CrmContext } from './connector.js';
import { resolvers } from './resolvers.js';

export function crmSubgraph(opts: CrmConnectorOptions): SubgraphDefinition<CrmContext> {
  const connector = new CrmConnector(opts);
  return defineSubgraph({ name: 'crm', schema: new URL('./schema.graphql', import.meta.url), resolvers, createContext: () => connector.createContext() });
}
