// Test support: fast-check arbitraries of requests to /graphql: schema-aware documents with their variables, mutated valid documents, and random bodies and headers.

import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

/** One request as sent: a POST body (text or bytes) or a GET's query string, with the headers that vary. */
export interface FuzzRequest {
  method: 'POST' | 'GET';
  body?: string | Uint8Array;
  search?: string;
  contentType?: string;
  accept?: string;
  idempotencyKey?: string;
}

/** Values the documents use so that some of them find real records. */
export interface KnownValues {
  customerIds: string[];
  sourceIds: string[];
}

/** An enum value: bare in a literal, a string in variables. */
class EnumValue {
  constructor(readonly name: string) {}
}

function literal(v: unknown): string {
  if (v instanceof EnumValue) return v.name;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  return `{ ${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : '_'}: ${literal(x)}`).join(', ')} }`;
}

function json(v: unknown): unknown {
  if (v instanceof EnumValue) return v.name;
  if (Array.isArray(v)) return v.map(json);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  return v;
}

type Arg = { name: string; type: string; value: unknown; variable: boolean };
type Selection = { alias: string | null; name: string; args: Arg[]; sub: Selection[] | null; on?: string };

/** Anything JSON, for the values a well-typed generator would never pick. */
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Schema-aware generation: fields, arguments and input values drawn from the API schema, mostly well-typed. */
export class DocumentArbitraries {
  private readonly selections = new Map<string, fc.Arbitrary<Selection[]>>();
  private readonly inputs = new Map<string, fc.Arbitrary<unknown>>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly known: KnownValues,
  ) {}

  private scalar(name: string): fc.Arbitrary<unknown> {
    const ids = [...this.known.customerIds, ...this.known.sourceIds];
    switch (name) {
      case 'Int':
        return fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 25 }) }, fc.constantFrom(0, 1000, 1001, 2 ** 31 - 1, -(2 ** 31)));
      case 'Float':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
      case 'Boolean':
        return fc.boolean();
      case 'ID':
        return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids) }, fc.string({ maxLength: 12 }));
      default:
        return fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom(...ids, 'a@example.com', '+4930123456', 'DE', 'NET30', 'x'.repeat(300)));
    }
  }

  /** A value of `type`, now and then of another type. */
  input(type: GraphQLInputType, depth = 2): fc.Arbitrary<unknown> {
    const key = `${String(type)}:${depth}`;
    let arb = this.inputs.get(key);
    if (arb) return arb;
    if (isNonNullType(type)) arb = this.input(type.ofType, depth);
    else if (isListType(type)) arb = fc.oneof(fc.array(this.input(type.ofType, depth), { maxLength: 3 }), this.input(type.ofType, depth));
    else if (isEnumType(type)) arb = fc.constantFrom(...type.getValues().map((v) => new EnumValue(v.name)));
    else if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields());
      arb =
        depth <= 0
          ? fc.constant({})
          : fc.record(Object.fromEntries(fields.map((f) => [f.name, this.input(f.type, depth - 1)])), { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) });
    } else arb = this.scalar(type.name);
    // Now and then a value of another type, or a null where none may be: most documents stay valid, some do not.
    const noise = isNonNullType(type) ? anyJson : fc.oneof(anyJson, fc.constant(null));
    const withNoise = fc.oneof({ weight: 40, arbitrary: arb }, { weight: 1, arbitrary: noise });
    this.inputs.set(key, withNoise);
    return withNoise;
  }

  private field(f: GraphQLField<unknown, unknown>, depth: number): fc.Arbitrary<Selection> {
    const args = f.args.map((a) => {
      const arg = fc.record({ value: this.input(a.type), variable: fc.boolean() }).map(({ value, variable }): Arg => ({ name: a.name, type: String(a.type), value, variable }));
      return isNonNullType(a.type) ? fc.oneof({ weight: 40, arbitrary: arg.map((x) => [x]) }, { weight: 1, arbitrary: fc.constant([]) }) : fc.option(arg.map((x) => [x]), { nil: [] as Arg[], freq: 2 });
    });
    const named = getNamedType(f.type);
    const sub: fc.Arbitrary<Selection[] | null> = isCompositeType(named) ? (depth > 0 ? this.selection(named, depth - 1) : fc.constant([{ alias: null, name: '__typename', args: [], sub: null }])) : fc.constant(null);
    return fc
      .tuple(fc.option(fc.constantFrom('a', 'b', 'page'), { nil: null, freq: 6 }), fc.tuple(...args), sub)
      .map(([alias, argLists, selection]) => ({ alias, name: f.name, args: (argLists as Arg[][]).flat(), sub: selection }));
  }

  /** A selection set on `type`, nesting at most `depth` more levels. */
  selection(type: GraphQLCompositeType, depth: number): fc.Arbitrary<Selection[]> {
    const key = `${type.name}:${depth}`;
    let arb = this.selections.get(key);
    if (arb) return arb;
    const typename = fc.constant<Selection>({ alias: null, name: '__typename', args: [], sub: null });
    if (isUnionType(type)) {
      const members = type.getTypes().map((t) => this.selection(t, depth).map((sub): Selection => ({ alias: null, name: '', args: [], sub, on: t.name })));
      arb = fc.array(fc.oneof(typename, ...members), { minLength: 1, maxLength: 3 });
    } else {
      const fields = Object.values(type.getFields()).map((f) => this.field(f, depth));
      arb = fc.array(fc.oneof({ weight: 1, arbitrary: typename }, ...fields.map((a) => ({ weight: 3, arbitrary: a }))), { minLength: 1, maxLength: 3 });
    }
    this.selections.set(key, arb);
    return arb;
  }

  /** A whole request: a query (mostly) or a mutation, its variables, sometimes a name. */
  request(): fc.Arbitrary<{ query: string; variables: Record<string, unknown>; operationName?: string }> {
    const roots = [this.schema.getQueryType(), this.schema.getMutationType()].filter(isObjectType);
    const ops = roots.map((root, i) => ({ weight: i === 0 ? 5 : 1, arbitrary: this.selection(root, 3).map((sel) => ({ kind: i === 0 ? 'query' : 'mutation', sel })) }));
    return fc.tuple(fc.oneof(...ops), fc.option(fc.constantFrom('Fuzzed', 'Other'), { nil: undefined })).map(([{ kind, sel }, name]) => {
      const defs: string[] = [];
      const variables: Record<string, unknown> = {};
      // Each response name once per selection set, so fields never conflict (mutated documents break that instead).
      const renderSet = (set: Selection[]): string => {
        const used = new Set<string>();
        return set
          .map((s) => {
            if (s.on) return render(s);
            let alias = s.alias;
            while (used.has(alias ?? s.name)) alias = `${alias ?? s.name}_${used.size}`;
            used.add(alias ?? s.name);
            return render({ ...s, alias });
          })
          .join(' ');
      };
      const render = (s: Selection): string => {
        if (s.on) return `... on ${s.on} { ${renderSet(s.sub!)} }`;
        const args = s.args.map((a) => {
          if (!a.variable) return `${a.name}: ${literal(a.value)}`;
          const v = `v${defs.length}`;
          defs.push(`$${v}: ${a.type}`);
          variables[v] = json(a.value);
          return `${a.name}: $${v}`;
        });
        return `${s.alias ? `${s.alias}: ` : ''}${s.name}${args.length ? `(${args.join(', ')})` : ''}${s.sub ? ` { ${renderSet(s.sub)} }` : ''}`;
      };
      const body = renderSet(sel);
      const head = name || defs.length || kind === 'mutation' ? `${kind} ${name ?? ''}${defs.length ? `(${defs.join(', ')})` : ''} ` : '';
      return { query: `${head}{ ${body} }`, variables, ...(name ? { operationName: name } : {}) };
    });
  }
}

/** Edits that break a valid document in the ways people and attackers do. */
const FRAGMENTS = ['{', '}', '(', ')', '$', '@', '...', ':', '"', '"""', '\\', '#', '!', '[', ']', ',', '=', 'query', 'mutation', 'fragment', 'on', 'null', 'first: 100000', 'a: customers(first: 1000) { totalCount }', '@skip(if: true)', '\u0000', '\uFFFF', '\uD800', '𝔘', '\n'];
const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 4 })) });

/** Valid requests, each mutated: text edited, variables replaced or retyped, the operation name changed. */
export function mutatedRequests(valid: { query: string; variables?: Record<string, unknown>; operationName?: string }[]): fc.Arbitrary<{ query: string; variables: unknown; operationName?: unknown }> {
  return fc
    .tuple(
      fc.constantFrom(...valid),
      fc.array(edit, { maxLength: 4 }),
      fc.oneof({ weight: 3, arbitrary: fc.constant('keep') }, fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('id', 'first', 'name', 's', 'x'), anyJson)),
      fc.oneof({ weight: 4, arbitrary: fc.constant('keep') }, fc.constantFrom('One', 'Ops', 'Nope', '', null), anyJson),
    )
    .map(([base, edits, variables, operationName]) => {
      let query = base.query;
      for (const e of edits) {
        const at = e.at % (query.length + 1);
        query = query.slice(0, at) + e.text + query.slice(at + e.cut);
      }
      return {
        query,
        variables: variables === 'keep' ? base.variables : variables,
        ...(operationName === 'keep' ? (base.operationName ? { operationName: base.operationName } : {}) : { operationName }),
      };
    });
}

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/graphql-response+json', 'text/plain', 'application/graphql', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ';;', undefined];
const ACCEPTS = [undefined, 'application/json', 'application/graphql-response+json', '*/*', 'text/html', 'multipart/mixed; deferSpec=20220824', 'application/graphql-response+json;q=0', 'application/json;q=abc', ',,,'];

/** Random bodies and headers: bytes, JSON of any shape, GraphQL-shaped JSON with wrong types, random GET parameters. */
export function randomRequests(): fc.Arbitrary<FuzzRequest> {
  const graphqlShaped = fc
    .record(
      {
        query: fc.oneof(fc.string({ maxLength: 40 }), anyJson),
        variables: anyJson,
        operationName: fc.oneof(fc.string({ maxLength: 8 }), anyJson),
        extensions: fc.oneof(anyJson, fc.record({ persistedQuery: fc.record({ version: fc.oneof(fc.constant(1), anyJson), sha256Hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), anyJson) }) })),
        documentId: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));
  const body = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), graphqlShaped);
  const search = fc.dictionary(fc.constantFrom('query', 'variables', 'operationName', 'extensions', 'documentId', 'x'), fc.oneof(fc.string({ maxLength: 30 }), anyJson.map((v) => JSON.stringify(v)))).map((d) => new URLSearchParams(d).toString());
  const headers = {
    contentType: fc.constantFrom(...CONTENT_TYPES),
    accept: fc.constantFrom(...ACCEPTS),
    // Header values stay printable ASCII: anything else the client itself refuses to send.
    idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.stringMatching(/^[!-~][ -~]{0,298}[!-~]$/)), { nil: undefined, freq: 5 }),
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ method: fc.constant('POST' as const), body, ...headers }) },
    { weight: 1, arbitrary: fc.record({ method: fc.constant('GET' as const), search, ...headers }) },
  );
}
