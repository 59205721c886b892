// Starting, watching and stopping the bench's child processes, and reading their CPU time and memory from /proc.

import { fork, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildMessage, GatewayReady, ProfileMessage, StackReady, StopMessage, SystemsReady } from './protocol.js';

export interface Child<R> {
  pid: number;
  ready: R;
  /** Asks the child to close and exit; resolves once it has (killed if it has not within 10 s). */
  stop(): Promise<void>;
  /** Profiles the child's CPU while `during` runs and writes the .cpuprofile to `file`. */
  profile(file: string, during: () => Promise<unknown>): Promise<void>;
}

/** Thrown when a child reports that it cannot serve; the bench turns it into a skipped contender. */
export class ChildFailedError extends Error {
  constructor(readonly script: string, readonly reason: string) {
    super(`${script} could not start: ${reason}`);
    this.name = 'ChildFailedError';
  }
}

const START_TIMEOUT_MS = 120_000;

/**
 * Forks `script` with `args` in BENCH_CHILD_ARGS and waits for its first message. TypeScript runs through tsx as an
 * import hook, not the tsx CLI, so the pid is the node process doing the work (the CLI would add a wrapper process).
 */
export async function startChild<R extends GatewayReady | StackReady | SystemsReady>(
  script: string,
  args: unknown,
  opts: { cpuProfDir?: string; cwd?: string; quiet?: boolean } = {},
): Promise<Child<R>> {
  const execArgv = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  if (opts.cpuProfDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir);
  const child: ChildProcess = fork(script, [], {
    execArgv,
    cwd: opts.cwd,
    env: { ...process.env, BENCH_CHILD_ARGS: JSON.stringify(args) },
    // quiet: the child's stdout (canon's JSON log lines) goes nowhere; its stderr still reaches the bench's.
    stdio: ['ignore', opts.quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ChildFailedError(script, `no ready message within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('message', (m: ChildMessage) => {
      clearTimeout(timer);
      if (m.kind === 'failed') reject(new ChildFailedError(script, m.reason));
      else resolve(m as R);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new ChildFailedError(script, `exited before it was ready (code ${code}, signal ${signal})`));
    });
  }).catch(async (e) => {
    child.kill('SIGKILL');
    await exited;
    throw e;
  });
  return {
    pid: child.pid!,
    ready,
    async profile(file, during) {
      child.send({ kind: 'profile-start' } satisfies ProfileMessage);
      await during();
      const written = new Promise<void>((resolve) => child.on('message', (m: ChildMessage) => m.kind === 'profile-written' && resolve()));
      child.send({ kind: 'profile-stop', file } satisfies ProfileMessage);
      await written;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const stop: StopMessage = { kind: 'stop' };
      child.send(stop);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times; almost always 100, but asked once rather than assumed. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  /** User plus system CPU time since the process started, in ms. */
  cpuMs: number;
  /** Resident set size now, in MiB. */
  rssMiB: number;
  /** Peak resident set size since the process started, in MiB. */
  peakRssMiB: number;
}

/** One reading of a process's CPU time and memory. Linux only: /proc is the point (no sampling inside the child). */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses; fields are counted after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuMs: ((utime + stime) * 1000) / clockTicks(), rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}
