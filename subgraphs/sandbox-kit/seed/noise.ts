// The seeded dataset's data-entry noise: typos and transposed letters, legal names as the ERP's bookkeepers enter them, placeholder phones, and generic emails shared by different companies.
//
// Drawn from a PRNG of its own (`noiseDrawer`), never from the generator's main one: adding or tuning a kind of
// noise leaves every other value of a seed where it was.

import { createRng } from '../rng.js';
import type { CrmContactRow } from '../../crm/sandbox/index.js';
import type { TruthRecordRow } from './truth.js';

export interface Noise {
  chance(p: number): boolean;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** The noise PRNG of a seed: independent of the generator's stream. */
export function noiseDrawer(seed: number): Noise {
  const next = createRng((seed ^ 0x9e3779b9) >>> 0);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { chance: (p) => next() < p, int, pick: (items) => items[int(0, items.length - 1)]! };
}

/**
 * One slip of a typist in `text`: two neighbouring letters swapped, a letter dropped or a letter doubled, at a
 * letter inside a word (never the first, which people rarely get wrong). Text with no such letter is kept.
 */
export function typo(n: Noise, text: string): string {
  const chars = [...text];
  const letter = (i: number) => i >= 0 && /\p{L}/u.test(chars[i] ?? '');
  // From a word's third letter on, so no slip (a swap with the letter before) moves the word's first letter.
  const positions = chars.flatMap((_, i) => (letter(i) && letter(i - 1) && letter(i - 2) ? [i] : []));
  if (!positions.length) return text;
  const i = n.pick(positions);
  const kind = n.int(0, 2);
  if (kind === 0) [chars[i - 1], chars[i]] = [chars[i]!, chars[i - 1]!];
  else if (kind === 1) chars.splice(i, 1);
  else chars.splice(i, 0, chars[i]!);
  const out = chars.join('');
  // A swap of two equal letters changes nothing; drop one instead, so a typo is always a difference.
  return out === text ? [...chars.slice(0, i), ...chars.slice(i + 1)].join('') : out;
}

/**
 * The name a business partner carries in the ERP: the legal name, often with the form bookkeepers add or a shouted
 * first word (the trade name `Acme` becomes `ACME Holdings GmbH`), sometimes mistyped.
 */
export function erpLegalName(n: Noise, stem: string, legalForm: string): string {
  const [first, ...rest] = stem.split(' ');
  const shouted = [first!.toUpperCase(), ...rest].join(' ');
  const r = n.int(0, 99);
  if (r < 50) return `${stem} ${legalForm}`;
  if (r < 65) return `${shouted} Holdings ${legalForm}`;
  if (r < 78) return `${stem} Group ${legalForm}`;
  if (r < 88) return `${shouted} ${legalForm}`;
  return `${typo(n, stem)} ${legalForm}`;
}

/** What people type into a phone field when they have no number to give. */
export const PLACEHOLDER_PHONES = ['0000000000', '+1 000 000 0000', 'n/a', '123456'] as const;

/**
 * Gives a few groups of two or three companies one shared generic address on their primary CRM contact
 * (`info@<the first one's domain>`): a shared front desk or bookkeeper. They stay distinct customers; matching
 * must not merge them by it. Contacts with a near-duplicate are left alone, so a duplicate still differs from its
 * primary only by case and spacing. Changes `crm` in place.
 */
export function shareGenericEmails(n: Noise, crm: CrmContactRow[], sourceIds: readonly TruthRecordRow[], size: number): void {
  const withDuplicate = new Set(sourceIds.filter((s) => s.system === 'crm' && s.is_primary === 0).map((s) => s.customer_id));
  const contactOf = new Map(crm.map((c) => [c.id, c]));
  const candidates = sourceIds.filter((s) => s.system === 'crm' && s.is_primary === 1 && !withDuplicate.has(s.customer_id)).map((s) => contactOf.get(s.native_id)!);
  const groups = size < 10 ? 0 : Math.max(1, Math.round(size / 250));
  let at = n.int(0, Math.max(0, Math.floor(candidates.length / (groups + 1)) - 1));
  for (let g = 0; g < groups; g++) {
    const members = candidates.slice(at, at + n.int(2, 3));
    if (members.length < 2) break;
    const shared = `info@${members[0]!.email!.split('@')[1]}`;
    for (const m of members) m.email = shared;
    at += members.length + n.int(1, Math.max(1, Math.floor(candidates.length / (groups + 1))));
  }
}
