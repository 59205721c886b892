// Performance features of the resilience policy: a call leaves nothing behind (no timer, listener or abort reason), however many run at once. In-flight dedup of reads has its own file, dedup.test.ts.

import { describe, expect, it } from 'vitest';
import { SystemPolicy } from '../subgraphs/kit/resilience.js';
import { SystemError } from '../subgraphs/kit/system-error.js';
import { ManualClock } from './support/manual-clock.js';

describe('SystemPolicy per-call cleanup', () => {
  it('leaves no abort listener behind and warns of none across many concurrent calls', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const policy = new SystemPolicy('crm', {}, () => 0.5);
      const signals: AbortSignal[] = [];
      await Promise.all(Array.from({ length: 50 }, () => policy.execute(async (signal) => { signals.push(signal); return 1; }, { retry: true })));
      // Successful attempts are not aborted afterwards: no abort reason (a DOMException) is built for them.
      expect(signals.filter((s) => s.aborted)).toEqual([]);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('leaves no timer waiting once calls have settled, whether they succeeded, failed or were retried', async () => {
    const clock = new ManualClock();
    const policy = new SystemPolicy('crm', { clock, initialDelayMs: 0, breakerThreshold: 1000 }, () => 0.5);
    const unavailable = () => new SystemError({ code: 'SYSTEM_UNAVAILABLE', system: 'crm', retryable: true, message: 'crm answered 503' });
    // Half the calls succeed at once, half after one failed attempt and a retry.
    const call = (i: number) => {
      let attempts = 0;
      return policy.execute(async () => {
        if (attempts++ === 0 && i % 2 === 0) throw unavailable();
        return i;
      }, { retry: true });
    };
    expect(await Promise.all(Array.from({ length: 20 }, (_, i) => call(i)))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await policy.execute(async () => Promise.reject(unavailable()), { retry: true }).catch(() => undefined);
    await policy.execute(async () => Promise.reject(new Error('not retryable')), { retry: true }).catch(() => undefined);
    expect(clock.pending).toEqual([]);
  });
});
