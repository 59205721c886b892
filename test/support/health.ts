// Test support: waits for a gateway started on its own (npm start, a child process) to finish its first full sync.

import type { HealthReport } from '../../gateway/http/health.js';
import { until } from './until.js';

/**
 * Polls `<gateway>/health` until it no longer says `starting`, and answers every report seen on the way (the last
 * one the first that did not say `starting`). Fails after `timeoutMs`.
 */
export async function untilSynced(gatewayUrl: string, timeoutMs = 120_000): Promise<HealthReport[]> {
  const seen: HealthReport[] = [];
  await until('/health to leave starting', async () => {
    const report = (await fetch(`${gatewayUrl}/health`).then((r) => r.json())) as HealthReport;
    seen.push(report);
    return report.status !== 'starting';
  }, Math.ceil(timeoutMs / 200), 200);
  return seen;
}
