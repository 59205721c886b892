// Validation and normalisation of app writes, before any system is called: each writable field names its rule in schema/model.ts, and here is one validator per rule.
//
// Terminology
// - rule: the name a writable field gives in schema/model.ts (`rule: 'email'`) for the check a write of it must pass.
// - validator: checks one value under one rule and returns it normalised, or records a problem naming the field.
// - the input's country: the country code of the address sent in the same input (the part whose rule is
//   `countryCode` of the field whose rule is `address`); national phone numbers and tax ids are read in it. An input
//   that sends none has its national phone numbers read in the country the customer's records keep (`storedCountry`).
// Guarantees: `validateUpdate` either returns the whole input normalised (email lower-cased, phone in E.164, …) or
// every problem found, each naming its field; it never calls a system. `checkValidators` refuses a model with a
// writable field that names no rule, or a rule with no validator here, naming the field.

import countries from 'i18n-iso-countries';
import validator from 'validator';
import { MODEL, type CanonicalModel, type FieldRule } from '../../schema/model.js';
import { customerFields, objectTypes, resolvedFields, type ResolvedField } from '../../schema/ownership.js';
import { toE164 } from '../../subgraphs/kit/phone.js';

export interface FieldProblem {
  field: string;
  message: string;
}

/** An `UpdateCustomerInput` as GraphQL coerced it: writable Customer field → value (nested input types as objects). */
export type UpdateInput = Record<string, unknown>;

export type ValidationResult = { ok: true; value: UpdateInput } | { ok: false; problems: FieldProblem[] };

/**
 * VAT and tax number formats by country (the prefix is part of an EU VAT number). Formats only: check digits
 * differ per country and are left to the tax authorities' own services.
 */
export const TAX_ID_FORMATS: Record<string, { pattern: RegExp; example: string }> = {
  DE: { pattern: /^DE\d{9}$/, example: 'DE123456789' },
  FR: { pattern: /^FR[0-9A-HJ-NP-Z]{2}\d{9}$/, example: 'FR12345678901' },
  GB: { pattern: /^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/, example: 'GB123456789' },
  NL: { pattern: /^NL\d{9}B\d{2}$/, example: 'NL123456789B01' },
  ES: { pattern: /^ES[0-9A-Z]\d{7}[0-9A-Z]$/, example: 'ESX1234567X' },
  IT: { pattern: /^IT\d{11}$/, example: 'IT12345678901' },
  SE: { pattern: /^SE\d{12}$/, example: 'SE123456789001' },
  US: { pattern: /^\d{2}-\d{7}$/, example: '12-3456789' },
};

const MAX_TEXT = 200;

export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

export function isCountryCode(value: string): boolean {
  return /^[A-Z]{2}$/.test(value) && countries.isValid(value);
}

/** The country a tax id belongs to (its VAT prefix, or US for an EIN), or null when canon knows no rule for it. */
export function taxIdCountry(taxId: string): string | null {
  if (TAX_ID_FORMATS.US!.pattern.test(taxId)) return 'US';
  const prefix = taxId.slice(0, 2);
  return TAX_ID_FORMATS[prefix] ? prefix : null;
}

/** What a validator sees besides the value. */
interface RuleContext {
  /** Where the value sits in the input, e.g. `billingAddress.city`: every problem names it. */
  field: string;
  /** The field's declaration (its type, for a rule that checks a nested input object part by part). */
  spec: ResolvedField;
  /** The input's country, upper-cased and not yet checked, or null when the input sends none. */
  country: string | null;
  /** Where the input's country is written, for messages (`billingAddress.country`). */
  countryField: string;
  /** The country the customer's records keep, for a national phone number in an input that sends no country. */
  storedCountry: string | null;
  model: CanonicalModel;
  problems: FieldProblem[];
}

/** Checks one value; returns it normalised, or undefined when there is nothing to store (a problem says why). */
type Validator = (value: unknown, ctx: RuleContext) => unknown;

function problem(ctx: RuleContext, message: string): undefined {
  ctx.problems.push({ field: ctx.field, message });
  return undefined;
}

function text(value: unknown, ctx: RuleContext, required: boolean): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) {
    if (required) problem(ctx, `${ctx.field} cannot be cleared (null).`);
    return null;
  }
  const v = String(value).trim().replace(/\s+/g, ' ');
  if (!v) return problem(ctx, `${ctx.field} must not be empty.`);
  if (v.length > MAX_TEXT) problem(ctx, `${ctx.field} must be at most ${MAX_TEXT} characters; got ${v.length}.`);
  return v;
}

/** One validator per rule a field may name; `Record<FieldRule, …>` makes a rule without a validator a type error. */
const VALIDATORS: Record<FieldRule, Validator> = {
  text: (value, ctx) => text(value, ctx, true),

  optionalText: (value, ctx) => (value == null ? null : (text(value, ctx, false) ?? null)),

  email(value, ctx) {
    if (value === null) return null;
    const v = normaliseEmail(String(value));
    return validator.isEmail(v) ? v : problem(ctx, `${ctx.field} "${String(value)}" is not a valid email address.`);
  },

  phone(value, ctx) {
    if (value === null) return null;
    const raw = String(value).trim();
    const region = ctx.country ?? ctx.storedCountry;
    const e164 = toE164(raw, region);
    if (e164) return e164;
    return problem(
      ctx,
      raw.startsWith('+') || region
        ? `${ctx.field} "${raw}" is not a valid phone number.`
        : `${ctx.field} "${raw}" is not a valid international number; write it with its country code (+49 30 1234567), or send ${ctx.countryField} with it.`,
    );
  },

  taxId(value, ctx) {
    if (value === null) return null;
    const v = String(value).replace(/[\s.]/g, '').toUpperCase();
    const of = taxIdCountry(v);
    const format = of ? TAX_ID_FORMATS[of]! : null;
    if (!format || !format.pattern.test(v)) {
      return problem(ctx, `${ctx.field} "${String(value)}" is not a tax number canon can check; send an EU VAT number with its country prefix (e.g. ${TAX_ID_FORMATS.DE!.example}) or a US EIN (${TAX_ID_FORMATS.US!.example}).`);
    }
    if (ctx.country && of !== ctx.country) return problem(ctx, `${ctx.field} "${v}" is a ${of} tax number, but ${ctx.countryField} is ${ctx.country}.`);
    return v;
  },

  // An address replaces the whole value, so a part left out is a part cleared: each is checked as null.
  address(value, ctx) {
    if (value === null) return problem(ctx, `${ctx.field} cannot be cleared: invoices need an address.`);
    const given = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const part of writableParts(ctx.spec, ctx.model)) {
      const v = check(part, given[part.name] ?? null, { ...ctx, field: `${ctx.field}.${part.name}`, spec: part });
      if (v !== undefined) out[part.name] = v;
    }
    return out;
  },

  countryCode(value, ctx) {
    const code = value ? String(value).trim().toUpperCase() : '';
    return code && isCountryCode(code) ? code : problem(ctx, `${ctx.field} "${value ?? ''}" is not an ISO 3166-1 alpha-2 country code (e.g. DE, FR, US).`);
  },

  // GraphQL has already checked the value against the enum; a system cannot hold "no value" for these.
  enum: (value, ctx) => (value === null ? problem(ctx, `${ctx.field} cannot be cleared (null); choose one of its values.`) : value),
};

const baseType = (type: string) => type.replace(/[!\[\]]/g, '');

/** The writable fields of the object type a nested input field holds (an address's line1, city, …), in model order. */
function writableParts(spec: ResolvedField, model: CanonicalModel): ResolvedField[] {
  const type = objectTypes(model).find((t) => t.name === baseType(spec.type));
  return type ? resolvedFields(type).filter((f) => f.writable) : [];
}

function check(spec: ResolvedField, value: unknown, ctx: RuleContext): unknown {
  const validate = spec.rule ? VALIDATORS[spec.rule] : undefined;
  // checkValidators refuses such a model at start-up; this guards a model handed to validateUpdate unchecked.
  if (!validate) throw new Error(`${spec.typeName}.${spec.name} names no rule with a validator (rule: ${String(spec.rule)}); run checkValidators on the model first.`);
  return validate(value, ctx);
}

/** Where an input's country is written: the `countryCode` part of the first `address` field, as [field, part]. */
function countryPath(model: CanonicalModel): [string, string] | null {
  for (const f of customerFields(model).values()) {
    if (f.writable && f.rule === 'address') {
      const part = writableParts(f, model).find((p) => p.rule === 'countryCode');
      if (part) return [f.name, part.name];
    }
  }
  return null;
}

/**
 * What is wrong between the model's writable fields and the validators: a writable field naming no rule, or a rule
 * with no validator here (a model built or cast at runtime can carry any string). Empty when they agree.
 */
export function validatorProblems(model: CanonicalModel = MODEL): string[] {
  const known = Object.keys(VALIDATORS).join(', ');
  const problems: string[] = [];
  for (const t of objectTypes(model)) {
    for (const f of resolvedFields(t)) {
      const where = `${t.name}.${f.name}`;
      if (f.writable && !f.rule) problems.push(`${where} is writable but names no validation rule; give it rule: one of ${known}.`);
      else if (f.rule && !Object.hasOwn(VALIDATORS, f.rule)) problems.push(`${where} names the rule "${f.rule}", which gateway/writes/validation.ts has no validator for; known rules: ${known}.`);
    }
  }
  return problems;
}

/** Throws, naming every field at fault, unless each writable field of the model names a rule that has a validator. */
export function checkValidators(model: CanonicalModel = MODEL): void {
  const problems = validatorProblems(model);
  if (problems.length) throw new Error(`schema/model.ts and gateway/writes/validation.ts disagree:\n- ${problems.join('\n- ')}`);
}

/** The country an input sends (its address's country code, upper-cased and not yet checked), or null. */
export function countryOf(input: UpdateInput, model: CanonicalModel = MODEL): string | null {
  const path = countryPath(model);
  const given = path ? (input[path[0]] as Record<string, unknown> | null | undefined)?.[path[1]] : null;
  return given ? String(given).trim().toUpperCase() : null;
}

export interface ValidateOptions {
  /**
   * The country the customer's records already keep (contact or billing), for an input that sends none: national
   * phone numbers are read in it. The input's own country always comes first.
   */
  storedCountry?: string | null;
}

/** Validates every field of an `UpdateCustomerInput` by the rule its field names and returns it normalised, or every problem found. */
export function validateUpdate(input: UpdateInput, model: CanonicalModel = MODEL, opts: ValidateOptions = {}): ValidationResult {
  if (Object.keys(input).length === 0) return { ok: false, problems: [{ field: 'input', message: 'input names no field to update.' }] };
  const fields = customerFields(model);
  const path = countryPath(model);
  const problems: FieldProblem[] = [];
  const base = { country: countryOf(input, model), storedCountry: opts.storedCountry?.trim().toUpperCase() || null, countryField: path ? path.join('.') : 'a country', model, problems };
  const out: UpdateInput = {};
  for (const [field, value] of Object.entries(input)) {
    const spec = fields.get(field);
    if (!spec?.writable) {
      problems.push({ field, message: `${field} is not a field canon knows how to write.` });
      continue;
    }
    const v = check(spec, value, { ...base, field, spec });
    if (v !== undefined) out[field] = v;
  }
  return problems.length ? { ok: false, problems } : { ok: true, value: out };
}
