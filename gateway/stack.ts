// Starts canon's whole local stack: seeded data, the four sandbox systems, the five subgraphs and the gateway, each on its own port.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type RedisClientType } from '@redis/client';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { PolicyRegistry, settingsFor } from '../subgraphs/kit/resilience.js';
import { IdempotencyStore } from './operations/idempotency.js';
import { SqliteKeyvStore } from './operations/keyv-sqlite.js';
import { PostgresLedger, SqliteLedger, type Ledger } from './operations/ledger.js';
import type { Logger } from 'pino';
import { createLogger, startTelemetry } from '../subgraphs/kit/telemetry.js';
import type { SystemName } from '../schema/model.js';
import { InProcessLock, RedisLock, type RecordLock } from '../subgraphs/kit/record-lock.js';
import { OWNERS, SYSTEMS, type Owner } from '../schema/model.js';
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
import { ScopeRules } from './security/scopes.js';
import { CompositionError } from './http/errors.js';
import { health, type HealthTargets } from './http/health.js';
import { subgraphAccess, type AccessOptions } from './services/access.js';
import { composeConfigured, remoteSubgraph } from './services/schemas.js';

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
 * The subgraph definitions for systems reachable at `systemUrls` (only those named): `policies` hold each system's
 * timeouts, retries and breaker; `lock` serialises writes to systems without conditional writes.
 */
export function systemSubgraphs<S extends SystemName>(systemUrls: Record<S, string>, credentials: AllSystemCredentials, policies: PolicyRegistry, lock: RecordLock, log: Logger): Record<S, SubgraphDefinition> {
  const build: { [K in SystemName]: (baseUrl: string) => SubgraphDefinition } = {
    crm: (baseUrl) => crmSubgraph({ baseUrl, credentials: credentials.crm, policy: policies.for('crm'), lock, log }),
    erp: (baseUrl) => erpSubgraph({ baseUrl, credentials: credentials.erp, policy: policies.for('erp'), log }),
    marketing: (baseUrl) => marketingSubgraph({ baseUrl, credentials: credentials.marketing, listId: MARKETING_LIST_ID, policy: policies.for('marketing'), lock, log }),
    support: (baseUrl) => supportSubgraph({ baseUrl, credentials: credentials.support, policy: policies.for('support'), lock, log }),
  };
  return Object.fromEntries((Object.entries(systemUrls) as [S, string][]).map(([s, url]) => [s, build[s](url)])) as Record<S, SubgraphDefinition>;
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

/** Prunes operations past the retention now and every hour (the engine prunes their workflows alike, engine.ts); returns the stopper. */
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
export async function recordLock(config: CanonConfig): Promise<{ lock: RecordLock; close(): Promise<void> }> {
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

/**
 * What this process serves over HTTP: canon's gateway (`canon start`, `canon gateway`), or canon's control subgraph
 * as a service of its own (`canon subgraph control`), on config.port either way.
 */
export type Front = 'gateway' | 'control';

/** A process of a deployment: what startStack gives, but without a workflow engine when control runs elsewhere. */
export interface Service extends Omit<Stack, 'engine' | 'sync' | 'systems'> {
  /** The systems this process reaches: a sandbox it started, or a `<SYSTEM>_URL`; none for a system it has no use for. */
  systems: Partial<Record<SystemName, RunningSandbox>>;
  /** Null when CONTROL_SUBGRAPH_URL is set: that service runs the workflows and the sync. */
  engine: WorkflowEngine | null;
  sync: SyncScheduler | null;
}

/** The whole stack in one process, everything local but what the configuration names elsewhere, and its control subgraph inside the gateway. */
export async function startStack(config: CanonConfig, opts: StackOptions = {}): Promise<Stack> {
  if (config.subgraphUrls.control) throw new Error('startStack runs the control subgraph in process; with CONTROL_SUBGRAPH_URL use startService.');
  // With control in process, the engine and the sync run here and every system is reached.
  return (await startService(config, 'gateway', opts)) as Stack;
}

/**
 * One process of canon: the gateway or the control service in front, and in process every sandbox without a
 * `<SYSTEM>_URL` and every subgraph without a `<NAME>_SUBGRAPH_URL`. The subgraphs elsewhere are called with
 * CANON_SERVICE_TOKEN (gateway/services/access.ts says who enforces what).
 */
export async function startService(config: CanonConfig, front: Front, opts: StackOptions = {}): Promise<Service> {
  mkdirSync(config.dataDir, { recursive: true });
  const externalUrls: Partial<Record<SystemName, string>> = { ...config.systemUrls, ...opts.systems };
  const remote = config.subgraphUrls;
  const controlRemote = front === 'gateway' && !!remote.control;
  if (front === 'control' && remote.control) throw new Error('CONTROL_SUBGRAPH_URL names where the control subgraph is; the control service itself takes only PORT.');
  if ((Object.keys(remote).length || front === 'control') && !config.serviceToken) {
    throw new Error('Set CANON_SERVICE_TOKEN (the same secret on every canon service): subgraphs served on their own admit canon\'s services only with it.');
  }
  // Sandboxes run here only for systems whose subgraph runs here too, or whose change feed this process syncs.
  const syncsHere = !controlRemote;
  const local = SYSTEMS.filter((s) => !externalUrls[s] && (syncsHere || !remote[s]));
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
    // A REALTIME write waits up to REALTIME_WAIT_MS inside the control service: its call gets that, and a margin.
    const controlBudget = config.workflows.realtimeWaitMs + 5000;
    const subgraphPolicies = new PolicyRegistry({
      ...config.subgraphResilience,
      attemptTimeoutMs: (s) => (s === ('control' as Owner) ? controlBudget : settingsFor(s, config.subgraphResilience).attemptTimeoutMs),
      budgetMs: (s) => (s === ('control' as Owner) ? controlBudget : settingsFor(s, config.subgraphResilience).budgetMs),
    });
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
    const authenticator = new Authenticator({ store: apps, jwt });
    const systems: Partial<Record<SystemName, RunningSandbox>> = {};
    for (const s of SYSTEMS) {
      const external = externalUrls[s];
      if (external) {
        const url = new URL(external);
        systems[s] = { name: s, port: Number(url.port), url: external.replace(/\/$/, ''), close: async () => undefined };
        continue;
      }
      if (!local.includes(s)) continue;
      const sandbox = await startSandboxIn(s, config.dataDir, credentials, { port: config.systemPorts[s], maxBodyBytes: config.maxBodyBytes });
      systems[s] = sandbox;
      started.push(sandbox);
    }
    const systemUrlOf = (s: SystemName) => systems[s]?.url ?? '';
    const localDefs: Partial<Record<SystemName, SubgraphDefinition>> = systemSubgraphs(Object.fromEntries(SYSTEMS.filter((s) => !remote[s]).map((s) => [s, systemUrlOf(s)])) as Record<SystemName, string>, credentials, systemPolicies, locking.lock, log);
    const defs = {} as Record<Owner, SubgraphDefinition>;
    const subgraphs = {} as Record<Owner, RunningSubgraph>;
    for (const name of OWNERS) {
      const url = remote[name];
      if (url) {
        // Served elsewhere: composed from its schema, called at its URL; its request counts are that service's.
        defs[name] = remoteSubgraph(name);
        subgraphs[name] = { name, port: Number(new URL(url).port), url, stats: () => ({ requests: 0, byOperation: {} }), close: async () => undefined };
        continue;
      }
      defs[name] = name === 'identity' ? identitySubgraph({ file: join(config.dataDir, 'identity.sqlite') }) : localDefs[name]!;
      subgraphs[name] = await startSubgraphServer(defs[name], { port: config.subgraphPorts[name], host: config.host, maxBodyBytes: config.maxBodyBytes });
      started.push(subgraphs[name]);
    }
    // One client toward the subgraphs for the whole process: Apollo's reads and canon's write steps alike.
    const client = new SubgraphClient({ urls: Object.fromEntries(Object.entries(subgraphs).map(([n, sg]) => [n, sg.url])) as SubgraphUrls, policies: subgraphPolicies, dedupeReads: config.dedupeReads, serviceToken: config.serviceToken });
    let engine: WorkflowEngine | null = null;
    let sync: SyncScheduler | null = null;
    let control: SubgraphDefinition | null = null;
    if (!controlRemote) {
      // After the subgraphs: DBOS resumes unfinished workflows as it starts, and their steps call the subgraphs.
      const runner = new StepRunner(client);
      const feedUrls = Object.fromEntries(SYSTEMS.map((s) => [s, systemUrlOf(s)])) as Record<SystemName, string>;
      const feeds = new SyncFeeds(feedConnectors(feedUrls, credentials, systemPolicies, log), client);
      engine = await WorkflowEngine.start(config, { runner, ledger, settings: config.workflows, log, sync: feeds, lock: locking.lock });
      engineStarted = engine;
      sync = new SyncScheduler({ engine, feeds, intervalMs: config.syncIntervalMs, deployment: [subgraphs.identity.url, ...SYSTEMS.map((s) => feedUrls[s])].join(' '), log, roundRetentionMs: opts.syncRoundRetentionMs });
      syncStarted = sync;
      control = controlSubgraph({ client, ledger, lock: locking.lock, engine, runner });
    }
    const syncTargets = sync ? syncHealth(sync, client) : undefined;
    const queues = engine ? () => engine!.queues() : undefined;
    const systemList = SYSTEMS.filter((s) => systems[s]).map((s) => ({ name: s, url: systemUrlOf(s) }));
    let served: RunningGateway;
    if (front === 'control') {
      served = await serveControl(config, control!, { authenticator, idempotency: { store: idempotency, ledger } }, { sync: syncTargets!, queues }, systemList, subgraphs);
    } else {
      served = await startGateway({
        port: config.port,
        host: config.host,
        subgraphs: [...OWNERS.map((n) => ({ def: defs[n], url: subgraphs[n].url })), ...(controlRemote ? [{ def: remoteSubgraph('control'), url: remote.control! }] : [])],
        localSubgraphs: control ? [{ def: control, url: CONTROL_URL }] : [],
        systems: systemList,
        sync: syncTargets,
        queues,
        client,
        idempotency,
        ledger,
        log,
        maxBodyBytes: config.maxBodyBytes,
        operationCacheMiB: config.operationCacheMiB,
        security: { authenticator, rateLimits, trusted, limits: new QueryLimiter(config.queryLimits), modelNeedsScope: config.introspectionNeedsScope },
        shutdownGraceMs: config.shutdownGraceMs,
      });
    }
    // After the front: /health says `starting` while the first full sync runs.
    sync?.start();
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
      gateway: served,
      async close() {
        await served.close();
        await sync?.close();
        // After the front (no request waits on it) and before the subgraphs and ledger its workflows use.
        await engine?.close();
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

/** What /health reports of the sync and the identity store, read through the client. */
function syncHealth(sync: SyncScheduler, client: SubgraphClient): NonNullable<HealthTargets['sync']> {
  return {
    started: () => sync.started,
    report: () => sync.report(),
    identity: async () => {
      const r = await client.execute<{ identityStatus: { customers: number; records: number; pendingReview: number } }>('identity', '{ identityStatus { customers records pendingReview } }', {}, { kind: 'read' });
      return r.ok ? r.data.identityStatus : null;
    },
  };
}

/**
 * The control subgraph as a service: GraphQL on config.port under canon's access rule, and /health as the gateway
 * reports it (503 while `starting`, so a readiness probe waits for the first full sync).
 */
async function serveControl(config: CanonConfig, control: SubgraphDefinition, access: Pick<AccessOptions, 'authenticator' | 'idempotency'>, engineSide: Pick<HealthTargets, 'sync' | 'queues'>, systems: { name: string; url: string }[], subgraphs: Record<Owner, RunningSubgraph>): Promise<RunningGateway> {
  const composed = composeConfigured(config);
  if (!composed.ok) throw new CompositionError(composed.errors);
  const rules = new ScopeRules(composed.supergraphSdl, { modelNeedsScope: config.introspectionNeedsScope });
  const targets: HealthTargets = { subgraphs: OWNERS.map((n) => ({ name: n, url: subgraphs[n].url })), systems, ...engineSide };
  const server = await startSubgraphServer(control, {
    port: config.port,
    host: config.host,
    maxBodyBytes: config.maxBodyBytes,
    shutdownGraceMs: config.shutdownGraceMs,
    access: subgraphAccess({ name: 'control', serviceToken: config.serviceToken, rules, ...access }),
    health: async () => {
      const report = await health(targets);
      return { status: report.status === 'starting' ? 503 : 200, body: report };
    },
  });
  return { port: server.port, url: `http://${config.host}:${server.port}`, supergraphSdl: composed.supergraphSdl, close: () => server.close() };
}
