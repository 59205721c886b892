// What each canonical mutation turns into before anything is written: its input checked against schema/ and split into one step per owner, or a refusal that says why nothing was.
//
// Guarantee: a plan calls no system but identity (to learn the native ids); a refusal means no write was sent.

import { ErrorCode } from '../../schema/errors.js';
import { MODEL, type Owner, type SystemName } from '../../schema/model.js';
import { SystemError } from '../../subgraphs/kit/system-error.js';
import { newStep, sliceByOwner, type NativeIds, type StepRunner, type WriteStep } from './steps.js';
import { countryOf, validateUpdate, type UpdateInput } from './validation.js';
import { ONBOARDING_STEPS, type OnboardingStepInputs } from '../workflows/onboarding.js';

/** Why a write was refused before any system was called: canon's own check, or identity's failure to answer. */
export type Refusal = SystemError | { code: ErrorCode; message: string; extensions: Record<string, unknown> & { system?: Owner } };

/**
 * `nativeIds`: the customer's records as identity named them while planning (updateCustomer), so the owner change's
 * propagation need not ask identity again.
 */
export type Plan = { ok: true; steps: WriteStep[]; nativeIds?: NativeIds } | { ok: false; refusal: Refusal };

const refuse = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): Plan => ({ ok: false, refusal: { code, message, extensions } });

/** The customer's native ids, or the refusal: unknown to identity, or identity could not say. */
async function nativeIdsOf(runner: StepRunner, customerId: string): Promise<{ ok: true; ids: NativeIds } | { ok: false; refusal: Refusal }> {
  const r = await runner.nativeIds(customerId);
  if (!r.ok) {
    const e = r.error;
    const refusal = new SystemError({ code: e.code, system: 'identity', status: e.status, retryable: e.retryable, message: `Could not look up customer ${customerId}: ${e.message}`, cause: e });
    refusal.attempts = e.attempts;
    return { ok: false, refusal };
  }
  if (!r.data) return { ok: false, refusal: { code: ErrorCode.NOT_FOUND, message: `No customer with id "${customerId}".`, extensions: { system: 'identity' } } };
  return { ok: true, ids: r.data };
}

export interface UpdateArgs {
  id: string;
  input: UpdateInput;
  expectedVersions?: Partial<Record<SystemName, string | null>> | null;
}

/** updateCustomer: the whole input valid, every owner holding the customer, then one step per owner in system order. */
export async function planUpdate(runner: StepRunner, args: UpdateArgs, operationKey: string | null): Promise<Plan> {
  let checked = validateUpdate(args.input);
  let found: Awaited<ReturnType<typeof nativeIdsOf>> | null = null;
  // A national phone number sent without a country is read in the country the customer's records keep; only then
  // are systems asked anything before the input is known to be valid.
  if (!checked.ok && checked.problems.some((p) => p.field === 'phone') && !countryOf(args.input)) {
    found = await nativeIdsOf(runner, args.id);
    if (!found.ok) return found;
    const stored = await runner.storedCountry(found.ids);
    if (stored) checked = validateUpdate(args.input, MODEL, { storedCountry: stored });
  }
  if (!checked.ok) {
    const first = checked.problems[0]!;
    return refuse(ErrorCode.BAD_USER_INPUT, checked.problems.map((p) => p.message).join(' '), { field: first.field, fields: checked.problems.map((p) => p.field) });
  }
  found ??= await nativeIdsOf(runner, args.id);
  if (!found.ok) return found;
  const slices = sliceByOwner(checked.value);
  // Every owner must hold the customer before anything is written, or the write would land half.
  for (const [system, slice] of slices) {
    if (found.ids[system] === null) {
      return refuse(ErrorCode.NOT_FOUND, `Customer ${args.id} has no ${system} record, so ${Object.keys(slice).join(', ')} cannot be written; nothing was changed.`, { system });
    }
  }
  return { ok: true, nativeIds: found.ids, steps: [...slices].map(([system, slice]) => newStep(system, 'updateCustomer', found.ids[system]!, slice, args.expectedVersions?.[system] ?? null, operationKey)) };
}

export interface TicketArgs {
  customerId: string;
  subject: string;
  body: string;
}

/** openTicket: a subject and a body, and a support organization to open it for. */
export async function planTicket(runner: StepRunner, args: TicketArgs, operationKey: string | null): Promise<Plan> {
  const subject = args.subject.trim();
  const body = args.body.trim();
  if (!subject || !body) {
    const field = !subject ? 'subject' : 'body';
    return refuse(ErrorCode.BAD_USER_INPUT, `${field} must not be empty.`, { field });
  }
  const found = await nativeIdsOf(runner, args.customerId);
  if (!found.ok) return found;
  if (!found.ids.support) return refuse(ErrorCode.NOT_FOUND, `Customer ${args.customerId} has no support organization to open a ticket for.`, { system: 'support' });
  return { ok: true, steps: [newStep('support', 'createTicket', found.ids.support, { subject, body }, null, operationKey)] };
}

/** onboardCustomer's input as GraphQL coerced it: the writable Customer fields it names. */
export type OnboardInput = Record<string, unknown> & { name: string; email: string; legalName: string; billingAddress: Record<string, unknown>; emailConsent?: string | null };

/** What each onboarding step sends, from a validated input; optional fields left out are not sent. */
function onboardingInputs(v: Record<string, any>): OnboardingStepInputs['inputs'] {
  const some = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined && x !== null));
  const S = ONBOARDING_STEPS;
  return {
    [S.crm]: some({ name: v.name, email: v.email, phone: v.phone, country: v.billingAddress.country }),
    [S.erp]: some({ legalName: v.legalName, taxId: v.taxId, billingAddress: v.billingAddress, paymentTerms: v.paymentTerms }),
    [S.active]: {},
    [S.marketing]: v.emailConsent ? { emailAddress: v.email, emailConsent: v.emailConsent } : {},
    // The support desk knows organizations by their company name, which Zendesk keeps unique.
    [S.support]: some({ organizationName: v.legalName, supportPlan: v.supportPlan }),
    [S.link]: {},
  };
}

/**
 * onboardCustomer: the whole input valid by the rules updateCustomer follows (a null optional field counts as left
 * out), then what each step sends. Calls no system, not even identity: nothing exists to look up yet.
 */
export function planOnboarding(input: OnboardInput, operationKey: string): { ok: true; plan: OnboardingStepInputs } | { ok: false; refusal: Refusal } {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));
  const checked = validateUpdate(given);
  if (!checked.ok) {
    const first = checked.problems[0]!;
    return { ok: false, refusal: { code: ErrorCode.BAD_USER_INPUT, message: checked.problems.map((p) => p.message).join(' '), extensions: { field: first.field, fields: checked.problems.map((p) => p.field) } } };
  }
  return { ok: true, plan: { inputs: onboardingInputs(checked.value), operationKey, marketing: Boolean(checked.value.emailConsent) } };
}
