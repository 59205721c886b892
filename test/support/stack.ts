// Test support: a whole canon stack on free loopback ports with its own seeded data, and helpers to query it and read what systems received.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { testConfig, type CanonConfig } from '../../gateway/config.js';
import { startStack, type Stack, type StackOptions } from '../../gateway/stack.js';
import { createApp } from '../../gateway/security/apps.js';
import { SCOPES } from '../../gateway/security/scopes.js';
import { sandboxApi, sandboxFetch } from './credentials.js';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  extensions?: Record<string, unknown>;
}

export interface SystemStats {
  requests: number;
  reads: number;
  writes: number;
  byRoute: Record<string, number>;
}

export interface TestStack extends Stack {
  /** The dev app's key (every scope): what `gql` and `postGraphql` send unless told otherwise. */
  devKey: string;
  /** `Authorization: Bearer <key>`, the dev key by default. */
  authHeaders(key?: string): Record<string, string>;
  /** Sends a query as the dev app; `headers` may override its Authorization (another app's key). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** POSTs a body (a string as it is, anything else as JSON) to /graphql as the dev app, for tests that read the raw answer. */
  postGraphql(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Creates an app and returns its key. */
  createApp(name: string, scopes?: readonly string[], ratePerSecond?: number): Promise<string>;
  /** Headers for the app `name` (every scope unless `scopes` says), created on first use: how a test names the ledger's app. */
  appHeaders(name: string, scopes?: readonly string[]): Promise<Record<string, string>>;
  /** `fetch` of a path of `system`'s own API, with the credentials this stack's sandbox requires. */
  systemFetch(system: SystemName, path: string, init?: RequestInit): Promise<Response>;
  /** A system's own API, JSON in and out, with its credentials; throws on an answer other than 2xx or 207. */
  systemApi<T = any>(system: SystemName, method: string, path: string, body?: unknown): Promise<T>;
  /** What each sandbox system has received since the last reset. */
  /** The first `n` customers (by the identity page) whose records exist in every system. */
  customersInEverySystem(n: number): Promise<{ id: string; sourceIds: Record<SystemName, string> }[]>;
  systemStats(): Promise<Record<SystemName, SystemStats>>;
  /** Zeroes the counters of every system and subgraph. */
  resetStats(): Promise<void>;
  setFaults(system: SystemName, faults: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Before each test: no faults on any system, all request logs and counters empty. */
  reset(): Promise<void>;
  /** Stops the stack and deletes its data directory (kept with `keepData`, to start again on it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** `waitForSync: false` answers as soon as the gateway serves, before the first full sync (which may never end when a system refuses canon). */
export async function startTestStack(overrides: Partial<CanonConfig> = {}, opts: StackOptions & { waitForSync?: boolean } = {}): Promise<TestStack> {
  const dir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'canon-test-'));
  const stack = await startStack(testConfig(dir, overrides), opts);
  // canon knows the seeded customers once every system's first full sync is done.
  if (opts.waitForSync !== false) await stack.sync.fullSyncDone();
  if (stack.devApp?.status !== 'created' && stack.devApp?.status !== 'reused') {
    await stack.close();
    throw new Error(`The test stack has no dev key: ${stack.devApp ? stack.devApp.reason : 'DEV_APP is off'}.`);
  }
  const devKey = stack.devApp.key;
  const gatewayUrl = `${stack.gateway.url}/graphql`;
  const authHeaders = (key = devKey) => ({ authorization: `Bearer ${key}` });
  const postGraphql = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const createTestApp = async (name: string, scopes: readonly string[] = SCOPES, ratePerSecond?: number) => {
    const made = await createApp(stack.apps, { name, scopes, ratePerSecond });
    if (!made.ok) throw new Error(made.message);
    return made.key;
  };
  const appKeys = new Map<string, Promise<string>>();
  const testStack: TestStack = {
    ...stack,
    devKey,
    authHeaders,
    postGraphql,
    createApp: createTestApp,
    async appHeaders(name, scopes) {
      if (!appKeys.has(name)) appKeys.set(name, createTestApp(name, scopes));
      return authHeaders(await appKeys.get(name)!);
    },
    async gql(query, variables, headers) {
      const res = await postGraphql({ query, variables }, headers);
      return (await res.json()) as GraphQLResponse;
    },
    async customersInEverySystem(n) {
      const res = await postGraphql({ query: 'query($n: Int!) { customers(first: $n) { edges { node { id sourceIds { crm erp marketing support } } } } }', variables: { n } });
      const body = (await res.json()) as GraphQLResponse;
      if (!body.data) throw new Error(`reading customers failed: ${JSON.stringify(body.errors)}`);
      type Ids = { id: string; sourceIds: Record<SystemName, string | null> };
      const all: Ids[] = body.data.customers.edges.map((e: { node: Ids }) => e.node);
      return all.filter((c): c is { id: string; sourceIds: Record<SystemName, string> } => SYSTEMS.every((s) => c.sourceIds[s] !== null));
    },
    systemFetch: (system, path, init) => sandboxFetch(system, stack.systems[system].url + path, init, stack.credentials),
    systemApi: (system, method, path, body) => sandboxApi(system, stack.systems[system].url, method, path, body, stack.credentials),
    async systemStats() {
      const entries = await Promise.all(SYSTEMS.map(async (s) => [s, await (await fetch(`${stack.systems[s].url}/_admin/stats`)).json()] as const));
      return Object.fromEntries(entries) as Record<SystemName, SystemStats>;
    },
    async resetStats() {
      await Promise.all([
        ...SYSTEMS.map((s) => fetch(`${stack.systems[s].url}/_admin/stats`, { method: 'DELETE' })),
        ...Object.values(stack.subgraphs).map((sg) => fetch(sg.url.replace(/\/graphql$/, '/_admin/stats'), { method: 'DELETE' })),
      ]);
    },
    async setFaults(system, faults) {
      const res = await fetch(`${stack.systems[system].url}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
      if (!res.ok) throw new Error(`setting faults on ${system} failed: ${res.status} ${await res.text()}`);
    },
    async clearFaults() {
      await Promise.all(SYSTEMS.map((s) => fetch(`${stack.systems[s].url}/_admin/faults`, { method: 'DELETE' })));
    },
    async reset() {
      await testStack.clearFaults();
      await testStack.resetStats();
    },
    async stop(opts = {}) {
      await stack.close();
      if (!opts.keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
  return testStack;
}
