// Starts canon's whole local stack: seeded data, the four sandbox systems, the five subgraphs and the gateway, each on its own port.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type RedisClientType } from '@redis/client';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { PolicyRegistry } from '../subgraphs/kit/resilience.js';
import { IdempotencyStore } from './operations/idempotency.js';
import { SqliteKeyvStore } from './operations/keyv-sqlite.js';
import { PostgresLedger, SqliteLedger, type Ledger } from './operations/ledger.js';
import type { Logger } from 'pino';
import { createLogger, startTelemetry } from '../subgraphs/kit/telemetry.js';
import type { SystemName } from '../schema/model.js';
import { InProcessLock, RedisLock, type RecordLock } from '../subgraphs/kit/record-lock.js';
import { SYSTEMS } from '../schema/model.js';
import { startSubgraphServer, type RunningSubgraph } from '../subgraphs/kit/server.js';
import { crmSubgraph } from '../subgraphs/crm/index.js';
import { erpSubgraph } from '../subgraphs/erp/index.js';
import { marketingSubgraph } from '../subgraphs/marketing/index.js';
import { supportSubgraph } from '../subgraphs/support/index.js';
import { identitySubgraph } from '../subgraphs/identity/index.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startSandboxIn } from '../subgraphs/sandbox-kit/sandboxes.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { loadOrCreateSandboxCredentials } from '../subgraphs/sandbox-kit/credentials.js';
import type { AllSystemCredentials } from '../subgraphs/kit/credentials.js';
import { isSeeded, seedAll } from '../subgraphs/sandbox-kit/seed.js';
import type { SubgraphDefinition } from '../subgraphs/kit/subgraph.js';
import type { CanonConfig } from './config.js';
import { controlSubgraph, CONTROL_URL } from './writes/index.js';
import { StepRunner } from './writes/steps.js';
import { WorkflowEngine } from './workflows/engine.js';
import { SubgraphClient, type SubgraphUrls } from './federation/subgraph-client.js';
import { startGateway, type RunningGateway } from './http/server.js';
import { SyncFeeds } from './sync/feeds.js';
import { SyncScheduler } from './sync/sync.js';
import { CrmConnector } from '../subgraphs/crm/connector.js';
import { ErpConnector } from '../subgraphs/erp/connector.js';
import { MarketingConnector } from '../subgraphs/marketing/connector.js';
import { SupportConnector } from '../subgraphs/support/connector.js';
import { openAppStore, type AppStore } from './security/app-store.js';
import { ensureDevApp, type DevApp } from './security/apps.js';
import { Authenticator, JwtVerifier } from './security/authenticate.js';
import { QueryLimiter } from './security/limits.js';
import { RateLimits } from './security/rate-limits.js';
import { TrustedDocuments } from './security/trusted-documents.js';

export interface Stack {
  config: CanonConfig;
  systems: Record<SystemName, RunningSandbox>;
  /** What each connector presents to its system (and each local sandbox requires). A secret: for tests, never to print. */
  credentials: AllSystemCredentials;
  /** Each system's resilience policy (breaker state, settings), as the connectors use them. */
  systemPolicies: PolicyRegistry;
  /** Each subgraph's resilience policy, as the gateway uses them. */
  subgraphPolicies: PolicyRegistry;
  idempotency: IdempotencyStore;
  ledger: Ledger;
  /** The apps allowed to call /graphql (gateway/security/app-store.ts). */
  apps: AppStore;
  /** The dev app of a fresh data directory, or null with DEV_APP=false. */
  devApp: DevApp | null;
  subgraphs: Record<SystemName | 'identity', RunningSubgraph>;
  /** The durable workflow engine every write runs on. */
  engine: WorkflowEngine;
  /** The change-feed syncs that build the identity store (gateway/sync/sync.ts). */
  sync: SyncScheduler;
  gateway: RunningGateway;
  /** Stops everything, gateway first so no request reaches a closed subgraph. */
  close(): Promise<void>;
}

/**
 * Each system's credentials: the configured ones (environment) where set, else, for the sandboxes, those of
 * DATA_DIR/sandbox-credentials.json (generated on first need). The file is not created when every system has its own.
 */
export function resolveCredentials(config: CanonConfig): AllSystemCredentials {
  let generated: AllSystemCredentials | undefined;
  const pick = <S extends SystemName>(s: S): AllSystemCredentials[S] => config.systemCredentials[s] ?? (generated ??= loadOrCreateSandboxCredentials(config.dataDir))[s];
  return { crm: pick('crm'), erp: pick('erp'), marketing: pick('marketing'), support: pick('support') };
}

/**
 * The subgraph definitions for systems reachable at `systemUrls`: `policies` hold each system's timeouts, retries
 * and breaker; `lock` serialises writes to systems without conditional writes.
 */
export function systemSubgraphs(systemUrls: Record<SystemName, string>, credentials: AllSystemCredentials, policies: PolicyRegistry, lock: RecordLock, log: Logger): Record<SystemName, SubgraphDefinition> {
  return {
    crm: crmSubgraph({ baseUrl: systemUrls.crm, credentials: credentials.crm, policy: policies.for('crm'), lock, log }),
    erp: erpSubgraph({ baseUrl: systemUrls.erp, credentials: credentials.erp, policy: policies.for('erp'), log }),
    marketing: marketingSubgraph({ baseUrl: systemUrls.marketing, credentials: credentials.marketing, listId: MARKETING_LIST_ID, policy: policies.for('marketing'), lock, log }),
    support: supportSubgraph({ baseUrl: systemUrls.support, credentials: credentials.support, policy: policies.for('support'), lock, log }),
  };
}

/** The change feeds the sync reads, one connector per system (the subgraphs keep their own), under the same policies. */
function feedConnectors(systemUrls: Record<SystemName, string>, credentials: AllSystemCredentials, policies: PolicyRegistry, log: Logger) {
  return {
    crm: new CrmConnector({ baseUrl: systemUrls.crm, credentials: credentials.crm, policy: policies.for('crm'), log }),
    erp: new ErpConnector({ baseUrl: systemUrls.erp, credentials: credentials.erp, policy: policies.for('erp'), log }),
    marketing: new MarketingConnector({ baseUrl: systemUrls.marketing, credentials: credentials.marketing, listId: MARKETING_LIST_ID, policy: policies.for('marketing'), log }),
    support: new SupportConnector({ baseUrl: systemUrls.support, credentials: credentials.support, policy: policies.for('support'), log }),
  };
}

/** The ledger: SQLite under DATA_DIR, or PostgreSQL when several gateways share it. */
async function openLedger(config: CanonConfig): Promise<Ledger> {
  if (config.databaseUrl) return PostgresLedger.open(config.databaseUrl, { schema: config.databaseSchema });
  return new SqliteLedger(join(config.dataDir, 'canon.sqlite'));
}

const HOUR_MS = 60 * 60 * 1000;

/** Prunes operations past the retention now and every hour; returns the stopper. */
function pruneLedger(ledger: Ledger, days: number, log: Logger): { close(): Promise<void> } {
  const prune = () =>
    ledger.prune(new Date(Date.now() - days * 24 * HOUR_MS).toISOString()).catch((e: Error) => log.error({ error: e.message }, 'ledger prune failed'));
  void prune();
  const timer = setInterval(prune, HOUR_MS);
  timer.unref();
  return { close: async () => clearInterval(timer) };
}

/** Idempotency keys live with the rest of canon's state: SQLite under DATA_DIR, or Redis when several gateways share it. */
function idempotencyKeyv(config: CanonConfig): Keyv {
  if (config.redisUrl) return new Keyv({ store: new KeyvRedis(config.redisUrl), namespace: 'canon-idempotency', useKeyPrefix: false });
  return new Keyv({ store: new SqliteKeyvStore({ file: join(config.dataDir, 'canon.sqlite'), table: 'idempotency' }) });
}

/**
 * One gateway process serialises writes per record in memory; several gateways writing to the same systems must
 * share the lock, so with REDIS_URL set the lock lives in Redis.
 */
async function recordLock(config: CanonConfig): Promise<{ lock: RecordLock; close(): Promise<void> }> {
  if (!config.redisUrl) return { lock: new InProcessLock(), close: async () => undefined };
  const client = createClient({ url: config.redisUrl });
  client.on('error', () => undefined); // surfaced on the next command; reconnects on its own
  await client.connect();
  return { lock: new RedisLock(client as RedisClientType), close: async () => void (await client.quit()) };
}

export interface StackOptions {
  /** Where log lines go. Default: pino to stdout at config.logLevel. */
  log?: Logger;
  /**
   * Base URLs of source systems already running elsewhere (another process, as the benchmark does), over
   * config.systemUrls (`<SYSTEM>_URL`). canon starts no sandbox for those, and builds its identity store from their
   * change feeds like any other's.
   */
  systems?: Partial<Record<SystemName, string>>;
  /** How long finished sync rounds' workflow records are kept (gateway/sync/sync.ts); for tests. */
  syncRoundRetentionMs?: number;
}

export async function startStack(config: CanonConfig, opts: StackOptions = {}): Promise<Stack> {
  mkdirSync(config.dataDir, { recursive: true });
  const externalUrls: Partial<Record<SystemName, string>> = { ...config.systemUrls, ...opts.systems };
  const local = SYSTEMS.filter((s) => !externalUrls[s]);
  if (local.length && !isSeeded(config.dataDir)) seedAll(config.dataDir, { seed: config.seed, size: config.seedSize });
  const credentials = resolveCredentials(config);

  const started: { close(): Promise<void> }[] = [];
  let engineStarted: WorkflowEngine | undefined;
  let syncStarted: SyncScheduler | undefined;
  try {
    startTelemetry({ otlpEndpoint: config.otlpEndpoint });
    const log = opts.log ?? createLogger(config.logLevel);
    const ledger = await openLedger(config);
    started.push(ledger);
    started.push(pruneLedger(ledger, config.ledgerRetentionDays, log));
    const locking = await recordLock(config);
    started.push(locking);
    const systemPolicies = new PolicyRegistry(config.systemResilience);
    const subgraphPolicies = new PolicyRegistry(config.subgraphResilience);
    const keyv = idempotencyKeyv(config);
    started.push({ close: () => keyv.disconnect() });
    const idempotency = new IdempotencyStore(keyv, locking.lock, { ttlMs: config.idempotencyTtlMs });
    // Read before any server starts: a manifest or key set that cannot be read stops start-up with the reason.
    const trusted = config.trustedDocuments ? TrustedDocuments.load(config.trustedDocuments) : undefined;
    const jwt = config.jwt ? new JwtVerifier(config.jwt) : undefined;
    const apps = await openAppStore(config);
    started.push(apps);
    const devApp = config.devApp ? await ensureDevApp(apps, config.dataDir) : null;
    const rateLimits = await RateLimits.open(config);
    started.push(rateLimits);
    const systems = {} as Record<SystemName, RunningSandbox>;
    for (const s of SYSTEMS) {
      const external = externalUrls[s];
      if (external) {
        const url = new URL(external);
        systems[s] = { name: s, port: Number(url.port), url: external.replace(/\/$/, ''), close: async () => undefined };
        continue;
      }
      systems[s] = await startSandboxIn(s, config.dataDir, credentials, { port: config.systemPorts[s], maxBodyBytes: config.maxBodyBytes });
      started.push(systems[s]);
    }
    const defs = {
      identity: identitySubgraph({ file: join(config.dataDir, 'identity.sqlite') }),
      ...systemSubgraphs(Object.fromEntries(SYSTEMS.map((s) => [s, systems[s].url])) as Record<SystemName, string>, credentials, systemPolicies, locking.lock, log),
    };
    const subgraphs = {} as Record<SystemName | 'identity', RunningSubgraph>;
    for (const name of ['identity', ...SYSTEMS] as const) {
      subgraphs[name] = await startSubgraphServer(defs[name], { port: config.subgraphPorts[name], host: config.host, maxBodyBytes: config.maxBodyBytes });
      started.push(subgraphs[name]);
    }
    // One client toward the subgraphs for the whole gateway: Apollo's reads and canon's write steps alike.
    const client = new SubgraphClient({ urls: Object.fromEntries(Object.entries(subgraphs).map(([n, sg]) => [n, sg.url])) as SubgraphUrls, policies: subgraphPolicies, dedupeReads: config.dedupeReads });
    // After the subgraphs: DBOS resumes unfinished workflows as it starts, and their steps call the subgraphs.
    const runner = new StepRunner(client);
    const systemUrls = Object.fromEntries(SYSTEMS.map((s) => [s, systems[s].url])) as Record<SystemName, string>;
    const feeds = new SyncFeeds(feedConnectors(systemUrls, credentials, systemPolicies, log), client);
    const engine = await WorkflowEngine.start(config, { runner, ledger, settings: config.workflows, log, sync: feeds, lock: locking.lock });
    engineStarted = engine;
    const sync = new SyncScheduler({ engine, feeds, intervalMs: config.syncIntervalMs, deployment: [subgraphs.identity.url, ...SYSTEMS.map((s) => systemUrls[s])].join(' '), log, roundRetentionMs: opts.syncRoundRetentionMs });
    syncStarted = sync;
    const gateway = await startGateway({
      port: config.port,
      host: config.host,
      subgraphs: (['identity', ...SYSTEMS] as const).map((n) => ({ def: defs[n], url: subgraphs[n].url })),
      localSubgraphs: [{ def: controlSubgraph({ client, ledger, lock: locking.lock, engine, runner }), url: CONTROL_URL }],
      systems: SYSTEMS.map((s) => ({ name: s, url: systems[s].url })),
      sync: {
        started: () => sync.started,
        report: () => sync.report(),
        identity: async () => {
          const r = await client.execute<{ identityStatus: { customers: number; records: number; pendingReview: number } }>('identity', '{ identityStatus { customers records pendingReview } }', {}, { kind: 'read' });
          return r.ok ? r.data.identityStatus : null;
        },
      },
      client,
      idempotency,
      ledger,
      log,
      maxBodyBytes: config.maxBodyBytes,
      operationCacheMiB: config.operationCacheMiB,
      security: { authenticator: new Authenticator({ store: apps, jwt }), rateLimits, trusted, limits: new QueryLimiter(config.queryLimits), modelNeedsScope: config.introspectionNeedsScope },
    });
    // After the gateway: /health says `starting` while the first full sync runs.
    sync.start();
    return {
      config,
      systems,
      credentials,
      systemPolicies,
      subgraphPolicies,
      idempotency,
      ledger,
      apps,
      devApp,
      subgraphs,
      engine,
      sync,
      gateway,
      async close() {
        await gateway.close();
        await sync.close();
        // After the gateway (no request waits on it) and before the subgraphs and ledger its workflows use.
        await engine.close();
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (e) {
    await syncStarted?.close().catch(() => undefined);
    await engineStarted?.close().catch(() => undefined);
    await Promise.allSettled(started.map((s) => s.close()));
    throw e;
  }
}
