// A gateway killed with SIGKILL while a workflow step is in flight, then started again on the same data: the workflow finishes, and every system holds its effect exactly once.

import { loadOrCreateSandboxCredentials } from '../subgraphs/sandbox-kit/credentials.js';
import { sandboxFetch } from './support/credentials.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { operationIdFor } from '../gateway/writes/operation-id.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startChildStack, type ChildStack } from './support/child-stack.js';
import { until } from './support/until.js';
import { PG_URL, postgresSkipReason } from './support/postgres.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const pgSkip = await postgresSkipReason();
if (pgSkip) console.warn(pgSkip.replace('ledger tests', 'crash tests on PostgreSQL'));


const json = (url: string, init?: RequestInit) => fetch(url, init).then((r) => r.json());

const TICKET = 'mutation($id: ID!, $s: String!) { openTicket(customerId: $id, subject: $s, body: "crash") { ticket { id } operation { id } } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { operationId } }';
const OPERATION = 'query($id: ID!) { operation(id: $id) { status workflow steps { system status } } }';

/** Runs the scenario on a fresh data directory: a ticket and a two-owner update in flight when the gateway dies. */
async function crashAndRecover(overrides: Record<string, unknown>, faults: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'canon-crash-'));
  dirs.push(dir);
  let child: ChildStack = await startChildStack(dir, { seedSize: 40, ...overrides });
  try {
    const listed = await child.gql('{ customers(first: 40) { edges { node { id sourceIds { crm erp support } } } } }');
    const customer = listed.data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && n.sourceIds.erp && n.sourceIds.support);
    const put = (system: string, body: unknown) => fetch(`${child.ready.systems[system as 'crm']}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // Slow enough to kill the gateway while a call waits, short of a call's own timeout, so a reset write commits first.
    const latencyMs = faults.resetAfterCommitRate ? 600 : 1500;
    await put('support', { latencyMs, ...faults });
    await put('erp', { latencyMs, ...faults });
    const subject = `Crash ${randomUUID()}`;
    const ticketKey = randomUUID();
    const updateKey = randomUUID();
    const name = `Crashed ${randomUUID().slice(0, 8)}`;
    // Sent and never answered: the gateway dies under them.
    void child.gql(TICKET, { id: customer.id, s: subject }, { 'idempotency-key': ticketKey }).catch(() => undefined);
    void child.gql(UPDATE, { id: customer.id, input: { name, legalName: `${name} GmbH` } }, { 'idempotency-key': updateKey }).catch(() => undefined);
    // In flight: each system has the request (and, with resetAfterCommitRate, has committed it) but canon has no answer.
    const inFlight = async (system: string, route: string) => {
      const stats = await json(`${child.ready.systems[system as 'crm']}/_admin/stats`);
      return faults.resetAfterCommitRate ? stats.writes >= 1 : (stats.byRoute[route] ?? 0) >= 1;
    };
    await until('both steps in flight', async () => (await inFlight('support', 'POST /api/v2/tickets.json')) && (await inFlight('erp', "PATCH /odata/v4/BusinessPartners('{id}')")));
    await child.kill();

    child = await startChildStack(dir, { seedSize: 40, ...overrides });
    const ids = [ticketKey, updateKey].map((key) => operationIdFor({ operationId: '', app: 'dev', idempotencyKey: key }));
    const ended = await until('both operations to finish after the restart', async () => {
      const ops = await Promise.all(ids.map((id) => child.gql(OPERATION, { id })));
      return ops.every((o) => o.data.operation?.status === 'SUCCEEDED') && ops.map((o) => o.data.operation);
    });
    expect(ended).toEqual([
      { status: 'SUCCEEDED', workflow: 'openTicket', steps: [{ system: 'SUPPORT', status: 'SUCCEEDED' }] },
      { status: 'SUCCEEDED', workflow: 'updateCustomer', steps: [{ system: 'CRM', status: 'SUCCEEDED' }, { system: 'ERP', status: 'SUCCEEDED' }] },
    ]);
    const tickets = await sandboxFetch('support', `${child.ready.systems.support}/api/v2/tickets.json?organization_ids=${customer.sourceIds.support}&per_org=100`, {}, loadOrCreateSandboxCredentials(dir)).then((r) => r.json());
    expect(tickets.tickets.filter((t: any) => t.subject === subject)).toHaveLength(1);
    const seen = await child.gql('query($id: ID!) { customer(id: $id) { name legalName } }', { id: customer.id });
    expect(seen.data.customer).toEqual({ name, legalName: `${name} GmbH` });
  } finally {
    await child.stop();
  }
}

const ONBOARD = 'mutation($input: OnboardCustomerInput!) { onboardCustomer(input: $input, mode: QUEUED) { operation { id } } }';
const ONBOARDING = 'query($id: ID!) { operation(id: $id) { status customerId steps { name status } } }';

/** An onboarding WAITING on a held partner when the gateway dies: after the restart it waits on, and finishes once released, each record once. */
async function crashWhileWaiting() {
  const dir = mkdtempSync(join(tmpdir(), 'canon-crash-onboard-'));
  dirs.push(dir);
  let child: ChildStack = await startChildStack(dir, { seedSize: 40 });
  try {
    await fetch(`${child.ready.systems.erp}/_admin/approvals`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ holdNewPartners: true }) });
    const tag = randomUUID().slice(0, 8);
    const email = `crash.${tag}@onboard.example`;
    const input = { name: `Crash ${tag}`, email, legalName: `Crash ${tag} AG`, billingAddress: { line1: 'Ring 2', city: 'Wien', postalCode: '1010', country: 'AT' }, emailConsent: 'SUBSCRIBED' };
    const id = (await child.gql(ONBOARD, { input })).data.onboardCustomer.operation.id;
    await until('the onboarding to wait', async () => (await child.gql(ONBOARDING, { id })).data.operation?.steps[2].status === 'WAITING');
    await child.kill();

    child = await startChildStack(dir, { seedSize: 40 });
    // Recovered: still waiting on the held partner (the ERP keeps its hold), nothing sent downstream.
    const { held } = await json(`${child.ready.systems.erp}/_admin/approvals`);
    await until('the recovered onboarding to read the partner again', async () => ((await json(`${child.ready.systems.erp}/_admin/stats`)).byRoute["GET /odata/v4/BusinessPartners('{id}')"] ?? 0) >= 1);
    // (The restarted gateway's sync reads support's feed; it writes nothing there.)
    expect((await json(`${child.ready.systems.support}/_admin/stats`)).writes).toBe(0);
    await fetch(`${child.ready.systems.erp}/_admin/approvals/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: held[0] }) });
    const done = await until('the onboarding to finish', async () => {
      const op = (await child.gql(ONBOARDING, { id })).data.operation;
      return op.status !== 'PENDING' && op;
    });
    expect([done.status, done.steps.map((s: any) => s.status)]).toEqual(['SUCCEEDED', ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']]);
    const credentials = loadOrCreateSandboxCredentials(dir);
    const api = (system: 'crm' | 'erp' | 'support', path: string, init: RequestInit = {}) => sandboxFetch(system, `${child.ready.systems[system]}${path}`, init, credentials).then((r) => r.json());
    const contacts = await api('crm', '/crm/v3/objects/contacts/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }] }) });
    const partners = await api('erp', `/odata/v4/BusinessPartners?$filter=${encodeURIComponent(`ExternalID eq '${id}'`)}`);
    const orgs = await api('support', `/api/v2/organizations/search.json?external_id=${encodeURIComponent(id)}`);
    expect([contacts.total, partners.value.length, orgs.organizations.length]).toEqual([1, 1, 1]);
    const found = await child.gql('query($id: ID!) { customerBySourceId(system: ERP, id: $id) { id } }', { id: held[0] });
    expect(found.data.customerBySourceId.id).toBe(done.customerId);
  } finally {
    await child.stop();
  }
}

/**
 * A propagation writing its sole copy from the copy system's queue (no child workflow) when the gateway dies, the
 * write committed in marketing but its answer lost: after the restart the propagation finishes, and marketing
 * holds the name on the same member, no member added.
 */
async function crashWhileCopying() {
  const dir = mkdtempSync(join(tmpdir(), 'canon-crash-copy-'));
  dirs.push(dir);
  const overrides = { seedSize: 40, workflows: { ...testConfig(dir).workflows, propagateCopies: true } };
  let child: ChildStack = await startChildStack(dir, overrides);
  try {
    const listed = await child.gql('{ customers(first: 40) { edges { node { id sourceIds { crm marketing } } } } }');
    const customer = listed.data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && n.sourceIds.marketing);
    const marketing = child.ready.systems.marketing;
    const members = async () => (await sandboxFetch('marketing', `${child.ready.systems.marketing}/3.0/lists/${MARKETING_LIST_ID}/members?count=0`, {}, loadOrCreateSandboxCredentials(dir)).then((r) => r.json())).total_items as number;
    const before = await members();
    await fetch(`${marketing}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 600, resetAfterCommitRate: 1 }) });
    const first = `Copied${randomUUID().slice(0, 6)}`;
    const done = await child.gql(UPDATE, { id: customer.id, input: { name: `${first} Crash` } }, { 'idempotency-key': randomUUID() });
    expect(done.errors).toBeUndefined();
    // Killed once the PATCH has committed (its answer reset), while canon still waits on the step.
    await until('the copy committed in marketing', async () => (await json(`${marketing}/_admin/stats`)).writes >= 1);
    await child.kill();

    child = await startChildStack(dir, overrides);
    const ops = '{ operations(first: 50) { edges { node { id workflow status customerId steps { name status } } } } }';
    const propagation = await until('the propagation to finish after the restart', async () => {
      const found = (await child.gql(ops)).data.operations.edges.map((e: any) => e.node).find((o: any) => o.workflow === 'propagate' && o.customerId === customer.id);
      return found?.status !== 'PENDING' && found;
    });
    expect([propagation.status, propagation.steps]).toEqual(['SUCCEEDED', [{ name: 'marketing.setCopies', status: 'SUCCEEDED' }]]);
    const member = await sandboxFetch('marketing', `${child.ready.systems.marketing}/3.0/lists/${MARKETING_LIST_ID}/members/${customer.sourceIds.marketing}`, {}, loadOrCreateSandboxCredentials(dir)).then((r) => r.json());
    expect([member.merge_fields.FNAME, member.merge_fields.LNAME]).toEqual([first, 'Crash']);
    // Sent again once after the restart: Mailchimp keeps no idempotency keys, but the PATCH sets the same fields
    // on the same member, so the second changes nothing; the list holds no member more than before.
    expect((await json(`${child.ready.systems.marketing}/_admin/stats`)).writes).toBe(1);
    expect(await members()).toBe(before);
  } finally {
    await child.stop();
  }
}

describe('a gateway killed mid-workflow', () => {
  it('resumes an onboarding that was WAITING for the ERP, which finishes once the partner is released, each record once', async () => {
    await crashWhileWaiting();
  });

  it('finishes a propagation whose sole copy write had committed and lost its answer, on the same member', async () => {
    await crashWhileCopying();
  });

  it('finishes the workflow after a restart on PGlite, each effect once', async () => {
    await crashAndRecover({}, {});
  });

  it('finishes it when the killed step had already committed and lost its answer (resetAfterCommitRate)', async () => {
    await crashAndRecover({}, { resetAfterCommitRate: 1 });
  });

  it.skipIf(pgSkip !== null)('finishes it on PostgreSQL', async () => {
    await crashAndRecover({ databaseUrl: PG_URL, databaseSchema: `crash_${randomUUID().replace(/-/g, '').slice(0, 12)}` }, { resetAfterCommitRate: 1 });
  });
});
