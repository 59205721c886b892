// Writing the seeded dataset to disk: one SQLite file per sandbox system (each through its own store) and the truth file; nothing of canon's own (canon builds its identity store from the systems).

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../../../schema/model.js';
import { openCrmStore } from '../../crm/sandbox/index.js';
import { openErpStore } from '../../erp/sandbox/index.js';
import { openMarketingStore } from '../../marketing/sandbox/index.js';
import { openSupportStore } from '../../support/sandbox/index.js';
import { generateDataset } from './generator.js';
import { SEED_TRUTH_FILE, writeSeedTruth } from './truth.js';

export interface SeedSummary {
  dataDir: string;
  seed: number;
  size: number;
  files: Record<SystemName, string>;
  /** DATA_DIR/seed-truth.json: which records are one customer (./truth.ts). */
  truthFile: string;
  counts: {
    customers: number;
    crmContacts: number;
    crmDuplicates: number;
    erpPartners: number;
    marketingMembers: number;
    supportOrganizations: number;
    supportTickets: number;
  };
  durationMs: number;
}

/** The sandboxes' file names inside a data directory; the gateway and the sandboxes agree on these. */
export const SEED_FILES = {
  crm: 'crm.sqlite',
  erp: 'erp.sqlite',
  marketing: 'marketing.sqlite',
  support: 'support.sqlite',
} as const;

/** True when every sandbox file exists in `dataDir`. */
export function isSeeded(dataDir: string): boolean {
  return Object.values(SEED_FILES).every((f) => existsSync(join(dataDir, f)));
}

/** Removes a SQLite file together with its WAL and shared-memory companions. */
function removeDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
}

/**
 * Generates the dataset and writes every file, one transaction per file. Throws when any target file
 * already exists unless `force` is set, because silently merging into an old dataset breaks the
 * truth file's guarantees.
 */
export function seedAll(dataDir: string, opts: { seed?: number; size?: number; force?: boolean } = {}): SeedSummary {
  const started = performance.now();
  const seed = opts.seed ?? 1;
  const size = opts.size ?? 2000;
  mkdirSync(dataDir, { recursive: true });
  const files = Object.fromEntries(Object.entries(SEED_FILES).map(([k, f]) => [k, join(dataDir, f)])) as SeedSummary['files'];
  const existing = Object.values(files).filter((f) => existsSync(f));
  if (existing.length && !opts.force) {
    throw new Error(`refusing to seed over existing files (${existing.join(', ')}); pass force to replace them`);
  }
  for (const f of Object.values(files)) removeDatabase(f);
  const truthFile = join(dataDir, SEED_TRUTH_FILE);
  rmSync(truthFile, { force: true });

  const data = generateDataset({ seed, size });

  const crm = openCrmStore(files.crm);
  crm.insertAll(data.crm);
  crm.close();
  const erp = openErpStore(files.erp);
  erp.insertAll(data.erp);
  erp.close();
  const marketing = openMarketingStore(files.marketing);
  marketing.insertAll(data.marketing);
  marketing.close();
  const support = openSupportStore(files.support);
  support.insertAll(data.supportOrganizations, data.supportTickets);
  support.close();
  writeSeedTruth(truthFile, data);

  return {
    dataDir,
    seed,
    size,
    files,
    truthFile,
    counts: {
      customers: data.customers.length,
      crmContacts: data.crm.length,
      crmDuplicates: data.sourceIds.filter((s) => s.system === 'crm' && s.is_primary === 0).length,
      erpPartners: data.erp.length,
      marketingMembers: data.marketing.length,
      supportOrganizations: data.supportOrganizations.length,
      supportTickets: data.supportTickets.length,
    },
    durationMs: Math.round(performance.now() - started),
  };
}
