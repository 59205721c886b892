// ERP subgraph resolvers: business partners mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import { bulkOutcome } from '../kit/batch-write.js';
import type { ErpCustomerInput, Resolvers } from './generated/types.js';
import type { ErpPartner } from './connector.js';

const paymentTerms = enumMapping('PaymentTerms');
const accountStatus = enumMapping('AccountStatus');

function money(amount: string | null, currency: string | null): { amount: string; currency: string } | null {
  return amount == null || currency == null ? null : { amount, currency };
}

function address(p: ErpPartner) {
  if (!p.StreetName && !p.CityName && !p.PostalCode && !p.Country) return null;
  return { line1: p.StreetName, line2: p.AdditionalStreetName, city: p.CityName, postalCode: p.PostalCode, country: p.Country };
}

/** Canonical ERP-owned fields as business partner properties; a field absent from `input` is left out. */
export function partnerProperties(input: ErpCustomerInput): Partial<ErpPartner> {
  const p: Partial<ErpPartner> = {};
  if (input.legalName !== undefined) p.BusinessPartnerName = input.legalName;
  if (input.taxId !== undefined) p.TaxNumber = input.taxId;
  if (input.paymentTerms !== undefined) p.PaymentTerms = input.paymentTerms === null ? null : paymentTerms.toNative(input.paymentTerms);
  if (input.billingAddress !== undefined) {
    const a = input.billingAddress;
    Object.assign(p, { StreetName: a?.line1 ?? null, AdditionalStreetName: a?.line2 ?? null, CityName: a?.city ?? null, PostalCode: a?.postalCode ?? null, Country: a?.country ?? null });
  }
  return p;
}

/** A create sends only what it knows: the ERP fills in what is left (currency from the country, an empty block reason). */
function withoutNulls<T extends object>(props: T): Partial<T> {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

export const resolvers: Resolvers = {
  Query: {
    erpPartnerStatus: async (_, { erpId }, ctx) => {
      const reason = await ctx.connector.partnerStatus(erpId);
      return reason === null ? null : (accountStatus.toCanonical(reason) as never);
    },
  },
  Mutation: {
    erpUpdateCustomer: async (_, { erpId, input, expectedVersion, idempotencyKey }, ctx) =>
      ctx.connector.updatePartner(erpId, partnerProperties(input), expectedVersion, idempotencyKey),
    erpCreatePartner: async (_, { input, externalId, idempotencyKey }, ctx) =>
      ctx.connector.createPartner(withoutNulls(partnerProperties(input)), externalId, idempotencyKey),
    erpBulkUpdateCustomers: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.batchUpdatePartners(
        updates.map((u) => ({ id: u.erpId, properties: partnerProperties(u.input), expectedVersion: u.expectedVersion })),
        idempotencyKey,
      );
      return results.map((r, i) => ({ erpId: updates[i]!.erpId, ...bulkOutcome(r) }));
    },
  },
  Customer: {
    __resolveReference: (ref, ctx) => (ref.erpId == null ? null : ctx.partners.load(String(ref.erpId))),
    erpId: (p) => p.BusinessPartner,
    legalName: (p) => p.BusinessPartnerName,
    taxId: (p) => p.TaxNumber,
    billingAddress: (p) => address(p),
    paymentTerms: (p) => paymentTerms.toCanonical(p.PaymentTerms) as never,
    creditLimit: (p) => money(p.CreditLimitAmount, p.Currency),
    // An empty block reason is how the ERP says "not blocked".
    accountStatus: (p) => accountStatus.toCanonical(p.CentralBlockReason ?? '') as never,
    openBalance: (p) => money(p.OpenBalanceAmount, p.Currency),
    erpVersion: (p) => p['@odata.etag'],
  },
};
