// From each system's native record, as its connector reads it, to the matcher's input; the only code that knows both shapes.

import type { CrmContact } from '../../crm/connector.js';
import type { ErpPartner } from '../../erp/connector.js';
import type { MarketingMember } from '../../marketing/connector.js';
import type { SupportOrganization } from '../../support/connector.js';
import type { MatchInput } from './types.js';

const text = (v: string | null | undefined): string | null => (v && v.trim() ? v : null);

/**
 * A HubSpot contact: the person, their mailbox and phone, the company as typed (often the trade name), and the address
 * properties HubSpot keeps on contacts (`country`, `zip`, `city`). canon's id is the `canon_external_id` property.
 */
export function fromCrmContact(contact: Pick<CrmContact, 'id' | 'properties'>): MatchInput {
  const p = contact.properties;
  return {
    system: 'crm',
    nativeId: contact.id,
    externalId: text(p.canon_external_id),
    firstName: text(p.firstname),
    lastName: text(p.lastname),
    email: text(p.email),
    phone: text(p.phone) ?? text(p.mobilephone),
    organisation: text(p.company),
    country: text(p.country),
    postalCode: text(p.zip),
    city: text(p.city),
  };
}

/** What the matcher reads of an ERP business partner; `ExternalID` is where canon writes its id back. */
export type ErpPartnerForMatching = Pick<ErpPartner, 'BusinessPartner' | 'BusinessPartnerName' | 'TaxNumber' | 'Country' | 'PostalCode' | 'CityName'> & {
  ExternalID?: string | null;
};

/** An ERP business partner: the legal entity with its registered name, tax number and billing address; no person. */
export function fromErpPartner(partner: ErpPartnerForMatching): MatchInput {
  return {
    system: 'erp',
    nativeId: partner.BusinessPartner,
    externalId: text(partner.ExternalID),
    organisation: text(partner.BusinessPartnerName),
    taxId: text(partner.TaxNumber),
    country: text(partner.Country),
    postalCode: text(partner.PostalCode),
    city: text(partner.CityName),
  };
}

/**
 * A Mailchimp list member: the mailbox (its id is the subscriber hash of it) and the merge fields people filled in.
 * Mailchimp keeps no country for a member, so a national-format `PHONE` cannot be read and counts as absent.
 */
export function fromMarketingMember(member: Pick<MarketingMember, 'id' | 'email_address' | 'merge_fields'>): MatchInput {
  const m = member.merge_fields ?? {};
  return {
    system: 'marketing',
    nativeId: member.id,
    firstName: text(m.FNAME),
    lastName: text(m.LNAME),
    email: text(member.email_address),
    phone: text(m.PHONE),
    organisation: text(m.COMPANY),
  };
}

/** What the matcher reads of a Zendesk organization; `domain_names` are the mail domains its users write from. */
export type SupportOrganizationForMatching = Pick<SupportOrganization, 'id' | 'name' | 'external_id'> & {
  domain_names?: string[] | null;
  /** Zendesk's free-text `details`, where agents put the address ("Gartenweg 91, 10285 Berlin"). */
  details?: string | null;
};

/**
 * The postal code and city of an address typed as its last comma-separated part ("…, 10285 Berlin", "…, EC1 4AB
 * London"): the leading words holding a digit are the code, the rest the city. Null for text not of that shape.
 */
export function addressTail(details: string | null | undefined): { postalCode: string; city: string } | null {
  const tail = details?.split(/[,\n]/).at(-1)?.trim();
  if (!tail) return null;
  const words = tail.split(/\s+/);
  let n = 0;
  while (n < words.length - 1 && /\d/.test(words[n]!)) n++;
  if (n === 0) return null;
  return { postalCode: words.slice(0, n).join(' '), city: words.slice(n).join(' ') };
}

/** A Zendesk organization: its name as support agents typed it, its mail domains and address, and canon's id in `external_id`. */
export function fromSupportOrganization(org: SupportOrganizationForMatching): MatchInput {
  const address = addressTail(org.details);
  return {
    postalCode: address?.postalCode ?? null,
    city: address?.city ?? null,
    system: 'support',
    nativeId: String(org.id),
    externalId: text(org.external_id),
    organisation: text(org.name),
    domains: org.domain_names ?? [],
  };
}
