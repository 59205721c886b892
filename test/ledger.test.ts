// The operations ledger: one contract suite that SQLite and PostgreSQL both pass.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, postgresSkipReason } from './support/postgres.js';
import { scratch } from './support/scratch.js';
import { PostgresLedger, SqliteLedger, statusOf, type Ledger, type LedgerStep, type OperationRecord } from '../gateway/operations/ledger.js';

const pgSkip = await postgresSkipReason();
if (pgSkip) console.warn(pgSkip);

function step(system: string, status: LedgerStep['status'], extra: Partial<LedgerStep> = {}): LedgerStep {
  return { system, action: 'updateCustomer', status, attempts: 1, durationMs: 5, idempotencyKey: null, error: null, nativeId: '1', input: { name: 'x' }, expectedVersion: null, result: null, ...extra };
}

function op(createdAt: string, extra: Partial<OperationRecord> = {}): OperationRecord {
  const steps = extra.steps ?? [step('crm', 'SUCCEEDED')];
  return { id: randomUUID(), traceId: randomUUID().replaceAll('-', ''), name: 'updateCustomer', kind: 'mutation', app: 'web', idempotencyKey: null, inputHash: 'h', status: statusOf(steps), createdAt, updatedAt: createdAt, error: null, steps, ...extra };
}

const tmp = scratch();

const stores: { name: string; skip: string | null; open: () => Promise<Ledger> }[] = [
  {
    name: 'SQLite',
    skip: null,
    open: async () => {
      const d = tmp.dir('canon-ledger-');
      return new SqliteLedger(join(d, 'ledger.sqlite'));
    },
  },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    open: async () => {
      const schema = tmp.schema('canon_test');
      return PostgresLedger.open(PG_URL, { schema });
    },
  },
];

describe('statusOf', () => {
  it('is SUCCEEDED, PARTIAL, FAILED or PENDING from the steps', () => {
    expect(statusOf([step('crm', 'SUCCEEDED'), step('erp', 'SUCCEEDED')])).toBe('SUCCEEDED');
    expect(statusOf([step('crm', 'SUCCEEDED'), step('erp', 'FAILED')])).toBe('PARTIAL');
    expect(statusOf([step('crm', 'FAILED')])).toBe('FAILED');
    expect(statusOf([step('crm', 'SUCCEEDED'), step('erp', 'PENDING')])).toBe('PENDING');
  });

  it('counts a bulk step by its records, SKIPPED as nothing, and a failure that skipped later steps as FAILED', () => {
    const item = (status: LedgerStep['status']) => ({ customerId: 'c', nativeId: 'n', input: {}, status, error: null });
    expect(statusOf([step('crm', 'FAILED', { items: [item('SUCCEEDED'), item('FAILED')] })])).toBe('PARTIAL');
    expect(statusOf([step('crm', 'SUCCEEDED'), step('marketing', 'SKIPPED')])).toBe('SUCCEEDED');
    expect(statusOf([step('crm', 'SUCCEEDED'), step('erp', 'FAILED'), step('support', 'SKIPPED')])).toBe('FAILED');
    // Nothing left to do (a propagation a later owner change overtook): no failure, so SUCCEEDED.
    expect(statusOf([step('marketing', 'SKIPPED')])).toBe('SUCCEEDED');
  });
});

describe.each(stores)('Ledger on $name', ({ skip, open }) => {
  let ledger: Ledger;
  beforeAll(async () => {
    if (!skip) ledger = await open();
  });
  afterAll(async () => {
    if (!skip) await ledger.close();
  });

  it.skipIf(skip)('returns a saved operation whole, steps included', async () => {
    const o = op('2026-11-01T10:00:00.000Z', { steps: [step('crm', 'SUCCEEDED'), step('erp', 'FAILED', { attempts: 3, error: { code: 'SYSTEM_UNAVAILABLE', message: 'erp answered 503', retryable: true } })] });
    await ledger.save(o);
    expect(await ledger.get(o.id)).toEqual(o);
    expect(await ledger.get('nope')).toBeNull();
  });

  it.skipIf(skip)('saves with saveIfAbsent only when no record has the id, never setting one back', async () => {
    const o = op('2026-11-01T10:02:00.000Z', { steps: [step('crm', 'SUCCEEDED')] });
    await ledger.save(o);
    await ledger.saveIfAbsent({ ...o, status: 'PENDING', steps: [step('crm', 'PENDING')] });
    expect(await ledger.get(o.id)).toEqual(o);
    const fresh = op('2026-11-01T10:03:00.000Z');
    await ledger.saveIfAbsent(fresh);
    expect(await ledger.get(fresh.id)).toEqual(fresh);
  });

  it.skipIf(skip)('updates an operation in place when saved again', async () => {
    const o = op('2026-11-01T10:01:00.000Z', { steps: [step('crm', 'PENDING')] });
    await ledger.save(o);
    const done = { ...o, steps: [step('crm', 'SUCCEEDED')], status: 'SUCCEEDED' as const, updatedAt: '2026-11-01T10:01:05.000Z' };
    await ledger.save(done);
    expect(await ledger.get(o.id)).toEqual(done);
  });

  it.skipIf(skip)('filters by status, system, app and time, newest first', async () => {
    const app = `app-${randomUUID()}`;
    const a = op('2026-11-02T10:00:00.000Z', { app, steps: [step('crm', 'SUCCEEDED'), step('erp', 'FAILED')] });
    const b = op('2026-11-02T11:00:00.000Z', { app, steps: [step('marketing', 'FAILED')] });
    const c = op('2026-11-02T12:00:00.000Z', { app, steps: [step('crm', 'SUCCEEDED')] });
    for (const o of [a, b, c]) await ledger.save(o);
    const ids = async (filter: Parameters<Ledger['list']>[0]) => (await ledger.list({ app, ...filter }, 50)).records.map((r) => r.id);
    expect(await ids({})).toEqual([c.id, b.id, a.id]);
    expect(await ids({ status: ['FAILED', 'PARTIAL'] })).toEqual([b.id, a.id]);
    expect(await ids({ system: 'crm' })).toEqual([c.id, a.id]);
    expect(await ids({ system: 'erp' })).toEqual([a.id]);
    expect(await ids({ since: '2026-11-02T11:00:00.000Z' })).toEqual([c.id, b.id]);
    expect(await ids({ app: 'someone-else' })).toEqual([]);
  });

  it.skipIf(skip)('pages through operations with cursors, without gaps or repeats, same timestamps included', async () => {
    const app = `pager-${randomUUID()}`;
    const made = Array.from({ length: 25 }, (_, i) => op(`2026-11-03T10:00:${String(Math.floor(i / 3)).padStart(2, '0')}.000Z`, { app }));
    for (const o of made) await ledger.save(o);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await ledger.list({ app }, 7, after);
      seen.push(...page.records.map((r) => r.id));
      const last = page.records.at(-1);
      after = page.hasNextPage && last ? (await import('../gateway/operations/ledger.js')).encodeCursor(last) : null;
    } while (after);
    expect(seen).toHaveLength(25);
    expect(new Set(seen)).toEqual(new Set(made.map((m) => m.id)));
  });

  it.skipIf(skip)('finds the operation recorded under an idempotency key', async () => {
    const key = randomUUID();
    const o = op('2026-11-04T10:00:00.000Z', { idempotencyKey: key });
    await ledger.save(o);
    expect((await ledger.byIdempotencyKey(key))?.id).toBe(o.id);
    expect(await ledger.byIdempotencyKey('unknown')).toBeNull();
  });

  it.skipIf(skip)('prunes operations older than the retention', async () => {
    const app = `prune-${randomUUID()}`;
    const old = op('2020-01-01T00:00:00.000Z', { app });
    const recent = op('2026-11-05T00:00:00.000Z', { app });
    await ledger.save(old);
    await ledger.save(recent);
    expect(await ledger.prune('2021-01-01T00:00:00.000Z')).toBeGreaterThanOrEqual(1);
    expect(await ledger.get(old.id)).toBeNull();
    expect(await ledger.get(recent.id)).toEqual(recent);
  });
});
