// The queries the bench sends: the overhead query (a page of customers with fields from every system) and its per-system parts.

import type { SystemName } from '../../schema/model.js';

export const FULL_FIELDS = 'id name email legalName creditLimit { amount currency } emailConsent supportPlan openTickets';
export const customersQuery = (first: number, fields: string) => `{ customers(first: ${first}) { edges { node { ${fields} } } } }`;
export const OVERHEAD_QUERY = customersQuery(20, FULL_FIELDS);
/** Per system, the fields of the overhead query it owns: querying id plus these alone times identity plus that system. */
export const SYSTEM_FIELDS: Record<SystemName, string> = {
  crm: 'name email',
  erp: 'legalName creditLimit { amount currency }',
  marketing: 'emailConsent',
  support: 'supportPlan openTickets',
};
