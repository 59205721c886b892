// What onboardCustomer decides, free of DBOS: which step runs next, when the later ones are skipped, and how long to wait for the ERP's approval. onboard-customer.ts runs it with durable steps; test/onboarding-order.test.ts drives it fast with faults.
//
// Terminology
// - effect: one call to a system (or a pause) that the caller provides; in the workflow each is a DBOS step, its
//   outcome checkpointed. The flow itself reads no clock and draws no random number, so a replay decides the same.
// - precondition step: `erp.partnerActive`, a fresh read of the partner's status; WAITING while it is ON_HOLD.
// Guarantees: no marketing or support effect is called before a status read answered ACTIVE; after a failed step
// every later step is SKIPPED with PRECONDITION_FAILED naming it, and none of their effects is called; the status
// is re-read after pauses starting at `recheckMs` and doubling up to MAX_RECHECK_MS, until ACTIVE, a final answer
// (BLOCKED, no such partner), or pauses adding up to `timeoutMs`, after which the step FAILED; effects that run in
// parallel (marketing and support) are all called before any is awaited, so their order never varies.

import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';
import type { StepStatus } from '../operations/ledger.js';
import type { StepError } from '../writes/steps.js';

/** The longest pause between two reads of a held partner's status. */
export const MAX_RECHECK_MS = 15 * 60_000;

export const ONBOARDING_STEPS = {
  crm: 'crm.findOrCreateContact',
  erp: 'erp.createPartner',
  active: 'erp.partnerActive',
  marketing: 'marketing.upsertMember',
  support: 'support.findOrCreateOrganization',
  link: 'identity.linkRecords',
} as const;
export type OnboardingStepName = (typeof ONBOARDING_STEPS)[keyof typeof ONBOARDING_STEPS];

/** One effect's outcome, as a DBOS step checkpoints it: the id it produced (or status it read), or why not. */
export type Outcome<T = string> = ({ ok: true; value: T } | { ok: false; error: StepError }) & { attempts: number; durationMs: number; startedAt: string };

export type PartnerStatus = 'ACTIVE' | 'ON_HOLD' | 'BLOCKED';

export interface LinkedRecords {
  crm: string;
  erp: string;
  marketing: string | null;
  support: string;
}

export interface OnboardingEffects {
  findOrCreateContact(): Promise<Outcome>;
  createPartner(): Promise<Outcome>;
  /** The partner's status read fresh; null value: the ERP has no such partner. */
  partnerStatus(erpId: string): Promise<Outcome<PartnerStatus | null>>;
  /** A pause that survives a restart. */
  sleep(ms: number): Promise<void>;
  upsertMember(): Promise<Outcome>;
  findOrCreateOrganization(): Promise<Outcome>;
  /** The canonical customer id the linked records belong to. */
  linkRecords(records: LinkedRecords): Promise<Outcome>;
  /** Called whenever a step's state changes, with every step (in order) and, once linked, the customer. */
  record(steps: readonly OnboardingStep[], customerId: string | null): Promise<void>;
}

export interface OnboardingStep {
  name: OnboardingStepName;
  system: Owner;
  action: string;
  status: StepStatus;
  attempts: number;
  durationMs: number | null;
  startedAt: string | null;
  error: StepError | null;
  /** The record the step created or found (the partner, for the status check); null until it has one. */
  nativeId: string | null;
  /** What the step sends. */
  input: Record<string, unknown>;
  idempotencyKey: string | null;
  /** What it answered: the record's id, the partner's status, the customer id. */
  result: string | null;
  expectedVersion: null;
}

export interface OnboardingSettings {
  /** First pause between two status reads, in ms. */
  recheckMs: number;
  /** Pauses adding up to this, in ms, and the step FAILS. */
  timeoutMs: number;
}

export interface OnboardingResult {
  steps: OnboardingStep[];
  /** The linked customer; null when onboarding stopped before the link. */
  customerId: string | null;
}

/** What each step sends and under which key, fixed when the operation is planned. */
export interface OnboardingStepInputs {
  inputs: Record<OnboardingStepName, Record<string, unknown>>;
  /** The operation's key (the app's, or `op-<operation id>`): each step carries `<key>:<system>:<action>`. */
  operationKey: string;
  /** Whether a marketing member is wanted (emailConsent given). */
  marketing: boolean;
}

const split = (name: OnboardingStepName) => name.split('.') as [Owner, string];

/** The steps of a planned onboarding before any has run: every one PENDING, marketing SKIPPED when no consent was given. */
export function initialSteps(plan: OnboardingStepInputs): OnboardingStep[] {
  return Object.values(ONBOARDING_STEPS).map((name) => {
    const [system, action] = split(name);
    const skipped = name === ONBOARDING_STEPS.marketing && !plan.marketing;
    return {
      name,
      system,
      action,
      status: skipped ? 'SKIPPED' : 'PENDING',
      attempts: 0,
      durationMs: null,
      startedAt: null,
      error: skipped ? { code: ErrorCode.PRECONDITION_FAILED, message: 'Not run: no emailConsent was given, so the customer joins no marketing list.', retryable: false } : null,
      nativeId: null,
      input: plan.inputs[name],
      idempotencyKey: name === ONBOARDING_STEPS.active ? null : `${plan.operationKey}:${system}:${action}`,
      result: null,
      expectedVersion: null,
    };
  });
}

const precondition = (message: string): StepError => ({ code: ErrorCode.PRECONDITION_FAILED, message, retryable: false });

/** Runs an onboarding to its end: every step SUCCEEDED, or the first failure and the later steps SKIPPED. */
export async function onboard(plan: OnboardingStepInputs, fx: OnboardingEffects, settings: OnboardingSettings): Promise<OnboardingResult> {
  const steps = initialSteps(plan);
  let customerId: string | null = null;
  const at = (name: OnboardingStepName) => steps.find((s) => s.name === name)!;
  const save = () => fx.record(steps, customerId);

  /** Ends a step with an effect's outcome (the effect already called); its value, or null when it failed. */
  const settle = async <T>(name: OnboardingStepName, pending: Promise<Outcome<T>>, nativeId: (v: T) => string | null): Promise<T | null> => {
    const out = await pending;
    const s = at(name);
    Object.assign(s, { attempts: s.attempts + out.attempts, durationMs: out.durationMs, startedAt: s.startedAt ?? out.startedAt });
    if (!out.ok) Object.assign(s, { status: 'FAILED', error: out.error });
    else Object.assign(s, { status: 'SUCCEEDED', error: null, result: out.value === null ? null : String(out.value), nativeId: nativeId(out.value) ?? s.nativeId });
    await save();
    return out.ok ? out.value : null;
  };

  /** Every step still PENDING is SKIPPED, naming the step that stopped the onboarding. */
  const stop = async (failed: OnboardingStepName): Promise<OnboardingResult> => {
    const cause = at(failed).error;
    for (const s of steps) {
      if (s.status === 'PENDING') Object.assign(s, { status: 'SKIPPED', error: precondition(`Not run: ${failed} failed${cause ? ` (${cause.code}: ${cause.message})` : ''}.`) });
    }
    await save();
    return { steps, customerId };
  };

  const crmId = await settle(ONBOARDING_STEPS.crm, fx.findOrCreateContact(), (id) => id);
  if (crmId === null) return stop(ONBOARDING_STEPS.crm);
  const erpId = await settle(ONBOARDING_STEPS.erp, fx.createPartner(), (id) => id);
  if (erpId === null) return stop(ONBOARDING_STEPS.erp);
  if (!(await waitUntilActive(at(ONBOARDING_STEPS.active), erpId, fx, settings, save))) return stop(ONBOARDING_STEPS.active);

  // Both effects are called here, in this order, before either is awaited.
  const member = plan.marketing ? fx.upsertMember() : null;
  const organization = fx.findOrCreateOrganization();
  const marketingId = member ? await settle(ONBOARDING_STEPS.marketing, member, (id) => id) : null;
  const supportId = await settle(ONBOARDING_STEPS.support, organization, (id) => id);
  if (member && marketingId === null) return stop(ONBOARDING_STEPS.marketing);
  if (supportId === null) return stop(ONBOARDING_STEPS.support);

  customerId = await settle(ONBOARDING_STEPS.link, fx.linkRecords({ crm: crmId, erp: erpId, marketing: marketingId, support: supportId }), () => null);
  if (customerId === null) return stop(ONBOARDING_STEPS.link);
  await save();
  return { steps, customerId };
}

/**
 * The precondition: reads the partner's status until it is ACTIVE (true), or it never will be or the wait is over
 * (false, the step FAILED with PRECONDITION_FAILED). A read that failed retryably counts as "not known yet".
 */
async function waitUntilActive(step: OnboardingStep, erpId: string, fx: OnboardingEffects, settings: OnboardingSettings, save: () => Promise<void>): Promise<boolean> {
  step.nativeId = erpId;
  let waited = 0;
  let pause = settings.recheckMs;
  for (;;) {
    const read = await fx.partnerStatus(erpId);
    Object.assign(step, { attempts: step.attempts + read.attempts, durationMs: read.durationMs, startedAt: step.startedAt ?? read.startedAt });
    const status = read.ok ? read.value : null;
    if (read.ok && status === 'ACTIVE') {
      Object.assign(step, { status: 'SUCCEEDED', error: null, result: 'ACTIVE' });
      await save();
      return true;
    }
    const final = !read.ok ? !read.error.retryable : status !== 'ON_HOLD';
    if (final || waited >= settings.timeoutMs) {
      const why = !read.ok
        ? precondition(`The ERP could not say whether partner ${erpId} is ACTIVE: ${read.error.message}`)
        : status === null
          ? precondition(`The ERP has no partner ${erpId}.`)
          : status === 'BLOCKED'
            ? precondition(`The ERP blocked partner ${erpId}; it will not become ACTIVE.`)
            : precondition(`Partner ${erpId} was still ON_HOLD after ${waited} ms (ONBOARDING_APPROVAL_TIMEOUT_MS).`);
      Object.assign(step, { status: 'FAILED', error: why, result: status });
      await save();
      return false;
    }
    Object.assign(step, { status: 'WAITING', error: read.ok ? null : read.error, result: status });
    await save();
    const next = Math.min(pause, settings.timeoutMs - waited);
    await fx.sleep(next);
    waited += next;
    pause = Math.min(pause * 2, MAX_RECHECK_MS);
  }
}
