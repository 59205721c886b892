// A forced garbage collection for tests that measure heap growth: vitest's workers run without --expose-gc, so the
// flag is set at run time and `gc` is read from a fresh context, where V8 then defines it.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/** Runs a full garbage collection now. */
export function gc(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
