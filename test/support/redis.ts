// Test support: where the Redis tests connect, and why they are skipped when they cannot.

import { createClient } from '@redis/client';
import { loadConfig } from '../../gateway/config.js';

export const REDIS_URL = loadConfig().redisUrl ?? 'redis://127.0.0.1:6379';

/** Why Redis tests cannot run here, or null when they can; `what` names the tests that are then skipped. */
export async function redisSkipReason(what: string): Promise<string | null> {
  const probe = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.quit();
    return null;
  } catch (e) {
    return `Redis is not reachable at ${REDIS_URL} (${(e as Error).message}): ${what} are skipped. Start Redis or set REDIS_URL to run them.`;
  }
}
