// Test support: a whole canon stack on free loopback ports with its own seeded data, and helpers to query it and read what systems received.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { testConfig, type CanonConfig } from '../../gateway/config.js';
import { startStack, type Stack, type StackOptions } from '../../gateway/stack.js';

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
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** What each sandbox system has received since the last reset. */
  systemStats(): Promise<Record<SystemName, SystemStats>>;
  /** Zeroes the counters of every system and subgraph. */
  resetStats(): Promise<void>;
  setFaults(system: SystemName, faults: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Stops the stack and deletes its data directory (kept with `keepData`, to start again on it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestStack(overrides: Partial<CanonConfig> = {}, opts: StackOptions = {}): Promise<TestStack> {
  const dir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'canon-test-'));
  const stack = await startStack(testConfig(dir, overrides), opts);
  const gatewayUrl = `${stack.gateway.url}/graphql`;
  return {
    ...stack,
    async gql(query, variables, headers) {
      const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as GraphQLResponse;
    },
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
    async stop(opts = {}) {
      await stack.close();
      if (!opts.keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON to a sandbox system's own API, the way a test checks what the system holds. */
export async function systemApi<T = any>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (res.status >= 300 && res.status !== 207) throw new Error(`${method} ${path} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
