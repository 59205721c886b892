// The workflows canon runs, declared as data: each one's name, meaning, default mode and ordered steps with what each waits for. Served by `workflows`; the console draws them.
//
// A definition is what a workflow module promises: its code runs exactly these steps, by these names, in this
// order (`after`), and records them under these names in the operation, so what an operator reads in the console
// is what ran. To add a workflow: write its module in this folder, register it with DBOS there, and list it here.

import { SYSTEMS, type SystemName } from '../../schema/model.js';
import type { Mode } from '../operations/ledger.js';

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
];
