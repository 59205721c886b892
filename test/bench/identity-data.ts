// The identity bench's data, FEBRL-style: seeded customers, each an original CRM contact, some with corrupted duplicates
// in the CRM, the marketing list, the ERP and the support desk, every record in its system's native shape; with the truth.
//
// Terms:
//   original   — a customer's CRM contact, complete but for what CRMs commonly lack.
//   duplicate  — another record of the same customer: re-typed the way its system holds data (phone format, email case,
//                legal form, trade name), then corrupted 1–3 times (typos, transpositions, missing values, swapped names).
//   confounder — what makes strangers look alike: common person names, sister companies sharing a brand, agencies'
//                role mailboxes (`info@`) given as several companies' contact address.

import type libphonenumber from 'google-libphonenumber';
import { createRng } from '../../subgraphs/sandbox-kit/rng.js';
import { COUNTRIES, type Country } from '../../subgraphs/sandbox-kit/seed/tables.js';
import { fromCrmContact, fromErpPartner, fromMarketingMember, fromSupportOrganization, refOf, type MatchInput, type Ref } from '../../subgraphs/identity/matching/index.js';
import { drawer, drawPhone, formatPhone, LEGAL_FORM_VARIANTS, messyEmail, messyTaxId, transpose, typo, type Draw } from './identity-corrupt.js';

export interface IdentitySet {
  records: MatchInput[];
  /** Which customer each record belongs to. */
  truth: Map<Ref, number>;
  customers: number;
  duplicates: number;
}

export interface IdentitySetOptions {
  seed: number;
  customers: number;
  /** Share of customers with duplicates (1 to 3 each, 1.6 on average). Default 0.2, so 5,000 customers have ~1,600. */
  duplicateShare?: number;
}

interface Customer {
  key: number;
  country: Country;
  first: string;
  last: string;
  brand: string;
  sector: string | null;
  legalForm: string;
  email: string;
  phone: libphonenumber.PhoneNumber | null;
  taxId: string;
  city: string;
  postal: string;
}

const SYLLABLES = [
  'ka', 'lo', 've', 'ra', 'mi', 'no', 'ta', 'sel', 'dor', 'vin', 'bri', 'lux', 'mar', 'ten', 'quo', 'zel', 'fa', 'ri',
  'on', 'tex', 'ar', 'bel', 'cor', 'dal', 'ex', 'gar', 'hal', 'is', 'jor', 'kel', 'lin', 'mor', 'nex', 'or', 'pra',
  'rem', 'sol', 'tor', 'ul', 'vas', 'wen', 'yor', 'zan', 'bo', 'ce', 'du', 'ge', 'hu', 'pi', 'su',
];
const FREE_MAIL: Record<Country, string[]> = {
  DE: ['gmx.de', 'web.de', 't-online.de', 'gmail.com'], FR: ['orange.fr', 'free.fr', 'gmail.com'], GB: ['btinternet.com', 'gmail.com', 'outlook.com'],
  US: ['gmail.com', 'yahoo.com', 'outlook.com'], NL: ['ziggo.nl', 'gmail.com'], ES: ['telefonica.net', 'gmail.com'], IT: ['libero.it', 'gmail.com'], SE: ['gmail.com', 'outlook.com'],
};

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const ascii = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'ss').toLowerCase().replace(/[^a-z0-9]+/g, '');

function syllables(d: Draw, n: number): string {
  return capital(Array.from({ length: n }, () => d.pick(SYLLABLES)).join(''));
}

function taxNumber(d: Draw, country: Country): string {
  switch (country) {
    case 'DE': return 'DE' + d.digits(9);
    case 'FR': return 'FR' + d.pick(['A', 'K', '4', '7']) + d.pick(['H', 'Z', '2', '9']) + d.digits(9);
    case 'GB': return 'GB' + d.digits(9);
    case 'NL': return 'NL' + d.digits(9) + 'B' + d.digits(2);
    case 'ES': return 'ES' + d.pick(['A', 'B', 'X']) + d.digits(7) + d.pick(['A', 'J', 'Q']);
    case 'IT': return 'IT' + d.digits(11);
    case 'SE': return 'SE' + d.digits(10) + '01';
    case 'US': return `${d.int(10, 98)}-${d.digits(7)}`;
  }
}

/** Customers with unique emails and, per country, unique company names; ~2% sister companies share a brand. */
function drawCustomers(d: Draw, count: number): Customer[] {
  const countries = Object.entries(COUNTRIES).map(([c, data]) => [c as Country, data.weight] as const);
  const total = countries.reduce((s, [, w]) => s + w, 0);
  const usedNames = new Set<string>();
  const usedBrands = new Set<string>();
  const usedEmails = new Set<string>();
  const agencies: string[] = [];
  const out: Customer[] = [];
  for (let key = 0; key < count; key++) {
    let r = d.next() * total;
    const country = countries.find(([, w]) => (r -= w) < 0)?.[0] ?? 'DE';
    const c = COUNTRIES[country];
    const first = d.pick(c.first);
    // Half the surnames are the country's commonest, so strangers share names; half are rare.
    const last = d.chance(0.5) ? d.pick(c.last) : syllables(d, d.int(2, 3)) + d.pick(['', 'er', 'son', 'i', 'ez', 'ot', 'mann']);
    let brand: string;
    let sector: string | null;
    let name: string;
    // Brands collide by chance as often at 50,000 customers as at 5,000 (a drawn brand already taken is kept only
    // now and then), so the set's difficulty does not grow with its size; sister companies share one on purpose.
    let tries = 0;
    let chanceCollision: boolean;
    do {
      const sister = out.length > 10 && d.chance(0.02) ? d.pick(out) : null;
      brand = sister?.brand ?? syllables(d, d.chance(0.15) ? 2 : 3);
      sector = sister || d.chance(0.5) ? d.pick(c.sectors) : null;
      name = `${country}:${brand}:${sector ?? ''}`;
      chanceCollision = !sister && usedBrands.has(brand) && tries++ < 20 && !d.chance(0.05);
    } while (usedNames.has(name) || chanceCollision);
    usedNames.add(name);
    usedBrands.add(brand);
    const domain = `${ascii(brand)}${sector && d.chance(0.3) ? '-' + ascii(sector) : ''}.${c.tld}`;
    const [fl, ll] = [ascii(first), ascii(last)];
    let email: string;
    const style = d.next();
    if (style < 0.01 && agencies.length > 0 && d.chance(0.7)) email = d.pick(agencies);
    else if (style < 0.02) {
      email = `info@${ascii(syllables(d, 3))}-agency.com`;
      agencies.push(email);
    } else if (style < 0.05) email = `info@${domain}`;
    else {
      const local = d.pick([`${fl}.${ll}`, `${fl}.${ll}`, `${fl.charAt(0)}.${ll}`, `${fl}${ll}`, `${ll}.${fl}`]);
      const free = d.chance(0.15);
      email = `${local}${free ? d.int(1, 99) : ''}@${free ? d.pick(FREE_MAIL[country]) : domain}`;
      for (let n = 2; usedEmails.has(email); n++) email = email.replace('@', String(n) + '@');
    }
    usedEmails.add(email);
    const [city, postalPrefix] = d.pick(c.cities);
    const postal = country === 'GB' ? `${postalPrefix} ${d.int(1, 9)}${d.pick(['AB', 'DE', 'HL'])}` : (postalPrefix + d.digits(5)).slice(0, 5);
    out.push({
      key, country, first, last, brand, sector, legalForm: d.pick(c.legalForms), email,
      phone: drawPhone(d, country), taxId: taxNumber(d, country), city, postal,
    });
  }
  return out;
}

const tradeName = (d: Draw, c: Customer) => (c.sector && d.chance(0.8) ? `${c.brand} ${c.sector}` : c.brand);
const legalName = (d: Draw, c: Customer) => `${c.brand}${c.sector ? ' ' + c.sector : ''} ${d.pick(LEGAL_FORM_VARIANTS[c.legalForm] ?? [c.legalForm])}`;

/**
 * FEBRL modifications of a duplicate's fields (only those it has), each field on its own: a name mistyped (10%) or two
 * letters transposed (5%), an optional value missing (10%), an address mistyped (5%), first and last name swapped (3%)
 * or the first name cut to an initial (10%). A duplicate gets at least `min` modifications (one at random if none fell).
 */
function corrupt(d: Draw, fields: Record<string, string | null>, min = 1): void {
  const names = ['first', 'last', 'organisation'];
  // Never the only name a record has, so every duplicate keeps something to be found by.
  const canGo = (k: string) => fields[k] && !(k === 'organisation' && !fields.last) && !(k === 'last' && !fields.organisation);
  let mods = 0;
  const modify = (k: string, op: number) => {
    mods++;
    if (op === 0) fields[k] = typo(d, fields[k]!);
    else if (op === 1) fields[k] = transpose(d, fields[k]!);
    else if (op === 2) fields[k] = null;
    else if (op === 3) {
      const [local, domain] = fields.email!.split('@') as [string, string];
      fields.email = `${typo(d, local)}@${domain}`;
    } else if (op === 4) [fields.first, fields.last] = [fields.last, fields.first];
    else fields.first = fields.first!.charAt(0) + '.';
  };
  for (const k of Object.keys(fields)) {
    if (!fields[k]) continue;
    const r = d.next();
    if (names.includes(k) && r < 0.15) modify(k, r < 0.1 ? 0 : 1);
    else if (k === 'email' && r < 0.05) modify(k, 3);
    else if (r > 0.9 && canGo(k) && Object.values(fields).filter(Boolean).length > 1) modify(k, 2);
  }
  if (fields.first && fields.last) {
    const r = d.next();
    if (r < 0.03) modify('first', 4);
    else if (r < 0.13 && fields.first.length > 1) modify('first', 5);
  }
  while (mods < min) {
    const present = Object.keys(fields).filter((k) => fields[k]);
    const k = d.pick(present);
    if (names.includes(k)) modify(k, d.int(0, 1));
    else if (k === 'email' && d.chance(0.5)) modify(k, 3);
    else if (canGo(k) && present.length > 1) modify(k, 2);
    else if (present.length <= 1) mods++; // nothing left to take away: the re-typing is its modification
  }
}

function duplicate(d: Draw, c: Customer, n: number, hashOf: (email: string) => string): MatchInput {
  const system = d.pick(['crm', 'crm', 'crm', 'marketing', 'marketing', 'marketing', 'marketing', 'erp', 'erp', 'support', 'support'] as const);
  const id = `${c.key}-${n}`;
  if (system === 'crm' || system === 'marketing') {
    const f: Record<string, string | null> = {
      first: c.first, last: c.last, email: messyEmail(d, c.email),
      phone: c.phone && d.chance(0.8) ? formatPhone(d, c.phone) : null,
      organisation: d.chance(0.5) ? tradeName(d, c) : legalName(d, c),
      country: system === 'crm' && d.chance(0.8) ? c.country : null,
      city: system === 'crm' && d.chance(0.5) ? c.city : null, zip: system === 'crm' && d.chance(0.5) ? c.postal : null,
    };
    corrupt(d, f);
    if (system === 'crm') {
      return fromCrmContact({ id: `9${id}`, properties: { firstname: f.first, lastname: f.last, email: f.email, phone: f.phone, company: f.organisation, country: f.country, city: f.city, zip: f.zip } });
    }
    const email = f.email ?? messyEmail(d, c.email); // a list member always has its address
    return fromMarketingMember({ id: hashOf(email), email_address: email, merge_fields: { FNAME: f.first ?? '', LNAME: f.last ?? '', PHONE: f.phone ?? '', COMPANY: f.organisation ?? '' } });
  }
  if (system === 'erp') {
    const f: Record<string, string | null> = { organisation: legalName(d, c), taxId: messyTaxId(d, c.taxId), country: c.country, postal: c.postal, city: c.city };
    corrupt(d, f);
    return fromErpPartner({ BusinessPartner: `8${id}`, BusinessPartnerName: f.organisation, TaxNumber: f.taxId, Country: f.country, PostalCode: f.postal, CityName: f.city });
  }
  const name = d.pick([tradeName(d, c), `${tradeName(d, c)} (${c.city})`, tradeName(d, c).replace(/ /g, ''), legalName(d, c)]);
  const f: Record<string, string | null> = { organisation: name };
  // A support organization's one field is its name, re-typed already; a FEBRL modification on top, as for every field.
  corrupt(d, f, 0);
  const domain = c.email.split('@')[1]!;
  const ownDomain = !/agency|gmail|gmx|web\.de|online|orange|free\.fr|btinternet|outlook|yahoo|ziggo|telefonica|libero/.test(domain);
  return fromSupportOrganization({ id: Number(`7${c.key}${n}`), name: f.organisation ?? name, external_id: null, domain_names: ownDomain && d.chance(0.3) ? [domain] : [] });
}

export function generateIdentitySet(opts: IdentitySetOptions): IdentitySet {
  const d = drawer(createRng(opts.seed));
  const customers = drawCustomers(d, opts.customers);
  const records: MatchInput[] = [];
  const truth = new Map<Ref, number>();
  const add = (r: MatchInput, key: number) => {
    const ref = refOf(r.system, r.nativeId);
    if (truth.has(ref)) return false; // two list members with one address are one member
    records.push(r);
    truth.set(ref, key);
    return true;
  };
  let duplicates = 0;
  const hashOf = (email: string) => `h${ascii(email.trim().toLowerCase())}`;
  for (const c of customers) {
    const hasAddress = d.chance(0.7);
    add(fromCrmContact({
      id: String(100000 + c.key),
      properties: {
        firstname: c.first, lastname: c.last, email: c.email, phone: c.phone && d.chance(0.9) ? formatPhone(d, c.phone) : null,
        company: d.chance(0.6) ? legalName(d, c) : tradeName(d, c), country: c.country,
        city: hasAddress ? c.city : null, zip: hasAddress ? c.postal : null,
      },
    }), c.key);
    if (!d.chance(opts.duplicateShare ?? 0.2)) continue;
    const count = d.chance(0.55) ? 1 : d.chance(0.67) ? 2 : 3;
    for (let n = 1; n <= count; n++) if (add(duplicate(d, c, n, hashOf), c.key)) duplicates++;
  }
  return { records, truth, customers: customers.length, duplicates };
}
