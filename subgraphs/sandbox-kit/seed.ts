// The seeder's front: generating the deterministic dataset (./seed/generator.ts) and writing it to a data directory (./seed/writer.ts).

export { generateDataset, type Dataset } from './seed/generator.js';
export { isSeeded, seedAll, SEED_FILES, type SeedSummary } from './seed/writer.js';
