// `npm run bench:identity`: the identity matcher on FEBRL-style generated sets with known truth; prints pairwise
// precision, recall and F1, the review queue and the time for a few seeds, how time grows with size, and the targets.
//
// Pairwise: every two records the matcher puts in one cluster is a found pair; a true pair is two records of one
// customer. Precision = true found pairs / found pairs, recall = true found pairs / true pairs.
//
// Flags: --seeds 1,2,3  --customers 5000  --scale 50000 (the size time grows to; 0 skips it)  --incremental (also
// feed the first seed's records one at a time, as change feeds do, and check the result equals the batch one).

import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { Matcher, matchAll, type MatchResult, type Ref } from '../../subgraphs/identity/matching/index.js';
import { generateIdentitySet, type IdentitySet } from './identity-data.js';

const TARGETS = { precision: 0.99, recall: 0.95 };

interface Quality {
  truePairs: number;
  foundPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  f1: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

export function pairwiseQuality(result: MatchResult, truth: Map<Ref, number>): Quality {
  const perCustomer = new Map<number, number>();
  for (const key of truth.values()) perCustomer.set(key, (perCustomer.get(key) ?? 0) + 1);
  let truePairs = 0;
  for (const n of perCustomer.values()) truePairs += pairs(n);
  let foundPairs = 0;
  let correctPairs = 0;
  for (const cluster of result.clusters) {
    foundPairs += pairs(cluster.records.length);
    const byCustomer = new Map<number, number>();
    for (const ref of cluster.records) byCustomer.set(truth.get(ref)!, (byCustomer.get(truth.get(ref)!) ?? 0) + 1);
    for (const n of byCustomer.values()) correctPairs += pairs(n);
  }
  const precision = foundPairs === 0 ? 1 : correctPairs / foundPairs;
  const recall = truePairs === 0 ? 1 : correctPairs / truePairs;
  return { truePairs, foundPairs, correctPairs, precision, recall, f1: (2 * precision * recall) / (precision + recall || 1) };
}

function readFlags(argv: string[]) {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const seeds = value('seeds', '1,2,3').split(',').map(Number);
  const customers = Number(value('customers', '5000'));
  const scale = Number(value('scale', '50000'));
  if (seeds.some((s) => !Number.isSafeInteger(s)) || !(customers > 0) || !(scale >= 0)) {
    throw new TypeError(`usage: --seeds 1,2,3 --customers 5000 --scale 50000 [--incremental], got ${argv.join(' ')}`);
  }
  return { seeds, customers, scale, incremental: argv.includes('--incremental') };
}

function timed<T>(f: () => T): [T, number] {
  const start = performance.now();
  const out = f();
  return [out, (performance.now() - start) / 1000];
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const fix = (v: number, digits = 4) => v.toFixed(digits);

function row(seed: number, set: IdentitySet, q: Quality, review: number, seconds: number): string {
  return [pad(seed, 4), pad(set.customers, 9), pad(set.duplicates, 10), pad(set.records.length, 8), pad(q.truePairs, 10),
    pad(q.foundPairs, 11), pad(fix(q.precision), 9), pad(fix(q.recall), 7), pad(fix(q.f1), 7), pad(review, 7), pad(`${fix(seconds, 2)} s`, 8)].join('  ');
}

function main(): void {
  const flags = readFlags(process.argv.slice(2));
  // Loading libphonenumber's metadata and compiling the matcher's hot paths is start-up, not matching: done before timing.
  matchAll(generateIdentitySet({ seed: 0, customers: 200 }).records);
  console.log(`identity matching: FEBRL-style sets of ${flags.customers} customers with corrupted duplicates, seeds ${flags.seeds.join(', ')}`);
  console.log(['seed', 'customers', 'duplicates', 'records', 'true pairs', 'found pairs', 'precision', 'recall', 'F1', 'review', 'time'].map((h, i) => pad(h, [4, 9, 10, 8, 10, 11, 9, 7, 7, 7, 8][i]!)).join('  '));
  let worst = { precision: 1, recall: 1 };
  let baseTime = 0;
  let baseRecords = 0;
  let firstSet: IdentitySet | null = null;
  let firstResult: MatchResult | null = null;
  for (const seed of flags.seeds) {
    const set = generateIdentitySet({ seed, customers: flags.customers });
    const [result, seconds] = timed(() => matchAll(set.records));
    const q = pairwiseQuality(result, set.truth);
    console.log(row(seed, set, q, result.candidates.length, seconds));
    worst = { precision: Math.min(worst.precision, q.precision), recall: Math.min(worst.recall, q.recall) };
    if (!firstSet) [firstSet, firstResult, baseTime, baseRecords] = [set, result, seconds, set.records.length];
  }
  const met = (ok: boolean) => (ok ? '[met]' : '[NOT MET]');
  console.log(`  ${met(worst.precision >= TARGETS.precision)} precision ≥ ${TARGETS.precision} on every seed (worst ${fix(worst.precision)})`);
  console.log(`  ${met(worst.recall >= TARGETS.recall)} recall ≥ ${TARGETS.recall} on every seed (worst ${fix(worst.recall)})`);

  if (flags.incremental && firstSet && firstResult) {
    const matcher = new Matcher();
    const [, seconds] = timed(() => {
      for (const record of firstSet.records) matcher.apply(record);
    });
    const same = isDeepStrictEqual(matcher.snapshot(), firstResult);
    console.log(`incremental (seed ${flags.seeds[0]}): ${firstSet.records.length} records applied one at a time in ${fix(seconds, 2)} s ` +
      `(${fix((seconds * 1e6) / firstSet.records.length, 0)} µs each); ${met(same)} equals the batch result`);
  }
  if (flags.scale > 0 && firstSet) {
    const big = generateIdentitySet({ seed: flags.seeds[0]!, customers: flags.scale });
    const [result, seconds] = timed(() => matchAll(big.records));
    const q = pairwiseQuality(result, big.truth);
    const growth = seconds / baseTime / (big.records.length / baseRecords);
    console.log(`scaling: ${baseRecords} → ${big.records.length} records (×${fix(big.records.length / baseRecords, 1)}): ` +
      `${fix(baseTime, 2)} s → ${fix(seconds, 2)} s (×${fix(seconds / baseTime, 1)}), ${fix(growth, 2)}× linear; ` +
      `precision ${fix(q.precision)}, recall ${fix(q.recall)}, review ${result.candidates.length}`);
    console.log(`  ${met(growth <= 2)} time grows near linearly (at most twice linear from ${baseRecords} to ${big.records.length} records)`);
  }
}

main();
