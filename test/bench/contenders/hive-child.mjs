// Contender "hive" / "hive-nodedup": Hive Gateway's runtime on canon's composed supergraph, in a process of its own.
// test/deploy.test.ts runs it too, as the router in front of canon's subgraph services, forwarding the headers named
// in `forward` (the app's Authorization, its Idempotency-Key) to every subgraph.
// Plain JavaScript because it lives beside the contenders' own node_modules, outside canon's typecheck.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { stack, dedup, forward = [] } = JSON.parse(process.env.BENCH_CHILD_ARGS ?? '{}');
const tell = (msg) => process.send?.(msg);

try {
  // Imported here, not at the top, so a runtime that cannot load on this Node is reported as a skip reason.
  const { createGatewayRuntime } = await import('@graphql-hive/gateway');
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(stack.supergraphFile, 'utf8'),
    logging: false,
    graphiql: false,
    landingPage: false,
    // Hive's HTTP executor deduplicates identical in-flight subgraph queries unless told not to; "dedup: false"
    // is the contender with that switched off, everything else left at its defaults.
    ...(dedup ? {} : { transportEntries: { '*': { options: { deduplicateInflightRequests: false } } } }),
    ...(forward.length
      ? { propagateHeaders: { fromClientToSubgraphs: ({ request }) => Object.fromEntries(forward.map((h) => [h, request.headers.get(h) ?? undefined])) } }
      : {}),
  });
  const server = createServer(gateway);
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  tell({ kind: 'gateway-ready', url: `http://127.0.0.1:${server.address().port}/graphql` });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.dispose?.();
    process.exit(0);
  };
  process.on('message', (m) => m?.kind === 'stop' && void stop());
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
} catch (e) {
  tell({ kind: 'failed', reason: e?.stack ?? String(e) });
  process.exit(1);
}
