// Which scope each field of canon's API needs: derived from the model's owners and the supergraph's routing, with canon's own root fields declared here once.
//
// Terminology
// - scope: a permission an app holds. `read:<system>` and `write:<system>` for the fields each system owns (one
//   pair per entry of SYSTEMS), and canon's own: workflows:run, operations:read, operations:retry, admin, model:read,
//   quality:read (dataQuality, for data owners).
// - read rule: the scope a selected field needs; without it the field is null with FORBIDDEN and its owner is not
//   asked (gateway/security/field-filter.ts).
// - write rule: the scopes a root mutation needs, from its arguments; without any of them the whole write is refused.
// Guarantee: a root field nobody declared fails closed: a control field needs admin, a system's needs its read
// scope. Fields of canon's own result types (operations, payloads) need nothing beyond the root that returns them.

import { Kind, parse, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import { SYSTEMS, type Owner, type SystemName } from '../../schema/model.js';
import { customerFields, objectTypes, ownerOfType, readScopeOf, resolvedFields, writeScopeOf } from '../../schema/ownership.js';

/** canon's own scopes, beside each system's read and write. */
const CANON_SCOPES = ['workflows:run', 'operations:read', 'operations:retry', 'admin', 'model:read', 'quality:read'] as const;

/** Every scope an app may hold, in a stable order: each system's read and write, then canon's own. */
export const SCOPES: readonly string[] = [...SYSTEMS.flatMap((s) => [readScopeOf(s)!, writeScopeOf(s)]), ...CANON_SCOPES];
const KNOWN = new Set(SCOPES);

export type ScopeList = { ok: true; scopes: string[] } | { ok: false; unknown: string[] };

/** Checks names against SCOPES: every one known, or the unknown ones named. Duplicates collapse; order follows SCOPES. */
export function parseScopes(names: readonly string[]): ScopeList {
  const unknown = names.filter((n) => !KNOWN.has(n));
  if (unknown.length) return { ok: false, unknown };
  const wanted = new Set(names);
  return { ok: true, scopes: SCOPES.filter((s) => wanted.has(s)) };
}

/** Whether an app holding `held` may do what `required` guards. admin includes model:read and quality:read (operators read the model and its data quality). */
export function holds(held: ReadonlySet<string>, required: string): boolean {
  return held.has(required) || ((required === 'model:read' || required === 'quality:read') && held.has('admin'));
}

/** One scope a write lacks: the field (input field or root field) that needs it, and its owner where a system owns it. */
export interface MissingScope {
  field: string;
  scope: string;
  owner?: SystemName;
}

/** What a root mutation needs, as (field, scope) pairs, from its arguments as the app sent them. */
type WriteRule = (args: Record<string, unknown>) => { field: string; scope: string; owner?: SystemName }[];

/** updateCustomer writes each input field to its owner: every owner named needs its write scope (a null clears, so it counts). */
const updateCustomerRule: WriteRule = (args) => {
  const fields = customerFields();
  const input = (args.input ?? {}) as Record<string, unknown>;
  return Object.keys(input).flatMap((name) => {
    const owner = fields.get(name)?.owner;
    // Names the model does not know never got past validation; identity owns nothing writable.
    if (!owner || owner === 'identity') return [];
    return [{ field: name, scope: writeScopeOf(owner), owner }];
  });
};

/** canon's own root fields (the control subgraph's) and what each needs. A field not listed needs admin. */
const CONTROL_READS: Record<string, string | 'model'> = {
  dataModel: 'model',
  workflows: 'model',
  operations: 'operations:read',
  operation: 'operations:read',
  // Served by identity, yet only operators review matches (mergeCustomers, unlinkRecord and resolveMatch need admin as undeclared writes).
  matchCandidates: 'admin',
};

/** Queued and multi-system workflows need workflows:run besides the write scope of every system they write. */
const WORKFLOWS_RUN = 'workflows:run';
const dedupe = (rules: ReturnType<WriteRule>) => [...new Map(rules.map((r) => [r.scope, r])).values()];

/** bulkUpdateCustomers: updateCustomer's rule for every update, each missing scope named once (at its first field). */
const bulkRule: WriteRule = (args) => {
  const updates = (args.updates ?? []) as { input?: Record<string, unknown> }[];
  return dedupe([{ field: 'bulkUpdateCustomers', scope: WORKFLOWS_RUN }, ...updates.flatMap((u, i) => updateCustomerRule({ input: u.input }).map((r) => ({ ...r, field: `updates[${i}].input.${r.field}` })))]);
};

/** onboardCustomer creates a record in the CRM, the ERP and support always, and in marketing when emailConsent is given. */
const onboardRule: WriteRule = (args) => {
  const created: SystemName[] = ['crm', 'erp', 'support'];
  return dedupe([
    { field: 'onboardCustomer', scope: WORKFLOWS_RUN },
    ...created.map((owner) => ({ field: 'onboardCustomer', scope: writeScopeOf(owner), owner })),
    ...updateCustomerRule(args),
  ]);
};

/** Root fields of the identity subgraph meant for data owners only, and the scope each needs. */
const IDENTITY_READS: Record<string, string> = {
  dataQuality: 'quality:read',
};

const ticketOwner = ownerOfType('Ticket') as SystemName;
const CONTROL_WRITES: Record<string, WriteRule> = {
  updateCustomer: updateCustomerRule,
  openTicket: () => [{ field: 'openTicket', scope: writeScopeOf(ticketOwner), owner: ticketOwner }],
  retryOperation: () => [{ field: 'retryOperation', scope: 'operations:retry' }],
  bulkUpdateCustomers: bulkRule,
  onboardCustomer: onboardRule,
};

/** `Type.field` → the subgraphs that resolve it, read from the supergraph's join directives. */
function servingGraphs(supergraph: DocumentNode): Map<string, string[]> {
  const arg = (d: ConstDirectiveNode, name: string) => {
    const v = d.arguments?.find((a) => a.name.value === name)?.value;
    return v && (v.kind === Kind.ENUM || v.kind === Kind.STRING || v.kind === Kind.BOOLEAN) ? String(v.value) : undefined;
  };
  const graphNames = new Map<string, string>();
  for (const def of supergraph.definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const v of def.values ?? []) {
      const d = v.directives?.find((x) => x.name.value === 'join__graph');
      if (d) graphNames.set(v.name.value, arg(d, 'name') ?? v.name.value.toLowerCase());
    }
  }
  const out = new Map<string, string[]>();
  for (const def of supergraph.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const typeGraphs = (def.directives ?? []).filter((d) => d.name.value === 'join__type').map((d) => arg(d, 'graph')!);
    for (const f of def.fields ?? []) {
      const joins = (f.directives ?? []).filter((d) => d.name.value === 'join__field' && arg(d, 'external') !== 'true');
      const graphs = joins.length ? joins.map((d) => arg(d, 'graph')!) : typeGraphs;
      out.set(`${def.name.value}.${f.name.value}`, [...new Set(graphs.map((g) => graphNames.get(g) ?? g.toLowerCase()))]);
    }
  }
  return out;
}

export interface ScopeRulesOptions {
  /** Introspection and dataModel need model:read (or admin). Default false. */
  modelNeedsScope?: boolean;
}

/** The read and write rules of one supergraph. */
export class ScopeRules {
  private readonly reads = new Map<string, string | null>();
  private readonly graphs: Map<string, string[]>;
  private readonly modelScope: string | null;

  constructor(supergraphSdl: string, opts: ScopeRulesOptions = {}) {
    this.graphs = servingGraphs(parse(supergraphSdl));
    this.modelScope = opts.modelNeedsScope ? 'model:read' : null;
    // The model says who owns each of its fields; that is the rule, whatever subgraph also carries the key.
    for (const t of objectTypes()) for (const f of resolvedFields(t)) this.reads.set(`${t.name}.${f.name}`, readScopeOf(f.owner));
    for (const [name, rule] of Object.entries(CONTROL_READS)) this.reads.set(`Query.${name}`, rule === 'model' ? this.modelScope : rule);
    for (const [name, scope] of Object.entries(IDENTITY_READS)) this.reads.set(`Query.${name}`, scope);
    this.reads.set('Query.__schema', this.modelScope);
    this.reads.set('Query.__type', this.modelScope);
  }

  /** The scope reading `type.field` needs, or null when any app may read it. */
  readScope(type: string, field: string): string | null {
    const key = `${type}.${field}`;
    const known = this.reads.get(key);
    if (known !== undefined) return known;
    const rule = this.derive(type, key);
    this.reads.set(key, rule);
    return rule;
  }

  private derive(type: string, key: string): string | null {
    const graphs = (this.graphs.get(key) ?? []) as Owner[];
    const root = type === 'Query' || type === 'Mutation' || type === 'Subscription';
    if (graphs.includes('identity')) return null;
    const systems = graphs.filter((g): g is SystemName => (SYSTEMS as readonly string[]).includes(g));
    // Served by systems only: reading it calls one of them.
    if (systems.length && systems.length === graphs.length) return readScopeOf(systems[0]!);
    // A root field of canon's own that nobody gave a rule: only operators may use it until someone does.
    if (root) return 'admin';
    return null;
  }

  /** What a root mutation needs that `held` lacks; empty when it may run. */
  missingForWrite(field: string, args: Record<string, unknown>, held: ReadonlySet<string>): MissingScope[] {
    const rule = CONTROL_WRITES[field] ?? (() => [{ field, scope: 'admin' }]);
    return rule(args).filter((r) => !holds(held, r.scope));
  }
}
