// Query limits: how long, deep, wide and costly one operation may be, judged from its text and variables before anything is planned, claimed or called.
//
// Terminology
// - tokens: the document's lexical tokens. GraphQL Armor's counting parser stops at the limit, so a huge document is
//   never parsed whole.
// - depth: how deep the operation nests fields, fragments followed and not counted as levels (Armor's rule with
//   flattenFragments; introspection's `__schema` is free).
// - aliases: aliased fields in the operation, fragments followed (Armor's rule; an aliased `__typename` is free).
// - cost: graphql-query-complexity with canon's estimator. A field costs 1 plus what it selects; a field taking
//   `first` costs 1 plus `first` times what it selects, so a page of 1000 costs 1000 of its items and pages nested in
//   pages multiply. `first` not sent counts as its schema default, or PAGE_WITHOUT_DEFAULT when it has none.
// Guarantees
// - `check` refuses only an operation past a limit, naming the limit, its maximum and the actual value (unless
//   counting stopped at the limit: tokens, and a cost past the node cap).
// - A document it cannot judge (a syntax error, an operation it cannot pick, variables that do not coerce) passes,
//   so Apollo answers it with its own error; that document is already within the token limit.
// - Its work is bounded by the token limit and by graphql-query-complexity's node cap (fragments spread into
//   fragments cannot make it visit more than MAX_QUERY_NODES selections).

import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { getOperationAST, GraphQLError, Kind, validate, visit, type ASTNode, type DefinitionNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../../schema/errors.js';

export interface QueryLimits {
  /** Most lexical tokens in a document (`MAX_TOKENS`). */
  maxTokens: number;
  /** Deepest nesting of fields (`MAX_DEPTH`). */
  maxDepth: number;
  /** Most aliased fields in an operation (`MAX_ALIASES`). */
  maxAliases: number;
  /** Highest cost of an operation, `first` multiplying (`MAX_COST`). */
  maxCost: number;
}

/**
 * Defaults, checked by test/limits.test.ts against the queries they are meant for: one `customers(first: 1000)` page
 * with every Customer field, its 10 tickets included (cost about 101,000), and 20 aliased pages of `first: 20` with
 * every field (about 38,000) run; 60 aliased pages of `first: 1000` (over 180,000 with a single field each) are refused.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxTokens: 5000, maxDepth: 10, maxAliases: 100, maxCost: 150_000 };

/** The page a `first` without a schema default is costed at. */
export const PAGE_WITHOUT_DEFAULT = 100;

/** graphql-query-complexity's cap on selections visited (its own default, named here because canon relies on it). */
const MAX_QUERY_NODES = 10_000;
/** How graphql-query-complexity says it hit MAX_QUERY_NODES (it throws a GraphQLError with no code). */
const NODES_EXCEEDED = 'Query exceeds the maximum allowed number of nodes.';

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'cost';

/** Why an operation may not run: the limit passed, its maximum, and how far the operation went (unknown for tokens: counting stops at the limit). */
export interface LimitExceeded {
  limit: { name: LimitName; max: number; actual?: number };
  message: string;
}

/** A GraphQL request's parameters as sent: from a POST body, or a GET's query string (variables still JSON text). */
export interface GraphQLParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** `first` multiplies what its field selects; every other field costs 1 plus its selection. */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((a) => a.name === 'first')) return 1 + childComplexity;
  const first = typeof args.first === 'number' ? Math.max(0, args.first) : PAGE_WITHOUT_DEFAULT;
  return 1 + first * childComplexity;
};

/** The variables as an object, undefined when none, or null when they are not an object (Apollo refuses those). */
function variablesOf(raw: unknown): Record<string, unknown> | undefined | null {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** What a document's text decides once: refused, left to Apollo, or to be costed with each request's variables. */
type Judgement =
  | { kind: 'refused'; refusal: LimitExceeded }
  | { kind: 'apollo' }
  | { kind: 'cost'; runs: DocumentNode; costVariables: string[]; costs: Map<string, LimitExceeded | null> };

/** Texts up to this length are judged once and remembered (most apps send a few dozen distinct documents). */
const REMEMBERED_TEXT = 8 * 1024;
const REMEMBERED_DOCUMENTS = 256;
const REMEMBERED_COSTS = 16;

/** The variables the cost depends on: those a `first` or a directive (@skip, @include) reads. */
function costVariables(runs: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (v) => void names.add(v.name.value) });
  visit(runs, {
    VariableDefinition: () => false,
    Argument: (a) => (a.name.value === 'first' ? void collect(a.value) : undefined),
    Directive: (d) => void collect(d),
  });
  return [...names].sort();
}

export class QueryLimiter {
  private schema: GraphQLSchema | undefined;
  /** Judgements by operation name and text, least recently used first. */
  private readonly judged = new Map<string, Judgement>();

  constructor(readonly limits: QueryLimits) {}

  /** The API schema costs are computed on (the gateway's, once loaded). Until then nothing is refused. */
  useSchema(schema: GraphQLSchema): void {
    this.schema = schema;
    this.judged.clear();
  }

  /** The limit `params` pass, or null when the operation may run (or is for Apollo to refuse). */
  check(params: GraphQLParams): LimitExceeded | null {
    const schema = this.schema;
    if (typeof params.query !== 'string' || !schema) return null;
    const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
    const key = `${operationName ?? ''}\n${params.query}`;
    let judgement = this.judged.get(key);
    if (judgement) this.judged.delete(key);
    else judgement = this.judge(schema, params.query, operationName);
    if (params.query.length <= REMEMBERED_TEXT) {
      this.judged.set(key, judgement);
      if (this.judged.size > REMEMBERED_DOCUMENTS) this.judged.delete(this.judged.keys().next().value!);
    }
    if (judgement.kind === 'refused') return judgement.refusal;
    if (judgement.kind === 'apollo') return null;

    const variables = variablesOf(params.variables);
    if (variables === null) return null;
    // An absent variable (its default applies) and a null one cost differently: [] and [null].
    const costKey = JSON.stringify(judgement.costVariables.map((v) => (variables && Object.hasOwn(variables, v) ? [variables[v]] : [])));
    const known = judgement.costs.get(costKey);
    if (known !== undefined) return known;
    const costed = this.cost(schema, judgement.runs, variables);
    // Only a cost is remembered, never a document Apollo must refuse for other variables.
    if (costed !== 'apollo' && judgement.costs.size < REMEMBERED_COSTS) judgement.costs.set(costKey, costed);
    return costed === 'apollo' ? null : costed;
  }

  /** Tokens, depth and aliases, which the text alone decides. */
  private judge(schema: GraphQLSchema, query: string, operationName: string | undefined): Judgement {
    const { maxTokens, maxDepth, maxAliases } = this.limits;
    let tooLong = false;
    let document: DocumentNode;
    try {
      document = new MaxTokensParserWLexer(query, { n: maxTokens, onReject: [() => void (tooLong = true)] }).parseDocument();
    } catch {
      if (!tooLong) return { kind: 'apollo' };
      const message = `The document has more than ${maxTokens} tokens, canon's limit; the rest of it was not read. Send a shorter document (fragments, fewer fields or aliases).`;
      return { kind: 'refused', refusal: { limit: { name: 'tokens', max: maxTokens }, message } };
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) return { kind: 'apollo' };
    // Only the operation that runs counts, with the fragments it may spread.
    const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    const runs: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] as DefinitionNode[] };

    // Armor counts; canon compares, so the refusal can say how far over the operation went.
    let depth = 0;
    let aliases = 0;
    validate(schema, runs, [
      maxDepthRule({ n: Infinity, flattenFragments: true, onAccept: [(_, d: { n: number }) => void (depth = d.n)] }),
      maxAliasesRule({ n: Infinity, onAccept: [(_, d: { n: number }) => void (aliases = d.n)] }),
    ]);
    if (depth > maxDepth) {
      return { kind: 'refused', refusal: { limit: { name: 'depth', max: maxDepth, actual: depth }, message: `The operation nests fields ${depth} deep, past canon's limit of ${maxDepth}.` } };
    }
    if (aliases > maxAliases) {
      return { kind: 'refused', refusal: { limit: { name: 'aliases', max: maxAliases, actual: aliases }, message: `The operation has ${aliases} aliases, past canon's limit of ${maxAliases}.` } };
    }
    return { kind: 'cost', runs, costVariables: costVariables(runs), costs: new Map() };
  }

  /** The cost refusal for these variables, null within the limit, or 'apollo' when the variables or arguments do not fit the schema. */
  private cost(schema: GraphQLSchema, runs: DocumentNode, variables: Record<string, unknown> | undefined): LimitExceeded | null | 'apollo' {
    const { maxCost } = this.limits;
    let cost: number;
    try {
      cost = getComplexity({ schema, query: runs, variables, estimators: [estimator], maxQueryNodes: MAX_QUERY_NODES });
    } catch (e) {
      if (!(e instanceof Error && e.message === NODES_EXCEEDED)) return 'apollo';
      return {
        limit: { name: 'cost', max: maxCost },
        message: `The operation selects more than ${MAX_QUERY_NODES} fields once its fragments are spread, so its cost is past canon's limit of ${maxCost}.`,
      };
    }
    if (cost <= maxCost) return null;
    return {
      limit: { name: 'cost', max: maxCost, actual: cost },
      message: `The operation costs ${cost}, past canon's limit of ${maxCost}: each field costs 1 and \`first\` multiplies what it selects. Ask for smaller or fewer pages.`,
    };
  }
}

/**
 * The same limits inside Apollo, for the one document the HTTP layer cannot see: an automatic persisted query sent by
 * hash alone, its text read from Apollo's cache. Its text passed when it was registered, but its variables (a
 * `first`) are new. Refused before execution, so before planning.
 */
export function limitsPlugin(limiter: QueryLimiter): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, request, metrics }) {
          if (!metrics.persistedQueryHit) return;
          const over = limiter.check({ query: source, variables: request.variables, operationName: request.operationName });
          if (over) throw new GraphQLError(over.message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit: over.limit, http: { status: 400 } } });
        },
      };
    },
  };
}
