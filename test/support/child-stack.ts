// Test support: a whole canon stack in a child process of its own, for tests that kill a gateway (SIGKILL) and start it again on the same data, or that need a second workflow engine (DBOS is one per process).

import { fork, type ChildProcess } from 'node:child_process';
import type { SystemName } from '../../schema/model.js';
import type { CanonConfig } from '../../gateway/config.js';

export interface ChildReady {
  kind: 'ready';
  gateway: string;
  systems: Record<SystemName, string>;
  devKey: string;
}

export interface ChildStack {
  pid: number;
  ready: ChildReady;
  /** POSTs a GraphQL request to the child's gateway as its dev app. */
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<any>;
  /** Kills the process outright (SIGKILL): nothing it holds is closed, as when a machine dies. */
  kill(): Promise<void>;
  /** Asks the child to close its stack and exit. */
  stop(): Promise<void>;
}

export interface ChildOptions {
  /** False: answer as soon as the gateway serves, before its first full sync is done. Default true. */
  waitForSync?: boolean;
  /**
   * Environment variables for the child. When given, the child reads its systems (`<SYSTEM>_URL` and their
   * credentials) from its environment through loadConfig, as `npm start` does, rather than from `overrides`.
   */
  env?: Record<string, string>;
  /** When given, everything the child writes to stdout and stderr (its log lines) is collected here, as text. */
  output?: string[];
}

/**
 * Starts `startStack(testConfig(dataDir, overrides))` in a child process and waits until it serves, and (unless
 * `waitForSync` is false) until its first full sync is done.
 */
export async function startChildStack(dataDir: string, overrides: Partial<CanonConfig> = {}, opts: ChildOptions = {}): Promise<ChildStack> {
  const child: ChildProcess = fork(new URL('./child-stack-main.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...opts.env, CANON_CHILD_ARGS: JSON.stringify({ dataDir, overrides, waitForSync: opts.waitForSync ?? true, systemsFromEnv: opts.env !== undefined }) },
    stdio: ['ignore', opts.output ? 'pipe' : 'inherit', opts.output ? 'pipe' : 'inherit', 'ipc'],
  });
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => opts.output!.push(String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    child.once('message', (m: ChildReady | { kind: 'failed'; reason: string }) => (m.kind === 'ready' ? resolve(m) : reject(new Error(`child stack failed: ${m.reason}`))));
    child.once('exit', (code, signal) => reject(new Error(`child stack exited before it was ready (code ${code}, signal ${signal})`)));
  });
  return {
    pid: child.pid!,
    ready,
    async gql(query, variables, headers = {}) {
      const res = await fetch(`${ready.gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ready.devKey}`, ...headers }, body: JSON.stringify({ query, variables }) });
      return res.json();
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ kind: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
