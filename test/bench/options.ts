// The bench's command-line flags, read once into one typed object, and where the bench's files are.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/bench: the child scripts live here. */
export const benchDir = dirname(fileURLToPath(import.meta.url));
/** The repository root: children run there, results go under bench-results/. */
export const root = resolve(benchDir, '../..');
/** The contenders installed from their own lockfile (Hive Gateway), outside canon's dependencies. */
export const contendersDir = join(benchDir, 'contenders');

export interface BenchOptions {
  /** --quick: a smoke check, under two minutes. */
  quick: boolean;
  /** Rounds of A B C D for the overhead comparison. Default 4 (quick: 1). */
  rounds: number;
  /** Seconds per run. Default 5 (quick: 1). */
  duration: number;
  /** Concurrent client connections per load run. Default 16. */
  connections: number;
  /** Seconds of unrecorded load per contender before the first round, so JITs and pools are warm. Default 3 (quick: 1). */
  warmup: number;
  /** --profile: also profile canon's gateway under load (V8 profiler). */
  profile: boolean;
  /** Which contenders to run (--contenders a,b). Default all (null); canon always runs, it is what the others are compared to. */
  contenders: Set<string> | null;
  /**
   * --baseline DIR: also run canon from another checkout (e.g. `git archive <commit> | tar -x -C DIR`, with DIR's
   * node_modules linked to this one's) as the contender canon-baseline, so a change's effect is a ratio measured
   * side by side, round by round. Default none.
   */
  baseline: string | null;
  /**
   * --side-by-side: load the contenders of a round at the same time (each with --connections), not one after the
   * other, so each instant's machine state falls on all of them alike; the steadiest CPU-per-request ratios on a
   * shared machine, at the price of throughput figures that are shares of one machine. For A/B work with --baseline.
   */
  sideBySide: boolean;
  /** --varied-only: only the varied table (no identical table, critical path, page sizes or writes): for A/B work on the gateway. */
  variedOnly: boolean;
  /**
   * --writes-only: only the writes phase against canon (with --profile, canon's gateway profiled under the realtime
   * write load instead of the varied reads): for A/B work on the write path.
   */
  writesOnly: boolean;
  /**
   * --database-url URL: canon's contenders keep their state (ledger, key store, workflows) in this PostgreSQL, each
   * in schemas of its own for the run (dropped when it stops), as a deployment past one machine does; default none:
   * embedded SQLite and PGlite under their data directories, as `npm start` does.
   */
  databaseUrl: string | null;
}

/** Reads the flags; a number flag that is not a positive number throws, naming the flag and what it got. */
export function readOptions(argv: string[]): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`);
  const num = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number; got "${argv[i + 1]}".`);
    return v;
  };
  const quick = flag('quick');
  return {
    quick,
    rounds: num('rounds', quick ? 1 : 4),
    duration: num('duration', quick ? 1 : 5),
    connections: num('connections', 16),
    warmup: quick ? 1 : 3,
    profile: flag('profile'),
    baseline: (() => {
      const i = argv.indexOf('--baseline');
      if (i < 0) return null;
      const dir = argv[i + 1];
      if (!dir || dir.startsWith('--')) throw new Error('--baseline takes a directory holding another checkout of canon.');
      return resolve(dir);
    })(),
    databaseUrl: (() => {
      const i = argv.indexOf('--database-url');
      if (i < 0) return null;
      const url = argv[i + 1];
      if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new Error('--database-url takes a PostgreSQL URL (postgres://…).');
      return url;
    })(),
    variedOnly: flag('varied-only'),
    writesOnly: flag('writes-only'),
    sideBySide: flag('side-by-side'),
    contenders: (() => {
      const i = argv.indexOf('--contenders');
      return i < 0 ? null : new Set(['canon', ...(argv[i + 1] ?? '').split(',')]);
    })(),
  };
}
