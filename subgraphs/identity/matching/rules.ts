// The matching rules: named, weighted evidence about a pair of records, summed into the pair's score; and which rules veto.
//
// Weights are in rough bits of evidence (about log2 of how much likelier the agreement is between two records of one
// customer than between two strangers' records), so one can reason about them: an email of one mailbox is ~9 bits,
// a country shared with a fifth of all records ~2. A pair links at 10 (`linkThreshold`), so no single ordinary key
// links two records on its own, but an email with a name, or an organisation name with its country, does; so does
// an organisation name few records carry, which is all a support desk's organisation has.

import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import type { MatchKeys } from './keys.js';
import { compareOrganisations, compatibleFirstNames, nearlyEqual, oneEditApart, sameLastName } from './names.js';
import type { RuleHit, RuleName, RuleWeights } from './types.js';

export const DEFAULT_WEIGHTS: RuleWeights = {
  /** canon's own id, written back into the system: canon linked these records before. */
  externalId: 20,
  /** One registered tax id: one legal entity. */
  taxId: 12,
  /** Two tax ids of the same scheme that differ: two legal entities, whatever else agrees (a veto). */
  taxIdDiffers: -12,
  /** One personal mailbox. */
  email: 9,
  /** A role mailbox (`info@`, `sales@`) in common: seen and deliberately given no weight, so it never merges companies. */
  roleEmail: 0,
  /** Mailboxes one typo apart at the same domain. */
  emailSimilar: 5,
  /** Mailboxes at one organisation's own domain (no free mail provider), or an address at the organisation's listed domain. */
  emailDomain: 2,
  /**
   * A mailbox at a domain named as the other record's organisation ("anna@acme-labs.de" and "ACME Labs Holdings GmbH"):
   * the ERP keeps no person and no mailbox, so this is what ties a legal entity to its contacts.
   */
  organisationDomain: 4,
  /** One E.164 number (placeholders are never keys). */
  phone: 7,
  /** First and last name equal. */
  name: 4,
  /** Names within a typo, a transposition, an initial or a double name. */
  nameSimilar: 2,
  /** Clearly different people (a veto): two colleagues at one company are two customers. */
  nameDiffers: -8,
  /** One organisation name, legal forms aside ("Acme" and "ACME GmbH"). */
  organisation: 9,
  /** Organisation names within a typo or a transposition. */
  organisationSimilar: 8,
  /** … either of them, with names few records carry (`rareOrganisationMax`), so it is telling even without a country. */
  rareOrganisation: 2,
  /** One organisation name contained in the other ("Acme" in "Acme Holdings"): a trade name, or a sister company. */
  organisationContained: 5,
  /** Organisation names far apart. */
  organisationDiffers: -6,
  country: 2,
  countryDiffers: -5,
  postalCode: 3,
  city: 1,
};

/**
 * Rules that make a pair a veto: their records are never put in one cluster, however they connect through others.
 * `nameDiffers` vetoes only when no personal key agrees: one mailbox or one number outweighs a garbled name.
 */
export const VETO_RULES: ReadonlySet<RuleName> = new Set(['taxIdDiffers', 'nameDiffers']);
const PERSONAL_KEYS: ReadonlySet<RuleName> = new Set(['externalId', 'email', 'phone']);

export interface PairEvidence {
  score: number;
  rules: RuleHit[];
  veto: boolean;
}

export interface ScoringContext {
  weights: RuleWeights;
  /** How many records carry this record's exact organisation name (its block's size). */
  organisationCount: (a: MatchKeys) => number;
  rareOrganisationMax: number;
}

/** Every rule that fires for the pair, in a fixed order, with its weight; pure, and symmetric in a and b. */
export function scorePair(a: MatchKeys, b: MatchKeys, ctx: ScoringContext): PairEvidence {
  const hits: RuleName[] = [];
  if (a.externalId && a.externalId === b.externalId) hits.push('externalId');
  if (a.taxId && b.taxId) {
    if (a.taxId === b.taxId) hits.push('taxId');
    else if (sameTaxScheme(a.taxId, b.taxId)) hits.push('taxIdDiffers');
  }
  const email = emailRule(a, b);
  if (email) hits.push(email);
  if (a.phone && a.phone === b.phone) hits.push('phone');
  if (domainNames(a, b) || domainNames(b, a)) hits.push('organisationDomain');
  const name = nameRule(a, b);
  if (name) hits.push(name);
  if (a.organisation && b.organisation) {
    const likeness = compareOrganisations(a.organisation, b.organisation);
    if (likeness === 'same' || likeness === 'similar') {
      hits.push(likeness === 'same' ? 'organisation' : 'organisationSimilar');
      // A short name has many neighbours one typo away, so only a long one is rare merely for being rare itself.
      const long = Math.min(a.organisation.compact.length, b.organisation.compact.length) >= 8;
      const rare = Math.max(ctx.organisationCount(a), ctx.organisationCount(b)) <= ctx.rareOrganisationMax;
      if (rare && (likeness === 'same' || long)) hits.push('rareOrganisation');
    } else if (likeness === 'contained') hits.push('organisationContained');
    else if (likeness === 'different') hits.push('organisationDiffers');
  }
  if (a.country && b.country) hits.push(a.country === b.country ? 'country' : 'countryDiffers');
  const sameCountry = !a.country || !b.country || a.country === b.country;
  if (sameCountry && a.postalCode && a.postalCode === b.postalCode) hits.push('postalCode');
  if (sameCountry && a.city && a.city === b.city) hits.push('city');

  const rules = hits.map((name) => ({ name, weight: ctx.weights[name] }));
  const personal = hits.some((h) => PERSONAL_KEYS.has(h));
  const veto = hits.some((h) => VETO_RULES.has(h) && !(h === 'nameDiffers' && personal));
  return { score: rules.reduce((s, r) => s + r.weight, 0), rules, veto };
}

// Tax ids of different schemes (a German Steuernummer against a VAT number) may both belong to one company, so only
// ids of one scheme (same prefix, same length) that differ say "two entities".
function sameTaxScheme(a: string, b: string): boolean {
  return a.length === b.length && a.slice(0, 2).replace(/\d/g, '') === b.slice(0, 2).replace(/\d/g, '');
}

function emailRule(a: MatchKeys, b: MatchKeys): RuleName | null {
  const [ea, eb] = [a.email, b.email];
  if (ea && eb) {
    if (ea.address === eb.address) return ea.role ? 'roleEmail' : 'email';
    if (ea.domain === eb.domain) {
      if (!ea.role && !eb.role && oneEditApart(ea.local, eb.local, 5)) return 'emailSimilar';
      if (!ea.freeMail) return 'emailDomain';
    }
  }
  if ((ea && b.domains.includes(ea.domain)) || (eb && a.domains.includes(eb.domain))) return 'emailDomain';
  return null;
}

// Whether `a`'s mail domain (an organisation's own, not a free mail provider's) spells `b`'s organisation name, or the
// first words of it ("sternmedia.co.uk" and "Stern Media Group LLP").
function domainNames(a: MatchKeys, b: MatchKeys): boolean {
  if (!a.email || a.email.freeMail || !b.organisation || a.organisation?.compact === b.organisation.compact) return false;
  const label = a.email.domain.split('.')[0]!.replace(/-/g, '');
  if (label.length < 4) return false;
  let prefix = '';
  for (const token of b.organisation.tokens) {
    prefix += token;
    if (prefix === label) return true;
    if (prefix.length >= label.length) return false;
  }
  return false;
}

function nameRule(a: MatchKeys, b: MatchKeys): RuleName | null {
  if (!a.lastName || !b.lastName) return null;
  if (a.lastName === b.lastName && a.firstName && a.firstName === b.firstName) return 'name';
  // First and last name swapped, as forms with "name, first name" get filled in
  if (a.firstName && b.firstName && !nearlyEqual(a.lastName, b.lastName) && nearlyEqual(a.firstName, b.lastName) && nearlyEqual(a.lastName, b.firstName)) return 'nameSimilar';
  if (clearlyDifferent(a.lastName, b.lastName)) return 'nameDiffers';
  if (!sameLastName(a.lastName, b.lastName)) return null;
  if (!a.firstName || !b.firstName) return 'nameSimilar';
  if (compatibleFirstNames(a.firstName, b.firstName) || a.firstName.startsWith(b.firstName) || b.firstName.startsWith(a.firstName)) return 'nameSimilar';
  return clearlyDifferent(a.firstName, b.firstName) ? 'nameDiffers' : null;
}

// Far apart, not merely misspelt: a veto must not fire on two typos in one short name.
function clearlyDifferent(a: string, b: string): boolean {
  const [ca, cb] = [a.replace(/ /g, ''), b.replace(/ /g, '')];
  if (ca.length <= 1 || cb.length <= 1) return false;
  if (sameLastName(a, b)) return false;
  return jaroWinkler(ca, cb) < 0.8;
}
