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
  'bv', 'nv', 'vof', 'cv', 'bvba', 'besloten vennootschap', 'naamloze vennootschap', 'ab', 'aktiebolag', 'aktiebolaget',
  'publ', 'oy', 'oyj', 'as', 'asa', 'aps', 'a s', 'sro', 'sp z oo', 'spzoo', 'zrt', 'kft', 'doo',
].map((f) => f.split(' ')).sort((x, y) => y.length - x.length);

// A legal form's word of five letters or more is still that word with one typo in it ("Compnay", "Incroporated").
const formToken = (typed: string, form: string) => typed === form || (form.length >= 5 && oneEditApart(typed, form, 5));

/** Words joining legal forms ("GmbH und Co. KG"), and any single letter: stripped only between two legal forms. */
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
      if (form.every((t, i) => formToken(tokens[end - form.length + i]!, t))) {
        end -= form.length;
        stripped = true;
        // "gmbh und co kg": the connector goes when a legal form stands before it too
        const joiner = tokens[end - 1]!;
        if (end >= 3 && (CONNECTORS.has(joiner) || joiner.length === 1) && LEGAL_FORMS.some((f) => f.length === 1 && f[0] === tokens[end - 2])) end -= 1;
        break;
      }
    }
  }
  return tokens.slice(0, end);
}

/** How alike two organisation names are. */
export type OrganisationLikeness = 'same' | 'similar' | 'contained' | 'different' | 'unclear';

/**
 * `same` when the names or their compact forms are equal. `similar` within one typo or transposition in names of six
 * letters or more that spares the first letter and every digit (a first letter is rarely mistyped, while short names
 * one letter apart, "Haldu" and "Daldu", or "Acme 2" and "Acme 3", are often two companies), or when the longer only
 * adds tokens of two letters at most (a mangled legal form: "Torri Ld."). `contained` when every token of the shorter
 * is in the longer ("Acme" in "Acme Holdings": a trade name, or a sister company). `different` when far apart
 * (Jaro-Winkler < 0.75); otherwise `unclear`, which is no evidence either way. Edit distance rather than Jaro-Winkler
 * decides `similar`, since Jaro-Winkler rewards a shared prefix, and sister companies share theirs.
 */
export function compareOrganisations(a: OrganisationKey, b: OrganisationKey): OrganisationLikeness {
  if (a.name === b.name || a.compact === b.compact) return 'same';
  const digits = (s: string) => s.replace(/\D/g, '');
  if (a.compact.charAt(0) === b.compact.charAt(0) && digits(a.compact) === digits(b.compact) && oneEditApart(a.compact, b.compact, 6)) return 'similar';
  const extra = contained(a, b);
  if (extra) return extra.every((t) => t.length <= 2) ? 'similar' : 'contained';
  return jaroWinkler(a.compact, b.compact) < 0.75 ? 'different' : 'unclear';
}

// The tokens the longer name adds when every token of the shorter is in it, or the rest of a one-word longer name
// that the shorter starts ("Mibrimar" and "MibrimarSystems", typed without spaces); null when neither holds.
function contained(a: OrganisationKey, b: OrganisationKey): string[] | null {
  const [short, long] = a.compact.length <= b.compact.length ? [a, b] : [b, a];
  if (short.compact.length < 4) return null;
  if (short.tokens.length < long.tokens.length && short.tokens.every((t) => long.tokens.includes(t))) {
    return long.tokens.filter((t) => !short.tokens.includes(t));
  }
  return long.tokens.length === 1 && long.compact.startsWith(short.compact) ? [long.compact.slice(short.compact.length)] : null;
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
  return a !== b && Math.min(a.length, b.length) >= minLength && Math.abs(a.length - b.length) <= 1 && damerauLevenshtein(a, b) <= 1;
}
