// Per-record write locks: in-process for one gateway, Redis for several, each proved against real writers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RedisClientType } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../gateway/config.js';
import { CrmConnector } from '../subgraphs/crm/connector.js';
import { startCrmSandbox } from '../subgraphs/crm/sandbox/index.js';
import { TEST_CREDENTIALS } from './support/credentials.js';
import { InProcessLock, RedisLock, type RecordLock } from '../subgraphs/kit/record-lock.js';
import type { RunningSandbox } from '../subgraphs/sandbox-kit/server.js';
import { seedAll } from '../subgraphs/sandbox-kit/seed.js';
import { SystemError } from '../subgraphs/kit/system-error.js';

const REDIS_URL = loadConfig().redisUrl ?? 'redis://127.0.0.1:6379';

/** Runs `n` critical sections on `key` through `locks` (round robin) and records the most that overlapped. */
async function maxOverlap(locks: RecordLock[], key: string, n: number): Promise<number> {
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      locks[i % locks.length]!.run(key, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setImmediate(r));
        inside--;
      }),
    ),
  );
  return most;
}

describe('InProcessLock', () => {
  it('runs callers for the same record one at a time', async () => {
    expect(await maxOverlap([new InProcessLock()], 'crm:contact:1', 50)).toBe(1);
  });

  it('lets different records proceed at once', async () => {
    const lock = new InProcessLock();
    let inside = 0;
    let most = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((k) =>
        lock.run(k, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setImmediate(r));
          inside--;
        }),
      ),
    );
    expect(most).toBe(3);
  });

  it('releases the record when the holder throws', async () => {
    const lock = new InProcessLock();
    await expect(lock.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run('k', async () => 'next')).toBe('next');
  });
});

let redisReason: string | null = null;
const clients: RedisClientType[] = [];
async function redisClient(): Promise<RedisClientType> {
  const c = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } }) as RedisClientType;
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

try {
  const probe = await redisClient();
  await probe.ping();
} catch (e) {
  redisReason = `Redis is not reachable at ${REDIS_URL} (${(e as Error).message}); the multi-gateway lock tests are skipped. Start Redis or set REDIS_URL to run them.`;
  console.warn(redisReason);
}

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.quit()));
});

describe.skipIf(redisReason !== null)('RedisLock (several gateways)', () => {
  it('runs callers on different connections (different gateways) one at a time for the same record', async () => {
    const prefix = `canon:test:${process.pid}:${Date.now()}:`;
    const locks = [new RedisLock(await redisClient(), { prefix }), new RedisLock(await redisClient(), { prefix })];
    expect(await maxOverlap(locks, 'crm:contact:7', 40)).toBe(1);
  });

  it('does not release a lock that expired and was taken by another holder', async () => {
    const prefix = `canon:test:${process.pid}:${Date.now()}:`;
    const client = await redisClient();
    const slow = new RedisLock(client, { prefix });
    const other = new RedisLock(await redisClient(), { prefix });
    let otherTook!: () => void;
    const otherHolds = new Promise<void>((r) => (otherTook = r));
    let letOtherGo!: () => void;
    const otherMayGo = new Promise<void>((r) => (letOtherGo = r));
    let otherRun!: Promise<void>;
    await slow.run('r', async () => {
      // The slow holder outlives its TTL: Redis drops the key, as it would when the TTL runs out, without waiting for it.
      expect(await client.pExpire(`${prefix}r`, 0)).toBe(1);
      otherRun = other.run('r', async () => {
        otherTook();
        await otherMayGo;
      });
      await otherHolds;
    });
    // The slow holder has released while the other holds the record: the other's lock must still be there.
    expect(await client.get(`${prefix}r`)).not.toBeNull();
    letOtherGo();
    await otherRun;
    expect(await client.get(`${prefix}r`)).toBeNull();
  });

  describe('two CRM connectors in two gateways, racing on one contact', () => {
    let dir: string;
    let crm: RunningSandbox;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'canon-lock-'));
      seedAll(dir, { seed: 5, size: 20 });
      crm = await startCrmSandbox({ file: join(dir, 'crm.sqlite'), credentials: TEST_CREDENTIALS.crm });
    });
    afterAll(async () => {
      await crm?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('lets exactly one writer with a given version win, 100 times', async () => {
      const prefix = `canon:test:${process.pid}:${Date.now()}:`;
      const a = new CrmConnector({ credentials: TEST_CREDENTIALS.crm, baseUrl: crm.url, lock: new RedisLock(await redisClient(), { prefix }) });
      const b = new CrmConnector({ credentials: TEST_CREDENTIALS.crm, baseUrl: crm.url, lock: new RedisLock(await redisClient(), { prefix }) });
      const [contact] = await a.batchRead(['1001']);
      let version = contact!.properties.lastmodifieddate!;
      for (let i = 0; i < 100; i++) {
        const outcomes = await Promise.allSettled([
          a.updateContact('1001', { firstname: `A${i}` }, version),
          b.updateContact('1001', { firstname: `B${i}` }, version),
        ]);
        const won = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<CrmConnector['updateContact']>>> => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect({ i, won: won.length, lost: lost.map((l) => (l.reason as SystemError).code) }).toEqual({ i, won: 1, lost: ['STALE_WRITE'] });
        const [now] = await a.batchRead(['1001']);
        expect(now!.properties.firstname).toBe(won[0]!.value.properties.firstname);
        version = now!.properties.lastmodifieddate!;
      }
    });
  });
});
