// Contender "apollo": plain @apollo/gateway and @apollo/server on canon's composed supergraph, with nothing of canon's.

import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { childArgs, exitWhenParentSays, tellParent, type GatewayChildArgs } from './protocol.js';

// The baseline the issue names: defaults everywhere (RemoteGraphQLDataSource and its default fetcher), the
// standalone HTTP integration. The control subgraph's local:// url is never fetched: the bench only sends reads.
const { stack } = childArgs<GatewayChildArgs>();
try {
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(stack.supergraphFile, 'utf8') });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  tellParent({ kind: 'gateway-ready', url: new URL('/graphql', url).href });
  exitWhenParentSays(() => server.stop());
} catch (e) {
  tellParent({ kind: 'failed', reason: (e as Error).stack ?? String(e) });
  process.exit(1);
}
