// The messages the bench process and its children exchange over the IPC channel, and the helpers both sides use.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { SystemName } from '../../schema/model.js';

/** What the stack child reports once its sandboxes and subgraphs listen. */
export interface StackReady {
  kind: 'stack-ready';
  /** Base URL of each sandbox system (its `/_admin/*` endpoints hang off it). */
  systems: Record<SystemName, string>;
  /** `/graphql` URL of each subgraph. */
  subgraphs: Record<SystemName | 'identity', string>;
  /** File holding the supergraph SDL canon composed for these subgraphs, shared by every contender. */
  supergraphFile: string;
  /** The seeded data the stack serves; the canon child opens canon's own stores there too. */
  dataDir: string;
}

/** What the systems child reports once the four sandbox systems listen on seeded data. */
export interface SystemsReady {
  kind: 'systems-ready';
  systems: Record<SystemName, string>;
  /** The seeded data (identity crosswalk included) the stack child serves. */
  dataDir: string;
}

/** What a gateway child reports once it serves `/graphql`. */
export interface GatewayReady {
  kind: 'gateway-ready';
  url: string;
  /** The key of the app a canon gateway created in its own data directory; the bench sends it to that gateway. */
  key?: string;
}

/** A child that cannot serve (e.g. a contender that does not run on this Node): the bench skips it with `reason`. */
export interface ChildFailed {
  kind: 'failed';
  reason: string;
}

export interface ProfileWritten {
  kind: 'profile-written';
  file: string;
}

export type ChildMessage = SystemsReady | StackReady | GatewayReady | ChildFailed | ProfileWritten;

/** Sent by the bench to any child: close servers and exit normally, so `--cpu-prof` gets to write its profile. */
export interface StopMessage {
  kind: 'stop';
}

/**
 * Sent by the bench to a TypeScript child: start or stop V8's CPU profiler. Unlike `--cpu-prof`, which covers the
 * whole process life, this profiles only the load window, so module loading and start-up do not swamp the figures.
 * On stop the child writes the profile to `file` and answers `profile-written`.
 */
export interface ProfileMessage {
  kind: 'profile-start' | 'profile-stop';
  file?: string;
}

/** What a gateway child is given (as JSON in the BENCH_CHILD_ARGS environment variable). */
export interface GatewayChildArgs {
  stack: StackReady;
}

/** What a canon gateway child is given besides the stack. */
export interface CanonChildArgs extends GatewayChildArgs {
  /** Its name among the contenders: its data directory is `<stack dataDir>/gateway-<name>`. */
  name: string;
  /** DEDUPE_READS. Default true. */
  dedupeReads?: boolean;
  /** --database-url: state in this PostgreSQL, in schemas named after the run and the contender. */
  database?: { url: string; schema: string };
}

/** Reads this child's arguments; the bench always sets them, so their absence is a programming error. */
export function childArgs<T>(): T {
  const raw = process.env.BENCH_CHILD_ARGS;
  if (!raw) throw new Error('BENCH_CHILD_ARGS is not set: this script is started by test/bench/run.ts.');
  return JSON.parse(raw) as T;
}

/** Posts `msg` to the parent; a child started without IPC has nobody to tell, which is a setup error. */
export function tellParent(msg: ChildMessage): void {
  if (!process.send) throw new Error('No IPC channel: this script is started by test/bench/run.ts.');
  process.send(msg);
}

/**
 * Runs `close` and exits 0 when the parent says stop or goes away. Exiting normally (not by signal) is what
 * lets `node --cpu-prof` write the profile.
 */
export function exitWhenParentSays(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  const profiler = new Session();
  process.on('message', (m: StopMessage | ProfileMessage) => {
    if (m?.kind === 'stop') void stop();
    if (m?.kind === 'profile-start') {
      profiler.connect();
      profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
    }
    if (m?.kind === 'profile-stop') {
      profiler.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(m.file!, JSON.stringify(res.profile));
        profiler.disconnect();
        tellParent({ kind: 'profile-written', file: m.file! });
      });
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
}
