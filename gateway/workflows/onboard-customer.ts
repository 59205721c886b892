// onboardCustomer as a durable workflow: the decisions of onboarding.ts, with every call to a system a DBOS step (its outcome checkpointed) and every pause a DBOS durable sleep, so a restart resumes a waiting onboarding where it was.
//
// Guarantees: each creating step carries its derived key and an external id derived from the operation id, so a
// step run again (after a crash, or by a later run of the operation) finds what an earlier attempt created; the
// ledger record is the workflow's projection, rewritten from the checkpointed outcomes as the workflow (re)plays.

import { DBOS } from '@dbos-inc/dbos-sdk';
import { Recorder, type OperationMeta } from '../operations/recorder.js';
import type { SubgraphResult } from '../federation/subgraph-client.js';
import type { Owner } from '../../schema/model.js';
import { stepError } from '../writes/steps.js';
import type { WorkflowEngine } from './engine.js';
import { initialSteps, onboard, ONBOARDING_STEPS, type OnboardingEffects, type OnboardingResult, type OnboardingStepInputs, type OnboardingStepName, type Outcome } from './onboarding.js';
import { runtimeOf, type WorkflowRuntime } from './runtime.js';
import { startOperation } from './write.js';

/** A planned onboarding: what each step sends, and the external id every created record carries (derived from the operation id). */
export interface OnboardingPlan extends OnboardingStepInputs {
  externalId: string;
}

export interface OnboardingRun {
  /** The runtime key (runtime.ts). */
  runtime: string;
  meta: OperationMeta;
  plan: OnboardingPlan;
}

/** One call to a subgraph as a DBOS step named after its onboarding step: its outcome, never a throw, is checkpointed. */
function effect<T>(name: OnboardingStepName, call: () => Promise<SubgraphResult<any>>, pick: (data: any) => T): Promise<Outcome<T>> {
  return DBOS.runStep(
    async (): Promise<Outcome<T>> => {
      const startedAt = new Date().toISOString();
      const started = performance.now();
      const r = await call();
      const durationMs = Math.round(performance.now() - started);
      if (!r.ok) return { ok: false, error: stepError(r.error), attempts: r.error.attempts, durationMs, startedAt };
      return { ok: true, value: pick(r.data), attempts: 1, durationMs, startedAt };
    },
    { name },
  );
}

/** The subgraph calls of onboarding, each with the step's derived key. */
function effects(rt: WorkflowRuntime, plan: OnboardingPlan, recorder: Recorder): OnboardingEffects {
  const key = (name: OnboardingStepName) => ({ idempotencyKey: `${plan.operationKey}:${name.replace('.', ':')}` });
  const input = (name: OnboardingStepName) => plan.inputs[name];
  const send = (subgraph: Owner, name: OnboardingStepName, query: string, variables: Record<string, unknown>) => () => rt.runner.call(subgraph, query, variables, key(name));
  const S = ONBOARDING_STEPS;
  return {
    findOrCreateContact: () =>
      effect(S.crm, send('crm', S.crm, 'mutation($i: CrmContactInput!, $x: String, $k: String) { crmFindOrCreateContact(input: $i, externalId: $x, idempotencyKey: $k) { crmId } }', { i: input(S.crm), x: plan.externalId, k: key(S.crm).idempotencyKey }), (d) => String(d.crmFindOrCreateContact.crmId)),
    createPartner: () =>
      effect(S.erp, send('erp', S.erp, 'mutation($i: ErpPartnerInput!, $x: String!, $k: String) { erpCreatePartner(input: $i, externalId: $x, idempotencyKey: $k) { erpId } }', { i: input(S.erp), x: plan.externalId, k: key(S.erp).idempotencyKey }), (d) => String(d.erpCreatePartner.erpId)),
    partnerStatus: (erpId) =>
      // A read: never shared with another request's, since it must see the ERP as it is now.
      effect(S.active, () => rt.runner.call('erp', 'query($id: ID!) { erpPartnerStatus(erpId: $id) }', { id: erpId }, null), (d) => d.erpPartnerStatus ?? null),
    sleep: (ms) => DBOS.sleep(ms),
    upsertMember: () =>
      effect(S.marketing, send('marketing', S.marketing, 'mutation($i: MarketingMemberInput!, $k: String) { marketingUpsertMember(input: $i, idempotencyKey: $k) { marketingId } }', { i: input(S.marketing), k: key(S.marketing).idempotencyKey }), (d) => String(d.marketingUpsertMember.marketingId)),
    findOrCreateOrganization: () =>
      effect(S.support, send('support', S.support, 'mutation($i: SupportOrganizationInput!, $x: String!, $k: String) { supportFindOrCreateOrganization(input: $i, externalId: $x, idempotencyKey: $k) { supportId } }', { i: input(S.support), x: plan.externalId, k: key(S.support).idempotencyKey }), (d) => String(d.supportFindOrCreateOrganization.supportId)),
    linkRecords: (records) =>
      effect(S.link, send('identity', S.link, 'mutation($r: LinkRecordsInput!) { identityLinkRecords(records: $r) { id } }', { r: records }), (d) => String(d.identityLinkRecords.id)),
    record: (steps, customerId) => recorder.progress(steps, customerId),
  };
}

async function onboardWorkflow(run: OnboardingRun): Promise<OnboardingResult> {
  const rt = runtimeOf(run.runtime);
  const recorder = new Recorder(rt.ledger, { ...run.meta, run: DBOS.workflowID ?? run.meta.operationId });
  await recorder.begin(initialSteps(run.plan));
  return onboard(run.plan, effects(rt, run.plan, recorder), { recheckMs: rt.settings.onboardingRecheckMs, timeoutMs: rt.settings.onboardingApprovalTimeoutMs });
}
const onboardCustomer = DBOS.registerWorkflow(onboardWorkflow, { name: 'canon.onboardCustomer' });

/** Starts an onboarding (see startOperation): its result when it ended within the realtime wait, else not done. */
export function startOnboarding(engine: WorkflowEngine, run: Omit<OnboardingRun, 'runtime'>): Promise<{ done: true; result: OnboardingResult } | { done: false }> {
  return startOperation(engine, onboardCustomer, { ...run, runtime: engine.key }, initialSteps(run.plan));
}
