// Where the time goes during one load run: CPU and memory of each process the requests pass through, and of the machine as a whole.
//
// Terms used here:
//   role   — what a process is in the run: `gateway` (the contender), `subgraphs` (the stack process: canon's five
//            subgraph servers), `systems` (the four sandbox systems), `load` (this process: autocannon).
//   cores  — CPU time over wall time: 1.0 is one core busy the whole run. A Node process does its JavaScript on one
//            thread, so near 1.0 it is saturated: it cannot go faster however idle the rest of the machine is.
//   machine — every process on the machine, ours and other users' alike (from /proc/stat), in cores.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { clockTicks, sampleProc } from './children.js';

export const ROLES = ['gateway', 'subgraphs', 'systems', 'load'] as const;
export type Role = (typeof ROLES)[number];

/** A process at or above this many cores is reported as saturated. */
export const SATURATED_CORES = 0.9;
/** The machine at or above this share of its cores is reported as saturated. */
export const MACHINE_SATURATED_SHARE = 0.95;

export interface ProcessFigures {
  /** CPU (user + system) per completed request, ms. */
  cpuMsPerRequest: number;
  cores: number;
  rssMiB: number;
  peakRssMiB: number;
}

export interface Metered {
  processes: Record<Role, ProcessFigures>;
  /** Busy cores of the whole machine during the run, other users' processes included. */
  machineCores: number;
}

/** Busy and total clock ticks of all CPUs since boot: user … steal of /proc/stat's first line (guest time is already in user). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the CPU doing nothing.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** Starts measuring; `stop(requests)` returns the figures of the processes over the time since. */
export function startMeter(pids: Record<Exclude<Role, 'load'>, number>): { stop(requests: number): Metered } {
  const t0 = performance.now();
  const m0 = machineTicks();
  const before = { gateway: sampleProc(pids.gateway), subgraphs: sampleProc(pids.subgraphs), systems: sampleProc(pids.systems), load: sampleProc(process.pid) };
  return {
    stop(requests) {
      const wallMs = performance.now() - t0;
      const m1 = machineTicks();
      const after = { gateway: sampleProc(pids.gateway), subgraphs: sampleProc(pids.subgraphs), systems: sampleProc(pids.systems), load: sampleProc(process.pid) };
      const figures = (role: Role): ProcessFigures => {
        const cpuMs = after[role].cpuMs - before[role].cpuMs;
        return { cpuMsPerRequest: cpuMs / Math.max(1, requests), cores: cpuMs / wallMs, rssMiB: after[role].rssMiB, peakRssMiB: after[role].peakRssMiB };
      };
      const ticksPerMs = clockTicks() / 1000;
      return {
        processes: Object.fromEntries(ROLES.map((r) => [r, figures(r)])) as Record<Role, ProcessFigures>,
        machineCores: (m1.busy - m0.busy) / ticksPerMs / wallMs,
      };
    },
  };
}

/** What saturated in a run (medians of the runs' cores): the processes at or above SATURATED_CORES, and the machine. */
export function saturation(cores: Record<Role, number>, machineCores: number): { processes: Role[]; machine: boolean } {
  return {
    processes: ROLES.filter((r) => cores[r] >= SATURATED_CORES),
    machine: machineCores >= MACHINE_SATURATED_SHARE * cpus().length,
  };
}
