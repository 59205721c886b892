// One native record turned into normalised match keys, and the blocking keys under which it meets the records it may match.

import doubleMetaphone from 'talisman/phonetics/double-metaphone.js';
import type { SystemName } from '../../../schema/model.js';
import { normaliseOrganisation, normalisePersonName, type OrganisationKey } from './names.js';
import {
  countryOfTaxId, normaliseCity, normaliseCountry, normaliseDomain, normaliseEmail, normalisePhone, normalisePostalCode, normaliseTaxId,
  type EmailKey,
} from './normalise.js';
import type { MatchInput, Ref } from './types.js';

/** A record's keys, each normalised or null; what the rules compare. */
export interface MatchKeys {
  ref: Ref;
  system: SystemName;
  nativeId: string;
  externalId: string | null;
  email: EmailKey | null;
  phone: string | null;
  taxId: string | null;
  firstName: string | null;
  lastName: string | null;
  organisation: OrganisationKey | null;
  country: string | null;
  postalCode: string | null;
  city: string | null;
  domains: string[];
}

export const refOf = (system: SystemName, nativeId: string): Ref => `${system}:${nativeId}`;

export function toKeys(input: MatchInput): MatchKeys {
  const given = normaliseCountry(input.country);
  const taxId = normaliseTaxId(input.taxId, given);
  // A VAT number names its country; a record that lost its country field still has it there.
  const country = given ?? countryOfTaxId(taxId);
  return {
    ref: refOf(input.system, input.nativeId),
    system: input.system,
    nativeId: input.nativeId,
    externalId: input.externalId?.trim() || null,
    email: normaliseEmail(input.email),
    phone: normalisePhone(input.phone, country),
    taxId,
    firstName: normalisePersonName(input.firstName),
    lastName: normalisePersonName(input.lastName),
    organisation: normaliseOrganisation(input.organisation),
    country,
    postalCode: normalisePostalCode(input.postalCode),
    city: normaliseCity(input.city),
    domains: [...new Set((input.domains ?? []).map(normaliseDomain).filter((d): d is string => d !== null))].sort(),
  };
}

/** The block of records carrying one exact organisation name; its size also says how rare the name is. */
export const organisationBlock = (org: OrganisationKey): string => `o:${org.compact}`;

const phonetic = (word: string): string => doubleMetaphone(word)[0] || word.slice(0, 4);

/** A word and every string one deletion from it. */
function deletions(word: string): string[] {
  const out = new Set([word]);
  for (let i = 0; i < word.length; i++) out.add(word.slice(0, i) + word.slice(i + 1));
  return [...out];
}

/**
 * Blocking keys: two records are compared only when they share one. Exact keys (external id, tax id, email, phone,
 * organisation) find pairs that agree on a strong key; the phonetic and prefix keys find pairs whose names differ by a
 * typo or a transposition, since a typo rarely changes both the sound of one word and the start of another. Role
 * emails make no block: they are the values strangers share.
 */
export function blockingKeys(k: MatchKeys): string[] {
  const keys: string[] = [];
  if (k.externalId) keys.push(`x:${k.externalId}`);
  if (k.taxId) keys.push(`t:${k.taxId}`);
  if (k.email && !k.email.role) keys.push(`e:${k.email.address}`);
  if (k.phone) keys.push(`p:${k.phone}`);
  const org = k.organisation;
  if (org) {
    const [t1, t2] = org.tokens as [string, string | undefined];
    keys.push(organisationBlock(org));
    keys.push(`oa:${phonetic(t1)}:${t2?.slice(0, 2) ?? ''}`);
    if (org.compact.length > 6) keys.push(`oc:${org.compact.slice(0, 6)}`);
    // The first word and each of its one-letter deletions: two words one typo or transposition apart always share one
    // (SymSpell's deletion neighbourhood), so a typo in the name's distinctive word cannot hide a pair. A typo in a
    // later word leaves the first one equal, which is the first key.
    if (t1.length >= 4) for (const variant of deletions(t1)) keys.push(`od:${variant}`);
  }
  if (k.postalCode) keys.push(`z:${k.country ?? ''}:${k.postalCode}`);
  const first = k.firstName?.replace(/ /g, '');
  const last = k.lastName?.replace(/ /g, '');
  if (first && last) {
    keys.push(`n:${phonetic(last)}:${first.charAt(0)}`);
    if (first.length > 1) keys.push(`m:${phonetic(first)}:${last.slice(0, 2)}`);
  }
  return [...new Set(keys)];
}
