// Validation and normalisation of app writes, before any system is called: the rules schema/model.ts states in words, enforced.
//
// Guarantee: `validateUpdate` either returns the whole input normalised (email lower-cased, phone in E.164, …) or
// every problem found, each naming its field. It never calls a system.

import countries from 'i18n-iso-countries';
import validator from 'validator';
import libphonenumber from 'google-libphonenumber';

const phoneUtil = libphonenumber.PhoneNumberUtil.getInstance();

export interface FieldProblem {
  field: string;
  message: string;
}

export interface AddressValue {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  postalCode?: string | null;
  country?: string | null;
}

export type UpdateInput = Record<string, unknown> & { billingAddress?: AddressValue | null };

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

function text(field: string, value: unknown, problems: FieldProblem[], opts: { required?: boolean } = {}): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) {
    if (opts.required) problems.push({ field, message: `${field} cannot be cleared (null).` });
    return null;
  }
  const v = String(value).trim().replace(/\s+/g, ' ');
  if (!v) {
    problems.push({ field, message: `${field} must not be empty.` });
    return undefined;
  }
  if (v.length > MAX_TEXT) problems.push({ field, message: `${field} must be at most ${MAX_TEXT} characters; got ${v.length}.` });
  return v;
}

export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** The E.164 form of a number apps send, or null. National formats are read in `region` when one is known. */
export function parsePhone(value: string, region: string | null | undefined): string | null {
  try {
    const parsed = phoneUtil.parse(value, region ?? undefined);
    return phoneUtil.isValidNumber(parsed) ? phoneUtil.format(parsed, libphonenumber.PhoneNumberFormat.E164) : null;
  } catch {
    return null;
  }
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

/** Validates every field of an `UpdateCustomerInput` and returns it normalised, or every problem found. */
export function validateUpdate(input: UpdateInput): ValidationResult {
  const problems: FieldProblem[] = [];
  const out: UpdateInput = {};
  if (Object.keys(input).length === 0) return { ok: false, problems: [{ field: 'input', message: 'input names no field to update.' }] };

  const country = input.billingAddress?.country ? String(input.billingAddress.country).trim().toUpperCase() : null;

  for (const [field, value] of Object.entries(input)) {
    switch (field) {
      case 'name':
      case 'legalName': {
        const v = text(field, value, problems, { required: true });
        if (v !== undefined) out[field] = v;
        break;
      }
      case 'email': {
        if (value === null) {
          out.email = null;
          break;
        }
        const v = normaliseEmail(String(value));
        if (!validator.isEmail(v)) problems.push({ field, message: `email "${String(value)}" is not a valid email address.` });
        else out.email = v;
        break;
      }
      case 'phone': {
        if (value === null) {
          out.phone = null;
          break;
        }
        const raw = String(value).trim();
        const e164 = parsePhone(raw, country);
        if (!e164) {
          problems.push({
            field,
            message: raw.startsWith('+') || country
              ? `phone "${raw}" is not a valid phone number.`
              : `phone "${raw}" is not a valid international number; write it with its country code (+49 30 1234567), or send billingAddress.country with it.`,
          });
        } else out.phone = e164;
        break;
      }
      case 'taxId': {
        if (value === null) {
          out.taxId = null;
          break;
        }
        const v = String(value).replace(/[\s.]/g, '').toUpperCase();
        const of = taxIdCountry(v);
        const rule = of ? TAX_ID_FORMATS[of]! : null;
        if (!rule || !rule.pattern.test(v)) {
          problems.push({ field, message: `taxId "${String(value)}" is not a tax number canon can check; send an EU VAT number with its country prefix (e.g. ${TAX_ID_FORMATS.DE!.example}) or a US EIN (${TAX_ID_FORMATS.US!.example}).` });
        } else if (country && of !== country) {
          problems.push({ field, message: `taxId "${v}" is a ${of} tax number, but billingAddress.country is ${country}.` });
        } else out.taxId = v;
        break;
      }
      case 'billingAddress': {
        if (value === null) {
          problems.push({ field, message: 'billingAddress cannot be cleared: invoices need an address.' });
          break;
        }
        const a = value as AddressValue;
        const addr: AddressValue = {};
        for (const part of ['line1', 'city', 'postalCode'] as const) {
          const v = text(`billingAddress.${part}`, a[part] ?? null, problems, { required: true });
          if (v) addr[part] = v;
        }
        addr.line2 = a.line2 == null ? null : (text('billingAddress.line2', a.line2, problems) ?? null);
        if (!country || !isCountryCode(country)) {
          problems.push({ field: 'billingAddress.country', message: `billingAddress.country "${a.country ?? ''}" is not an ISO 3166-1 alpha-2 country code (e.g. DE, FR, US).` });
        } else addr.country = country;
        out.billingAddress = addr;
        break;
      }
      case 'lifecycleStage':
      case 'paymentTerms':
      case 'emailConsent':
      case 'supportPlan':
        // GraphQL has already checked the value against the enum; a system cannot hold "no value" for these.
        if (value === null) problems.push({ field, message: `${field} cannot be cleared (null); choose one of its values.` });
        else out[field] = value;
        break;
      default:
        problems.push({ field, message: `${field} is not a field canon knows how to write.` });
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, value: out };
}
