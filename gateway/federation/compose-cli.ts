// `npm run compose` / `canon compose`: composes the supergraph from every subgraph's schema with ownership checks and writes supergraph.graphql.
//
// Each subgraph's URL in it is its `<NAME>_SUBGRAPH_URL` when set (CONTROL_SUBGRAPH_URL included), so a supergraph
// composed with all six set is one another router (Hive Gateway, Apollo Router) serves whole, writes included.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { composeConfigured } from '../services/schemas.js';
import { CONTROL_URL } from '../writes/index.js';

const USAGE = `usage: canon compose [--out supergraph.graphql]

Composes canon's supergraph (identity, crm, erp, marketing, support, control) with its ownership checks and writes it.
Each subgraph's URL is its <NAME>_SUBGRAPH_URL (e.g. CONTROL_SUBGRAPH_URL), else <NAME>_SUBGRAPH_PORT on HOST.`;

const { values } = parseArgs({ options: { out: { type: 'string', default: 'supergraph.graphql' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const result = composeConfigured(loadConfig());
if (!result.ok) {
  console.error(`Composition failed:\n- ${result.errors.join('\n- ')}`);
  process.exit(1);
}
writeFileSync(values.out!, result.supergraphSdl);
const inGateway = result.sources.some((s) => s.url === CONTROL_URL);
console.log(`Wrote ${values.out} (${result.sources.length} subgraphs; ownership checked against schema/model.ts).`);
if (inGateway) console.log('control is at local://control (inside canon\'s gateway): set CONTROL_SUBGRAPH_URL for a supergraph another router can serve whole.');
