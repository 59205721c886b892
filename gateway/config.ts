// canon's configuration: one typed object, each field documented with its default. The only module that reads the environment.

import { resolve } from 'node:path';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import type { AllSystemCredentials } from '../subgraphs/kit/credentials.js';
import type { ResilienceOptions } from '../subgraphs/kit/resilience.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../subgraphs/kit/http-io.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from './operations/idempotency.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './security/limits.js';
import { parseCopyPolicies } from './propagation/plan.js';

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
  /**
   * Systems canon does not start (`<SYSTEM>_URL`, e.g. `CRM_URL=https://api.hubapi.com`): the connector talks to that
   * base URL, and no sandbox is started for the system; its credentials must then be set too (`systemCredentials`).
   * Default: none, every system is a local sandbox. A URL may not carry credentials itself (`https://user:pass@…`).
   */
  systemUrls: Partial<Record<SystemName, string>>;
  /**
   * Credentials canon presents to each system, the way its product takes them: `CRM_TOKEN` (HubSpot private-app
   * token, Bearer), `ERP_USER` and `ERP_PASSWORD` (basic), `MARKETING_API_KEY` (Mailchimp key, basic with any user),
   * `SUPPORT_EMAIL` and `SUPPORT_TOKEN` (Zendesk `email/token` basic). Default: for a local sandbox, the ones generated
   * on first start into DATA_DIR/sandbox-credentials.json (mode 0600); set here, they replace those for that sandbox
   * too. Required for every system named in `systemUrls`. Never logged, never in an error or /health.
   */
  systemCredentials: Partial<AllSystemCredentials>;
  /** Port of each subgraph (`<NAME>_SUBGRAPH_PORT`). Defaults 4200 (identity), 4201–4204; 0 picks free ports. */
  subgraphPorts: Record<SystemName | 'identity', number>;
  /**
   * Subgraphs served by services of their own (`<NAME>_SUBGRAPH_URL`, their /graphql URL, e.g.
   * `CRM_SUBGRAPH_URL=http://crm-subgraph:4000/graphql`; `CONTROL_SUBGRAPH_URL` for canon's control subgraph): this
   * process starts none of them and calls them there, presenting `serviceToken`. Default: none, every subgraph runs
   * in this process. With CONTROL_SUBGRAPH_URL set, canonical writes, the ledger's fields, workflows and the sync run
   * in that service, and the gateway runs no workflow engine.
   */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  /**
   * The secret canon's own services present to each other (`CANON_SERVICE_TOKEN`): a gateway (or the control
   * service) calling a subgraph service sends `Authorization: Bearer <it>` and the app it already authenticated, and
   * the subgraph takes that app's identity as given. Anyone else must send an app's own key or token. Default: none;
   * required by `canon subgraph` and by a gateway with any `<NAME>_SUBGRAPH_URL`. Never logged, never in /health.
   */
  serviceToken: string | undefined;
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
  /**
   * How often each system's change feed is read after the first full sync, in ms (`SYNC_INTERVAL_MS`). Default 5000.
   * Each read is one durable workflow per system and interval (gateway/sync/sync.ts), so gateways sharing their
   * workflow database never run the same one twice.
   */
  syncIntervalMs: number;
  /** PostgreSQL for the ledger when several gateways run (`DATABASE_URL`). Default: none, SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema for canon's tables (`DATABASE_SCHEMA`). Default public. */
  databaseSchema: string;
  /** How long operations stay in the ledger, in days (`LEDGER_RETENTION_DAYS`). Default 30; older ones are pruned hourly. */
  ledgerRetentionDays: number;
  /** OTLP/HTTP endpoint spans are exported to (`OTEL_EXPORTER_OTLP_ENDPOINT`). Default: none, nothing is exported. */
  otlpEndpoint: string | undefined;
  /** Redis for shared state when several gateways run (`REDIS_URL`): idempotency keys, write locks, rate limits. Default: none. */
  redisUrl: string | undefined;
  /**
   * JWTs as app identities besides canon's own API keys, verified with jose. Off unless `AUTH_JWKS_FILE` (a JWKS
   * JSON file) or `AUTH_JWKS_URL` (fetched and cached by jose) is set; then `AUTH_ISSUER` and `AUTH_AUDIENCE` are
   * required, so a token minted for another service is never taken. Scopes come from the space-separated `scope`
   * claim, the app's name from `azp`, `client_id` or `sub`.
   */
  jwt: JwtConfig | undefined;
  /**
   * Requests per second each app may send (`RATE_LIMIT_PER_SECOND`), unless the app has its own (`npm run apps --
   * create NAME --rate N`). Default 100, with bursts of twice that. Over it: HTTP 429 RATE_LIMITED with Retry-After.
   * Counted in memory, or in Redis with REDIS_URL so every gateway counts against the same limit.
   */
  rateLimitPerSecond: number;
  /**
   * A persisted-query manifest (`TRUSTED_DOCUMENTS`, Apollo's `apollo-persisted-query-manifest` format): when set,
   * canon runs only the operations it lists, sent by id or as their exact text. Default: none, any document runs.
   */
  trustedDocuments: string | undefined;
  /**
   * How large one operation may be, judged before it is planned (gateway/security/limits.ts). Over a limit: QUERY_TOO_COMPLEX
   * with `extensions.limit` naming it, and no system is called.
   * - `MAX_TOKENS`: lexical tokens in the document. Default 5000; reading stops past it.
   * - `MAX_DEPTH`: nesting of fields, fragments followed. Default 10.
   * - `MAX_ALIASES`: aliased fields in the operation. Default 100.
   * - `MAX_COST`: each field costs 1 plus what it selects, and `first` multiplies what it selects. Default 150000:
   *   a `customers(first: 1000)` page with every field runs, 60 aliased pages of `first: 1000` do not.
   */
  queryLimits: QueryLimits;
  /**
   * Largest request body read, in bytes, by the gateway, each subgraph and each sandbox (`MAX_BODY_BYTES`). Default
   * 1048576 (1 MiB). A larger body is answered 413 REQUEST_TOO_LARGE at the first byte past the limit (at once when
   * its Content-Length says so); the rest is never read, and the connection is closed.
   */
  maxBodyBytes: number;
  /**
   * Approximate MiB of each of the gateway's two caches keyed by document text (`OPERATION_CACHE_MIB`): Apollo
   * Server's parsed and validated documents, and Apollo Gateway's query plans. Default 30, Apollo's own. Least recently
   * used entries go first, so ever new documents cost bounded memory: a few times this in heap, as sizes are
   * approximated from each entry's JSON (test/fuzz.test.ts measures it with 1 MiB).
   */
  operationCacheMiB: number;
  /**
   * Introspection (`__schema`, `__type`) needs the scope model:read or admin. Default: only when `NODE_ENV` is
   * production; elsewhere any app may introspect, as every GraphQL tool expects.
   */
  introspectionNeedsScope: boolean;
  /**
   * On first start, create the app `dev` with every scope and write its key to DATA_DIR/dev-key (mode 0600), so a
   * fresh checkout works with no setup (`DEV_APP`, 'false' to turn off, e.g. on a shared deployment). Default true.
   */
  devApp: boolean;
  /**
   * How long a stopping gateway (or control service) lets requests in flight finish, in ms (`SHUTDOWN_GRACE_MS`).
   * Default 10000. On SIGTERM it stops accepting connections at once, answers what it holds with
   * `Connection: close`, cuts what is left after this, and leaves its unfinished workflows to the other replicas.
   */
  shutdownGraceMs: number;
  /** Durable workflows (gateway/workflows): where their state lives and how queued work runs. */
  workflows: WorkflowSettings;
}

/** Every subgraph canon composes: identity, one per system, and canon's own control subgraph. */
export type SubgraphName = SystemName | 'identity' | 'control';
export const SUBGRAPH_NAMES: readonly SubgraphName[] = ['identity', ...SYSTEMS, 'control'];

export interface WorkflowSettings {
  /**
   * This gateway's name among those sharing one workflow database (`CANON_EXECUTOR_ID`). Default `local`. A
   * restarted gateway resumes the unfinished workflows of its own id, so give each gateway of a deployment its own.
   */
  executorId: string;
  /**
   * PostgreSQL schema of the workflow state when `DATABASE_URL` is set (`WORKFLOWS_SCHEMA`). Default
   * `canon_workflows`, or `<DATABASE_SCHEMA>_workflows` when DATABASE_SCHEMA is not public. Without DATABASE_URL
   * the state lives in embedded PGlite under DATA_DIR/workflows.
   */
  /** A created embedded database to copy for a new one (tests only: test/support/global-setup.ts makes it); null: create it. */
  embeddedTemplate?: string | null;
  schema: string;
  /** How long a REALTIME mutation waits for its workflow inside the request, in ms (`REALTIME_WAIT_MS`). Default 15000; then it answers PENDING and the workflow goes on. */
  realtimeWaitMs: number;
  /** How many queued workflows write to one system at a time, across gateways (`<SYSTEM>_CONCURRENCY`, e.g. `CRM_CONCURRENCY`). Default 4 each. */
  systemConcurrency: Record<SystemName, number>;
  /**
   * How often each idle queue looks for work, in ms (`QUEUE_POLL_MS`). Default 200: a queued step waits at most that
   * long to start. Each poll is a query on the workflow database, so lower costs idle CPU (measured on the embedded
   * PGlite: 50 ms kept 0.22 of a core busy with nothing to do, 500 ms 0.07).
   */
  queuePollMs: number;
  /**
   * How often this executor beats its heartbeat in the workflow database and looks for executors whose beat stopped,
   * in ms (`EXECUTOR_HEARTBEAT_MS`). Default 5000. Only on PostgreSQL (DATABASE_URL), where other replicas share it.
   */
  heartbeatMs: number;
  /**
   * How long an executor's heartbeat may be silent before a surviving replica takes over its unfinished workflows, in
   * ms (`EXECUTOR_TAKEOVER_MS`). Default 30000. A replica stopping gracefully hands them over at once.
   */
  takeoverAfterMs: number;
  /** Calls a queued step makes toward its system before it fails for good (`QUEUED_MAX_ATTEMPTS`). Default 5. */
  queuedMaxAttempts: number;
  /** First pause between those calls, in ms, doubled each time; a longer Retry-After wins (`QUEUED_RETRY_DELAY_MS`). Default 1000. */
  queuedRetryDelayMs: number;
  /** How long onboarding waits for the ERP to approve a held partner, in ms (`ONBOARDING_APPROVAL_TIMEOUT_MS`). Default 24 hours. */
  onboardingApprovalTimeoutMs: number;
  /** First pause between checks of a held partner, in ms, doubled up to 15 minutes (`ONBOARDING_RECHECK_MS`). Default 2000. */
  onboardingRecheckMs: number;
  /**
   * Policies of copies that override the model's (`COPY_POLICIES`, e.g. `name.marketing=ENFORCE,phone.marketing=REPORT`),
   * keyed `<field>.<system>`. Default none: each copy has the policy schema/model.ts declares (REPORT unless it says).
   */
  copyPolicies: Record<string, 'REPORT' | 'ENFORCE'>;
  /**
   * Whether owner changes are propagated to their copies (`COPY_PROPAGATION=off` turns it off). Default on. Off, canon
   * writes only owners (another tool keeps the copies), and drift is still listed.
   */
  propagateCopies: boolean;
}

export interface JwtConfig {
  /** The key set: a JWKS file (`AUTH_JWKS_FILE`) or URL (`AUTH_JWKS_URL`); exactly one. */
  jwksFile: string | undefined;
  jwksUrl: string | undefined;
  /** The `iss` every token must carry (`AUTH_ISSUER`). */
  issuer: string;
  /** The `aud` every token must include (`AUTH_AUDIENCE`). */
  audience: string;
}

function positive(value: string | undefined, fallback: number, name: string): number {
  const n = int(value, fallback, name);
  if (n === 0) throw new Error(`${name} must be a positive integer; got "${value}".`);
  return n;
}

/** The JWT settings, or undefined when no key set is configured; refuses half a configuration. */
function jwtConfig(env: NodeJS.ProcessEnv): JwtConfig | undefined {
  const jwksFile = env.AUTH_JWKS_FILE || undefined;
  const jwksUrl = env.AUTH_JWKS_URL || undefined;
  if (!jwksFile && !jwksUrl) {
    if (env.AUTH_ISSUER || env.AUTH_AUDIENCE) throw new Error('AUTH_ISSUER and AUTH_AUDIENCE need a key set to verify tokens with: set AUTH_JWKS_FILE or AUTH_JWKS_URL.');
    return undefined;
  }
  if (jwksFile && jwksUrl) throw new Error('Set one of AUTH_JWKS_FILE and AUTH_JWKS_URL, not both.');
  if (!env.AUTH_ISSUER || !env.AUTH_AUDIENCE) throw new Error('JWT apps need AUTH_ISSUER and AUTH_AUDIENCE, so that a token minted by another issuer or for another service is refused.');
  return { jwksFile: jwksFile ? resolve(jwksFile) : undefined, jwksUrl, issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE };
}

/**
 * `raw`, the value of `name`, as an http(s) URL: refused, naming the variable, when it does not parse, is not http(s),
 * or carries credentials (they would then reach logs and /health with the URL). `expected` says what it should be,
 * `credentials` where credentials go instead.
 */
function httpUrl(name: string, raw: string, expected: string, credentials: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be ${expected}; got a value that does not parse.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL; got protocol ${url.protocol}`);
  if (url.username || url.password) throw new Error(`${name} must not carry credentials; ${credentials}.`);
  return raw;
}

/** `<SYSTEM>_URL` of each system that has one; refuses what is not an http(s) URL, or one carrying credentials. */
function systemUrls(env: NodeJS.ProcessEnv): Partial<Record<SystemName, string>> {
  const out: Partial<Record<SystemName, string>> = {};
  for (const s of SYSTEMS) {
    const name = `${s.toUpperCase()}_URL`;
    const raw = env[name];
    if (raw) out[s] = httpUrl(name, raw, 'an http(s) URL, e.g. https://api.example.com', 'set them in their own variables (see gateway/config.ts, systemCredentials)').replace(/\/+$/, '');
  }
  return out;
}

/** The credential variables of each system, all or none of a system's; every system with a `<SYSTEM>_URL` must have them. */
function systemCredentials(env: NodeJS.ProcessEnv, urls: Partial<Record<SystemName, string>>): Partial<AllSystemCredentials> {
  const vars: { [S in SystemName]: Record<keyof AllSystemCredentials[S], string> } = {
    crm: { token: 'CRM_TOKEN' },
    erp: { user: 'ERP_USER', password: 'ERP_PASSWORD' },
    marketing: { apiKey: 'MARKETING_API_KEY' },
    support: { email: 'SUPPORT_EMAIL', token: 'SUPPORT_TOKEN' },
  };
  const out: Record<string, Record<string, string>> = {};
  for (const s of SYSTEMS) {
    const fields = Object.entries(vars[s]) as [string, string][];
    const set = fields.filter(([, v]) => env[v]);
    if (set.length === 0) {
      if (urls[s]) throw new Error(`${s.toUpperCase()}_URL is set, so canon needs that system's credentials: set ${fields.map(([, v]) => v).join(' and ')}.`);
      continue;
    }
    if (set.length < fields.length) throw new Error(`Set ${fields.map(([, v]) => v).join(' and ')} together; missing ${fields.filter(([, v]) => !env[v]).map(([, v]) => v).join(', ')}.`);
    out[s] = Object.fromEntries(fields.map(([k, v]) => [k, env[v]!]));
  }
  return out as Partial<AllSystemCredentials>;
}

/** `<NAME>_SUBGRAPH_URL` of each subgraph that has one: an http(s) URL without credentials (they have CANON_SERVICE_TOKEN). */
function subgraphUrls(env: NodeJS.ProcessEnv): Partial<Record<SubgraphName, string>> {
  const out: Partial<Record<SubgraphName, string>> = {};
  for (const n of SUBGRAPH_NAMES) {
    const name = `${n.toUpperCase()}_SUBGRAPH_URL`;
    const raw = env[name];
    if (raw) out[n] = httpUrl(name, raw, `the http(s) URL of that subgraph's /graphql, e.g. http://${n}-subgraph:4000/graphql`, "canon's services present CANON_SERVICE_TOKEN");
  }
  return out;
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
  const urls = systemUrls(env);
  return {
    port: int(env.PORT, 4000, 'PORT'),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.DATA_DIR || './data'),
    logLevel: env.LOG_LEVEL || 'info',
    seed: int(env.SEED, 1, 'SEED'),
    seedSize: int(env.SEED_SIZE, 2000, 'SEED_SIZE'),
    systemPorts,
    systemUrls: urls,
    systemCredentials: systemCredentials(env, urls),
    subgraphPorts,
    subgraphUrls: subgraphUrls(env),
    serviceToken: env.CANON_SERVICE_TOKEN || undefined,
    systemResilience: { budgetMs: int(env.SYSTEM_TIMEOUT_MS, 5000, 'SYSTEM_TIMEOUT_MS') },
    subgraphResilience: { attemptTimeoutMs: 8000, budgetMs: int(env.SUBGRAPH_TIMEOUT_MS, 10_000, 'SUBGRAPH_TIMEOUT_MS'), maxAttempts: 2 },
    dedupeReads: env.DEDUPE_READS !== 'false',
    idempotencyTtlMs: int(env.IDEMPOTENCY_TTL_MS, DEFAULT_IDEMPOTENCY_TTL_MS, 'IDEMPOTENCY_TTL_MS'),
    syncIntervalMs: positive(env.SYNC_INTERVAL_MS, 5000, 'SYNC_INTERVAL_MS'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || 'public',
    ledgerRetentionDays: int(env.LEDGER_RETENTION_DAYS, 30, 'LEDGER_RETENTION_DAYS'),
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    redisUrl: env.REDIS_URL || undefined,
    jwt: jwtConfig(env),
    rateLimitPerSecond: positive(env.RATE_LIMIT_PER_SECOND, 100, 'RATE_LIMIT_PER_SECOND'),
    trustedDocuments: env.TRUSTED_DOCUMENTS ? resolve(env.TRUSTED_DOCUMENTS) : undefined,
    queryLimits: {
      maxTokens: positive(env.MAX_TOKENS, DEFAULT_QUERY_LIMITS.maxTokens, 'MAX_TOKENS'),
      maxDepth: positive(env.MAX_DEPTH, DEFAULT_QUERY_LIMITS.maxDepth, 'MAX_DEPTH'),
      maxAliases: int(env.MAX_ALIASES, DEFAULT_QUERY_LIMITS.maxAliases, 'MAX_ALIASES'),
      maxCost: positive(env.MAX_COST, DEFAULT_QUERY_LIMITS.maxCost, 'MAX_COST'),
    },
    maxBodyBytes: positive(env.MAX_BODY_BYTES, DEFAULT_BODY_LIMIT_BYTES, 'MAX_BODY_BYTES'),
    operationCacheMiB: positive(env.OPERATION_CACHE_MIB, 30, 'OPERATION_CACHE_MIB'),
    introspectionNeedsScope: env.NODE_ENV === 'production',
    devApp: env.DEV_APP !== 'false',
    shutdownGraceMs: int(env.SHUTDOWN_GRACE_MS, 10_000, 'SHUTDOWN_GRACE_MS'),
    workflows: {
      executorId: env.CANON_EXECUTOR_ID || 'local',
      schema: env.WORKFLOWS_SCHEMA || (env.DATABASE_SCHEMA && env.DATABASE_SCHEMA !== 'public' ? `${env.DATABASE_SCHEMA}_workflows` : 'canon_workflows'),
      realtimeWaitMs: positive(env.REALTIME_WAIT_MS, 15_000, 'REALTIME_WAIT_MS'),
      systemConcurrency: Object.fromEntries(SYSTEMS.map((s) => [s, positive(env[`${s.toUpperCase()}_CONCURRENCY`], 4, `${s.toUpperCase()}_CONCURRENCY`)])) as Record<SystemName, number>,
      queuePollMs: positive(env.QUEUE_POLL_MS, 200, 'QUEUE_POLL_MS'),
      heartbeatMs: positive(env.EXECUTOR_HEARTBEAT_MS, 5000, 'EXECUTOR_HEARTBEAT_MS'),
      takeoverAfterMs: positive(env.EXECUTOR_TAKEOVER_MS, 30_000, 'EXECUTOR_TAKEOVER_MS'),
      queuedMaxAttempts: positive(env.QUEUED_MAX_ATTEMPTS, 5, 'QUEUED_MAX_ATTEMPTS'),
      queuedRetryDelayMs: int(env.QUEUED_RETRY_DELAY_MS, 1000, 'QUEUED_RETRY_DELAY_MS'),
      onboardingApprovalTimeoutMs: positive(env.ONBOARDING_APPROVAL_TIMEOUT_MS, 24 * 60 * 60 * 1000, 'ONBOARDING_APPROVAL_TIMEOUT_MS'),
      onboardingRecheckMs: positive(env.ONBOARDING_RECHECK_MS, 2000, 'ONBOARDING_RECHECK_MS'),
      copyPolicies: parseCopyPolicies(env.COPY_POLICIES),
      propagateCopies: env.COPY_PROPAGATION !== 'off',
    },
  };
}

/**
 * A configuration for tests and benchmarks: every port picked free, data in `dataDir`, and a default rate limit no
 * test or benchmark load reaches (tests of the limit give their apps their own rate).
 */
export function testConfig(dataDir: string, overrides: Partial<CanonConfig> = {}): CanonConfig {
  const base = loadConfig({});
  const zero = (o: Record<string, number>) => Object.fromEntries(Object.keys(o).map((k) => [k, 0]));
  return {
    ...base,
    port: 0,
    dataDir,
    logLevel: 'silent',
    seedSize: 200,
    // After the full sync, no round: tests count what each system receives. Tests of the sync pass a short interval.
    syncIntervalMs: 3_600_000,
    rateLimitPerSecond: 1_000_000,
    // Tests close stacks with requests of theirs still hanging (faults): cut them at once, as before.
    shutdownGraceMs: 0,
    systemPorts: zero(base.systemPorts) as CanonConfig['systemPorts'],
    subgraphPorts: zero(base.subgraphPorts) as CanonConfig['subgraphPorts'],
    // Tests retry queued steps without waiting a second between calls. No propagation to copies, as no sync round:
    // tests count what each system receives; tests of propagation turn it on.
    workflows: { ...base.workflows, queuedRetryDelayMs: 10, onboardingRecheckMs: 50, propagateCopies: false, embeddedTemplate: process.env.CANON_TEST_PGLITE_TEMPLATE ?? null },
    ...overrides,
  };
}
