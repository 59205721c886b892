// The canonical data model: every type and field canon serves, its owning system, its meaning and the native field it comes from. Declared once, here.
//
// Terminology
// - owner: the one system that is the source of truth for a field. Reads come from it; writes go only to it.
// - sourceField: where the value lives in the owner's own API, in that API's words.
// - writable: whether apps may change the field through canon (`updateCustomer`).
// Everything else (subgraph checks at composition, write routing, `dataModel`, the explorer) is derived from this file.

/** The source systems canon integrates, in the lower-case spelling used in errors and configuration. */
export const SYSTEMS = ['crm', 'erp', 'marketing', 'support'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** A field's owner: a source system, or canon's own identity service for ids. */
export type Owner = SystemName | 'identity';
export const OWNERS: readonly Owner[] = ['identity', ...SYSTEMS];

export interface FieldSpec {
  name: string;
  /** The GraphQL output type as written in SDL, e.g. `String`, `Money`, `[Ticket!]`. */
  type: string;
  /** SDL argument list for fields that take arguments, e.g. `(first: Int = 10)`. */
  args?: string;
  /** Defaults to the type's owner. */
  owner?: Owner;
  description: string;
  sourceField: string;
  /** Defaults to false: apps may only write what is declared writable. */
  writable?: boolean;
  /** The GraphQL input type apps use to write it; defaults to `type`. */
  inputType?: string;
  /** The rule canon checks before any write, in words (enforced by the validator `rule` names). */
  validation?: string;
  /** The check a write of this field must pass: every writable field names one, and start-up refuses a model where one does not. */
  rule?: FieldRule;
  /** Other systems that keep their own copy of this value (never read by canon as the value; compared with it by dataQuality). */
  copies?: CopySpec[];
  /** How this field's value and its copies are compared; defaults to the field's rule where it is `email` or `phone`, else `text`. */
  comparedAs?: ComparisonKind;
}

/**
 * A copy of a canonical field that another system keeps: a system other than the owner, and the native fields of
 * its record (SYSTEM_RECORDS) that hold the value, joined by ` + ` when the value is split (first + last name).
 */
export interface CopySpec {
  system: SystemName;
  sourceField: string;
  /** REPORT (the default): a copy that differs is listed by dataQuality; ENFORCE: it is also set back to the owner's value (issue 11). */
  policy?: 'REPORT' | 'ENFORCE';
}

/**
 * How two values of one field are compared, so that the same value typed differently is no disagreement.
 * - text: case and whitespace do not count.
 * - personName: case, whitespace, punctuation and diacritics do not count ("Müller" = "muller").
 * - organisationName: also legal forms and qualifiers in parentheses ("ACME GmbH" = "Acme (Berlin)"), and a trade
 *   name whose every word is in the legal name ("Acme" against "Acme Holdings GmbH").
 * - email: surrounding and stray whitespace and case do not count.
 * - phone: compared in E.164, national numbers read in the customer's country.
 */
export type ComparisonKind = 'text' | 'personName' | 'organisationName' | 'email' | 'phone';

/**
 * The validation rules a writable field may name; each has exactly one validator in gateway/writes/validation.ts.
 * - text: required single line, trimmed, inner whitespace collapsed, 1 to 200 characters; cannot be cleared.
 * - optionalText: the same, but may be null (cleared).
 * - email: a valid address, stored trimmed and lower-cased; null clears it.
 * - phone: parsed with libphonenumber, national numbers in the input's country; stored in E.164; null clears it.
 * - taxId: the format of the tax number of its country; must agree with the input's country; null clears it.
 * - address: a whole address, each part checked by its own rule; cannot be cleared.
 * - countryCode: an ISO 3166-1 alpha-2 code, stored upper-cased.
 * - enum: one of the field's enum values (GraphQL checks the value); cannot be cleared.
 */
export type FieldRule = 'text' | 'optionalText' | 'email' | 'phone' | 'taxId' | 'address' | 'countryCode' | 'enum';

export interface EnumValueSpec {
  name: string;
  description: string;
  /** The owner's native value this canonical value maps to. */
  source: string;
}

export interface ObjectTypeSpec {
  kind: 'object';
  name: string;
  description: string;
  /** Fields default to this owner. */
  owner: Owner;
  /** Federation entity key in canon's identity service, if the type is an entity. */
  entity?: boolean;
  fields: FieldSpec[];
}

export interface EnumTypeSpec {
  kind: 'enum';
  name: string;
  description: string;
  owner: Owner;
  sourceField: string;
  values: EnumValueSpec[];
}

export type TypeSpec = ObjectTypeSpec | EnumTypeSpec;

export interface CanonicalModel {
  types: TypeSpec[];
}

const customer: ObjectTypeSpec = {
  kind: 'object',
  name: 'Customer',
  description:
    'A company canon does business with, as one record across every system. Each field is read from, and written only to, its owner.',
  owner: 'identity',
  entity: true,
  fields: [
    {
      name: 'id',
      type: 'ID!',
      description: "canon's canonical customer id, stable across every system.",
      sourceField: 'identity: customers.id',
    },
    {
      name: 'sourceIds',
      type: 'SourceIds!',
      description: "This customer's native id in each system; null where the customer is absent from that system.",
      sourceField: 'identity: source_records (primary row per system)',
    },
    {
      name: 'records',
      type: '[SourceRecord!]!',
      description: 'Every native record canon linked to this customer, duplicates included: by system, the primary (the one sourceIds names) first.',
      sourceField: 'identity: source_records',
    },
    {
      name: 'name',
      type: 'String',
      owner: 'crm',
      writable: true,
      description: 'Full name of the main contact person at the customer.',
      sourceField: 'contact.properties.firstname + contact.properties.lastname',
      validation: '1 to 200 characters after trimming; the first word is stored as firstname, the rest as lastname.',
      rule: 'text',
      comparedAs: 'personName',
      copies: [{ system: 'marketing', sourceField: 'merge_fields.FNAME + merge_fields.LNAME' }],
    },
    {
      name: 'email',
      type: 'String',
      owner: 'crm',
      writable: true,
      description: 'Email address of the main contact person, trimmed and lower-cased.',
      sourceField: 'contact.properties.email',
      validation: 'A valid email address (local@domain.tld); stored trimmed and lower-cased.',
      rule: 'email',
      copies: [{ system: 'marketing', sourceField: 'email_address' }],
    },
    {
      name: 'phone',
      type: 'String',
      owner: 'crm',
      writable: true,
      description: "Phone number of the main contact person in E.164 (+4930123456); read from the CRM's free-form value, null when that is no valid number (dataQuality lists it as an issue).",
      sourceField: 'contact.properties.phone (region from contact.properties.country)',
      validation: 'Parsed with libphonenumber (international, or national with billing/contact country); stored in E.164.',
      rule: 'phone',
      copies: [{ system: 'marketing', sourceField: 'merge_fields.PHONE' }],
    },
    {
      name: 'lifecycleStage',
      type: 'LifecycleStage',
      owner: 'crm',
      writable: true,
      description: 'Where the customer stands in the sales funnel.',
      sourceField: 'contact.properties.lifecyclestage',
      validation: 'One of the LifecycleStage values.',
      rule: 'enum',
    },
    {
      name: 'crmVersion',
      type: 'String',
      owner: 'crm',
      description: "Version token of the CRM record: pass it back in expectedVersions.crm to refuse a write over someone else's newer change.",
      sourceField: 'contact.properties.lastmodifieddate',
    },
    {
      name: 'legalName',
      type: 'String',
      owner: 'erp',
      writable: true,
      description: 'Registered legal name of the customer, as invoiced.',
      sourceField: 'BusinessPartner.BusinessPartnerName',
      validation: '1 to 200 characters after trimming.',
      rule: 'text',
      comparedAs: 'organisationName',
      copies: [
        { system: 'crm', sourceField: 'properties.company' },
        { system: 'marketing', sourceField: 'merge_fields.COMPANY' },
        { system: 'support', sourceField: 'name' },
      ],
    },
    {
      name: 'taxId',
      type: 'String',
      owner: 'erp',
      writable: true,
      description: 'VAT or tax registration number, upper-case without spaces.',
      sourceField: 'BusinessPartner.TaxNumber',
      validation: "Checked against the format of the billing country's tax number where canon knows it (DE, FR, GB, NL, ES, IT, SE, US).",
      rule: 'taxId',
    },
    {
      name: 'billingAddress',
      type: 'Address',
      owner: 'erp',
      writable: true,
      inputType: 'AddressInput',
      description: 'Address invoices are sent to.',
      sourceField: 'BusinessPartner.StreetName, AdditionalStreetName, CityName, PostalCode, Country',
      validation: 'line1, city, postalCode and country required; country an ISO 3166-1 alpha-2 code.',
      rule: 'address',
    },
    {
      name: 'paymentTerms',
      type: 'PaymentTerms',
      owner: 'erp',
      writable: true,
      description: 'When invoices to this customer fall due.',
      sourceField: 'BusinessPartner.PaymentTerms',
      validation: 'One of the PaymentTerms values.',
      rule: 'enum',
    },
    {
      name: 'creditLimit',
      type: 'Money',
      owner: 'erp',
      description: 'Most the customer may owe at once; set by finance in the ERP.',
      sourceField: 'BusinessPartner.CreditLimitAmount + Currency',
    },
    {
      name: 'accountStatus',
      type: 'AccountStatus',
      owner: 'erp',
      description: 'Whether the ERP lets the customer order: active, on hold or blocked.',
      sourceField: 'BusinessPartner.CentralBlockReason',
    },
    {
      name: 'openBalance',
      type: 'Money',
      owner: 'erp',
      description: 'Amount invoiced and not yet paid.',
      sourceField: 'BusinessPartner.OpenBalanceAmount + Currency',
    },
    {
      name: 'erpVersion',
      type: 'String',
      owner: 'erp',
      description: "The ERP record's OData ETag: pass it back in expectedVersions.erp so the ERP refuses a write over a newer change.",
      sourceField: 'BusinessPartner @odata.etag',
    },
    {
      name: 'emailConsent',
      type: 'EmailConsent',
      owner: 'marketing',
      writable: true,
      description: 'Whether the customer agreed to receive marketing email.',
      sourceField: 'member.status',
      validation: 'One of the EmailConsent values.',
      rule: 'enum',
    },
    {
      name: 'marketingVersion',
      type: 'String',
      owner: 'marketing',
      description: 'Version token of the marketing member: pass it back in expectedVersions.marketing.',
      sourceField: 'member.last_changed',
    },
    {
      name: 'supportPlan',
      type: 'SupportPlan',
      owner: 'support',
      writable: true,
      description: 'The support contract the customer has.',
      sourceField: 'organization.organization_fields.support_plan',
      validation: 'One of the SupportPlan values.',
      rule: 'enum',
    },
    {
      name: 'openTickets',
      type: 'Int',
      owner: 'support',
      description: 'Number of tickets not yet solved (new, open, pending or on hold).',
      sourceField: 'count of tickets with status new|open|pending|hold for the organization',
    },
    {
      name: 'tickets',
      type: '[Ticket!]',
      args: '(first: Int = 10)',
      owner: 'support',
      description: "The customer's newest support tickets.",
      sourceField: 'tickets where organization_id = organization.id',
    },
    {
      name: 'supportVersion',
      type: 'String',
      owner: 'support',
      description: 'Version token of the support organization: pass it back in expectedVersions.support.',
      sourceField: 'organization.updated_at',
    },
  ],
};

/** What each system's native id is, as `SourceIds` describes it. */
const SOURCE_ID_MEANINGS: Record<SystemName, string> = {
  crm: 'HubSpot-style contact id.',
  erp: 'Business partner number (7 digits).',
  marketing: 'Subscriber hash: md5 of the lower-cased email.',
  support: 'Support organization id.',
};

export const MODEL: CanonicalModel = {
  types: [
    customer,
    {
      kind: 'object',
      name: 'SourceIds',
      description: "A customer's native id in each system (null where absent).",
      owner: 'identity',
      // One field per system, in SYSTEMS order: a system added there cannot be left out here.
      fields: SYSTEMS.map((system) => ({ name: system, type: 'ID', description: SOURCE_ID_MEANINGS[system], sourceField: `source_records where system = '${system}' and is_primary` })),
    },
    {
      kind: 'object',
      name: 'SourceRecord',
      description: 'One native record of a system, linked to a canonical customer.',
      owner: 'identity',
      fields: [
        { name: 'system', type: 'System!', description: 'The system that holds it.', sourceField: 'source_records.system' },
        { name: 'nativeId', type: 'ID!', description: "The record's id in that system.", sourceField: 'source_records.native_id' },
        { name: 'primary', type: 'Boolean!', description: 'Whether canon reads this record for the customer in that system (the one sourceIds names); false for a duplicate.', sourceField: 'source_records.is_primary' },
      ],
    },
    {
      kind: 'object',
      name: 'Address',
      description: 'A postal address.',
      owner: 'erp',
      fields: [
        { name: 'line1', type: 'String', writable: true, rule: 'text', description: 'Street and number.', sourceField: 'StreetName' },
        { name: 'line2', type: 'String', writable: true, rule: 'optionalText', description: 'Additional address line.', sourceField: 'AdditionalStreetName' },
        { name: 'city', type: 'String', writable: true, rule: 'text', description: 'City.', sourceField: 'CityName' },
        { name: 'postalCode', type: 'String', writable: true, rule: 'text', description: 'Postal code.', sourceField: 'PostalCode' },
        { name: 'country', type: 'String', writable: true, rule: 'countryCode', description: 'ISO 3166-1 alpha-2 country code.', sourceField: 'Country' },
      ],
    },
    {
      kind: 'object',
      name: 'Money',
      description: 'An amount of money in one currency.',
      owner: 'erp',
      fields: [
        { name: 'amount', type: 'String!', description: 'Decimal amount as a string, so no precision is lost.', sourceField: '*Amount (Edm.Decimal)' },
        { name: 'currency', type: 'String!', description: 'ISO 4217 currency code.', sourceField: 'Currency' },
      ],
    },
    {
      kind: 'object',
      name: 'Ticket',
      description: 'A support request raised by or for the customer.',
      owner: 'support',
      fields: [
        { name: 'id', type: 'ID!', description: 'Support ticket id.', sourceField: 'ticket.id' },
        { name: 'subject', type: 'String', description: 'Ticket subject line.', sourceField: 'ticket.subject' },
        { name: 'body', type: 'String', description: 'First message of the ticket.', sourceField: 'ticket.description' },
        { name: 'status', type: 'TicketStatus', description: 'Where the ticket stands.', sourceField: 'ticket.status' },
        { name: 'priority', type: 'String', description: 'Urgency: low, normal, high or urgent.', sourceField: 'ticket.priority' },
        { name: 'createdAt', type: 'String', description: 'When the ticket was opened (ISO 8601).', sourceField: 'ticket.created_at' },
      ],
    },
    {
      kind: 'enum',
      name: 'LifecycleStage',
      description: 'Stage of the customer in the sales funnel.',
      owner: 'crm',
      sourceField: 'contact.properties.lifecyclestage',
      values: [
        { name: 'SUBSCRIBER', source: 'subscriber', description: 'Signed up for content only.' },
        { name: 'LEAD', source: 'lead', description: 'Showed interest.' },
        { name: 'MARKETING_QUALIFIED_LEAD', source: 'marketingqualifiedlead', description: 'Qualified by marketing.' },
        { name: 'SALES_QUALIFIED_LEAD', source: 'salesqualifiedlead', description: 'Accepted by sales.' },
        { name: 'OPPORTUNITY', source: 'opportunity', description: 'A deal is open.' },
        { name: 'CUSTOMER', source: 'customer', description: 'Has bought.' },
        { name: 'EVANGELIST', source: 'evangelist', description: 'Recommends us.' },
        { name: 'OTHER', source: 'other', description: 'None of the above.' },
      ],
    },
    {
      kind: 'enum',
      name: 'PaymentTerms',
      description: 'When invoices fall due.',
      owner: 'erp',
      sourceField: 'BusinessPartner.PaymentTerms',
      values: [
        { name: 'DUE_ON_RECEIPT', source: 'NT00', description: 'Due when received.' },
        { name: 'NET_14', source: 'NT14', description: 'Due 14 days after the invoice date.' },
        { name: 'NET_30', source: 'NT30', description: 'Due 30 days after the invoice date.' },
        { name: 'NET_60', source: 'NT60', description: 'Due 60 days after the invoice date.' },
        { name: 'PREPAID', source: 'PREP', description: 'Paid before delivery.' },
      ],
    },
    {
      kind: 'enum',
      name: 'AccountStatus',
      description: 'Whether the ERP lets the customer order.',
      owner: 'erp',
      sourceField: 'BusinessPartner.CentralBlockReason',
      values: [
        { name: 'ACTIVE', source: '', description: 'No block.' },
        { name: 'ON_HOLD', source: '01', description: 'Orders held for a credit review.' },
        { name: 'BLOCKED', source: '02', description: 'No orders, deliveries or invoices.' },
      ],
    },
    {
      kind: 'enum',
      name: 'EmailConsent',
      description: 'Consent to marketing email.',
      owner: 'marketing',
      sourceField: 'member.status',
      values: [
        { name: 'SUBSCRIBED', source: 'subscribed', description: 'Opted in.' },
        { name: 'UNSUBSCRIBED', source: 'unsubscribed', description: 'Opted out.' },
        { name: 'CLEANED', source: 'cleaned', description: 'Address bounced and was removed.' },
        { name: 'PENDING', source: 'pending', description: 'Asked to confirm, not yet confirmed.' },
      ],
    },
    {
      kind: 'enum',
      name: 'SupportPlan',
      description: 'Support contract level.',
      owner: 'support',
      sourceField: 'organization.organization_fields.support_plan',
      values: [
        { name: 'BASIC', source: 'basic', description: 'Email support, business hours.' },
        { name: 'BUSINESS', source: 'business', description: 'Phone support, extended hours.' },
        { name: 'ENTERPRISE', source: 'enterprise', description: 'Named engineer, around the clock.' },
      ],
    },
    {
      kind: 'enum',
      name: 'TicketStatus',
      description: 'Where a ticket stands.',
      owner: 'support',
      sourceField: 'ticket.status',
      values: [
        { name: 'NEW', source: 'new', description: 'Not yet looked at.' },
        { name: 'OPEN', source: 'open', description: 'Being worked on.' },
        { name: 'PENDING', source: 'pending', description: 'Waiting for the customer.' },
        { name: 'HOLD', source: 'hold', description: 'Waiting for a third party.' },
        { name: 'SOLVED', source: 'solved', description: 'Solved, may reopen.' },
        { name: 'CLOSED', source: 'closed', description: 'Closed for good.' },
      ],
    },
  ],
};

/** One field of a system's native record, and the canonical fields it feeds (none: data that exists but canon does not expose). */
export interface NativeFieldSpec {
  name: string;
  description: string;
  /** Canonical `Type.field` paths this native field feeds. Checked against the owners above by `validateSystemRecords`. */
  mapsTo?: string[];
}

/** A system's native record as its API serves it. */
export interface SystemRecordSpec {
  system: SystemName;
  /** The kind of product and API the system's connector speaks. */
  api: string;
  record: string;
  fields: NativeFieldSpec[];
}

export const SYSTEM_RECORDS: SystemRecordSpec[] = [
  {
    system: 'crm',
    api: 'HubSpot-style CRM v3 objects API',
    record: 'contact',
    fields: [
      { name: 'id', description: 'Contact id (numeric string).', mapsTo: ['SourceIds.crm'] },
      { name: 'properties.firstname', description: 'First name.', mapsTo: ['Customer.name'] },
      { name: 'properties.lastname', description: 'Last name.', mapsTo: ['Customer.name'] },
      { name: 'properties.email', description: 'Email as typed.', mapsTo: ['Customer.email'] },
      { name: 'properties.phone', description: 'Phone as typed.', mapsTo: ['Customer.phone'] },
      { name: 'properties.country', description: "Contact's country; the region for national phone numbers.", mapsTo: ['Customer.phone'] },
      { name: 'properties.company', description: 'Company name as sales typed it (often the trade name).' },
      { name: 'properties.jobtitle', description: "Contact's job title." },
      { name: 'properties.lifecyclestage', description: 'Funnel stage.', mapsTo: ['Customer.lifecycleStage'] },
      { name: 'properties.canon_external_id', description: "canon's customer id, written by canon to find the record again." },
      { name: 'properties.createdate', description: 'When the contact was created.' },
      { name: 'properties.lastmodifieddate', description: 'Last change.', mapsTo: ['Customer.crmVersion'] },
    ],
  },
  {
    system: 'erp',
    api: 'OData v4 business-partner service (SAP-style)',
    record: 'BusinessPartner',
    fields: [
      { name: 'BusinessPartner', description: 'Business partner number (7 digits).', mapsTo: ['SourceIds.erp'] },
      { name: 'BusinessPartnerName', description: 'Legal name.', mapsTo: ['Customer.legalName'] },
      { name: 'TaxNumber', description: 'VAT or tax number.', mapsTo: ['Customer.taxId'] },
      { name: 'StreetName', description: 'Street and number.', mapsTo: ['Customer.billingAddress', 'Address.line1'] },
      { name: 'AdditionalStreetName', description: 'Additional address line.', mapsTo: ['Customer.billingAddress', 'Address.line2'] },
      { name: 'CityName', description: 'City.', mapsTo: ['Customer.billingAddress', 'Address.city'] },
      { name: 'PostalCode', description: 'Postal code.', mapsTo: ['Customer.billingAddress', 'Address.postalCode'] },
      { name: 'Country', description: 'Country (ISO 3166-1 alpha-2).', mapsTo: ['Customer.billingAddress', 'Address.country'] },
      { name: 'PaymentTerms', description: 'Payment terms key.', mapsTo: ['Customer.paymentTerms'] },
      { name: 'CreditLimitAmount', description: 'Credit limit (Edm.Decimal).', mapsTo: ['Customer.creditLimit', 'Money.amount'] },
      { name: 'OpenBalanceAmount', description: 'Open items total (Edm.Decimal).', mapsTo: ['Customer.openBalance', 'Money.amount'] },
      { name: 'Currency', description: 'Currency of the amounts.', mapsTo: ['Customer.creditLimit', 'Customer.openBalance', 'Money.currency'] },
      { name: 'CentralBlockReason', description: 'Central block ("" none, 01 on hold, 02 blocked).', mapsTo: ['Customer.accountStatus'] },
      { name: 'ExternalID', description: "canon's customer id, written by canon." },
      { name: 'LastChangeDateTime', description: 'Last change.' },
      { name: '@odata.etag', description: 'Entity tag, checked by If-Match on PATCH.', mapsTo: ['Customer.erpVersion'] },
    ],
  },
  {
    system: 'marketing',
    api: 'Mailchimp-style marketing API 3.0 (list members)',
    record: 'member',
    fields: [
      { name: 'id', description: 'Subscriber hash: md5 of the lower-cased email.', mapsTo: ['SourceIds.marketing'] },
      { name: 'email_address', description: 'Email as subscribed (the CRM owns canonical email).' },
      { name: 'unique_email_id', description: "Mailchimp's own id for the address." },
      { name: 'status', description: 'Subscription status.', mapsTo: ['Customer.emailConsent'] },
      { name: 'merge_fields.FNAME', description: 'First name as the list holds it.' },
      { name: 'merge_fields.LNAME', description: 'Last name as the list holds it.' },
      { name: 'merge_fields.PHONE', description: 'Phone as the list holds it (often stale).' },
      { name: 'merge_fields.COMPANY', description: 'Company as the list holds it.' },
      { name: 'tags', description: 'Segmentation tags.' },
      { name: 'timestamp_signup', description: 'When the member signed up.' },
      { name: 'last_changed', description: 'Last change.', mapsTo: ['Customer.marketingVersion'] },
    ],
  },
  {
    system: 'support',
    api: 'Zendesk-style Support API v2',
    record: 'organization',
    fields: [
      { name: 'id', description: 'Organization id.', mapsTo: ['SourceIds.support'] },
      { name: 'name', description: 'Organization name as support typed it.' },
      { name: 'external_id', description: "canon's customer id, written by canon." },
      { name: 'details', description: 'Free-text details.' },
      { name: 'notes', description: 'Internal notes.' },
      { name: 'organization_fields.support_plan', description: 'Support contract level.', mapsTo: ['Customer.supportPlan'] },
      { name: 'open_ticket_counts (show_many sideload)', description: 'Unsolved tickets (new, open, pending or on hold) per organization.', mapsTo: ['Customer.openTickets'] },
      { name: 'tickets', description: "The organization's tickets.", mapsTo: ['Customer.tickets', 'Ticket.id', 'Ticket.subject', 'Ticket.body', 'Ticket.status', 'Ticket.priority', 'Ticket.createdAt'] },
      { name: 'created_at', description: 'When the organization was created.' },
      { name: 'updated_at', description: 'Last change.', mapsTo: ['Customer.supportVersion'] },
    ],
  },
];
