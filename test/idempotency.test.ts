// Idempotency keys: one contract suite for every store (SQLite, Redis), then the gateway's behaviour end to end on each.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprintOf, IdempotencyStore, parseIdempotencyKey } from '../gateway/operations/idempotency.js';
import { SqliteKeyvStore } from '../gateway/operations/keyv-sqlite.js';
import { InProcessLock } from '../subgraphs/kit/record-lock.js';
import { redisSkipReason, REDIS_URL } from './support/redis.js';
import { startTestStack, type TestStack } from './support/stack.js';

const redisSkip = await redisSkipReason('the Redis runs of the idempotency tests');
if (redisSkip) console.warn(redisSkip);

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'canon-idem-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
afterEach(() => vi.useRealTimers());

const stores: { name: string; skip: string | null; make: () => Keyv }[] = [
  { name: 'SQLite', skip: null, make: () => new Keyv({ store: new SqliteKeyvStore({ file: join(tempDir(), 'k.sqlite') }) }) },
  { name: 'Redis', skip: redisSkip, make: () => new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: `canon-test-${randomUUID()}`, useKeyPrefix: false }) },
];

describe('parseIdempotencyKey', () => {
  it('accepts a bare token or a structured-field string, and refuses empty, long or spaced keys', () => {
    expect(parseIdempotencyKey('abc-123')).toEqual({ key: 'abc-123' });
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toEqual({ key: '8e03978e-40d5-43e8-bc93-6894a57f9324' });
    expect(parseIdempotencyKey('')).toHaveProperty('error');
    expect(parseIdempotencyKey('a b')).toHaveProperty('error');
    expect(parseIdempotencyKey('x'.repeat(256))).toHaveProperty('error');
  });
});

describe.each(stores)('IdempotencyStore on $name', ({ make, skip }) => {
  let keyv: Keyv;
  let store: IdempotencyStore;
  beforeAll(() => {
    if (skip) return;
    keyv = make();
    store = new IdempotencyStore(keyv, new InProcessLock(), { ttlMs: 60_000, inProgressTtlMs: 5_000 });
  });
  afterAll(async () => {
    if (!skip) await keyv.disconnect();
  });

  it.skipIf(skip)('lets the first request with a key execute and later ones with it wait while it runs', async () => {
    const key = randomUUID();
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: false });
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'in-progress' });
  });

  it.skipIf(skip)('replays the stored response for the same request once complete', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    await store.complete(key, 'f1', { status: 200, body: '{"data":1}' });
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'replay', response: { status: 200, body: '{"data":1}' } });
  });

  it.skipIf(skip)('refuses the key for a different request, running or complete', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    expect(await store.claim(key, 'f2')).toEqual({ kind: 'reused' });
    await store.complete(key, 'f1', { status: 200, body: '{}' });
    expect(await store.claim(key, 'f2')).toEqual({ kind: 'reused' });
  });

  it.skipIf(skip)('frees a key released after refused input so the next request runs afresh', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    await store.release(key, 'f1', { resumable: false });
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: false });
  });

  it.skipIf(skip)('lets the next request continue a run that failed retryably, and only for the same request', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    await store.release(key, 'f1', { resumable: true });
    expect(await store.claim(key, 'f2')).toEqual({ kind: 'reused' });
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: true });
  });

  it.skipIf(skip)('starts afresh once a resumable key has expired (fake clock)', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    await store.release(key, 'f1', { resumable: true });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_001);
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: false });
  });

  it.skipIf(skip)('forgets a key after its time to live (fake clock)', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    await store.complete(key, 'f1', { status: 200, body: '{}' });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_001);
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: false });
  });

  it.skipIf(skip)('frees a claim whose request never finished after the in-progress time to live', async () => {
    const key = randomUUID();
    await store.claim(key, 'f1');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5_001);
    expect(await store.claim(key, 'f1')).toEqual({ kind: 'execute', resume: false });
  });

  it.skipIf(skip)('grants a key to exactly one of many concurrent claims', async () => {
    const key = randomUUID();
    const claims = await Promise.all(Array.from({ length: 50 }, () => store.claim(key, 'f1')));
    expect(claims.filter((c) => c.kind === 'execute')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'in-progress')).toHaveLength(49);
  });

});

describe('fingerprintOf', () => {
  it('differs when variables differ and matches for the same request', () => {
    const a = fingerprintOf({ query: 'mutation { x }', variables: { a: 1 } });
    expect(fingerprintOf({ query: 'mutation { x }', variables: { a: 1 } })).toBe(a);
    expect(fingerprintOf({ query: 'mutation { x }', variables: { a: 2 } })).not.toBe(a);
  });
});

const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId results { system status version error { code retryable } } } }';

describe.each([
  { name: 'SQLite', skip: null as string | null, redis: false },
  { name: 'Redis', skip: redisSkip, redis: true },
])('Idempotency-Key through the gateway on $name', ({ skip, redis }) => {
  let stack: TestStack;
  let customer: { id: string; sourceIds: Record<string, string | null> };

  beforeAll(async () => {
    if (skip) return;
    stack = await startTestStack({ seedSize: 80, ...(redis ? { redisUrl: REDIS_URL } : {}) });
    const res = await stack.gql('{ customers(first: 80) { edges { node { id sourceIds { crm erp marketing support } } } } }');
    customer = res.data.customers.edges.map((e: any) => e.node).find((n: any) => Object.values(n.sourceIds).every((v) => v !== null));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function post(body: unknown, key?: string) {
    const res = await stack.postGraphql(body, key ? { 'idempotency-key': key } : {});
    return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', json: (await res.json()) as any };
  }

  it.skipIf(skip)('executes 50 concurrent requests with one key exactly once; the rest replay or are told it is in progress', async () => {
    await stack.resetStats();
    const key = randomUUID();
    const body = { query: UPDATE, variables: { id: customer.id, input: { name: 'Once Only' } } };
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(body, key)));
    expect((await stack.systemStats()).crm.writes).toBe(1);
    const executed = answers.filter((a) => a.status === 200 && !a.replayed);
    const replayed = answers.filter((a) => a.replayed);
    const inProgress = answers.filter((a) => a.status === 409);
    expect(executed).toHaveLength(1);
    expect(replayed.length + inProgress.length).toBe(49);
    for (const r of replayed) expect(r.json).toEqual(executed[0]!.json);
    for (const r of inProgress) expect(r.json.errors[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS', retryable: true });
    // Once finished, the key only replays.
    const again = await post(body, key);
    expect(again.replayed).toBe(true);
    expect(again.json).toEqual(executed[0]!.json);
    expect((await stack.systemStats()).crm.writes).toBe(1);
  });

  it.skipIf(skip)('refuses the same key with a different body with IDEMPOTENCY_KEY_REUSED, and writes nothing', async () => {
    const key = randomUUID();
    await post({ query: UPDATE, variables: { id: customer.id, input: { name: 'First Body' } } }, key);
    await stack.resetStats();
    const second = await post({ query: UPDATE, variables: { id: customer.id, input: { name: 'Second Body' } } }, key);
    expect(second.status).toBe(422);
    expect(second.json.errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await stack.systemStats()).crm.writes).toBe(0);
  });

  it.skipIf(skip)('executes anew once the key has expired (fake clock)', async () => {
    const key = randomUUID();
    const body = { query: UPDATE, variables: { id: customer.id, input: { name: 'Expiring Key' } } };
    await post(body, key);
    await stack.resetStats();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + stack.config.idempotencyTtlMs + 1000);
    const later = await post(body, key);
    vi.useRealTimers();
    expect(later.replayed).toBe(false);
    expect((await stack.systemStats()).crm.writes).toBe(1);
  });

  it.skipIf(skip)('re-sends only the failed slice when a partially failed mutation is sent again with its key', async () => {
    const key = randomUUID();
    const body = { query: UPDATE, variables: { id: customer.id, input: { name: 'Partial Retry', legalName: 'Partial Retry GmbH' } } };
    await stack.setFaults('erp', { errorRate: 1 });
    await stack.resetStats();
    const first = await post(body, key);
    expect(first.json.data.updateCustomer.results.map((r: any) => [r.system, r.status])).toEqual([['CRM', 'SUCCEEDED'], ['ERP', 'FAILED']]);
    expect(first.json.data.updateCustomer.results[1].error).toEqual({ code: 'SYSTEM_UNAVAILABLE', retryable: true });
    expect((await stack.systemStats()).crm.writes).toBe(1);

    await stack.clearFaults();
    await stack.resetStats();
    const second = await post(body, key);
    expect(second.replayed).toBe(false);
    // One ledger entry for the operation, the ERP step's first failure kept in its history.
    const op = await stack.gql('query($id: ID!) { operation(id: $id) { idempotencyKey status steps { system status history { error { code } } } } }', { id: second.json.data.updateCustomer.operationId });
    expect(second.json.data.updateCustomer.operationId).toBe(first.json.data.updateCustomer.operationId);
    expect(op.data.operation).toEqual({ idempotencyKey: key, status: 'SUCCEEDED', steps: [{ system: 'CRM', status: 'SUCCEEDED', history: [] }, { system: 'ERP', status: 'SUCCEEDED', history: [{ error: { code: 'SYSTEM_UNAVAILABLE' } }] }] });
    expect(second.json.data.updateCustomer.results.map((r: any) => [r.system, r.status])).toEqual([['CRM', 'SUCCEEDED'], ['ERP', 'SUCCEEDED']]);
    const stats = await stack.systemStats();
    expect({ crm: stats.crm.writes, erp: stats.erp.writes }).toEqual({ crm: 0, erp: 1 });

    // Now complete: the key replays, nothing is sent again.
    await stack.resetStats();
    const third = await post(body, key);
    expect(third.replayed).toBe(true);
    expect(third.json).toEqual(second.json);
    const after = await stack.systemStats();
    expect({ crm: after.crm.writes, erp: after.erp.writes }).toEqual({ crm: 0, erp: 0 });
  });

  it.skipIf(skip)('stores nothing for refused input, so a corrected request with the same key runs', async () => {
    const key = randomUUID();
    const bad = await post({ query: UPDATE, variables: { id: customer.id, input: { email: 'not-an-email' } } }, key);
    expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const retried = await post({ query: UPDATE, variables: { id: customer.id, input: { email: 'not-an-email' } } }, key);
    expect(retried.replayed).toBe(false);
  });

  it.skipIf(skip)('refuses a malformed key with BAD_USER_INPUT', async () => {
    const res = await post({ query: UPDATE, variables: { id: customer.id, input: { name: 'x' } } }, 'has spaces in it');
    expect(res.status).toBe(400);
    expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it.skipIf(skip)('ignores the header on queries: reads are safe to repeat', async () => {
    const key = randomUUID();
    const a = await post({ query: '{ customers(first: 1) { totalCount } }' }, key);
    const b = await post({ query: '{ customers(first: 2) { totalCount } }' }, key);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.replayed).toBe(false);
  });
});
