// What propagation writes for one owner change: the copies schema/model.ts declares for the field, each copy's native values from the owner's value, each copy's policy, and the subgraph mutation that sets copies in each system.
//
// Guarantee: every copy the model declares has a way to be written here; `copyWriteProblems()` names any native
// field of a declared copy that no copy mutation takes (a test holds it at none), so a copy is never skipped quietly.

import type { SystemName } from '../../schema/model.js';
import { copySourceFields, customerFields } from '../../schema/ownership.js';

export type CopyPolicy = 'REPORT' | 'ENFORCE';

/** One copy of a field: the system keeping it, where, and the native fields its value is split into. */
export interface CopyTarget {
  system: SystemName;
  sourceField: string;
  paths: string[];
  policy: CopyPolicy;
}

/** `COPY_POLICIES` (gateway/config.ts): `<field>.<system>=REPORT|ENFORCE`, comma-separated; throws naming a malformed part. */
export function parseCopyPolicies(raw: string | undefined): Record<string, CopyPolicy> {
  const out: Record<string, CopyPolicy> = {};
  for (const part of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)\.([a-z]+)=(REPORT|ENFORCE)$/.exec(part);
    if (!m) throw new Error(`COPY_POLICIES must be <field>.<system>=REPORT|ENFORCE, comma-separated (e.g. name.marketing=ENFORCE); got "${part}".`);
    out[`${m[1]}.${m[2]}`] = m[3] as CopyPolicy;
  }
  return out;
}

/** The copies of `field` the model declares, in model order; `overrides` (`<field>.<system>`) replace their policies. */
export function copiesOf(field: string, overrides: Record<string, CopyPolicy> = {}): CopyTarget[] {
  return (customerFields().get(field)?.copies ?? []).map((c) => ({
    system: c.system,
    sourceField: c.sourceField,
    paths: copySourceFields(c),
    policy: overrides[`${field}.${c.system}`] ?? c.policy ?? 'REPORT',
  }));
}

/**
 * The owner's value as the copy's native fields: a value split over two fields (first name + last name) is split
 * the way the CRM stores a name (first word, then the rest); one field takes the value whole.
 */
export function nativeValues(copy: CopyTarget, value: string): Record<string, string> {
  if (copy.paths.length === 1) return { [copy.paths[0]!]: value };
  const [first, ...rest] = value.trim().split(/\s+/);
  const parts = [first ?? '', rest.join(' ')];
  return Object.fromEntries(copy.paths.map((p, i) => [p, i < parts.length - 1 ? parts[i]! : parts.slice(i).join(' ')]));
}

/** How each system's copy mutation takes a native field: the input field it goes to (dotted: nested). */
const COPY_ARGS: Record<SystemName, { mutation: string; inputType: string; idArg: string; fields: Record<string, string> } | null> = {
  crm: { mutation: 'crmSetCopies', inputType: 'CrmCopyInput', idArg: 'crmId', fields: { 'properties.company': 'company' } },
  erp: null,
  marketing: {
    mutation: 'marketingSetCopies',
    inputType: 'MarketingCopyInput',
    idArg: 'marketingId',
    fields: { 'merge_fields.FNAME': 'mergeFields.FNAME', 'merge_fields.LNAME': 'mergeFields.LNAME', 'merge_fields.PHONE': 'mergeFields.PHONE', 'merge_fields.COMPANY': 'mergeFields.COMPANY', email_address: 'emailAddress' },
  },
  support: { mutation: 'supportSetCopies', inputType: 'SupportCopyInput', idArg: 'supportId', fields: { name: 'organizationName' } },
};

/**
 * The copy mutation of a system, and for each argument path it takes (`mergeFields.FNAME`) the native field it sets;
 * null for a system that keeps no copies. What composition holds each subgraph's copy mutation to.
 */
export function copyArguments(system: SystemName): { mutation: string; idArg: string; fields: Map<string, string> } | null {
  const spec = COPY_ARGS[system];
  return spec ? { mutation: spec.mutation, idArg: spec.idArg, fields: new Map(Object.entries(spec.fields).map(([native, arg]) => [arg, native])) } : null;
}

/** The native fields of declared copies that no copy mutation takes: empty when every copy can be written. */
export function copyWriteProblems(): string[] {
  const out: string[] = [];
  for (const f of customerFields().values()) {
    for (const c of f.copies ?? []) {
      for (const p of copySourceFields(c)) if (!COPY_ARGS[c.system]?.fields[p]) out.push(`Customer.${f.name}'s copy in ${c.system} (${p}) has no copy mutation argument in gateway/propagation/plan.ts`);
    }
  }
  return out;
}

/** The native fields a system cannot hold empty: a Mailchimp member has an address, a Zendesk organization a name. */
const REQUIRED: Partial<Record<SystemName, readonly string[]>> = { marketing: ['email_address'], support: ['name'] };

/** The native field of `copy` its system refuses to clear (so a cleared owner value is not written to it), or null. */
export function unwritable(copy: CopyTarget): string | null {
  return copy.paths.find((p) => REQUIRED[copy.system]?.includes(p)) ?? null;
}

/** The key of a copy whose write moves its record (a member's address is its key): its new native id comes back. */
export const MOVES_RECORD: Partial<Record<SystemName, string>> = { marketing: 'email_address' };

/** One record's copies to set. */
export interface CopyUpdate {
  nativeId: string;
  values: Record<string, string>;
}

/** The subgraph mutation setting `updates` in `system`, and how to read one result per update (new native id, or error). */
export function copyMutation(system: SystemName, updates: readonly CopyUpdate[], idempotencyKey: string | null) {
  const spec = COPY_ARGS[system];
  if (!spec) throw new Error(`${system} keeps no copies canon writes`);
  const inputs = updates.map((u) => {
    const input: Record<string, any> = { [spec.idArg]: u.nativeId };
    for (const [path, value] of Object.entries(u.values)) {
      const arg = spec.fields[path];
      if (!arg) throw new Error(`${system} has no copy argument for ${path}`);
      const [head, tail] = arg.split('.');
      if (tail) (input[head!] ??= {})[tail] = value;
      else input[head!] = value;
    }
    return input;
  });
  return {
    subgraph: system,
    query: `mutation($u: [${spec.inputType}!]!, $key: String) { ${spec.mutation}(updates: $u, idempotencyKey: $key) { ${spec.idArg} error { code message retryable retryAfterSeconds } } }`,
    variables: { u: inputs, key: idempotencyKey },
    results: (data: any): { nativeId: string; error: { code: string; message: string; retryable: boolean; retryAfterSeconds: number | null } | null }[] =>
      (data[spec.mutation] as any[]).map((r) => ({ nativeId: String(r[spec.idArg]), error: r.error ?? null })),
  };
}
