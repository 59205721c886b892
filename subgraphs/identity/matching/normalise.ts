// Normalised match keys for contact data: email, E.164 phone, tax id, country, postal code, city; each either a sound key or null.

import countries from 'i18n-iso-countries';
import validator from 'validator';
import { toE164 } from '../../kit/phone.js';

/** Lower-case ASCII: diacritics dropped and the few letters NFD does not decompose spelled out ("Müller" → "muller", "ß" → "ss"). */
export function fold(raw: string): string {
  return raw
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss').replace(/[æÆ]/g, 'ae').replace(/[œŒ]/g, 'oe').replace(/[øØ]/g, 'o').replace(/[łŁ]/g, 'l').replace(/[đĐ]/g, 'd')
    .toLowerCase();
}

/**
 * Mailboxes that belong to a role, not a person. They are shared by whoever answers them and, between companies, by
 * agencies and resellers, so their equality is no evidence that two records are one customer.
 */
const ROLE_LOCAL_PARTS = new Set([
  'info', 'infos', 'information', 'sales', 'vertrieb', 'ventes', 'ventas', 'contact', 'contacto', 'contatto', 'kontakt',
  'hello', 'hallo', 'hi', 'office', 'buero', 'bureau', 'admin', 'administrator', 'administration', 'support', 'help',
  'helpdesk', 'service', 'services', 'kundenservice', 'customerservice', 'team', 'mail', 'email', 'post', 'postmaster',
  'webmaster', 'noreply', 'no-reply', 'donotreply', 'billing', 'invoice', 'invoices', 'rechnung', 'rechnungen', 'factures',
  'accounts', 'accounting', 'buchhaltung', 'finance', 'compta', 'comptabilite', 'enquiries', 'inquiries', 'orders',
  'order', 'bestellung', 'purchasing', 'einkauf', 'procurement', 'reception', 'empfang', 'hr', 'jobs', 'careers',
  'marketing', 'press', 'presse', 'legal', 'privacy', 'security', 'it', 'general', 'mailbox', 'zentrale',
]);

/** Free mail providers: a shared domain there says nothing about a shared organisation. */
const FREE_MAIL_DOMAINS = new Set([
  'gmail.com', 'yahoo.com', 'yahoo.fr', 'yahoo.de', 'yahoo.co.uk', 'yahoo.es', 'yahoo.it', 'hotmail.com', 'hotmail.fr',
  'hotmail.de', 'hotmail.co.uk', 'outlook.com', 'outlook.de', 'outlook.fr', 'live.com', 'msn.com', 'icloud.com',
  'me.com', 'mac.com', 'aol.com', 'gmx.de', 'gmx.net', 'gmx.com', 'web.de', 't-online.de', 'freenet.de', 'orange.fr',
  'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'tiscali.it', 'btinternet.com',
  'proton.me', 'protonmail.com', 'mail.com', 'zoho.com', 'yandex.com', 'telefonica.net', 'ziggo.nl', 'kpnmail.nl',
]);

export interface EmailKey {
  address: string;
  local: string;
  domain: string;
  /** A role mailbox (`info@`, `sales@`, …): never a match key. */
  role: boolean;
  /** At a free mail provider: the domain is no organisation. */
  freeMail: boolean;
}

/**
 * The address as a mailbox key, or null when it is no address. Whitespace anywhere is a typing slip and goes; case
 * goes (every provider treats the local part case-insensitively in practice). Dots and `+tags` go only at the providers
 * that document ignoring them (validator's normalizeEmail: Gmail, Outlook.com, Yahoo, iCloud); elsewhere they may name
 * another mailbox.
 */
export function normaliseEmail(raw: string | null | undefined): EmailKey | null {
  if (!raw) return null;
  const compact = raw.replace(/\s+/g, '');
  if (!validator.isEmail(compact)) return null;
  const address = validator.normalizeEmail(compact, { all_lowercase: true });
  if (!address) return null;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  return { address, local, domain, role: ROLE_LOCAL_PARTS.has(local.replace(/[._-]+/g, '')) || ROLE_LOCAL_PARTS.has(local), freeMail: FREE_MAIL_DOMAINS.has(domain) };
}

/** An email domain as a key for organisation evidence (Zendesk `domain_names`), or null. */
export function normaliseDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/^@/, '').replace(/^www\./, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d) && !FREE_MAIL_DOMAINS.has(d) ? d : null;
}

/**
 * The E.164 form, or null when the number is no valid number or a placeholder people type to fill a mandatory field
 * ("0000000", "1234567"): a placeholder shared by strangers must not link them.
 */
export function normalisePhone(raw: string | null | undefined, country: string | null): string | null {
  const e164 = toE164(raw, country);
  if (!e164) return null;
  return isPlaceholderNumber(e164) ? null : e164;
}

function isPlaceholderNumber(e164: string): boolean {
  // The subscriber part: what remains after the longest plausible country and area prefix (the last 7 digits).
  const tail = e164.slice(-7);
  if (new Set(tail).size === 1) return true;
  const ascending = '01234567890123456789';
  const descending = '98765432109876543210';
  return ascending.includes(tail) || descending.includes(tail);
}

/** VAT number prefixes per country where they differ from the ISO code (Greece files as EL). */
const VAT_PREFIX: Record<string, string> = { GR: 'EL' };
/** Countries whose tax ids in ERPs are VAT numbers with a two-letter prefix (the EU, the UK, Switzerland, Norway). */
const VAT_COUNTRIES = new Set([
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV',
  'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK', 'GB', 'CH', 'NO',
]);

/**
 * Upper-case letters and digits only ("DE 123.456.789" → "DE123456789", "12-3456789" → "123456789"); a VAT number typed
 * without its country prefix gets the prefix of the record's country, so both spellings are one key.
 */
export function normaliseTaxId(raw: string | null | undefined, country: string | null): string | null {
  if (!raw) return null;
  const id = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (id.length < 5) return null;
  if (/^\d/.test(id) && country && VAT_COUNTRIES.has(country)) return (VAT_PREFIX[country] ?? country) + id;
  return id;
}

/** The country a VAT number was issued in, from its prefix ("DE123456789" → DE, "EL…" → GR), or null. */
export function countryOfTaxId(taxId: string | null): string | null {
  const prefix = taxId?.match(/^([A-Z]{2})\d/)?.[1];
  if (!prefix) return null;
  const country = prefix === 'EL' ? 'GR' : prefix;
  return VAT_COUNTRIES.has(country) ? country : null;
}

/** Country spellings that are not ISO codes but are typed as if they were. */
const COUNTRY_ALIASES: Record<string, string> = { UK: 'GB', EL: 'GR' };

/** ISO 3166-1 alpha-2 from an alpha-2 or alpha-3 code or an English name ("Germany", "deu", "UK"), or null. */
export function normaliseCountry(raw: string | null | undefined): string | null {
  if (!raw || !raw.trim()) return null;
  const value = raw.trim();
  const upper = value.toUpperCase();
  if (COUNTRY_ALIASES[upper]) return COUNTRY_ALIASES[upper]!;
  if (/^[A-Z]{2}$/.test(upper)) return countries.isValid(upper) ? upper : null;
  if (/^[A-Z]{3}$/.test(upper)) return countries.alpha3ToAlpha2(upper) ?? null;
  return countries.getAlpha2Code(value, 'en') ?? null;
}

/** Letters and digits, upper case ("ec1a 1bb" → "EC1A1BB", "75 001" → "75001"), or null. */
export function normalisePostalCode(raw: string | null | undefined): string | null {
  const code = raw?.toUpperCase().replace(/[^A-Z0-9]/g, '') ?? '';
  return code.length >= 3 ? code : null;
}

/** Folded letters only ("Frankfurt am Main" → "frankfurtammain", "München" → "munchen"), or null. */
export function normaliseCity(raw: string | null | undefined): string | null {
  const city = raw ? fold(raw).replace(/[^a-z]/g, '') : '';
  return city.length >= 2 ? city : null;
}
