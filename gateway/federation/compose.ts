// Composition of the supergraph, refused when a subgraph's schema disagrees with the ownership declared in schema/model.ts.
//
// Guarantee: `composeCanon` returns `ok: true` only if every canonical field is resolved by exactly its owner,
// no owned field is @shareable, types match the model, no system mutation writes another owner's field,
// and Apollo composition succeeds. Otherwise it returns every problem found, each naming field, subgraph and owner.

import { composeServices } from '@apollo/composition';
import {
  Kind,
  print,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputObjectTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type TypeNode,
} from 'graphql';
import { MODEL, type CanonicalModel } from '../../schema/model.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { copySourceFields, customerFields, enumTypes, isJoinKey, objectTypes, resolvedFields, validateModel, validateSystemRecords } from '../../schema/ownership.js';
import { copyArguments } from '../propagation/plan.js';

export interface SubgraphSource {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

export type ComposeResult = { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; errors: string[] };

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

function objectNodes(doc: DocumentNode, name: string): ObjectNode[] {
  return doc.definitions.filter(
    (d): d is ObjectNode => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === name,
  );
}

function hasDirective(node: { directives?: readonly { name: { value: string } }[] }, name: string): boolean {
  return node.directives?.some((d) => d.name.value === name) ?? false;
}

/** Output types compare without their nullability wrappers only at the top: `String` in the model matches `String` exactly. */
function typeText(t: TypeNode): string {
  return print(t);
}

/** The fields a subgraph resolves on a type: everything not marked @external. */
function resolvedFieldNodes(doc: DocumentNode, typeName: string): { field: FieldDefinitionNode; typeShareable: boolean }[] {
  return objectNodes(doc, typeName).flatMap((node) =>
    (node.fields ?? []).filter((f) => !hasDirective(f, 'external')).map((field) => ({ field, typeShareable: hasDirective(node, 'shareable') })),
  );
}

/** Problems in how `subgraphs` use the canonical model; empty when they match it. */
export function ownershipErrors(subgraphs: SubgraphSource[], model: CanonicalModel = MODEL): string[] {
  const errors: string[] = [];
  const names = new Set(subgraphs.map((s) => s.name));

  for (const type of objectTypes(model)) {
    const declared = new Map(resolvedFields(type).map((f) => [f.name, f]));
    const resolvers = new Map<string, string[]>();
    for (const sg of subgraphs) {
      for (const { field, typeShareable } of resolvedFieldNodes(sg.typeDefs, type.name)) {
        const name = field.name.value;
        const where = `${type.name}.${name}`;
        // Keys shared for joining (crmId, erpId, …) and keys of key-only references (`resolvable: false`) are not data the subgraph serves.
        if ((type.entity && isJoinKey(name)) || inReferenceKey(sg.typeDefs, type.name, name)) continue;
        const spec = declared.get(name);
        if (!spec) {
          errors.push(`${where} is resolved by subgraph "${sg.name}" but is not in the canonical model; declare it in schema/model.ts with its owner first.`);
          continue;
        }
        resolvers.set(name, [...(resolvers.get(name) ?? []), sg.name]);
        if (spec.owner !== sg.name) {
          errors.push(`${where} is resolved by subgraph "${sg.name}", but its declared owner is "${spec.owner}" (schema/model.ts); only ${spec.owner} may resolve it.`);
        }
        if (hasDirective(field, 'shareable') || typeShareable) {
          errors.push(`${where} is marked @shareable in subgraph "${sg.name}"; it is owned by "${spec.owner}" and an owned field has exactly one source of truth.`);
        }
        if (typeText(field.type) !== spec.type) {
          errors.push(`${where} has type ${typeText(field.type)} in subgraph "${sg.name}", but schema/model.ts declares ${spec.type}.`);
        }
      }
    }
    for (const spec of declared.values()) {
      const where = `${type.name}.${spec.name}`;
      const by = resolvers.get(spec.name) ?? [];
      if (by.length === 0) {
        const why = names.has(spec.owner) ? `subgraph "${spec.owner}" does not resolve it` : `no subgraph named "${spec.owner}" is part of the composition`;
        errors.push(`${where} has no owner serving it: its declared owner is "${spec.owner}", but ${why}.`);
      } else if (by.length > 1) {
        errors.push(`${where} is resolved by several subgraphs (${by.join(', ')}); a canonical field has exactly one owner, declared as "${spec.owner}".`);
      }
    }
  }

  for (const e of enumTypes(model)) {
    const expected = e.values.map((v) => v.name).sort().join(', ');
    for (const sg of subgraphs) {
      for (const d of sg.typeDefs.definitions) {
        if (d.kind !== Kind.ENUM_TYPE_DEFINITION || d.name.value !== e.name) continue;
        // canon's control subgraph takes these enums in its write inputs; it must repeat them, and they must match.
        if (sg.name !== e.owner && sg.name !== 'control') errors.push(`enum ${e.name} is defined by subgraph "${sg.name}", but its declared owner is "${e.owner}" (schema/model.ts).`);
        const got = (d.values ?? []).map((v) => v.name.value).sort().join(', ');
        if (got !== expected) errors.push(`enum ${e.name} in subgraph "${sg.name}" has values [${got}], but schema/model.ts declares [${expected}].`);
      }
    }
  }

  errors.push(...mutationOwnershipErrors(subgraphs, model));
  errors.push(...copyMutationErrors(subgraphs));
  return errors;
}

/**
 * A system's copy mutation (`marketingSetCopies`, which propagation calls) takes its arguments in the system's own
 * names, so the owner check above does not see them as writes of canonical fields. It is held to the model instead:
 * every value it takes must set a native field the model declares as a copy that system keeps, so it can never
 * write a field of its own system's or another's that is no declared copy.
 */
export function copyMutationErrors(subgraphs: SubgraphSource[]): string[] {
  const errors: string[] = [];
  for (const sg of subgraphs) {
    if (!(SYSTEMS as readonly string[]).includes(sg.name)) continue;
    const system = sg.name as SystemName;
    const spec = copyArguments(system);
    const declared = new Set([...customerFields().values()].flatMap((f) => (f.copies ?? []).filter((c) => c.system === system).flatMap(copySourceFields)));
    const inputs = new Map(sg.typeDefs.definitions.filter((d): d is InputObjectTypeDefinitionNode => d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION).map((d) => [d.name.value, d]));
    for (const node of objectNodes(sg.typeDefs, 'Mutation')) {
      for (const m of node.fields ?? []) {
        if (!m.name.value.endsWith('SetCopies')) continue;
        const where = `Mutation.${m.name.value} in subgraph "${sg.name}"`;
        if (!spec || spec.mutation !== m.name.value) {
          errors.push(`${where} sets copies, but gateway/propagation/plan.ts names no such copy mutation for ${sg.name}.`);
          continue;
        }
        const leaves = (typeName: string, prefix: string): string[] =>
          (inputs.get(typeName)?.fields ?? []).flatMap((f) => {
            const path = prefix ? `${prefix}.${f.name.value}` : f.name.value;
            return inputs.has(namedType(f.type)) ? leaves(namedType(f.type), path) : [path];
          });
        for (const arg of m.arguments ?? []) {
          if (arg.name.value === 'idempotencyKey') continue;
          for (const path of leaves(namedType(arg.type), '')) {
            if (path === spec.idArg) continue;
            const native = spec.fields.get(path);
            if (!native || !declared.has(native)) {
              errors.push(`${where} takes ${path}, which sets no copy schema/model.ts declares in ${sg.name}${native ? ` (${native})` : ''}; a copy mutation writes declared copies only.`);
            }
          }
        }
      }
    }
  }
  return errors;
}

/** Whether `field` is part of a `@key(fields: …, resolvable: false)` on the type: a reference to an entity another subgraph resolves. */
function inReferenceKey(doc: DocumentNode, typeName: string, field: string): boolean {
  return objectNodes(doc, typeName).some((n) =>
    (n.directives ?? []).some((d) => {
      if (d.name.value !== 'key') return false;
      const fields = d.arguments?.find((a) => a.name.value === 'fields');
      const resolvable = d.arguments?.find((a) => a.name.value === 'resolvable');
      return fields?.value.kind === Kind.STRING && fields.value.value.split(/\s+/).includes(field) && resolvable?.value.kind === Kind.BOOLEAN && !resolvable.value.value;
    }),
  );
}

/**
 * A subgraph mutation may only write fields its subgraph owns. What a mutation writes is read from its arguments
 * and input objects: any argument or input field named like a canonical Customer field is a write to that field.
 * A record's key in its own system (a marketing member's `emailAddress`) is named apart for that reason.
 */
export function mutationOwnershipErrors(subgraphs: SubgraphSource[], model: CanonicalModel = MODEL): string[] {
  const errors: string[] = [];
  const customer = objectTypes(model).find((t) => t.entity);
  if (!customer) return errors;
  const owners = new Map(resolvedFields(customer).map((f) => [f.name, f.owner]));
  for (const sg of subgraphs) {
    if (sg.name === 'control') continue; // canon's own mutations split writes by owner; checked at run time, not here
    const inputs = new Map(
      sg.typeDefs.definitions.filter((d): d is InputObjectTypeDefinitionNode => d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION).map((d) => [d.name.value, d]),
    );
    for (const node of objectNodes(sg.typeDefs, 'Mutation')) {
      for (const m of node.fields ?? []) {
        const seen = new Set<string>();
        const visitInput = (typeName: string) => {
          const input = inputs.get(typeName);
          if (!input || seen.has(typeName)) return;
          seen.add(typeName);
          for (const f of input.fields ?? []) {
            const owner = owners.get(f.name.value);
            if (owner && owner !== sg.name) {
              errors.push(`Mutation.${m.name.value} in subgraph "${sg.name}" writes Customer.${f.name.value} (input ${typeName}.${f.name.value}), but its owner is "${owner}"; a write goes only to the owner.`);
            }
            visitInput(namedType(f.type));
          }
        };
        for (const arg of m.arguments ?? []) {
          // An argument itself named like a canonical field (`email: String`) writes it as surely as an input field does.
          const owner = owners.get(arg.name.value);
          if (owner && owner !== sg.name) {
            errors.push(`Mutation.${m.name.value} in subgraph "${sg.name}" writes Customer.${arg.name.value} (argument ${arg.name.value}), but its owner is "${owner}"; a write goes only to the owner.`);
          }
          visitInput(namedType(arg.type));
        }
      }
    }
  }
  return errors;
}

function namedType(t: TypeNode): string {
  return t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/** Checks ownership (the model, its native records and copies, each subgraph against them), then composes with Apollo Federation. */
export function composeCanon(subgraphs: SubgraphSource[], model: CanonicalModel = MODEL): ComposeResult {
  const errors = [...validateModel(model).map((e) => `schema/model.ts: ${e}`), ...validateSystemRecords(model).map((e) => `schema/model.ts: ${e}`), ...ownershipErrors(subgraphs, model)];
  if (errors.length) return { ok: false, errors };
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: s.typeDefs })));
  if (result.errors) return { ok: false, errors: result.errors.map((e) => `composition: ${e.message}`) };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((h) => h.toString()) };
}
