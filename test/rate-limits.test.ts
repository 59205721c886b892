// Per-app rate limits through the gateway: 429 RATE_LIMITED with Retry-After for the app over its rate, nobody else slowed; with Redis, two gateways count one app against one limit.

import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../gateway/security/rate-limits.js';
import { redisSkipReason, REDIS_URL } from './support/redis.js';
import { startTestStack, type TestStack } from './support/stack.js';

const redisSkip = await redisSkipReason('the shared rate-limit tests');
if (redisSkip) console.warn(redisSkip);

const QUERY = '{ customers(first: 1) { totalCount } }';

async function send(stack: TestStack, key: string) {
  const res = await stack.postGraphql({ query: QUERY }, stack.authHeaders(key));
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as any };
}

describe('rate limits in memory', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ seedSize: 10 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('meets a burst of 400 from one app with 429 and Retry-After while another app is served', async () => {
    // A low rate for the bursty app, so that even on a loaded machine, where 400 requests take seconds to pass, the
    // burst is over its budget (10 a second plus a burst of 20) whatever second each request lands in.
    const bursty = await stack.createApp('bursty', ['read:crm'], 10);
    const calm = await stack.createApp('calm', ['read:crm'], 100);
    // One verified request each first, so the burst measures the limit, not the first scrypt check.
    expect((await send(stack, bursty)).status).toBe(200);
    expect((await send(stack, calm)).status).toBe(200);
    const burst = Promise.all(Array.from({ length: 400 }, () => send(stack, bursty)));
    const meanwhile = await Promise.all(Array.from({ length: 20 }, () => send(stack, calm)));
    const answers = await burst;

    expect(meanwhile.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 429]));
    const limited = answers.filter((a) => a.status === 429);
    for (const a of limited) {
      expect(a.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(a.json.errors).toHaveLength(1);
      expect(a.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', rate: 10, burst: 20 });
      expect(a.json.errors[0].message).toMatch(/^The app "bursty" sent more than its 10 requests per second \(bursts up to 20\); send again in \d+ s\.$/);
    }
    const served = answers.filter((a) => a.status === 200);
    for (const a of served) expect(a.json.data.customers.totalCount).toBe(10);
  });
});

describe.skipIf(redisSkip)('rate limits in Redis', () => {
  let a: TestStack;
  let b: TestStack;
  const app = `shared-${process.pid}-${Date.now()}`;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestStack({ seedSize: 10, redisUrl: REDIS_URL }), startTestStack({ seedSize: 10, redisUrl: REDIS_URL })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("counts one app's requests on two gateways against one limit: rate 2 plus burst 2, then 429 on either", async () => {
    // The same app on both gateways (each has its own store here; the limit is the app's, by name).
    const keyA = await a.createApp(app, ['read:crm'], 2);
    const keyB = await b.createApp(app, ['read:crm'], 2);
    // Both windows opened by hand, for a minute, so no window can end mid-test: the counts below are exact.
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const keys = redisKeys(app, 2);
    await redis.set(keys.second, '0', { PX: 60_000 });
    await redis.set(keys.burst, '0', { PX: 60_000 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await send(i % 2 ? b : a, i % 2 ? keyB : keyA)).status);
      // Gateway a, b, a, b: two within the rate, two from the burst, then refused wherever it is sent.
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
      expect(Number(await redis.get(keys.second))).toBe(8);
      expect(Number(await redis.get(keys.burst))).toBe(6);
      // Another app on the same gateways is not slowed by it.
      expect((await send(a, a.devKey)).status).toBe(200);
      expect((await send(b, b.devKey)).status).toBe(200);
    } finally {
      await redis.del([keys.second, keys.burst]);
      await redis.quit();
    }
  });
});
