// Test support: waits for a gateway started on its own (npm start, a child process) to finish its first full sync.

import type { HealthReport } from '../../gateway/http/health.js';

/**
 * Polls `<gateway>/health` until it no longer says `starting`, and answers every report seen on the way (the last
 * one the first that did not say `starting`). Fails after `timeoutMs` with the last report.
 */
export async function untilSynced(gatewayUrl: string, timeoutMs = 120_000): Promise<HealthReport[]> {
  const seen: HealthReport[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = (await fetch(`${gatewayUrl}/health`).then((r) => r.json())) as HealthReport;
    seen.push(report);
    if (report.status !== 'starting') return seen;
    if (Date.now() > deadline) throw new Error(`/health still says starting after ${timeoutMs} ms: ${JSON.stringify(report)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
