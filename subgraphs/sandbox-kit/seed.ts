// The seeder's front: generating the deterministic dataset (./seed/generator.ts, its noise in ./seed/noise.ts), writing it to a data directory (./seed/writer.ts) with its truth (./seed/truth.ts).

export { generateDataset, type Dataset } from './seed/generator.js';
export { isSeeded, seedAll, SEED_FILES, type SeedSummary } from './seed/writer.js';
export { seedTruth, SEED_TRUTH_FILE, type SeedTruth, type TruthCustomer } from './seed/truth.js';
