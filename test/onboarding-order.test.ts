// Onboarding's order under 1,000 seeded random interleavings: the workflow's own decision code (gateway/workflows/onboarding.ts) against a simulated world whose calls end in random order, fail at random, and whose ERP holds, releases and blocks partners at random: no marketing or support write ever happens before the ERP partner is ACTIVE.

import { describe, expect, it } from 'vitest';
import { createRng } from '../subgraphs/sandbox-kit/rng.js';
import { onboard, ONBOARDING_STEPS, type OnboardingEffects, type OnboardingResult, type OnboardingStepInputs, type Outcome, type PartnerStatus } from '../gateway/workflows/onboarding.js';

const RUNS = 1000;
/** Onboardings running at once in one interleaving, sharing one ERP. */
const AT_ONCE = 3;
const SETTINGS = { recheckMs: 50, timeoutMs: 700 };

type Event =
  | { kind: 'call'; k: number; effect: string; partner: PartnerStatus | 'none' }
  | { kind: 'read'; k: number; status: PartnerStatus | null };

interface World {
  rng: () => number;
  /** Each onboarding's ERP partner as the ERP holds it; ACTIVE is final, as a released partner stays released. */
  partners: Map<number, PartnerStatus>;
  /** Calls waiting to end: the driver ends them one at a time, in random order. */
  pending: (() => void)[];
  log: Event[];
  /** Virtual time each onboarding slept. */
  slept: number[];
  hold: boolean;
}

const plan: OnboardingStepInputs = {
  inputs: Object.fromEntries(Object.values(ONBOARDING_STEPS).map((n) => [n, {}])) as OnboardingStepInputs['inputs'],
  operationKey: 'op-order',
  marketing: true,
};

/** The effects of onboarding `k` in `w`: each call logged when made, ended by the driver, failing now and then. */
function effects(w: World, k: number): OnboardingEffects {
  const call = <T>(effect: string, value: () => T | Error): Promise<Outcome<T>> => {
    w.log.push({ kind: 'call', k, effect, partner: w.partners.get(k) ?? 'none' });
    return new Promise((resolve) =>
      w.pending.push(() => {
        const v = value();
        const base = { attempts: 1, durationMs: 1, startedAt: 'virtual' };
        resolve(v instanceof Error ? { ok: false, error: { code: v.message, message: `${effect} failed`, retryable: v.message === 'SYSTEM_UNAVAILABLE' }, ...base } : { ok: true, value: v, ...base });
      }),
    );
  };
  // A write fails one time in twelve, for good or retryably.
  const fault = () => (w.rng() < 1 / 12 ? new Error(w.rng() < 0.5 ? 'BAD_USER_INPUT' : 'SYSTEM_UNAVAILABLE') : null);
  return {
    findOrCreateContact: () => call('crm', () => fault() ?? `c${k}`),
    createPartner: () =>
      call('erp', () => {
        const f = fault();
        if (f) return f;
        w.partners.set(k, w.hold ? 'ON_HOLD' : 'ACTIVE');
        return `p${k}`;
      }),
    partnerStatus: () =>
      call('status', () => {
        if (w.rng() < 1 / 10) return new Error('SYSTEM_UNAVAILABLE');
        const status = w.partners.get(k) ?? null;
        w.log.push({ kind: 'read', k, status });
        return status;
      }),
    sleep: (ms) =>
      new Promise<void>((resolve) =>
        w.pending.push(() => {
          w.slept[k]! += ms;
          resolve();
        }),
      ),
    upsertMember: () => call('marketing', () => fault() ?? `m${k}`),
    findOrCreateOrganization: () => call('support', () => fault() ?? `s${k}`),
    linkRecords: () => call('identity', () => fault() ?? `customer-${k}`),
    record: async () => undefined,
  };
}

/** Lets every promise chain that can move, move. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** One interleaving: AT_ONCE onboardings, their calls ended in an order the seed picks, the ERP approving at random. */
async function interleaving(seed: number): Promise<{ w: World; results: OnboardingResult[]; marketing: boolean[] }> {
  const rng = createRng(seed);
  const w: World = { rng, partners: new Map(), pending: [], log: [], slept: Array(AT_ONCE).fill(0), hold: rng() < 0.6 };
  const marketing = Array.from({ length: AT_ONCE }, () => rng() < 0.7);
  const results: OnboardingResult[] = [];
  let ended = 0;
  for (let k = 0; k < AT_ONCE; k++) {
    void onboard({ ...plan, marketing: marketing[k]! }, effects(w, k), SETTINGS).then((r) => {
      results[k] = r;
      ended++;
    });
  }
  for (let tick = 0; ended < AT_ONCE; tick++) {
    await settle();
    if (ended === AT_ONCE) break;
    if (tick > 10_000 || w.pending.length === 0) throw new Error(`seed ${seed}: onboarding stuck with nothing pending`);
    // Finance decides on a held partner now and then: released (ACTIVE) or blocked.
    const held = [...w.partners].filter(([, s]) => s === 'ON_HOLD');
    if (held.length && rng() < 0.15) w.partners.set(held[Math.floor(rng() * held.length)]![0], rng() < 0.75 ? 'ACTIVE' : 'BLOCKED');
    w.pending.splice(Math.floor(rng() * w.pending.length), 1)[0]!();
  }
  return { w, results, marketing };
}

describe('onboarding order', () => {
  it(`never lets a marketing or support write happen before the ERP partner is ACTIVE, over ${RUNS} seeded interleavings with faults`, async () => {
    const seen = { linked: 0, refused: 0, timedOut: 0, blocked: 0, waited: 0 };
    for (let seed = 1; seed <= RUNS; seed++) {
      const { w, results, marketing } = await interleaving(seed);
      for (let k = 0; k < AT_ONCE; k++) {
        const r = results[k]!;
        const status = Object.fromEntries(r.steps.map((s) => [s.name, s.status]));
        const events = w.log.filter((e) => e.k === k);
        const firstActiveRead = events.findIndex((e) => e.kind === 'read' && e.status === 'ACTIVE');
        const downstream = events.flatMap((e, i) => (e.kind === 'call' && (e.effect === 'marketing' || e.effect === 'support') ? [{ e, i }] : []));
        const where = `seed ${seed}, onboarding ${k}`;
        // The order itself: every downstream write was sent to an ACTIVE partner, after the workflow read it ACTIVE.
        for (const { e, i } of downstream) {
          expect(e.kind === 'call' && e.partner, where).toBe('ACTIVE');
          expect(firstActiveRead !== -1 && firstActiveRead < i, where).toBe(true);
        }
        // What the workflow recorded agrees with what it sent.
        const active = status[ONBOARDING_STEPS.active] === 'SUCCEEDED';
        expect(active, where).toBe(firstActiveRead !== -1);
        expect(downstream.map((d) => (d.e as { effect: string }).effect), where).toEqual(active ? [...(marketing[k] ? ['marketing'] : []), 'support'] : []);
        const failed = r.steps.findIndex((s) => s.status === 'FAILED');
        if (failed !== -1) {
          // Every later step SKIPPED, but support, which runs beside marketing, when marketing failed.
          const parallel = r.steps[failed]!.name === ONBOARDING_STEPS.marketing ? [ONBOARDING_STEPS.support as string] : [];
          expect(r.steps.slice(failed + 1).filter((s) => !parallel.includes(s.name)).map((s) => s.status), where).toEqual(r.steps.slice(failed + 1).filter((s) => !parallel.includes(s.name)).map(() => 'SKIPPED'));
          expect(r.customerId, where).toBeNull();
        } else {
          expect([r.customerId, status[ONBOARDING_STEPS.link]], where).toEqual([`customer-${k}`, 'SUCCEEDED']);
        }
        expect(w.slept[k], where).toBeLessThanOrEqual(SETTINGS.timeoutMs);
        if (r.customerId) seen.linked++;
        if (status[ONBOARDING_STEPS.erp] === 'FAILED') seen.refused++;
        if (w.slept[k]! > 0) seen.waited++;
        const why = r.steps.find((s) => s.name === ONBOARDING_STEPS.active)!.error?.message ?? '';
        if (why.includes('still ON_HOLD')) seen.timedOut++;
        if (why.includes('blocked')) seen.blocked++;
      }
    }
    // The seeds reach every way an onboarding can go, so the order above was checked on each.
    expect(Object.entries(seen).filter(([, n]) => n === 0)).toEqual([]);
  });
});
