// One trace across every system, and the operations ledger end to end: what triggered, what failed, what is pending; retried; kept across restarts.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS, type SystemName } from '../schema/model.js';
import { memoryLog, traceparent } from './support/log.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { PG_URL, postgresSkipReason } from './support/postgres.js';

const OPERATION = 'query($id: ID!) { operation(id: $id) { id traceId name kind app idempotencyKey status error { code message } steps { system action status attempts durationMs idempotencyKey error { code message retryable } } } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId results { system status error { code } } } }';

let stack: TestStack;
let customer: { id: string; sourceIds: Record<SystemName, string | null> };
const log = memoryLog();

beforeAll(async () => {
  stack = await startTestStack({ seedSize: 60, systemResilience: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2, breakerThreshold: 1000 } }, { log: log.logger });
  customer = (await stack.customersInEverySystem(60))[0]!;
});
afterAll(() => stack?.stop());
beforeEach(() => stack.reset());

describe('one trace id end to end', () => {
  it('puts the trace id in every response and every error', async () => {
    const tp = traceparent();
    const ok = await stack.gql('{ customers(first: 1) { totalCount } }', {}, { traceparent: tp.header });
    expect(ok.extensions?.traceId).toBe(tp.traceId);
    const fresh = await stack.gql('{ customers(first: 1) { totalCount } }');
    expect(fresh.extensions?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.extensions?.traceId).not.toBe(tp.traceId);
    const bad = await stack.gql('{ customers(first: 5000) { totalCount } }');
    expect(bad.errors?.[0].extensions?.traceId).toBe(bad.extensions?.traceId);
  });

  it('carries the app\'s traceparent to every system a query reads', async () => {
    const tp = traceparent();
    await stack.gql('{ customers(first: 5) { edges { node { name legalName emailConsent supportPlan } } } }', {}, { traceparent: tp.header });
    for (const s of SYSTEMS) {
      const requests = await fetch(`${stack.systems[s].url}/_admin/requests?limit=5`).then((r) => r.json());
      expect({ system: s, traceId: requests[0].traceparent?.split('-')[1] }).toEqual({ system: s, traceId: tp.traceId });
    }
  });

  it('writes one JSON log line per operation and per system call, each with the trace id', async () => {
    const tp = traceparent();
    await stack.gql('{ customers(first: 3) { edges { node { name legalName } } } }', {}, { traceparent: tp.header });
    const mine = log.lines.filter((l) => l.traceId === tp.traceId);
    const operation = mine.filter((l) => l.msg === 'operation');
    expect(operation).toHaveLength(1);
    expect(operation[0]).toMatchObject({ kind: 'query', outcome: 'ok', durationMs: expect.any(Number) });
    const calls = mine.filter((l) => l.msg === 'system call');
    expect(calls.map((c) => c.system).sort()).toEqual(['crm', 'erp']);
    for (const c of calls) expect(c).toMatchObject({ outcome: 'ok', attempts: 1, durationMs: expect.any(Number), call: expect.stringMatching(/^(POST|GET) \//) });
  });
});

describe('the operations ledger', () => {
  it('records a multi-owner write with one owner failing as one PARTIAL operation, traced into every system it called', async () => {
    const tp = traceparent();
    await stack.setFaults('erp', { errorRate: 1 });
    const key = randomUUID();
    const res = await stack.gql(UPDATE, { id: customer.id, input: { name: 'Ledger Partial', legalName: 'Ledger Partial GmbH' } }, { traceparent: tp.header, ...(await stack.appHeaders('ledger-test')), 'idempotency-key': key });
    const opId = res.data.updateCustomer.operationId;
    const op = (await stack.gql(OPERATION, { id: opId })).data.operation;
    expect(op).toMatchObject({ id: opId, traceId: tp.traceId, name: 'updateCustomer', kind: 'mutation', app: 'ledger-test', idempotencyKey: key, status: 'PARTIAL', error: null });
    expect(op.steps).toHaveLength(2);
    const [crm, erp] = op.steps;
    expect(crm).toMatchObject({ system: 'CRM', action: 'updateCustomer', status: 'SUCCEEDED', attempts: 1, idempotencyKey: `${key}:crm:updateCustomer`, error: null });
    expect(erp).toMatchObject({ system: 'ERP', action: 'updateCustomer', status: 'FAILED', attempts: 2, idempotencyKey: `${key}:erp:updateCustomer`, error: { code: 'SYSTEM_UNAVAILABLE', retryable: true } });
    expect(erp.durationMs).toBeGreaterThanOrEqual(0);
    // Each system received the app's trace id in the traceparent of the calls this operation made.
    for (const s of ['crm', 'erp'] as const) {
      const requests = await fetch(`${stack.systems[s].url}/_admin/requests?limit=20`).then((r) => r.json());
      const writes = requests.filter((r: any) => r.method === 'PATCH');
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) expect({ system: s, traceId: w.traceparent?.split('-')[1] }).toEqual({ system: s, traceId: tp.traceId });
    }
    const listed = await stack.gql('{ operations(status: [PARTIAL], app: "ledger-test", system: ERP) { edges { node { id } } } }');
    expect(listed.data.operations.edges.map((e: any) => e.node.id)).toContain(opId);
  });

  it('completes only the failed step with retryOperation once the fault clears, and marks the operation SUCCEEDED', async () => {
    await stack.setFaults('marketing', { errorRate: 1 });
    const res = await stack.gql(UPDATE, { id: customer.id, input: { lifecycleStage: 'CUSTOMER', emailConsent: 'PENDING' } });
    const opId = res.data.updateCustomer.operationId;
    expect((await stack.gql(OPERATION, { id: opId })).data.operation.status).toBe('PARTIAL');
    await stack.clearFaults();
    await stack.resetStats();
    const retried = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { id status steps { system status error { code } } } }', { id: opId });
    expect(retried.data.retryOperation).toEqual({ id: opId, status: 'SUCCEEDED', steps: [{ system: 'CRM', status: 'SUCCEEDED', error: null }, { system: 'MARKETING', status: 'SUCCEEDED', error: null }] });
    // What failed before the retry is still in the ledger.
    const history = (await stack.gql('query($id: ID!) { operation(id: $id) { steps { system history { at attempts error { code } } } } }', { id: opId })).data.operation.steps;
    expect(history[0]).toEqual({ system: 'CRM', history: [] });
    expect(history[1]).toEqual({ system: 'MARKETING', history: [{ at: expect.any(String), attempts: 1, error: { code: 'SYSTEM_UNAVAILABLE' } }] });
    const stats = await stack.systemStats();
    expect({ crm: stats.crm.writes, marketing: stats.marketing.writes }).toEqual({ crm: 0, marketing: 1 });
    expect((await stack.gql(OPERATION, { id: opId })).data.operation.status).toBe('SUCCEEDED');
    // Retrying a finished operation sends nothing.
    await stack.resetStats();
    await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status } }', { id: opId });
    expect((await stack.systemStats()).marketing.writes).toBe(0);
  });

  it('records a read that failed in part, with one failed step per system', async () => {
    const page = await stack.gql('{ customers(first: 50) { edges { node { id sourceIds { crm support } } } } }');
    const ids = page.data.customers.edges.map((e: any) => e.node).filter((n: any) => n.sourceIds.crm && n.sourceIds.support).slice(0, 3).map((n: any) => n.id);
    expect(ids).toHaveLength(3);
    await stack.setFaults('support', { down: true });
    const res = await stack.gql('query($a: ID!, $b: ID!, $c: ID!) { a: customer(id: $a) { name supportPlan } b: customer(id: $b) { name supportPlan } c: customer(id: $c) { name supportPlan } }', { a: ids[0], b: ids[1], c: ids[2] }, await stack.appHeaders('reader'));
    const traceId = res.extensions?.traceId;
    const listed = await stack.gql('{ operations(app: "reader", status: [PARTIAL]) { edges { node { traceId kind status steps { system action status error { code } } } } } }');
    const op = listed.data.operations.edges.map((e: any) => e.node).find((n: any) => n.traceId === traceId);
    expect(op).toMatchObject({ kind: 'query', status: 'PARTIAL', steps: [{ system: 'SUPPORT', action: 'read', status: 'FAILED', error: { code: expect.stringMatching(/SYSTEM_UNAVAILABLE|CIRCUIT_OPEN/) } }] });
  });

  it('records a write refused before any system was called as FAILED, with the reason', async () => {
    const res = await stack.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { creditLimit: { amount: "1", currency: "EUR" } }) { operationId } }', { id: customer.id }, await stack.appHeaders('refused-app'));
    const listed = await stack.gql('{ operations(app: "refused-app") { edges { node { traceId kind status error { code } steps { system } } } } }');
    const op = listed.data.operations.edges.map((e: any) => e.node).find((n: any) => n.traceId === res.errors?.[0].extensions?.traceId);
    expect(op).toEqual({ traceId: expect.any(String), kind: 'mutation', status: 'FAILED', error: { code: 'FIELD_NOT_WRITABLE' }, steps: [] });
  });

  it('refuses bad filters with BAD_USER_INPUT', async () => {
    const res = await stack.gql('{ operations(since: "yesterday") { edges { cursor } } }');
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const cursor = await stack.gql('{ operations(after: "garbage") { edges { cursor } } }');
    expect(cursor.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

const pgSkip = await postgresSkipReason();

describe.each([
  { name: 'SQLite', skip: null as string | null, pg: false },
  { name: 'PostgreSQL', skip: pgSkip, pg: true },
])('the ledger across a gateway restart on $name', ({ skip, pg: usePg }) => {
  const schema = `canon_restart_${process.pid}`;
  afterAll(async () => {
    if (!usePg || skip) return;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  it.skipIf(skip)('keeps every operation, its status and steps, with nothing lost', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'canon-restart-'));
    const overrides = { seedSize: 40, dataDir, ...(usePg ? { databaseUrl: PG_URL, databaseSchema: schema } : {}) };
    try {
      const first = await startTestStack(overrides);
      const res = await first.gql('{ customers(first: 40) { edges { node { id sourceIds { crm erp } } } } }');
      const c = res.data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && n.sourceIds.erp);
      await first.setFaults('erp', { errorRate: 1 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await first.gql(UPDATE, { id: c.id, input: { name: `Restart ${i}`, legalName: `Restart ${i} AG` } })).data.updateCustomer.operationId);
      const before = await Promise.all(ids.map(async (id) => (await first.gql(OPERATION, { id })).data.operation));
      await first.stop({ keepData: true });

      const second = await startTestStack(overrides);
      try {
        const after = await Promise.all(ids.map(async (id) => (await second.gql(OPERATION, { id })).data.operation));
        expect(after).toEqual(before);
        expect(after.every((o: any) => o.status === 'PARTIAL')).toBe(true);
        // And the restarted gateway can still finish them.
        const retried = await second.gql('mutation($id: ID!) { retryOperation(id: $id) { status } }', { id: ids[0] });
        expect(retried.data.retryOperation.status).toBe('SUCCEEDED');
      } finally {
        await second.stop({ keepData: true });
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('retryOperation', () => {
  it('leaves a step refused for good (STALE_WRITE) failed: it needs a fresh read, not a retry', async () => {
    const read = await stack.gql('query($id: ID!) { customer(id: $id) { crmVersion } }', { id: customer.id });
    await stack.gql(UPDATE, { id: customer.id, input: { name: 'Moved On' } });
    const stale = await stack.gql('mutation($id: ID!, $v: String) { updateCustomer(id: $id, input: { name: "Too Late" }, expectedVersions: { crm: $v }) { operationId } }', { id: customer.id, v: read.data.customer.crmVersion });
    const opId = stale.data.updateCustomer.operationId;
    await stack.resetStats();
    const retried = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status customerId steps { status error { code } } } }', { id: opId });
    expect(retried.data.retryOperation).toEqual({ status: 'FAILED', customerId: customer.id, steps: [{ status: 'FAILED', error: { code: 'STALE_WRITE' } }] });
    expect((await stack.systemStats()).crm.writes).toBe(0);
  });

  it('runs concurrent retries of one operation one at a time, sending the failed step once', async () => {
    await stack.setFaults('erp', { errorRate: 1 });
    const res = await stack.gql(UPDATE, { id: customer.id, input: { legalName: 'Concurrent Retry SE' } });
    const opId = res.data.updateCustomer.operationId;
    await stack.clearFaults();
    await stack.resetStats();
    const tp = traceparent();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status retryTraceIds } }', { id: opId }, i === 0 ? { traceparent: tp.header } : {})));
    expect(results.every((r) => r.data.retryOperation.status === 'SUCCEEDED')).toBe(true);
    expect((await stack.systemStats()).erp.writes).toBe(1);
    const op = (await stack.gql('query($id: ID!) { operation(id: $id) { retryTraceIds } }', { id: opId })).data.operation;
    expect(op.retryTraceIds).toHaveLength(1);
  });

  it('answers NOT_FOUND for an unknown operation', async () => {
    const res = await stack.gql('mutation { retryOperation(id: "nope") { id } }');
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('retryOperation on interrupted work', () => {
  it('refuses an operation still running, and finishes one its gateway left PENDING', async () => {
    const now = new Date().toISOString();
    const pending = {
      id: randomUUID(), traceId: null, name: 'updateCustomer', kind: 'mutation' as const, app: 'crashed-gateway', idempotencyKey: null, inputHash: null,
      customerId: customer.id, retryTraceIds: [], status: 'PENDING' as const, createdAt: now, updatedAt: now, error: null,
      steps: [{ system: 'erp', action: 'updateCustomer', status: 'PENDING' as const, attempts: 0, durationMs: null, idempotencyKey: `recovered-${randomUUID()}:erp:updateCustomer`, error: null, nativeId: customer.sourceIds.erp, input: { legalName: 'Recovered GmbH' }, expectedVersion: null, result: null }],
    };
    await stack.ledger.save(pending);
    const running = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status } }', { id: pending.id });
    expect(running.errors?.[0].extensions?.code).toBe('IDEMPOTENCY_IN_PROGRESS');

    // The same operation, untouched for longer than any write takes: its gateway stopped mid-way.
    const long = new Date(Date.now() - 3 * 60_000).toISOString();
    await stack.ledger.save({ ...pending, createdAt: long, updatedAt: long });
    await stack.resetStats();
    const recovered = await stack.gql('mutation($id: ID!) { retryOperation(id: $id) { status steps { status } } }', { id: pending.id });
    expect(recovered.data.retryOperation).toEqual({ status: 'SUCCEEDED', steps: [{ status: 'SUCCEEDED' }] });
    expect((await stack.systemStats()).erp.writes).toBe(1);
    const now2 = await stack.gql('query($id: ID!) { customer(id: $id) { legalName } }', { id: customer.id });
    expect(now2.data.customer.legalName).toBe('Recovered GmbH');
  });
});
