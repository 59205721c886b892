// Module hook for the canon child: canon's startStack runs unchanged, but its subgraph servers are the ones the
// bench's stack process already runs, so only the gateway (and its in-process control subgraph) lives here.
//
// Why a hook: startStack is the one place that wires canon's gateway (policies, idempotency store, control subgraph,
// …) and others are changing that wiring; re-stating it in the bench would measure yesterday's gateway. The hook
// replaces just `startSubgraphServer` with a function that returns the running server's URL; everything else in
// that module is re-exported from the real one. (The systems need no hook: startStack takes their URLs.)
// canon-child.ts checks that the replacement took effect, so a move of that module fails loudly, not silently.

const PREFIX = 'bench-reuse:';
const SERVER = /\/subgraphs\/kit\/server\.(ts|js)$/;

export async function resolve(specifier, context, next) {
  if (specifier.startsWith(PREFIX)) return { url: specifier, shortCircuit: true };
  const resolved = await next(specifier, context);
  // The replacement module imports the real one; that import must reach the real file.
  if (context.parentURL?.startsWith(PREFIX)) return resolved;
  if (SERVER.test(resolved.url)) return { url: `${PREFIX}${resolved.url}`, shortCircuit: true };
  return resolved;
}

export async function load(url, context, next) {
  if (!url.startsWith(PREFIX)) return next(url, context);
  const real = url.slice(PREFIX.length);
  const source = `export * from ${JSON.stringify(real)};
const { stack } = JSON.parse(process.env.BENCH_CHILD_ARGS);
export async function startSubgraphServer(def) {
  const url = stack.subgraphs[def.name];
  if (!url) throw new Error('the bench stack runs no subgraph named ' + def.name);
  return {
    name: def.name, port: Number(new URL(url).port), url,
    stats() { throw new Error('stats live in the bench stack process: GET ' + url.replace(/graphql$/, '_admin/stats')); },
    close: async () => { await def.close?.(); },
  };
}
`;
  return { format: 'module', source, shortCircuit: true };
}
