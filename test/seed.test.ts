// The seeded dataset and its truth: DATA_DIR/seed-truth.json says which records are one customer, the same seed gives the same bytes, and the data carries the mess real systems hold.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../schema/model.js';
import { typo, noiseDrawer } from '../subgraphs/sandbox-kit/seed/noise.js';
import { generateDataset, seedAll, seedTruth, SEED_TRUTH_FILE, type SeedTruth } from '../subgraphs/sandbox-kit/seed.js';

/**
 * Edit distance with adjacent transpositions counted as one (talisman). Loaded untyped: talisman ships no types, and
 * the matcher's declarations of them (subgraphs/identity/matching/talisman.d.ts) live on another branch.
 */
const talismanDistance = createRequire(import.meta.url)('talisman/metrics/damerau-levenshtein.js') as ((a: string, b: string) => number) & { default?: (a: string, b: string) => number };
const damerauLevenshtein = talismanDistance.default ?? talismanDistance;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'canon-seed-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const readTruth = (dir: string) => readFileSync(join(dir, SEED_TRUTH_FILE), 'utf8');

describe('seed-truth.json', () => {
  it('lists every customer once with every native record of each system, primary first, and every record once', () => {
    const dir = tempDir();
    seedAll(dir, { seed: 8, size: 120 });
    const truth = JSON.parse(readTruth(dir)) as SeedTruth;
    const data = generateDataset({ seed: 8, size: 120 });
    expect(Object.keys(truth).sort()).toEqual(['customers', 'seed', 'size']);
    expect({ seed: truth.seed, size: truth.size, customers: truth.customers.length }).toEqual({ seed: 8, size: 120, customers: 120 });
    expect(truth.customers.map((c) => c.key)).toEqual(data.customers.map((c) => c.id));
    for (const c of truth.customers) {
      expect(Object.keys(c.records).sort()).toEqual([...SYSTEMS].sort());
      expect(SYSTEMS.some((s) => c.records[s].length > 0)).toBe(true);
    }
    const listed = (system: (typeof SYSTEMS)[number]) => truth.customers.flatMap((c) => c.records[system]).sort();
    expect(listed('crm')).toEqual(data.crm.map((r) => r.id).sort());
    expect(listed('erp')).toEqual(data.erp.map((r) => r.BusinessPartner).sort());
    expect(listed('marketing')).toEqual(data.marketing.map((r) => r.subscriber_hash).sort());
    expect(listed('support')).toEqual(data.supportOrganizations.map((r) => String(r.id)).sort());
    const primaries = new Map(data.sourceIds.filter((s) => s.is_primary).map((s) => [`${s.customer_id}/${s.system}`, s.native_id]));
    for (const c of truth.customers) for (const s of SYSTEMS) if (c.records[s].length) expect(c.records[s][0]).toBe(primaries.get(`${c.key}/${s}`));
  });

  it('is the same, byte for byte, for the same seed and size, and differs for another seed', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    seedAll(a, { seed: 5, size: 80 });
    seedAll(b, { seed: 5, size: 80 });
    seedAll(c, { seed: 6, size: 80 });
    expect(readTruth(a)).toBe(readTruth(b));
    expect(readTruth(a)).not.toBe(readTruth(c));
    expect(seedTruth(generateDataset({ seed: 5, size: 80 }))).toEqual(JSON.parse(readTruth(a)));
  });
});

describe('the seeded mess (default seed, 2,000 customers)', () => {
  const data = generateDataset({ seed: 1, size: 2000 });
  const truth = seedTruth(data);
  const crm = new Map(data.crm.map((r) => [r.id, r]));
  const erp = new Map(data.erp.map((r) => [r.BusinessPartner, r]));
  const marketing = new Map(data.marketing.map((r) => [r.subscriber_hash, r]));
  const support = new Map(data.supportOrganizations.map((r) => [String(r.id), r]));
  const withAll = (...systems: (typeof SYSTEMS)[number][]) => truth.customers.filter((c) => systems.every((s) => c.records[s].length > 0));
  const transposed = (a: string, b: string) => a.length === b.length && a !== b && [...a].some((_, i) => i > 0 && a.slice(0, i - 1) + a[i] + a[i - 1] + a.slice(i + 1) === b);

  it('holds every kind of disagreement real systems hold', () => {
    const kinds = {
      // Trade name in the CRM, legal name in the ERP: `Acme` against `ACME Holdings GmbH`.
      tradeAgainstLegalName: withAll('crm', 'erp').some((c) => {
        const company = crm.get(c.records.crm[0]!)!.company!;
        const legal = erp.get(c.records.erp[0]!)!.BusinessPartnerName!;
        return /\bHoldings\b/.test(legal) && legal.toLowerCase().startsWith(company.toLowerCase() + ' ') && legal.split(' ')[0] === legal.split(' ')[0]!.toUpperCase();
      }),
      // Letters swapped between the CRM's and the marketing tool's spelling of one person.
      transposedLetters: withAll('crm', 'marketing').some((c) => {
        const fname = JSON.parse(marketing.get(c.records.marketing[0]!)!.merge_fields).FNAME as string;
        return transposed(crm.get(c.records.crm[0]!)!.firstname!, fname);
      }),
      // One slip (typo) between a support organisation's name and what the ERP or CRM calls the company.
      typoInSupportName: withAll('crm', 'support').some((c) => damerauLevenshtein(crm.get(c.records.crm[0]!)!.company!, support.get(c.records.support[0]!)!.name) === 1),
      // The same person twice in the CRM, the emails differing only in case and spacing.
      duplicateContactByCaseAndSpacing: truth.customers.some((c) => {
        const [a, b] = c.records.crm.map((id) => crm.get(id)!.email!);
        return b !== undefined && a !== b && a.replace(/\s/g, '').toLowerCase() === b.replace(/\s/g, '').toLowerCase();
      }),
      // Phones written in several ways for one country, missing, or a placeholder.
      phoneFormats: new Set(data.crm.filter((r) => r.country === 'DE' && r.phone).map((r) => r.phone!.replace(/\d/g, '9'))).size >= 4,
      missingPhones: data.crm.some((r) => r.phone === null),
      placeholderPhones: data.crm.some((r) => r.phone === '0000000000' || r.phone === 'n/a'),
      // Support names the organisation as support typed it, not as the ERP's legal name.
      supportNamedAsTyped: withAll('erp', 'support').some((c) => support.get(c.records.support[0]!)!.name !== erp.get(c.records.erp[0]!)!.BusinessPartnerName),
      // Customers in one system only, and customers in all four.
      inOneSystemOnly: truth.customers.some((c) => SYSTEMS.filter((s) => c.records[s].length > 0).length === 1),
      inAllFour: withAll(...SYSTEMS).length > 0,
      // A generic address shared by different companies' contacts: it must not merge them.
      sharedGenericEmail: truth.customers.some((c) => {
        const email = c.records.crm[0] ? crm.get(c.records.crm[0])!.email : null;
        return !!email?.startsWith('info@') && truth.customers.some((o) => o.key !== c.key && o.records.crm[0] !== undefined && crm.get(o.records.crm[0])!.email === email);
      }),
    };
    expect(kinds).toEqual(Object.fromEntries(Object.keys(kinds).map((k) => [k, true])));
  });

  it('shares each generic email among two or three companies, never a near-duplicate\'s, on primaries only', () => {
    const groups = new Map<string, string[]>();
    for (const c of truth.customers) {
      const email = c.records.crm[0] ? crm.get(c.records.crm[0])!.email! : '';
      if (email.startsWith('info@')) groups.set(email, [...(groups.get(email) ?? []), c.key]);
    }
    expect([...groups.values()].map((g) => g.length).every((n) => n === 2 || n === 3)).toBe(true);
    expect(groups.size).toBe(8);
    expect(truth.customers.filter((c) => c.records.crm.length > 1 && groups.has(crm.get(c.records.crm[0]!)!.email!))).toEqual([]);
  });
});

describe('typo', () => {
  it('always changes the text by exactly one slip, and never its first letter', () => {
    const n = noiseDrawer(1);
    for (const word of ['Schmidt', 'Aurora Logistik', 'Ann', 'Müller']) {
      for (let i = 0; i < 50; i++) {
        const t = typo(n, word);
        expect(damerauLevenshtein(word, t)).toBe(1);
        expect(t[0]).toBe(word[0]);
      }
    }
  });
});
