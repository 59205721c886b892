// The seed's ground truth, DATA_DIR/seed-truth.json: which native records of the four systems are one customer. For tests and benchmarks only; canon never reads it.

import { writeFileSync } from 'node:fs';
import { SYSTEMS, type SystemName } from '../../../schema/model.js';

/** One customer as the generator made it: the truth's key (`cus_…`, never written into a system) and its creation time. */
export interface TruthCustomerRow {
  id: string;
  seq: number;
  created_at: string;
}

/** One native record of a customer, in the truth only: 1 for its first record in that system, 0 for a CRM near-duplicate. */
export interface TruthRecordRow {
  system: SystemName;
  native_id: string;
  customer_id: string;
  is_primary: 0 | 1;
}

/** What the truth is made of: the generated dataset's customers and their records. */
export interface TruthSource {
  seed: number;
  size: number;
  customers: readonly TruthCustomerRow[];
  sourceIds: readonly TruthRecordRow[];
}

/** The truth file's name inside a data directory. */
export const SEED_TRUTH_FILE = 'seed-truth.json';

/** One customer as the generator made it: its key, and its native record ids per system (primary first). */
export interface TruthCustomer {
  key: string;
  records: Record<SystemName, string[]>;
}

/** The format of seed-truth.json (DESIGN, "Living systems"); `seed` and `size` say which dataset it describes. */
export interface SeedTruth {
  seed: number;
  size: number;
  customers: TruthCustomer[];
}

/** The truth of a generated dataset: every customer, in generation order, each with every record it has. */
export function seedTruth(data: TruthSource): SeedTruth {
  const byCustomer = new Map(data.customers.map((c) => [c.id, Object.fromEntries(SYSTEMS.map((s) => [s, [] as string[]])) as Record<SystemName, string[]>]));
  // Primaries first: a system's first record of a customer is the one canon should keep as its source id.
  const ordered = [...data.sourceIds].sort((a, b) => b.is_primary - a.is_primary);
  for (const s of ordered) byCustomer.get(s.customer_id)![s.system as SystemName].push(s.native_id);
  return { seed: data.seed, size: data.size, customers: data.customers.map((c) => ({ key: c.id, records: byCustomer.get(c.id)! })) };
}

/** Writes the truth of `data` to `file`. */
export function writeSeedTruth(file: string, data: TruthSource): void {
  writeFileSync(file, JSON.stringify(seedTruth(data)) + '\n');
}
