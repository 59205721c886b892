// Names as match keys: organisation names without their legal form, person names folded to ASCII, and how alike two are.

import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import damerauLevenshtein from 'talisman/metrics/damerau-levenshtein.js';
import { fold } from './normalise.js';

/**
 * Legal forms, as token sequences after folding and dropping dots ("S.A." → "sa", "GmbH & Co. KG" → gmbh co kg).
 * They say how a company is registered, not which one it is, so "ACME GmbH" and "Acme" keep the same key.
 * Stripped only from the end, and never the last token left ("AG" alone stays a name).
 */
const LEGAL_FORMS: readonly string[][] = [
  // German-speaking
  'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ohg', 'gbr', 'ug', 'ev', 'ek', 'eg', 'se', 'co', 'cie',
  'gesellschaft mit beschrankter haftung', 'aktiengesellschaft', 'kommanditgesellschaft', 'haftungsbeschrankt',
  // English-speaking
  'inc', 'incorporated', 'corp', 'corporation', 'llc', 'lllp', 'llp', 'lp', 'ltd', 'limited', 'plc', 'pllc', 'pc',
  'company', 'public limited company', 'limited liability company', 'pty', 'pte',
  // French, Spanish, Italian, Portuguese
  'sa', 'sas', 'sasu', 'sarl', 'eurl', 'sca', 'scs', 'snc', 'sci', 'societe anonyme', 'societe par actions simplifiee',
  'sl', 'slu', 'sociedad limitada', 'sociedad anonima', 'srl', 'srls', 'spa', 'sapa', 'lda', 's a', 's l',
  // Dutch, Belgian, Nordic, Central European
  'bv', 'nv', 'vof', 'cv', 'bvba', 'besloten vennootschap', 'naamloze vennootschap', 'ab', 'publ', 'oy', 'oyj',
  'as', 'asa', 'aps', 'a s', 'sro', 'sp z oo', 'spzoo', 'zrt', 'kft', 'doo',
].map((f) => (typeof f === 'string' ? f.split(' ') : f))
  .sort((x, y) => y.length - x.length);

/** Words joining legal forms ("GmbH und Co. KG"): stripped only between two legal forms. */
const CONNECTORS = new Set(['and', 'und', 'et', 'y', 'e']);

export interface OrganisationKey {
  /** Folded tokens without punctuation, qualifiers in parentheses or legal form: "acme holdings". */
  name: string;
  /** The same without spaces, so "NordWind" and "Nord Wind" meet: "acmeholdings". */
  compact: string;
  tokens: string[];
}

export function normaliseOrganisation(raw: string | null | undefined): OrganisationKey | null {
  if (!raw) return null;
  const text = fold(raw)
    .replace(/\([^)]*\)/g, ' ') // "Acme (Berlin)": a qualifier support agents add, not part of the name
    .replace(/\ba\/s\b/g, 'as')
    .replace(/[.'’`´]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  let tokens = text ? text.split(' ') : [];
  if (tokens[0] === 'the' && tokens.length > 1) tokens = tokens.slice(1);
  tokens = stripLegalForms(tokens);
  if (tokens.length === 0) return null;
  return { name: tokens.join(' '), compact: tokens.join(''), tokens };
}

function stripLegalForms(tokens: string[]): string[] {
  let end = tokens.length;
  let stripped = true;
  while (stripped) {
    stripped = false;
    for (const form of LEGAL_FORMS) {
      if (end - form.length < 1) continue;
      if (form.every((t, i) => tokens[end - form.length + i] === t)) {
        end -= form.length;
        stripped = true;
        // "gmbh und co kg": the connector goes when a legal form stands before it too
        if (end >= 3 && CONNECTORS.has(tokens[end - 1]!) && LEGAL_FORMS.some((f) => f.length === 1 && f[0] === tokens[end - 2])) end -= 1;
        break;
      }
    }
  }
  return tokens.slice(0, end);
}

/** How alike two organisation names are. */
export type OrganisationLikeness = 'same' | 'similar' | 'different' | 'unclear';

/**
 * `same` when the names or their compact forms are equal; `similar` within typing distance (Jaro-Winkler ≥ 0.92 on
 * the compact forms) or when every token of the shorter is in the longer ("Acme" in "Acme Holdings"); `different`
 * when far apart (Jaro-Winkler < 0.75); otherwise `unclear`, which is no evidence either way.
 */
export function compareOrganisations(a: OrganisationKey, b: OrganisationKey): OrganisationLikeness {
  if (a.name === b.name || a.compact === b.compact) return 'same';
  const jw = jaroWinkler(a.compact, b.compact);
  if (jw >= 0.92 || contained(a.tokens, b.tokens)) return 'similar';
  return jw < 0.75 ? 'different' : 'unclear';
}

function contained(a: string[], b: string[]): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length === long.length || short.join('').length < 3) return false;
  return short.every((t) => long.includes(t));
}

/** A person's name part folded to letters and single spaces ("  O'Brien " → "obrien", "de Jong" → "de jong"), or null. */
export function normalisePersonName(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const name = fold(raw).replace(/['’`´.]/g, '').replace(/[^a-z]+/g, ' ').trim();
  return name || null;
}

/** Two spellings within a typo or a transposition: Jaro-Winkler ≥ 0.9, or one edit apart when both are 4 letters or more. */
export function nearlyEqual(a: string, b: string): boolean {
  if (a === b) return true;
  if (jaroWinkler(a, b) >= 0.9) return true;
  return Math.min(a.length, b.length) >= 4 && damerauLevenshtein(a, b) <= 1;
}

/** Last names that are one person's: nearly equal, or one a part of the other's double name ("Schmidt" and "Schmidt Weber"). */
export function sameLastName(a: string, b: string): boolean {
  if (nearlyEqual(a.replace(/ /g, ''), b.replace(/ /g, ''))) return true;
  const [ta, tb] = [a.split(' '), b.split(' ')];
  return ta.length !== tb.length && ta.some((t) => t.length >= 3 && tb.includes(t));
}

/** First names that may be one person's: nearly equal, or an initial against a name it starts ("A" and "Anna"). */
export function compatibleFirstNames(a: string, b: string): boolean {
  if (a.length === 1 || b.length === 1) return a.charAt(0) === b.charAt(0);
  return nearlyEqual(a, b);
}

/** Two strings within one edit (a typo or a transposition) when both are long enough for that to be telling. */
export function oneEditApart(a: string, b: string, minLength: number): boolean {
  return a !== b && Math.min(a.length, b.length) >= minLength && damerauLevenshtein(a, b) <= 1;
}
