// The control subgraph: canon's own fields (the model as data, canonical writes), served in the gateway process (no network hop).

import { parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { enumTypes } from '../../schema/ownership.js';
import { writeInputsSDL } from '../../schema/sdl.js';
import { withModelDescriptions, type SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { createResolvers } from './resolvers.js';
import { checkValidators } from './validation.js';
import { WriteExecutor, type SubgraphUrls } from './steps.js';
import type { GatewayContext } from '../federation/context.js';
import type { Ledger } from '../operations/ledger.js';
import type { PolicyRegistry } from '../../subgraphs/kit/resilience.js';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';

export const CONTROL_URL = 'local://control';

/** The control schema: its own SDL, plus the write inputs and the enums they use, derived from schema/model.ts. */
export function controlTypeDefs() {
  const own = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');
  const inputs = writeInputsSDL();
  const used = enumTypes().filter((e) => new RegExp(`:\\s*${e.name}\\b`).test(inputs));
  const enums = used.map((e) => `enum ${e.name} {\n${e.values.map((v) => `  ${v.name}`).join('\n')}\n}`).join('\n');
  return withModelDescriptions(parse(`${own}\n${inputs}\n${enums}`));
}

export function controlSubgraph(opts: { subgraphUrls: SubgraphUrls; policies: PolicyRegistry; ledger: Ledger; lock: RecordLock }): SubgraphDefinition<GatewayContext> {
  checkValidators();
  return {
    name: 'control',
    typeDefs: controlTypeDefs(),
    resolvers: createResolvers({ executor: new WriteExecutor(opts.subgraphUrls, opts.policies), ledger: opts.ledger, lock: opts.lock }) as never,
    // Runs in the gateway process: its resolvers receive the gateway's own request context, never this one.
    createContext: () => {
      throw new Error('The control subgraph runs inside the gateway and takes the gateway request context.');
    },
  };
}
