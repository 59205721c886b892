// Module hooks for the canon child: canon's startStack runs unchanged, but its sandbox and subgraph servers are the
// ones the bench's stack process already runs, so only the gateway (and its in-process control subgraph) lives here.
//
// Why hooks: startStack is the one place that wires canon's gateway (policies, idempotency store, control subgraph,
// …) and others are changing that wiring; re-stating it in the bench would measure yesterday's gateway. The hooks
// replace just two things, `startSubgraphServer` and each `start<System>Sandbox`, with functions that return the
// running servers' URLs; everything else in those modules is re-exported from the real ones.

const PREFIX = 'bench-reuse:';
const SANDBOX = /\/subgraphs\/(crm|erp|marketing|support)\/sandbox\/index\.(ts|js)$/;
const HTTP = /\/subgraphs\/http\.(ts|js)$/;

export async function resolve(specifier, context, next) {
  if (specifier.startsWith(PREFIX)) return { url: specifier, shortCircuit: true };
  const resolved = await next(specifier, context);
  // The replacement modules import the real ones; those imports must reach the real files.
  if (context.parentURL?.startsWith(PREFIX)) return resolved;
  if (HTTP.test(resolved.url) || SANDBOX.test(resolved.url)) return { url: `${PREFIX}${resolved.url}`, shortCircuit: true };
  return resolved;
}

const capital = (s) => s[0].toUpperCase() + s.slice(1);

export async function load(url, context, next) {
  if (!url.startsWith(PREFIX)) return next(url, context);
  const real = url.slice(PREFIX.length);
  const sandbox = SANDBOX.exec(real);
  const preamble = `export * from ${JSON.stringify(real)};\nconst { stack } = JSON.parse(process.env.BENCH_CHILD_ARGS);\n`;
  const source = sandbox
    ? `${preamble}export async function start${capital(sandbox[1])}Sandbox() {
  const url = stack.systems[${JSON.stringify(sandbox[1])}];
  return { name: ${JSON.stringify(sandbox[1])}, port: Number(new URL(url).port), url, close: async () => undefined };
}\n`
    : `${preamble}export async function startSubgraphServer(def) {
  const url = stack.subgraphs[def.name];
  if (!url) throw new Error('the bench stack runs no subgraph named ' + def.name);
  return {
    name: def.name, port: Number(new URL(url).port), url,
    stats() { throw new Error('stats live in the bench stack process: GET ' + url.replace(/graphql$/, '_admin/stats')); },
    close: async () => { await def.close?.(); },
  };
}\n`;
  return { format: 'module', source, shortCircuit: true };
}
