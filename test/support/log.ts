// Test support: a pino logger that keeps its lines in memory, and a fresh W3C traceparent.

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A logger whose JSON lines land in `lines` (parsed) and `raw` (as written). */
export function memoryLog(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, raw, logger: pino({ level }, stream) };
}

/** A new sampled trace: the header to send and the trace id it carries. */
export function traceparent(): { header: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { header: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}
