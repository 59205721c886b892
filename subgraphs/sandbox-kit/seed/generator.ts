// The deterministic dataset: who exists in which system, with which conflicts, as plain rows; nothing here touches disk.
//
// Terms used below:
//   customer — one person at one company, the thing canon gives a canonical id (cus_…).
//   primary  — a customer's first native record in a system; CRM near-duplicates are recorded too, with is_primary 0.
// The customer ids are the truth's keys only: no system's record carries them (canon_external_id, ExternalID and
// external_id stay empty), so canon has to find out which records are one customer, as it would on real systems.
// Everything is drawn from seeded PRNGs in a fixed order (the values from one, data-entry noise from another:
// ./noise.ts), so (seed, size) fully determines the output.

import { CRM_LIFECYCLE_STAGES, type CrmContactRow } from '../../crm/sandbox/index.js';
import type { ErpPartnerRow } from '../../erp/sandbox/index.js';
import { MARKETING_LIST_ID, seededContactId, subscriberHash, type MarketingMemberRow } from '../../marketing/sandbox/index.js';
import type { SupportOrganizationRow, SupportTicketRow } from '../../support/sandbox/index.js';
import type { TruthCustomerRow, TruthRecordRow } from './truth.js';
import { createRng } from '../rng.js';
import { CALLING_CODES, COUNTRIES, JOB_TITLES, STEMS, TAGS, TICKET_SUBJECTS, type Country } from './tables.js';
import { erpLegalName, noiseDrawer, PLACEHOLDER_PHONES, shareGenericEmails, typo } from './noise.js';

/** Everything the seeder writes, as plain rows; deep-equal for equal (seed, size). */
export interface Dataset {
  seed: number;
  size: number;
  customers: TruthCustomerRow[];
  /** Which records are one customer: the truth file's content, never written into canon's identity store. */
  sourceIds: TruthRecordRow[];
  crm: CrmContactRow[];
  erp: ErpPartnerRow[];
  marketing: MarketingMemberRow[];
  supportOrganizations: SupportOrganizationRow[];
  supportTickets: SupportTicketRow[];
}

/** Fixed "now" of the dataset; every timestamp is this minus a seeded offset, never the wall clock. */
const BASE_TIME = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** Presence probabilities per system (every customer ends up in at least one). */
const PRESENCE = { crm: 0.95, erp: 0.7, marketing: 0.8, support: 0.5 } as const;
/** Share of CRM-present customers who also have a near-duplicate contact. */
const CRM_DUPLICATE_RATE = 0.05;

/** Private: the seeded draw helpers, so the generator reads as "pick", "chance", "int". */
function drawer(seed: number) {
  const next = createRng(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  const digits = (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const weighted = <T>(entries: readonly (readonly [T, number])[]): T => {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = next() * total;
    for (const [value, w] of entries) {
      if ((r -= w) < 0) return value;
    }
    return entries[entries.length - 1]![0];
  };
  return { next, int, pick, chance, digits, weighted };
}
type Draw = ReturnType<typeof drawer>;

const ascii = (s: string) =>
  s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'ss').toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Tax numbers that are valid in format for each country (check digits are not computed). */
function taxNumber(d: Draw, country: Country): string {
  switch (country) {
    case 'DE': return 'DE' + d.digits(9);
    case 'FR': return 'FR' + d.pick(['A', 'B', 'K', 'X', '1', '4', '7']) + d.pick(['H', 'P', 'Z', '2', '5', '9']) + d.digits(9);
    case 'GB': return 'GB' + d.digits(9);
    case 'NL': return 'NL' + d.digits(9) + 'B' + d.digits(2);
    case 'ES': return 'ES' + d.pick(['A', 'B', 'X', '1', '7']) + d.digits(7) + d.pick(['A', 'J', 'Q', '3', '8']);
    case 'IT': return 'IT' + d.digits(11);
    case 'SE': return 'SE' + d.digits(10) + '01';
    case 'US': return `${d.int(10, 98)}-${d.digits(7)}`;
  }
}

/** A national number split as [area code without trunk prefix, subscriber number]. */
function phoneParts(d: Draw, country: Country): [string, string] {
  switch (country) {
    case 'DE': return [d.pick(['30', '40', '89', '69', '221']), String(d.int(2, 9)) + d.digits(6)];
    case 'FR': return [String(d.int(1, 5)), d.digits(8)];
    // 7946 0xxx (London) and 496 0xxx (Manchester) are Ofcom's ranges reserved for fiction.
    case 'GB': return d.chance(0.6) ? ['20', '79460' + d.digits(3)] : ['161', '4960' + d.digits(3)];
    // 555-01xx is reserved for fiction in the NANP.
    case 'US': return [d.pick(['415', '212', '312', '617', '206']), '55501' + d.digits(2)];
    case 'NL': return [d.pick(['20', '10', '30']), String(d.int(2, 9)) + d.digits(6)];
    case 'ES': return [d.pick(['91', '93', '96']), String(d.int(2, 8)) + d.digits(6)];
    case 'IT': return [d.pick(['02', '06', '011']), d.digits(7)];
    case 'SE': return ['8', String(d.int(2, 7)) + d.digits(6)];
  }
}

/** Renders one phone number in one of several formats people actually type for that country. */
function formatPhone(country: Country, [area, sub]: [string, string], style: number): string {
  const cc = CALLING_CODES[country];
  // Italy keeps the leading 0 of the area code after the country code; Spain has no trunk prefix; the others drop their trunk 0.
  const trunk = country === 'US' || country === 'IT' || country === 'ES' ? '' : '0';
  const national = trunk + area;
  if (country === 'US') {
    const s = `${sub.slice(0, 3)}-${sub.slice(3)}`;
    return [`(${area}) ${s}`, `+1 ${area} ${sub.slice(0, 3)} ${sub.slice(3)}`, `${area}-${s}`, `+1${area}${sub}`, `001 ${area} ${sub}`][style % 5]!;
  }
  const grouped = sub.length === 8 ? `${sub.slice(0, 4)} ${sub.slice(4)}` : sub.length > 5 ? `${sub.slice(0, 3)}-${sub.slice(3)}` : sub;
  const spaced = sub.length === 8 ? `${sub.slice(0, 4)} ${sub.slice(4)}` : sub.length === 7 ? `${sub.slice(0, 3)} ${sub.slice(3)}` : sub;
  const styles = [
    `+${cc} ${area} ${spaced}`,
    `${national} ${sub}`,
    `(${national}) ${grouped}`,
    `+${cc}${area} ${sub}`,
    `00${cc}${area}${sub}`,
  ];
  return styles[style % styles.length]!;
}

/** Varies an email only by case and spacing, as data entry does ("  Anna.Schmidt@Acme.de"). */
function messyEmail(d: Draw, email: string): string {
  const [local, domain] = email.split('@') as [string, string];
  const cased = d.chance(0.7)
    ? local.split('.').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('.') + '@' + (d.chance(0.5) ? domain.charAt(0).toUpperCase() + domain.slice(1) : domain)
    : email.toUpperCase();
  // Mostly surrounding whitespace (equal after trim+lowercase); sometimes a stray inner space too,
  // which only a whitespace-stripping comparison reconciles.
  const variant = d.int(0, 9);
  if (variant < 4) return ' ' + cased;
  if (variant < 7) return cased + '  ';
  if (variant < 9) return cased;
  return cased.replace('@', ' @');
}

const iso = (ms: number) => new Date(ms).toISOString();
const money = (n: number) => n.toFixed(2);

/** Builds the whole dataset in memory. Pure: same (seed, size) gives deep-equal output. */
export function generateDataset(opts: { seed: number; size: number }): Dataset {
  const { seed, size } = opts;
  if (!Number.isSafeInteger(seed)) throw new TypeError(`seed must be a safe integer, got ${seed}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError(`size must be a non-negative integer, got ${size}`);
  const d = drawer(seed);
  // Data-entry noise comes from a stream of its own (./noise.ts), so it never shifts the values drawn here.
  const noise = noiseDrawer(seed);
  const countries = Object.entries(COUNTRIES).map(([c, data]) => [c as Country, data.weight] as const);

  const out: Dataset = {
    seed, size, customers: [], sourceIds: [], crm: [], erp: [], marketing: [], supportOrganizations: [], supportTickets: [],
  };
  const usedIds = new Set<string>();
  const usedCompanies = new Set<string>();
  const usedEmails = new Set<string>();
  let crmId = 1001;
  let erpId = 1000001;
  let orgId = 90000001;
  let ticketId = 500001;
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

  for (let seq = 1; seq <= size; seq++) {
    let id: string;
    do {
      id = 'cus_' + Array.from({ length: 10 }, () => alphabet[d.int(0, 35)]).join('');
    } while (usedIds.has(id));
    usedIds.add(id);
    const createdMs = BASE_TIME - d.int(30, 3 * 365) * DAY - d.int(0, DAY - 1);
    out.customers.push({ id, seq, created_at: iso(createdMs) });

    const country = d.weighted(countries);
    const c = COUNTRIES[country];
    const first = d.pick(c.first);
    const last = d.pick(c.last);

    let stem: string;
    let tries = 0;
    do {
      stem = `${d.pick(STEMS)}${tries > 8 ? ' ' + (tries - 7) : ''} ${d.pick(c.sectors)}`;
      tries++;
    } while (usedCompanies.has(stem));
    usedCompanies.add(stem);
    const legalForm = d.pick(c.legalForms);
    const legalName = `${stem} ${legalForm}`;
    const domain = `${ascii(stem)}.${c.tld}`;
    let email = `${ascii(first)}.${ascii(last)}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${ascii(first)}.${ascii(last)}${n}@${domain}`;
    usedEmails.add(email);

    const phone = phoneParts(d, country);
    const phoneStyle = d.int(0, 4);
    const [city, postalPrefix] = d.pick(c.cities);
    const street = `${d.pick(c.streets)} ${d.int(1, 180)}`;
    const postal = country === 'GB' ? `${postalPrefix} ${d.int(1, 9)}${d.pick(['AB', 'DE', 'HL', 'NP', 'RT'])}` : country === 'NL' ? `${postalPrefix}${d.digits(2)} ${d.pick(['AB', 'CD', 'KL', 'XZ'])}` : country === 'SE' ? `${postalPrefix}${d.digits(1)} ${d.digits(2)}` : (postalPrefix + d.digits(5)).slice(0, 5);

    let inCrm = d.chance(PRESENCE.crm);
    const inErp = d.chance(PRESENCE.erp);
    const inMarketing = d.chance(PRESENCE.marketing);
    const inSupport = d.chance(PRESENCE.support);
    if (!inCrm && !inErp && !inMarketing && !inSupport) inCrm = true;

    if (inCrm) {
      const contactCreated = createdMs + d.int(0, 20) * DAY;
      const modified = Math.min(BASE_TIME - 1000, contactCreated + d.int(0, 400) * DAY);
      // CRM often holds the trade name rather than the legal name the ERP has.
      const company = d.chance(0.3) ? stem : d.chance(0.1) ? stem.toUpperCase() : legalName;
      const row: CrmContactRow = {
        id: String(crmId++),
        firstname: first,
        lastname: noise.chance(0.04) ? typo(noise, last) : last,
        email,
        phone: d.chance(0.9) ? (noise.chance(0.03) ? noise.pick(PLACEHOLDER_PHONES) : formatPhone(country, phone, phoneStyle)) : null,
        country,
        company,
        jobtitle: d.chance(0.85) ? d.pick(JOB_TITLES) : null,
        lifecyclestage: d.weighted([['customer', 50], ['opportunity', 12], ['salesqualifiedlead', 8], ['marketingqualifiedlead', 8], ['lead', 12], ['subscriber', 5], ['evangelist', 3], ['other', 2]] as const),
        canon_external_id: null,
        createdate: iso(contactCreated),
        lastmodifieddate: iso(modified),
      };
      out.crm.push(row);
      out.sourceIds.push({ system: 'crm', native_id: row.id, customer_id: id, is_primary: 1 });
      if (d.chance(CRM_DUPLICATE_RATE)) {
        const dupCreated = contactCreated + d.int(1, 300) * DAY;
        const dup: CrmContactRow = {
          id: String(crmId++),
          firstname: d.chance(0.8) ? first : first.charAt(0) + '.',
          lastname: noise.chance(0.2) ? typo(noise, last) : last,
          email: messyEmail(d, email),
          phone: d.chance(0.7) ? formatPhone(country, phone, phoneStyle + d.int(1, 4)) : null,
          country: d.chance(0.6) ? country : null,
          company: d.chance(0.5) ? stem : legalName,
          jobtitle: d.chance(0.4) ? d.pick(JOB_TITLES) : null,
          lifecyclestage: d.pick(['lead', 'subscriber', 'marketingqualifiedlead', 'other'] as const),
          canon_external_id: null,
          createdate: iso(Math.min(dupCreated, BASE_TIME - 2000)),
          lastmodifieddate: iso(Math.min(dupCreated + d.int(0, 30) * DAY, BASE_TIME - 1000)),
        };
        out.crm.push(dup);
        out.sourceIds.push({ system: 'crm', native_id: dup.id, customer_id: id, is_primary: 0 });
      }
    }

    if (inErp) {
      const limit = d.pick([5000, 10000, 25000, 50000, 100000, 250000]);
      const row: ErpPartnerRow = {
        BusinessPartner: String(erpId++),
        BusinessPartnerName: erpLegalName(noise, stem, legalForm),
        TaxNumber: taxNumber(d, country),
        StreetName: street,
        AdditionalStreetName: d.chance(0.15) ? d.pick(['Gebäude B', 'Suite 200', '2nd Floor', 'Bâtiment A', 'Unit 4']) : null,
        CityName: city,
        PostalCode: postal,
        Country: country,
        PaymentTerms: d.weighted([['NT30', 45], ['NT14', 20], ['NT60', 12], ['NT00', 13], ['PREP', 10]] as const),
        CreditLimitAmount: money(limit),
        OpenBalanceAmount: money(Math.round(d.next() * limit * 0.9 * 100) / 100),
        Currency: c.currency,
        CentralBlockReason: d.weighted([['', 85], ['01', 10], ['02', 5]] as const),
        ExternalID: null,
        LastChangeDateTime: iso(Math.min(BASE_TIME - 1000, createdMs + d.int(0, 600) * DAY)),
        RowVersion: d.int(1, 6),
      };
      out.erp.push(row);
      out.sourceIds.push({ system: 'erp', native_id: row.BusinessPartner, customer_id: id, is_primary: 1 });
    }

    if (inMarketing) {
      // Marketing lists drift: older phone formats, married/transliterated surnames, casing as typed.
      const typed = d.chance(0.15) ? email.charAt(0).toUpperCase() + email.slice(1) : email;
      const stripped = last.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      const lname = d.chance(0.08) ? (stripped !== last ? stripped : `${last}-${d.pick(c.last)}`) : last;
      const signup = createdMs + d.int(0, 200) * DAY;
      const row: MarketingMemberRow = {
        list_id: MARKETING_LIST_ID,
        subscriber_hash: subscriberHash(typed),
        email_address: typed,
        status: d.weighted([['subscribed', 70], ['unsubscribed', 15], ['cleaned', 5], ['pending', 10]] as const),
        merge_fields: JSON.stringify({
          FNAME: noise.chance(0.06) ? typo(noise, first) : first,
          LNAME: lname,
          PHONE: d.chance(0.25) ? '' : d.chance(0.2) ? formatPhone(country, phoneParts(d, country), d.int(0, 4)) : formatPhone(country, phone, phoneStyle + d.int(0, 4)),
          COMPANY: d.chance(0.5) ? stem : legalName,
        }),
        tags: JSON.stringify(TAGS.filter(() => d.chance(0.3))),
        timestamp_signup: iso(Math.min(signup, BASE_TIME - 2000)),
        last_changed: iso(Math.min(signup + d.int(0, 300) * DAY, BASE_TIME - 1000)),
        canon_external_id: null,
        contact_id: seededContactId(subscriberHash(typed)),
      };
      out.marketing.push(row);
      out.sourceIds.push({ system: 'marketing', native_id: row.subscriber_hash, customer_id: id, is_primary: 1 });
    }

    if (inSupport) {
      const orgCreated = createdMs + d.int(0, 100) * DAY;
      // Support agents name organizations how customers call themselves, rarely the legal name.
      const typed = d.weighted([[stem, 50], [`${stem} (${city})`, 20], [stem.replace(/ /g, ''), 10], [legalName, 20]] as const);
      const name = noise.chance(0.1) ? typo(noise, typed) : typed;
      const org: SupportOrganizationRow = {
        id: orgId++,
        name,
        external_id: null,
        details: `${street}, ${postal} ${city}`,
        notes: d.chance(0.3) ? d.pick(['Prefers email contact.', 'Key account.', 'Escalate billing questions to finance.', 'Uses the legacy portal.']) : null,
        organization_fields: JSON.stringify({ support_plan: d.weighted([['basic', 45], ['business', 30], ['enterprise', 10], [null, 15]] as const) }),
        created_at: iso(Math.min(orgCreated, BASE_TIME - 2000)),
        updated_at: iso(Math.min(orgCreated + d.int(0, 300) * DAY, BASE_TIME - 1000)),
      };
      out.supportOrganizations.push(org);
      out.sourceIds.push({ system: 'support', native_id: String(org.id), customer_id: id, is_primary: 1 });
      const ticketCount = d.int(0, 6);
      for (let t = 0; t < ticketCount; t++) {
        const opened = Math.min(orgCreated + d.int(1, 700) * DAY + d.int(0, DAY - 1), BASE_TIME - 5000);
        const status = d.weighted([['new', 10], ['open', 20], ['pending', 10], ['hold', 5], ['solved', 30], ['closed', 25]] as const);
        out.supportTickets.push({
          id: ticketId++,
          organization_id: org.id,
          subject: d.pick(TICKET_SUBJECTS),
          description: `Hello, this is ${first} ${last} from ${stem}. ${d.pick(['Could you please look into this?', 'This is urgent for us.', 'Thanks in advance.'])}`,
          status,
          priority: d.weighted([['low', 20], ['normal', 50], ['high', 20], ['urgent', 5], [null, 5]] as const),
          external_id: d.chance(0.1) ? `ext-${ticketId}` : null,
          created_at: iso(opened),
          updated_at: iso(Math.min(opened + d.int(0, 60) * DAY, BASE_TIME - 1000)),
        });
      }
    }
  }
  shareGenericEmails(noise, out.crm, out.sourceIds, size);
  // The CRM lifecycle stage list is the contract; fail loudly if the generator ever drifts from it.
  for (const r of out.crm) {
    if (r.lifecyclestage !== null && !(CRM_LIFECYCLE_STAGES as readonly string[]).includes(r.lifecyclestage)) {
      throw new Error(`generator produced unknown lifecyclestage ${r.lifecyclestage}`);
    }
  }
  return out;
}

