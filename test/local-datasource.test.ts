// The in-process subgraph's data source: the answers graphql() gives, each operation text parsed and validated once.

import { graphql, parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { describe, expect, it } from 'vitest';
import { CachedLocalDataSource } from '../gateway/federation/local-datasource.js';

const typeDefs = parse(`
  type Query { greeting(name: String!): String! }
  type Mutation { touch(id: ID!): Int! }
`);

function subgraph() {
  const calls: string[] = [];
  let touched = 0;
  const schema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        Query: { greeting: (_: unknown, a: { name: string }, ctx: { who: string }) => `hello ${a.name} from ${ctx.who}` },
        Mutation: { touch: (_: unknown, a: { id: string }) => (calls.push(a.id), ++touched) },
      },
    },
  ]);
  return { schema, calls };
}

const ask = (source: CachedLocalDataSource, query: string, variables: Record<string, unknown> = {}) =>
  source.process({ kind: 'incoming operation' as never, request: { query, variables }, context: { who: 'canon' }, incomingRequestContext: {} as never });

describe('CachedLocalDataSource', () => {
  it('answers as graphql() does for valid, unparseable and invalid operations, with the context and variables given', async () => {
    const { schema } = subgraph();
    const source = new CachedLocalDataSource(schema);
    for (const [query, variables] of [
      ['query($n: String!) { greeting(name: $n) }', { n: 'ada' }],
      ['query { greeting(name: 1) }', {}],
      ['query { nope }', {}],
      ['query {', {}],
      ['query($n: String!) { greeting(name: $n) }', {}],
    ] as const) {
      const expected = await graphql({ schema, source: query, variableValues: variables, contextValue: { who: 'canon' } });
      for (let i = 0; i < 2; i++) expect(JSON.parse(JSON.stringify(await ask(source, query, variables)))).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });

  it('runs a mutation every time it is sent, remembering its text once and no text that was refused', async () => {
    const { schema, calls } = subgraph();
    const source = new CachedLocalDataSource(schema);
    const text = 'mutation($id: ID!) { touch(id: $id) }';
    const answers = [];
    for (const id of ['a', 'b', 'c']) answers.push(await ask(source, text, { id }));
    expect(answers.map((a) => a.data)).toEqual([{ touch: 1 }, { touch: 2 }, { touch: 3 }]);
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(source.remembered).toBe(1);
    await ask(source, 'query { nope }');
    await ask(source, 'query {');
    expect(source.remembered).toBe(1);
  });
});
