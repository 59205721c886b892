// The data source of a subgraph served inside the gateway process (canon's control subgraph): what Apollo's LocalGraphQLDataSource does, with each fetch's document parsed and validated once.
//
// Why: Apollo's own runs `graphql()` per fetch, so every canonical mutation parsed and validated its subgraph
// operation again, though the query planner sends the same few texts over and over (one per operation shape).
// Guarantee: the answer is the one `graphql()` gives for the same request; a text that fails to parse or validate
// is never remembered, and is refused again with the same errors every time.

import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { execute, GraphQLError, parse, validate, validateSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';

/** Distinct operation texts remembered; past it the oldest is forgotten. The planner sends far fewer. */
const MAX_DOCUMENTS = 200;

export class CachedLocalDataSource implements GraphQLDataSource {
  private readonly documents = new Map<string, DocumentNode>();

  constructor(private readonly schema: GraphQLSchema) {}

  /** How many operation texts are remembered now. */
  get remembered(): number {
    return this.documents.size;
  }

  /** The parsed, valid document of `text`, or the errors `graphql()` would answer with. */
  private document(text: string): DocumentNode | readonly GraphQLError[] {
    const known = this.documents.get(text);
    if (known) return known;
    const schemaErrors = validateSchema(this.schema);
    if (schemaErrors.length) return schemaErrors;
    let doc: DocumentNode;
    try {
      doc = parse(text);
    } catch (e) {
      if (e instanceof GraphQLError) return [e];
      throw e;
    }
    const errors = validate(this.schema, doc);
    if (errors.length) return errors;
    if (this.documents.size >= MAX_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(text, doc);
    return doc;
  }

  async process({ request, context }: GraphQLDataSourceProcessOptions): Promise<ExecutionResult> {
    const doc = this.document(request.query ?? '');
    if (!('kind' in doc)) return { errors: doc };
    return execute({ schema: this.schema, document: doc, variableValues: request.variables, operationName: request.operationName, contextValue: context });
  }
}
