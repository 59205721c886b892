// canon's configuration: one typed object, each field documented with its default. The only module that reads the environment.

import { resolve } from 'node:path';
import { SYSTEMS, type SystemName } from '../schema/model.js';

export interface CanonConfig {
  /** Gateway port (`PORT`). Default 4000. 0 picks a free port. */
  port: number;
  /** Interface every server binds to (`HOST`). Default 127.0.0.1: the sandboxes are not meant for a network. */
  host: string;
  /** Where SQLite files live (`DATA_DIR`). Default ./data. Seeded on first start. */
  dataDir: string;
  /** pino log level (`LOG_LEVEL`). Default info. */
  logLevel: string;
  /** Seed and size of the generated sandbox data (`SEED`, `SEED_SIZE`). Defaults 1 and 2000. */
  seed: number;
  seedSize: number;
  /** Port of each sandbox system (`<SYSTEM>_PORT`, e.g. `CRM_PORT`). Defaults 4101–4104; 0 picks free ports. */
  systemPorts: Record<SystemName, number>;
  /** Port of each subgraph (`<NAME>_SUBGRAPH_PORT`). Defaults 4200 (identity), 4201–4204; 0 picks free ports. */
  subgraphPorts: Record<SystemName | 'identity', number>;
  /** Budget for one call from a connector to its system, in ms (`SYSTEM_TIMEOUT_MS`). Default 5000. */
  systemTimeoutMs: number;
  /** Budget for one call from the gateway to a subgraph, in ms (`SUBGRAPH_TIMEOUT_MS`). Default 10000. */
  subgraphTimeoutMs: number;
  /** PostgreSQL for shared state when several gateways run (`DATABASE_URL`). Default: none, SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** Redis for shared state when several gateways run (`REDIS_URL`). Default: none. */
  redisUrl: string | undefined;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer; got "${value}".`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CanonConfig {
  const systemPorts = Object.fromEntries(SYSTEMS.map((s, i) => [s, int(env[`${s.toUpperCase()}_PORT`], 4101 + i, `${s.toUpperCase()}_PORT`)])) as Record<SystemName, number>;
  const subgraphPorts = {
    identity: int(env.IDENTITY_SUBGRAPH_PORT, 4200, 'IDENTITY_SUBGRAPH_PORT'),
    ...Object.fromEntries(SYSTEMS.map((s, i) => [s, int(env[`${s.toUpperCase()}_SUBGRAPH_PORT`], 4201 + i, `${s.toUpperCase()}_SUBGRAPH_PORT`)])),
  } as Record<SystemName | 'identity', number>;
  return {
    port: int(env.PORT, 4000, 'PORT'),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.DATA_DIR || './data'),
    logLevel: env.LOG_LEVEL || 'info',
    seed: int(env.SEED, 1, 'SEED'),
    seedSize: int(env.SEED_SIZE, 2000, 'SEED_SIZE'),
    systemPorts,
    subgraphPorts,
    systemTimeoutMs: int(env.SYSTEM_TIMEOUT_MS, 5000, 'SYSTEM_TIMEOUT_MS'),
    subgraphTimeoutMs: int(env.SUBGRAPH_TIMEOUT_MS, 10_000, 'SUBGRAPH_TIMEOUT_MS'),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
  };
}

/** A configuration for tests and benchmarks: every port picked free, data in `dataDir`. */
export function testConfig(dataDir: string, overrides: Partial<CanonConfig> = {}): CanonConfig {
  const base = loadConfig({});
  const zero = (o: Record<string, number>) => Object.fromEntries(Object.keys(o).map((k) => [k, 0]));
  return {
    ...base,
    port: 0,
    dataDir,
    logLevel: 'silent',
    seedSize: 200,
    systemPorts: zero(base.systemPorts) as CanonConfig['systemPorts'],
    subgraphPorts: zero(base.subgraphPorts) as CanonConfig['subgraphPorts'],
    ...overrides,
  };
}
