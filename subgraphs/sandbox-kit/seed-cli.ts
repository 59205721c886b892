// Owns the `npm run seed` command line: parse flags, refuse to clobber data unless --force, print a summary.

import { resolve } from 'node:path';
import { isSeeded, seedAll, SEED_FILES } from './seed/writer.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const USAGE = 'usage: canon seed [--dir ./data] [--seed 1] [--size 2000] [--force]   (or npm run seed -- …)';

function parseArgs(argv: string[]): { dir: string; seed: number; size: number; force: boolean } {
  const out = { dir: './data', seed: 1, size: 2000, force: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value; ${USAGE}`);
      return v;
    };
    const integer = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      return n;
    };
    switch (flag) {
      case '--dir': out.dir = value(); break;
      case '--seed': out.seed = integer(value(), 0); break;
      case '--size': out.size = integer(value(), 1); break;
      case '--force': out.force = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0);
      default: throw new Error(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    }
  }
  return out;
}

try {
  const args = parseArgs(process.argv.slice(2));
  const dir = resolve(args.dir);
  const existing = Object.values(SEED_FILES).filter((f) => existsSync(join(dir, f)));
  if (existing.length && !args.force) {
    console.error(`${dir} already holds ${isSeeded(dir) ? 'a seeded dataset' : existing.join(', ')}; pass --force to replace it`);
    process.exit(1);
  }
  const summary = seedAll(dir, { seed: args.seed, size: args.size, force: args.force });
  console.log(`seeded ${summary.size} customers (seed ${summary.seed}) into ${dir} in ${summary.durationMs} ms`);
  console.log(JSON.stringify(summary.counts));
  console.log(`truth: ${summary.truthFile}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
