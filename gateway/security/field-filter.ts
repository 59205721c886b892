// Scopes applied at plan time: Apollo Gateway's executor wrapped so an app's operation loses the fields it may not read before the gateway plans it, and gets them back as null with FORBIDDEN afterwards.
//
// Terminology
// - placeholder: what a forbidden field becomes in the operation the gateway plans: `<its response key>: __typename`.
//   __typename is answered by whichever subgraph already holds the parent, so the field's owner gets no request; the
//   response key stays in place, so the answer keeps the shape (and key order) the app asked for.
// - reinsertion: after execution, every placeholder's value is replaced by null and one FORBIDDEN error with its
//   path, lists included; a forbidden non-null field makes its nearest nullable parent null, as GraphQL would.
// Guarantees
// - A field whose scope the app lacks never reaches a query plan, so its system receives no request.
// - A mutation any root field of which needs a write scope the app lacks is not executed at all: every missing
//   (field, scope) is named, nothing is written anywhere, and the refusal has no path, so the operations plugin
//   records it as refused before any resolver ran.
// - An app holding every read scope runs the document it sent, untouched (nothing is visited or copied).

import { createHash } from 'node:crypto';
import type { GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  getArgumentValues,
  getVariableValues,
  GraphQLError,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { holds, SCOPES, type MissingScope, type ScopeRules } from './scopes.js';

/** What the filter needs to know of the request's app (gateway/federation/context.ts carries it). */
interface ScopedContext {
  app?: string | null;
  scopes?: ReadonlySet<string>;
}

/** A field taken out of the operation: where it was, what it needs, and its original node (for the error's location). */
interface Forbidden {
  type: string;
  parentIsObject: boolean;
  field: string;
  scope: string;
  nonNull: boolean;
  node: FieldNode;
}

interface Filtered {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  placeholders: Map<FieldNode, Forbidden>;
  /** `Type.field` of every field taken out, sorted: with the original query hash, the key of the plan cached for it. */
  removed: string;
}

/** The operation the request runs (by name, or the only one), with the document's fragments. */
function operationOf(document: DocumentNode, name: string | null | undefined): { op: OperationDefinitionNode | undefined; fragments: Map<string, FragmentDefinitionNode> } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let op: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!name || d.name?.value === name)) op ??= d;
  }
  return { op, fragments };
}

/** The root fields an operation selects, through fragments and inline fragments. */
function rootFields(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): FieldNode[] {
  return selectionSet.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD) return [s];
    if (s.kind === Kind.INLINE_FRAGMENT) return rootFields(s.selectionSet, fragments);
    const f = fragments.get(s.name.value);
    return f ? rootFields(f.selectionSet, fragments) : [];
  });
}

/** Replaces every field `held` may not read by its placeholder; null when there is none. */
function filterDocument(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, rules: ScopeRules, held: ReadonlySet<string>): Filtered | null {
  const typeInfo = new TypeInfo(schema);
  const mutationType = schema.getMutationType();
  const placeholders = new Map<FieldNode, Forbidden>();
  const removed = new Set<string>();
  const edited = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const name = node.name.value;
        // A root mutation's own scopes are write scopes, checked for the whole operation before this runs.
        if (!parent || name === '__typename' || parent === mutationType) return undefined;
        const scope = rules.readScope(parent.name, name);
        if (scope === null || holds(held, scope)) return undefined;
        const placeholder: FieldNode = { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: node.alias?.value ?? name }, name: { kind: Kind.NAME, value: '__typename' }, directives: node.directives };
        const def = typeInfo.getFieldDef();
        placeholders.set(placeholder, { type: parent.name, parentIsObject: isObjectType(parent), field: name, scope, nonNull: def ? isNonNullType(def.type) : false, node });
        removed.add(`${parent.name}.${name}`);
        return placeholder;
      },
    }),
  );
  if (!placeholders.size) return null;
  const { op } = operationOf(edited, operationName);
  return { document: edited, operation: op!, placeholders, removed: [...removed].sort().join(',') };
}

function forbiddenRead(f: Forbidden, app: string | null | undefined, path: (string | number)[]): GraphQLError {
  const who = app ? `the app "${app}"` : 'this app';
  const owner = f.scope.startsWith('read:') ? f.scope.slice('read:'.length) : null;
  const tail = owner ? ` ${owner} was not asked for it.` : '';
  return new GraphQLError(`${f.type}.${f.field} needs the scope ${f.scope}, which ${who} does not hold.${tail}`, {
    nodes: [f.node],
    path,
    extensions: { code: ErrorCode.FORBIDDEN, field: f.field, type: f.type, scope: f.scope, ...(owner ? { owner } : {}) },
  });
}

function forbiddenWrite(m: MissingScope, root: string, app: string | null | undefined): GraphQLError {
  const who = app ? `The app "${app}"` : 'This app';
  const what = m.field === root ? root : `${root} of ${m.field}`;
  return new GraphQLError(`${who} may not run ${what}: it needs the scope ${m.scope}. Nothing was written.`, {
    extensions: { code: ErrorCode.FORBIDDEN, field: m.field, scope: m.scope, ...(m.owner ? { owner: m.owner } : {}) },
  });
}

/**
 * Puts nulls where the placeholders answered, with one error per position. Walks the planned operation over the
 * data; returns true when the value walked must itself become null (a forbidden non-null field inside it).
 */
class Reinsertion {
  readonly errors: GraphQLError[] = [];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
    private readonly placeholders: Map<FieldNode, Forbidden>,
    private readonly app: string | null | undefined,
  ) {}

  value(value: unknown, type: GraphQLOutputType, selectionSet: SelectionSetNode, path: (string | number)[]): boolean {
    if (value === null || value === undefined) return false;
    const t = isNonNullType(type) ? type.ofType : type;
    if (isListType(t)) {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) {
        if (!this.value(list[i], t.ofType, selectionSet, [...path, i])) continue;
        if (isNonNullType(t.ofType)) return true;
        list[i] = null;
      }
      return false;
    }
    return isCompositeType(t) ? this.object(value as Record<string, unknown>, t, selectionSet, path) : false;
  }

  object(obj: Record<string, unknown>, type: GraphQLCompositeType, selectionSet: SelectionSetNode, path: (string | number)[]): boolean {
    // Siblings are still walked once this object must become null: each forbidden field gets its error, as
    // GraphQL reports every field error of an object it nulls.
    let nullMe = false;
    for (const s of selectionSet.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT || s.kind === Kind.FRAGMENT_SPREAD) {
        const frag = s.kind === Kind.INLINE_FRAGMENT ? s : this.fragments.get(s.name.value);
        if (!frag) continue;
        const cond = frag.typeCondition ? this.schema.getType(frag.typeCondition.name.value) : type;
        if (cond && isCompositeType(cond) && this.object(obj, cond, frag.selectionSet, path)) nullMe = true;
        continue;
      }
      const key = s.alias?.value ?? s.name.value;
      if (!(key in obj)) continue;
      const forbidden = this.placeholders.get(s);
      if (forbidden) {
        const v = obj[key];
        // Only our placeholder's answer (the parent's type name) is replaced; a same-named key of another type is not.
        if (typeof v !== 'string' || (forbidden.parentIsObject && v !== forbidden.type)) continue;
        obj[key] = null;
        this.errors.push(forbiddenRead(forbidden, this.app, [...path, key]));
        if (forbidden.nonNull) nullMe = true;
        continue;
      }
      if (!s.selectionSet || !('getFields' in type)) continue;
      const def = type.getFields()[s.name.value];
      if (!def || !this.value(obj[key], def.type, s.selectionSet, [...path, key])) continue;
      if (isNonNullType(def.type)) nullMe = true;
      else obj[key] = null;
    }
    return nullMe;
  }
}

export interface ScopedExecutorOptions {
  rules: ScopeRules;
}

/** Bounded memo of filtered documents: the same operation from apps with the same scopes is filtered once. */
const MEMO_SIZE = 500;

/** Wraps the gateway's executor with canon's scopes; see the guarantees at the top of this file. */
export function scopedExecutor(inner: GatewayExecutor, opts: ScopedExecutorOptions): GatewayExecutor {
  const memo = new Map<string, Filtered | null>();
  const readScopes = SCOPES.filter((s) => !s.startsWith('write:') && s !== 'workflows:run' && s !== 'operations:retry');
  return async (ctx: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> => {
    const context = ctx.context as ScopedContext;
    // No scopes in the context means no authenticated app: nothing beyond what every app may read.
    const held = context.scopes ?? new Set<string>();
    // Apollo resolved no operation (a name the document lacks, or several and no name): it expects errors back, and
    // the gateway's executor would throw instead, which Apollo answers 500.
    if (!ctx.operation) {
      const name = ctx.request.operationName;
      const message = name ? `Unknown operation named "${name}".` : 'Must provide operation name if query contains multiple operations.';
      return { errors: [new GraphQLError(message, { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE } })] };
    }
    const { op, fragments } = operationOf(ctx.document, ctx.request.operationName);
    if (!op) return inner(ctx);

    if (op.operation === 'mutation') {
      const refused = refusedWrite(ctx, op, fragments, held, opts.rules, context.app);
      if (refused) return { errors: refused };
    }
    if (readScopes.every((s) => holds(held, s))) return inner(ctx);

    const memoKey = `${ctx.queryHash}\n${ctx.request.operationName ?? ''}\n${[...held].sort().join(' ')}`;
    let filtered = memo.get(memoKey);
    if (filtered === undefined) {
      filtered = filterDocument(ctx.schema, ctx.document, ctx.request.operationName, opts.rules, held);
      if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
      memo.set(memoKey, filtered);
    }
    if (!filtered) return inner(ctx);

    // The gateway caches plans by query hash: the filtered operation is another query, so it gets another hash.
    const queryHash = createHash('sha256').update(ctx.queryHash).update('\n').update(filtered.removed).digest('hex');
    const result = await inner({ ...ctx, document: filtered.document, operation: filtered.operation, queryHash });
    if (!result.data) return result;
    const rootType = filtered.operation.operation === 'mutation' ? ctx.schema.getMutationType()! : ctx.schema.getQueryType()!;
    const walk = new Reinsertion(ctx.schema, operationOf(filtered.document, ctx.request.operationName).fragments, filtered.placeholders, context.app);
    const data = walk.object(result.data, rootType, filtered.operation.selectionSet, []) ? null : result.data;
    return { ...result, data, errors: [...(result.errors ?? []), ...walk.errors] };
  };
}

/** The errors refusing a mutation whole, or null when every root field may run. */
function refusedWrite(ctx: GatewayGraphQLRequestContext, op: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, held: ReadonlySet<string>, rules: ScopeRules, app: string | null | undefined): GraphQLError[] | null {
  const mutationType = ctx.schema.getMutationType();
  if (!mutationType) return null;
  const coerced = getVariableValues(ctx.schema, op.variableDefinitions ?? [], ctx.request.variables ?? {});
  // Variables that do not coerce: the gateway refuses the operation itself before it runs anything.
  if (coerced.errors) return null;
  const missing: GraphQLError[] = [];
  for (const node of rootFields(op.selectionSet, fragments)) {
    const def = mutationType.getFields()[node.name.value];
    if (!def) continue;
    const args = getArgumentValues(def, node, coerced.coerced);
    for (const m of rules.missingForWrite(def.name, args, held)) missing.push(forbiddenWrite(m, def.name, app));
  }
  return missing.length ? missing : null;
}

/**
 * Apollo Gateway behind canon's scopes: loads, updates and stops as the gateway does; its executor filtered per app.
 * Apollo Server takes it as its `gateway`.
 */
export class ScopedGateway implements GatewayInterface {
  constructor(
    private readonly inner: GatewayInterface,
    private readonly rules: ScopeRules,
  ) {}

  async load(options: Parameters<GatewayInterface['load']>[0]) {
    const loaded = await this.inner.load(options);
    return { ...loaded, executor: loaded.executor ? scopedExecutor(loaded.executor, { rules: this.rules }) : null };
  }

  onSchemaLoadOrUpdate(callback: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>[0]) {
    return this.inner.onSchemaLoadOrUpdate(callback);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}

