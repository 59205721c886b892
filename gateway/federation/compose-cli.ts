// `npm run compose`: composes the supergraph from every subgraph's schema with ownership checks and writes supergraph.graphql.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SYSTEMS } from '../../schema/model.js';
import { loadSubgraphSchema } from '../../subgraphs/kit/subgraph.js';
import { composeCanon, type SubgraphSource } from './compose.js';
import { loadConfig } from '../config.js';
import { CONTROL_URL, controlTypeDefs } from '../writes/index.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'supergraph.graphql' } } });
const config = loadConfig();
const sources: SubgraphSource[] = [
  ...(['identity', ...SYSTEMS] as const).map((name) => ({
    name,
    url: `http://${config.host}:${config.subgraphPorts[name]}/graphql`,
    typeDefs: loadSubgraphSchema(new URL(`../../subgraphs/${name}/schema.graphql`, import.meta.url)),
  })),
  { name: 'control', url: CONTROL_URL, typeDefs: controlTypeDefs() },
];
const result = composeCanon(sources);
if (!result.ok) {
  console.error(`Composition failed:\n- ${result.errors.join('\n- ')}`);
  process.exit(1);
}
writeFileSync(values.out!, result.supergraphSdl);
console.log(`Wrote ${values.out} (${sources.length} subgraphs; ownership checked against schema/model.ts).`);
