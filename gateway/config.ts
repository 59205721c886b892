// canon's configuration: one typed object, each field documented with its default. The only module that reads the environment.

import { resolve } from 'node:path';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import type { ResilienceOptions } from '../subgraphs/kit/resilience.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from './operations/idempotency.js';

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
  /**
   * Timeouts, retries and circuit breaking from each connector to its system: each setting a value or a function
   * of the system (see subgraphs/kit/resilience.ts for every setting and its default). `SYSTEM_TIMEOUT_MS` sets the
   * budget of one call, retries included (default 5000).
   */
  systemResilience: ResilienceOptions;
  /**
   * The same from the gateway to each subgraph. Defaults: each attempt 8000 ms and the call 10000 ms
   * (`SUBGRAPH_TIMEOUT_MS`), above a system call's budget so the subgraph can answer with its system's error;
   * 2 attempts for reads; the rest as in subgraphs/kit/resilience.ts.
   */
  subgraphResilience: ResilienceOptions;
  /**
   * Send identical subgraph reads that overlap in time once (`DEDUPE_READS`, 'false' to turn off). Default true:
   * reads only, never a mutation's, and only reads sent after the request arrived (see gateway/federation/datasource.ts).
   */
  dedupeReads: boolean;
  /** How long idempotency keys and their responses are kept, in ms (`IDEMPOTENCY_TTL_MS`). Default 24 hours. */
  idempotencyTtlMs: number;
  /** PostgreSQL for the ledger when several gateways run (`DATABASE_URL`). Default: none, SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema for canon's tables (`DATABASE_SCHEMA`). Default public. */
  databaseSchema: string;
  /** How long operations stay in the ledger, in days (`LEDGER_RETENTION_DAYS`). Default 30; older ones are pruned hourly. */
  ledgerRetentionDays: number;
  /** OTLP/HTTP endpoint spans are exported to (`OTEL_EXPORTER_OTLP_ENDPOINT`). Default: none, nothing is exported. */
  otlpEndpoint: string | undefined;
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
    systemResilience: { budgetMs: int(env.SYSTEM_TIMEOUT_MS, 5000, 'SYSTEM_TIMEOUT_MS') },
    subgraphResilience: { attemptTimeoutMs: 8000, budgetMs: int(env.SUBGRAPH_TIMEOUT_MS, 10_000, 'SUBGRAPH_TIMEOUT_MS'), maxAttempts: 2 },
    dedupeReads: env.DEDUPE_READS !== 'false',
    idempotencyTtlMs: int(env.IDEMPOTENCY_TTL_MS, DEFAULT_IDEMPOTENCY_TTL_MS, 'IDEMPOTENCY_TTL_MS'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || 'public',
    ledgerRetentionDays: int(env.LEDGER_RETENTION_DAYS, 30, 'LEDGER_RETENTION_DAYS'),
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
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
