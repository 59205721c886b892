// `npm run model:export -- --out <dir>`: writes the review export (model.md, model.csv) from the gateway's own dataModel().

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dataModel } from '../../../schema/data-model.js';
import { modelCsv, modelMarkdown, modelRows } from './export.js';

const { values } = parseArgs({
  options: {
    /** Directory to write into, created if missing. Default: ./model-export */
    out: { type: 'string', default: 'model-export' },
  },
});
const dir = resolve(values.out!);
const dm = dataModel();
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'model.md'), modelMarkdown(dm));
writeFileSync(join(dir, 'model.csv'), modelCsv(dm));
console.log(`Wrote ${join(dir, 'model.md')} and ${join(dir, 'model.csv')} (${modelRows(dm).length} canonical fields, from the gateway's dataModel).`);
