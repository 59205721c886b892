// The workflows canon runs, declared as data: each one's name, meaning, default mode and ordered steps with what each waits for. Served by `workflows`; the console draws them.
//
// A definition is what a workflow module promises: its code runs exactly these steps, by these names, in this
// order (`after`), and records them under these names in the operation, so what an operator reads in the console
// is what ran. To add a workflow: write its module in this folder, register it with DBOS there, and list it here.

import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { customerFields } from '../../schema/ownership.js';
import type { Mode } from '../operations/ledger.js';
import { ONBOARDING_STEPS } from './onboarding.js';

export interface StepDefinition {
  /** `<system>.<action>`, as the operation's steps are named. */
  name: string;
  system: SystemName | 'identity';
  action: string;
  /** Steps that must have succeeded before this one starts; empty: it starts with the workflow (in parallel with the others). */
  after: string[];
  /** What must hold before it runs, in words; null when nothing. */
  precondition: string | null;
}

export interface WorkflowDefinition {
  name: string;
  description: string;
  defaultMode: Mode;
  steps: StepDefinition[];
}

/** The systems keeping a copy of some field, in system order. */
const COPY_SYSTEMS = SYSTEMS.filter((s) => [...customerFields().values()].some((f) => f.copies?.some((c) => c.system === s)));

const update = (s: SystemName): StepDefinition => ({ name: `${s}.updateCustomer`, system: s, action: 'updateCustomer', after: [], precondition: `the input names a field ${s} owns, and ${s} holds the customer` });

export const WORKFLOWS: readonly WorkflowDefinition[] = [
  {
    name: 'updateCustomer',
    description: 'Writes each part of a validated input to the system that owns it: one step per owning system, all in parallel, each under its derived idempotency key.',
    defaultMode: 'REALTIME',
    steps: SYSTEMS.map(update),
  },
  {
    name: 'openTicket',
    description: "Opens a support ticket for the customer's support organization.",
    defaultMode: 'REALTIME',
    steps: [{ name: 'support.createTicket', system: 'support', action: 'createTicket', after: [], precondition: 'the customer has a support organization' }],
  },
  {
    name: 'retryOperation',
    description: "Sends again the failed steps of an operation that a retry may fix, as the operation's next run (<id>.r<n>); steps that succeeded are not sent, and each failed run stays in its step's history.",
    defaultMode: 'REALTIME',
    steps: SYSTEMS.map((s) => ({ ...update(s), precondition: `the step failed with an error a retry may fix` })),
  },
  {
    name: 'onboardCustomer',
    description:
      'Creates a customer in every system, in order: the CRM contact, then the ERP business partner (the ERP validates it), then, once the ERP has the partner ACTIVE, the marketing member and the support organization in parallel, and last the identity link. A failed step leaves every later one SKIPPED: no later system receives a write.',
    defaultMode: 'REALTIME',
    steps: [
      { name: ONBOARDING_STEPS.crm, system: 'crm', action: 'findOrCreateContact', after: [], precondition: 'none: a contact with the email is found, else created' },
      { name: ONBOARDING_STEPS.erp, system: 'erp', action: 'createPartner', after: [ONBOARDING_STEPS.crm], precondition: 'the CRM contact exists; the ERP itself refuses missing mandatory data or a tax number another partner holds' },
      {
        name: ONBOARDING_STEPS.active,
        system: 'erp',
        action: 'partnerActive',
        after: [ONBOARDING_STEPS.erp],
        precondition: 'the ERP partner is ACTIVE: while the credit check holds it the step is WAITING, re-read after durable pauses (ONBOARDING_RECHECK_MS, doubling up to 15 min) until ONBOARDING_APPROVAL_TIMEOUT_MS, then FAILED',
      },
      { name: ONBOARDING_STEPS.marketing, system: 'marketing', action: 'upsertMember', after: [ONBOARDING_STEPS.active], precondition: 'the ERP partner is ACTIVE, and emailConsent was given (else SKIPPED)' },
      { name: ONBOARDING_STEPS.support, system: 'support', action: 'findOrCreateOrganization', after: [ONBOARDING_STEPS.active], precondition: 'the ERP partner is ACTIVE' },
      { name: ONBOARDING_STEPS.link, system: 'identity', action: 'linkRecords', after: [ONBOARDING_STEPS.marketing, ONBOARDING_STEPS.support], precondition: 'every record before it exists' },
    ],
  },
  {
    name: 'bulkUpdateCustomers',
    description:
      "Writes many customers' changes, each validated first, through each owning system's batch API: one step per system and batch of at most 100 records, all in parallel. A record its system refuses fails alone (its step's items name it); progress counts the records.",
    defaultMode: 'QUEUED',
    steps: SYSTEMS.map((s) => ({ name: `${s}.bulkUpdateCustomers`, system: s, action: 'bulkUpdateCustomers', after: [], precondition: `the updates name fields ${s} owns; one step per 100 of its records` })),
  },
  {
    name: 'propagate',
    description:
      "Writes one owner change (canon's own write to the owner, or a change the owner's feed showed) to every copy the model declares for the field, each from its system's queue under the key <operation id>:<system>:setCopies; under ENFORCE, sets a drifted copy back to the owner's value. Never writes the owner. A copy a later owner change has claimed is SKIPPED (that change writes it); a member whose address changes moves to its new subscriber hash, and identity's crosswalk follows.",
    defaultMode: 'QUEUED',
    steps: COPY_SYSTEMS.map((s) => ({
      name: `${s}.setCopies`,
      system: s,
      action: 'setCopies',
      after: [],
      precondition: `the field has a copy in ${s}, the customer has a ${s} record, and no later owner change has claimed the copy`,
    })),
  },
];
