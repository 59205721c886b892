// The one rule for what a retry sends again: a pure function of the recorded operation and the clock.

import { describe, expect, it } from 'vitest';
import type { LedgerStep, OperationRecord } from '../gateway/operations/ledger.js';
import { INTERRUPTED_AFTER_MS, retryPlan } from '../gateway/operations/retry-plan.js';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');

function step(system: string, status: LedgerStep['status'], error: LedgerStep['error'] = null, idempotencyKey: string | null = null): LedgerStep {
  return { system, action: 'updateCustomer', status, attempts: 1, durationMs: 3, idempotencyKey, error, nativeId: '42', input: { name: 'x' }, expectedVersion: null, result: null };
}

function operation(status: OperationRecord['status'], steps: LedgerStep[], over: Partial<OperationRecord> = {}): OperationRecord {
  const at = new Date(NOW - 1000).toISOString();
  return { id: 'op1', traceId: null, name: 'updateCustomer', kind: 'mutation', app: null, idempotencyKey: null, inputHash: null, status, createdAt: at, updatedAt: at, error: null, steps, ...over };
}

const unavailable = { code: 'SYSTEM_UNAVAILABLE', message: 'erp answered 503', retryable: true };
const stale = { code: 'STALE_WRITE', message: 'crm contact 1 changed', retryable: false };

describe('retryPlan', () => {
  it('names the failed steps a retry may fix, and only those', () => {
    const op = operation('PARTIAL', [step('crm', 'SUCCEEDED'), step('erp', 'FAILED', unavailable), step('marketing', 'FAILED', stale)]);
    expect(retryPlan(op, NOW)).toEqual({ possible: true, reason: null, refusal: null, steps: [1] });
  });

  it('says nothing is to retry when every failed step was refused for good', () => {
    const plan = retryPlan(operation('FAILED', [step('crm', 'FAILED', stale)]), NOW);
    expect(plan).toMatchObject({ possible: false, refusal: null, steps: [] });
    expect(plan.reason).toContain('refused for good');
  });

  it('says no system was called when a write was refused before any step', () => {
    const plan = retryPlan(operation('FAILED', [], { error: { code: 'BAD_USER_INPUT', message: 'email', retryable: false } }), NOW);
    expect(plan).toMatchObject({ possible: false, refusal: null });
    expect(plan.reason).toContain('no system was called');
  });

  it('gives no reason when the operation succeeded', () => {
    expect(retryPlan(operation('SUCCEEDED', [step('crm', 'SUCCEEDED')]), NOW)).toEqual({ possible: false, reason: null, refusal: null, steps: [] });
  });

  it('refuses a query with BAD_USER_INPUT', () => {
    expect(retryPlan(operation('PARTIAL', [step('support', 'FAILED', unavailable)], { kind: 'query' }), NOW)).toMatchObject({ possible: false, refusal: 'BAD_USER_INPUT' });
  });

  it('refuses an operation still running, and takes up the PENDING steps of one left untouched past the interruption time', () => {
    const running = operation('PENDING', [step('crm', 'SUCCEEDED'), step('erp', 'PENDING')]);
    expect(retryPlan(running, NOW)).toMatchObject({ possible: false, refusal: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(retryPlan(running, NOW - 1000 + INTERRUPTED_AFTER_MS)).toMatchObject({ possible: false, refusal: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(retryPlan(running, NOW + INTERRUPTED_AFTER_MS)).toEqual({ possible: true, reason: null, refusal: null, steps: [1] });
  });

  it('refuses a propagation with BAD_USER_INPUT: its copy writes are sent only under their claim', () => {
    const op = operation('FAILED', [{ ...step('marketing', 'FAILED', unavailable), action: 'setCopies' }], { workflow: 'propagate' });
    expect(retryPlan(op, Date.now())).toMatchObject({ possible: false, refusal: 'BAD_USER_INPUT', steps: [] });
  });

  it('leaves out a step that has no native id to send to', () => {
    const op = operation('FAILED', [{ ...step('erp', 'FAILED', unavailable), nativeId: null }]);
    expect(retryPlan(op, NOW).possible).toBe(false);
  });
});
