// What dataQuality compares and checks, derived from schema/model.ts: each copied field's owner value against its copies, and the canonical values canon cannot normalise.
//
// Terminology
// - native record: a system's record as its connector's change feed returns it (source_records.fields_json).
// - owner value: a field's value as canon serves it, computed from the owner's native fields that feed it
//   (SYSTEM_RECORDS `mapsTo`); a copy value: what another system keeps, read from the copy's `sourceField`.
// - agree: two values that are the same value written differently (ComparisonKind in schema/model.ts).
// Guarantee: every comparison and every issue check comes from the model; adding a copy there adds its comparison here.

import { SYSTEM_RECORDS, type ComparisonKind, type FieldRule, type SystemName } from '../../../schema/model.js';
import { copySourceFields, customerFields, type ResolvedField } from '../../../schema/ownership.js';
import { toE164 } from '../../kit/phone.js';
import { compareOrganisations, normaliseOrganisation, normalisePersonName } from '../matching/names.js';
import { normaliseEmail } from '../matching/normalise.js';

export type NativeRecord = Record<string, unknown>;

/** One copy of a field in another system: where it lives, and the native fields its value is joined from. */
export interface CopyComparison {
  system: SystemName;
  sourceField: string;
  paths: string[];
}

/** One copied canonical field: its owner's native fields and its copies, compared by `kind`. */
export interface Comparison {
  field: string;
  owner: SystemName;
  kind: ComparisonKind;
  /** The owner's native fields that feed the field, in SYSTEM_RECORDS order (for a phone: the number, then its region). */
  ownerPaths: string[];
  copies: CopyComparison[];
}

/** A field value that cannot be normalised, found in the owner's native record. */
export interface ValueProblem {
  kind: string;
  rawValue: string;
  message: string;
}

/** The value at a dotted path of a native record (`merge_fields.FNAME`), as trimmed text; null when absent or blank. */
export function readPath(record: NativeRecord, path: string): string | null {
  let at: unknown = record;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object') return null;
    at = (at as Record<string, unknown>)[key];
  }
  if (at === null || at === undefined || typeof at === 'object') return null;
  const text = String(at).trim();
  return text === '' ? null : text;
}

/** The native fields of `system`'s record that feed `Customer.<field>`, in the order the model lists them. */
function feedingPaths(system: SystemName, target: string): string[] {
  const record = SYSTEM_RECORDS.find((r) => r.system === system);
  return record ? record.fields.filter((f) => f.mapsTo?.includes(target)).map((f) => f.name) : [];
}

function kindOf(f: ResolvedField): ComparisonKind {
  if (f.comparedAs) return f.comparedAs;
  return f.rule === 'email' || f.rule === 'phone' ? f.rule : 'text';
}

/** Every copied Customer field the model declares, in model order. */
export function comparisons(): Comparison[] {
  return [...customerFields().values()].flatMap((f) => {
    if (!f.copies?.length || f.owner === 'identity') return [];
    const owner = f.owner;
    return [{ field: f.name, owner, kind: kindOf(f), ownerPaths: feedingPaths(owner, `Customer.${f.name}`), copies: f.copies.map((c) => ({ system: c.system, sourceField: c.sourceField, paths: copySourceFields(c) })) }];
  });
}

/** Where a customer's country is kept when a record of its own gives none: the native field feeding `Address.country`. */
export const BILLING_COUNTRY: { system: SystemName; path: string } | null = (() => {
  for (const r of SYSTEM_RECORDS) {
    const f = r.fields.find((nf) => nf.mapsTo?.includes('Address.country'));
    if (f) return { system: r.system, path: f.name };
  }
  return null;
})();

/** A field's value as canon serves it, from its native parts (for a phone: number and region); null when there is none. */
export function servedValue(kind: ComparisonKind, parts: (string | null)[], region: string | null): string | null {
  if (kind === 'phone') return toE164(parts[0], parts[1] ?? region);
  if (kind === 'email') return parts[0]?.toLowerCase() ?? null;
  const joined = parts.filter((p): p is string => p !== null).join(' ');
  return joined || null;
}

/** A copy's value as the copy holds it, its parts joined by a space (FNAME + LNAME); null when it keeps none. */
export function copyValue(record: NativeRecord, copy: CopyComparison): string | null {
  const joined = copy.paths.map((p) => readPath(record, p)).filter((p): p is string => p !== null).join(' ');
  return joined || null;
}

const collapse = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();

/** Whether the owner's served value and a copy's value are the same value, by the field's ComparisonKind. */
const AGREE: Record<ComparisonKind, (owner: string, copy: string, region: string | null) => boolean> = {
  text: (a, b) => collapse(a) === collapse(b),
  personName: (a, b) => (normalisePersonName(a) ?? collapse(a)) === (normalisePersonName(b) ?? collapse(b)),
  organisationName(a, b) {
    const [x, y] = [normaliseOrganisation(a), normaliseOrganisation(b)];
    if (!x || !y) return collapse(a) === collapse(b);
    const likeness = compareOrganisations(x, y);
    return likeness === 'same' || likeness === 'contained';
  },
  email: (a, b) => (normaliseEmail(a)?.address ?? collapse(a)) === (normaliseEmail(b)?.address ?? collapse(b).replace(/\s+/g, '')),
  // A copy that is no valid number is compared by its digits: "n/a" differs from any number, as it should.
  phone: (a, b, region) => a === (toE164(b, region) ?? b.replace(/\D/g, '')),
};

export function agree(kind: ComparisonKind, owner: string, copy: string, region: string | null): boolean {
  return AGREE[kind](owner, copy, region);
}

/**
 * The canonical values a rule normalises, and what is wrong when one cannot be: canon serves such a field as null
 * and lists the record's raw value. Keyed by the field's rule, so every field with that rule is checked.
 */
const VALUE_CHECKS: Partial<Record<FieldRule, (parts: (string | null)[], field: string, owner: SystemName) => ValueProblem | null>> = {
  phone(parts, field, owner) {
    const [raw, region] = parts;
    if (!raw || toE164(raw, region)) return null;
    const where = region ? `a phone number, international or national in ${region}` : 'an international phone number (the record names no country to read a national one in)';
    return { kind: 'UNPARSEABLE_PHONE', rawValue: raw, message: `"${raw}" is not ${where}; canon serves ${field} as null until it is corrected in ${owner}.` };
  },
};

/** One canonical field checked on each of its owner's records. */
export interface ValueCheck {
  field: string;
  owner: SystemName;
  paths: string[];
  check: (parts: (string | null)[], field: string, owner: SystemName) => ValueProblem | null;
}

/** Every Customer field whose rule has a value check, with its owner's native fields. */
export function valueChecks(): ValueCheck[] {
  return [...customerFields().values()].flatMap((f) => {
    const check = f.rule ? VALUE_CHECKS[f.rule] : undefined;
    if (!check || f.owner === 'identity') return [];
    return [{ field: f.name, owner: f.owner, paths: feedingPaths(f.owner, `Customer.${f.name}`), check }];
  });
}

/** The issue kinds canon can report. */
export const ISSUE_KINDS: readonly string[] = ['UNPARSEABLE_PHONE'];
