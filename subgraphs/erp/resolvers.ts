// ERP subgraph resolvers: business partners mapped into canonical Customer fields.

import { enumMapping } from '../../schema/ownership.js';
import type { Resolvers } from './generated/types.js';
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

export const resolvers: Resolvers = {
  Mutation: {
    erpUpdateCustomer: async (_, { erpId, input, expectedVersion, idempotencyKey }, ctx) => {
      const p: Partial<ErpPartner> = {};
      if (input.legalName !== undefined) p.BusinessPartnerName = input.legalName;
      if (input.taxId !== undefined) p.TaxNumber = input.taxId;
      if (input.paymentTerms !== undefined) p.PaymentTerms = input.paymentTerms === null ? null : paymentTerms.toNative(input.paymentTerms);
      if (input.billingAddress !== undefined) {
        const a = input.billingAddress;
        Object.assign(p, { StreetName: a?.line1 ?? null, AdditionalStreetName: a?.line2 ?? null, CityName: a?.city ?? null, PostalCode: a?.postalCode ?? null, Country: a?.country ?? null });
      }
      return ctx.connector.updatePartner(erpId, p, expectedVersion, idempotencyKey);
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
