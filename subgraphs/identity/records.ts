// A native record as identity resolution reads it: the matcher's input for each system's record, the skeleton a record known by its id only is stored as, references (`<system>:<nativeId>`), and the refusal resolution answers with.

import type { SystemName } from '../../schema/model.js';
import { fromCrmContact, fromErpPartner, fromMarketingMember, fromSupportOrganization, type MatchInput, type Ref } from './matching/index.js';

/** A refusal of an operation, with the code the resolvers give it. */
export class ResolutionError extends Error {
  constructor(readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND', message: string) {
    super(message);
  }
}

/** One native record as a change feed delivered it: its id and the record as the connector reads it, as JSON. */
export interface DeliveredRecord {
  nativeId: string;
  fields: string;
}

const ADAPTERS: Record<SystemName, (record: any) => MatchInput> = {
  crm: fromCrmContact,
  erp: fromErpPartner,
  marketing: fromMarketingMember,
  support: fromSupportOrganization,
};

/** A record known by its id only, in each system's shape (what `link` stores until the feed brings the record). */
export const SKELETONS: Record<SystemName, (id: string) => unknown> = {
  crm: (id) => ({ id, properties: {} }),
  erp: (id) => ({ BusinessPartner: id }),
  marketing: (id) => ({ id, merge_fields: {} }),
  support: (id) => ({ id: Number(id) }),
};

export function parseRef(ref: Ref): { system: SystemName; nativeId: string } {
  const at = ref.indexOf(':');
  return { system: ref.slice(0, at) as SystemName, nativeId: ref.slice(at + 1) };
}

/** The matcher's input for a stored or delivered record; throws a ResolutionError naming what is wrong with it. */
export function inputOf(system: SystemName, nativeId: string, fields: string): MatchInput {
  let record: unknown;
  try {
    record = JSON.parse(fields);
  } catch {
    throw new ResolutionError('BAD_USER_INPUT', `${system} record ${nativeId}: fields must be the record as JSON`);
  }
  if (!record || typeof record !== 'object') throw new ResolutionError('BAD_USER_INPUT', `${system} record ${nativeId}: fields must be a JSON object`);
  const input = ADAPTERS[system](record);
  if (input.nativeId !== nativeId) throw new ResolutionError('BAD_USER_INPUT', `${system} record ${nativeId}: its fields carry the id ${input.nativeId}`);
  return input;
}
