// Everything derived from the canonical model: who owns which field, what apps may write, enum mappings, and the model's own consistency check.

import { MODEL, OWNERS, SYSTEMS, SYSTEM_RECORDS, type CanonicalModel, type CopySpec, type EnumTypeSpec, type FieldSpec, type ObjectTypeSpec, type Owner, type SystemName, type SystemRecordSpec } from './model.js';

/** A field with its owner resolved (fields inherit their type's owner). */
export interface ResolvedField extends FieldSpec {
  owner: Owner;
  writable: boolean;
  typeName: string;
}

export function objectTypes(model: CanonicalModel = MODEL): ObjectTypeSpec[] {
  return model.types.filter((t): t is ObjectTypeSpec => t.kind === 'object');
}

export function enumTypes(model: CanonicalModel = MODEL): EnumTypeSpec[] {
  return model.types.filter((t): t is EnumTypeSpec => t.kind === 'enum');
}

// Derived once per model object (the write path asks for these on every request): a model is plain data, never
// changed once declared, so what derives from it is shared, read-only.
const resolvedByType = new WeakMap<ObjectTypeSpec, readonly ResolvedField[]>();
const fieldsByModel = new WeakMap<CanonicalModel, ReadonlyMap<string, ResolvedField>>();
const ownersByModel = new WeakMap<CanonicalModel, ReadonlyMap<string, Owner>>();

function remembered<K extends object, V>(cache: WeakMap<K, V>, key: K, make: () => V): V {
  let v = cache.get(key);
  if (v === undefined) cache.set(key, (v = make()));
  return v;
}

export function resolvedFields(type: ObjectTypeSpec): readonly ResolvedField[] {
  return remembered(resolvedByType, type, () => type.fields.map((f) => ({ ...f, owner: f.owner ?? type.owner, writable: f.writable ?? false, typeName: type.name })));
}

export function customerType(model: CanonicalModel = MODEL): ObjectTypeSpec {
  const t = model.types.find((x) => x.name === 'Customer');
  if (!t || t.kind !== 'object') throw new Error('The canonical model must declare an object type "Customer".');
  return t;
}

/** Customer field name → its field spec with owner resolved. */
export function customerFields(model: CanonicalModel = MODEL): ReadonlyMap<string, ResolvedField> {
  return remembered(fieldsByModel, model, () => new Map(resolvedFields(customerType(model)).map((f) => [f.name, f])));
}

/** Customer field name → owning system. The map write routing and composition checks use. */
export function ownershipMap(model: CanonicalModel = MODEL): ReadonlyMap<string, Owner> {
  return remembered(ownersByModel, model, () => new Map([...customerFields(model)].map(([name, f]) => [name, f.owner])));
}

/** Customer fields apps may write, grouped by owner, in model order. */
export function writableFieldsByOwner(model: CanonicalModel = MODEL): Map<SystemName, ResolvedField[]> {
  const out = new Map<SystemName, ResolvedField[]>();
  for (const f of customerFields(model).values()) {
    if (!f.writable || f.owner === 'identity') continue;
    const list = out.get(f.owner) ?? [];
    list.push(f);
    out.set(f.owner, list);
  }
  return out;
}

/** The Customer fields a system owns (what its subgraph must resolve, and nothing else). */
export function fieldsOwnedBy(owner: Owner, model: CanonicalModel = MODEL): ResolvedField[] {
  return [...customerFields(model).values()].filter((f) => f.owner === owner);
}

/**
 * The scope an app needs to read a field its owner serves: `read:<system>`. Identity's fields (ids, the crosswalk,
 * the pages of customers) need none beyond a valid app: every other field hangs off them.
 */
export function readScopeOf(owner: Owner): string | null {
  return owner === 'identity' ? null : `read:${owner}`;
}

/** The scope an app needs to write a field a system owns: `write:<system>`. */
export function writeScopeOf(owner: SystemName): string {
  return `write:${owner}`;
}

/** The owner of a type's fields unless a field says otherwise, e.g. support for Ticket. */
export function ownerOfType(name: string, model: CanonicalModel = MODEL): Owner {
  const t = model.types.find((x) => x.name === name);
  if (!t) throw new Error(`No canonical type named "${name}" in schema/model.ts.`);
  return t.owner;
}

/** The federation join key each subgraph keys Customer by: `crmId` for the CRM, etc. Not canonical fields. */
export function joinKeyOf(system: SystemName): string {
  return `${system}Id`;
}

export function isJoinKey(fieldName: string): boolean {
  return SYSTEMS.some((s) => fieldName === joinKeyOf(s));
}

/** Maps between canonical enum values and the owner's native values, both ways. */
export interface EnumMapping {
  toCanonical(native: string | null | undefined): string | null;
  toNative(canonical: string): string;
}

export function enumMapping(name: string, model: CanonicalModel = MODEL): EnumMapping {
  const spec = enumTypes(model).find((e) => e.name === name);
  if (!spec) throw new Error(`No canonical enum named "${name}" in schema/model.ts.`);
  const byNative = new Map(spec.values.map((v) => [v.source, v.name]));
  const byName = new Map(spec.values.map((v) => [v.name, v.source]));
  return {
    toCanonical(native) {
      if (native === null || native === undefined) return null;
      return byNative.get(native) ?? null;
    },
    toNative(canonical) {
      const v = byName.get(canonical);
      if (v === undefined) throw new Error(`"${canonical}" is not a value of ${name}; expected one of ${[...byName.keys()].join(', ')}.`);
      return v;
    },
  };
}

/**
 * Checks the model declares what the rest of canon relies on: every field exactly one known owner,
 * a meaning and a source field. Returns the problems found (empty when the model is sound).
 */
export function validateModel(model: CanonicalModel): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const t of model.types) {
    if (names.has(t.name)) problems.push(`Type ${t.name} is declared twice.`);
    names.add(t.name);
    if (!t.description?.trim()) problems.push(`Type ${t.name} has no description.`);
    if (t.kind === 'enum') continue;
    const fieldNames = new Set<string>();
    for (const f of t.fields) {
      const where = `${t.name}.${f.name}`;
      if (fieldNames.has(f.name)) problems.push(`${where} is declared twice.`);
      fieldNames.add(f.name);
      const owner: unknown = f.owner ?? t.owner;
      if (Array.isArray(owner)) {
        problems.push(`${where} declares several owners (${owner.join(', ')}); every canonical field has exactly one owner.`);
      } else if (owner === undefined || owner === null || owner === '') {
        problems.push(`${where} has no owner; every canonical field has exactly one owner.`);
      } else if (!OWNERS.includes(owner as Owner)) {
        problems.push(`${where} is owned by "${String(owner)}", which is not a known system (${OWNERS.join(', ')}).`);
      }
      if (!f.description?.trim()) problems.push(`${where} has no description of what it means.`);
      if (!f.sourceField?.trim()) problems.push(`${where} has no source field.`);
      if (f.writable && owner === 'identity') problems.push(`${where} is owned by identity and cannot be writable.`);
    }
  }
  return problems;
}

/**
 * Checks the native records against the model: every mapping points at a canonical field the same system owns
 * (or its own source id), and every field a system owns is fed by at least one of its native fields.
 */
export function validateSystemRecords(model: CanonicalModel = MODEL, records: SystemRecordSpec[] = SYSTEM_RECORDS): string[] {
  const problems: string[] = [];
  const owners = new Map<string, Owner>();
  for (const t of objectTypes(model)) for (const f of resolvedFields(t)) owners.set(`${t.name}.${f.name}`, f.owner);
  for (const r of records) {
    const fed = new Set<string>();
    for (const nf of r.fields) {
      for (const target of nf.mapsTo ?? []) {
        fed.add(target);
        if (target === `SourceIds.${r.system}`) continue;
        const owner = owners.get(target);
        if (!owner) problems.push(`${r.system} ${r.record}.${nf.name} maps to ${target}, which is not a canonical field.`);
        else if (owner !== r.system) problems.push(`${r.system} ${r.record}.${nf.name} maps to ${target}, but that field is owned by ${owner}.`);
      }
    }
    for (const [path, owner] of owners) {
      if (owner === r.system && !fed.has(path)) problems.push(`${path} is owned by ${r.system}, but no native field of its ${r.record} maps to it.`);
    }
  }
  // A copy is kept by another system, in native fields its record declares.
  for (const t of objectTypes(model)) {
    for (const f of resolvedFields(t)) {
      for (const copy of f.copies ?? []) {
        const where = `${t.name}.${f.name}'s copy in ${copy.system}`;
        const record = records.find((r) => r.system === copy.system);
        if (copy.system === f.owner) problems.push(`${where} is kept by its owner; a copy is another system's.`);
        for (const part of copySourceFields(copy)) {
          if (record && !record.fields.some((nf) => nf.name === part)) problems.push(`${where} names ${part}, which is no native field of its ${record.record}.`);
        }
      }
    }
  }
  return problems;
}

/** The native fields a copy's value is read from, in order (`merge_fields.FNAME + merge_fields.LNAME` is two). */
export function copySourceFields(copy: CopySpec): string[] {
  return copy.sourceField.split(' + ').map((p) => p.trim());
}
