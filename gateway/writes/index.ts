// The control subgraph: canon's own fields (the model as data, canonical writes, the ledger), served in the gateway process (no network hop) or as a service of its own (`canon subgraph control`).

import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { enumTypes } from '../../schema/ownership.js';
import { writeInputsSDL } from '../../schema/sdl.js';
import { withModelDescriptions, type SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import type { RecordLock } from '../../subgraphs/kit/record-lock.js';
import { contextFromCaller, type Caller, type GatewayContext } from '../federation/context.js';
import { activeTraceId } from '../../subgraphs/kit/telemetry.js';
import type { SubgraphClient } from '../federation/subgraph-client.js';
import type { Ledger } from '../operations/ledger.js';
import { createResolvers } from './resolvers.js';
import type { StepRunner } from './steps.js';
import type { WorkflowEngine } from '../workflows/engine.js';
import { checkValidators } from './validation.js';

export const CONTROL_URL = 'local://control';

/** The control schema: its own SDL, plus the write inputs and the enums they use, derived from schema/model.ts. */
export function controlTypeDefs() {
  const own = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');
  const inputs = writeInputsSDL();
  const used = enumTypes().filter((e) => new RegExp(`:\\s*${e.name}\\b`).test(inputs));
  const enums = used.map((e) => `enum ${e.name} {\n${e.values.map((v) => `  ${v.name}`).join('\n')}\n}`).join('\n');
  return withModelDescriptions(parse(`${own}\n${inputs}\n${enums}`));
}

export interface ControlOptions {
  /** The gateway's one client toward its subgraphs: each write step goes through it to its owner. */
  client: SubgraphClient;
  ledger: Ledger;
  /** Serialises retries of one operation (in process, or across gateways through Redis). */
  lock: RecordLock;
  /** Runs every write as a durable workflow. */
  engine: WorkflowEngine;
  /** The step runner the engine's workflows use (the one built over `client`). */
  runner: StepRunner;
}

export function controlSubgraph(opts: ControlOptions): SubgraphDefinition<GatewayContext> {
  checkValidators();
  return {
    name: 'control',
    typeDefs: controlTypeDefs(),
    resolvers: createResolvers({ runner: opts.runner, ledger: opts.ledger, lock: opts.lock, engine: opts.engine }) as never,
    // In the gateway process its resolvers receive the gateway's own request context, never this one; served on its
    // own, the context is rebuilt from the caller its access rule admitted (gateway/services/access.ts).
    createContext: (req) => {
      if (!req.caller) throw new Error('The control subgraph runs inside the gateway and takes the gateway request context.');
      return contextFromCaller(req.caller as Caller, req.headers, activeTraceId(), randomUUID);
    },
  };
}
