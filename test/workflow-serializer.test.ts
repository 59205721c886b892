// How workflow state is stored: canon's own JSON format for what it checkpoints now, and a workflow an earlier canon stored under DBOS's default (SuperJSON) still resumed and finished.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBOSClient } from '@dbos-inc/dbos-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../gateway/config.js';
import { PglitePool } from '../gateway/workflows/pglite-pool.js';
import { CANON_JSON } from '../gateway/workflows/serializer.js';
import { MARKETING_LIST_ID } from '../subgraphs/marketing/sandbox/index.js';
import { startTestStack } from './support/stack.js';
import { until } from './support/until.js';

const dataDir = mkdtempSync(join(tmpdir(), 'canon-serializer-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const base = testConfig(dataDir);
const overrides = { seedSize: 40, dataDir, workflows: { ...base.workflows, propagateCopies: true } };
const SCHEMA = base.workflows.schema;

/** The stored format of each workflow's input, read from the embedded database of a stopped stack. */
async function formats(pool: PglitePool, ids: string[]): Promise<Record<string, string>> {
  const r = await pool.query(`SELECT workflow_uuid, serialization FROM "${SCHEMA}".workflow_status WHERE workflow_uuid = ANY($1)`, [ids]);
  return Object.fromEntries(r.rows.map((row) => [row.workflow_uuid, row.serialization]));
}

describe('the format of stored workflows', () => {
  it('stores what canon checkpoints as plain JSON, and resumes a workflow stored under SuperJSON', async () => {
    const first = await startTestStack(overrides);
    const listed = await first.gql('{ customers(first: 40) { edges { node { id sourceIds { crm marketing } } } } }');
    const c = listed.data.customers.edges.map((e: any) => e.node).find((n: any) => n.sourceIds.crm && n.sourceIds.marketing);
    const written = await first.gql('mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "+49 30 1234567" }) { operation { id status } } }', { id: c.id });
    expect(written.data.updateCustomer.operation.status).toBe('SUCCEEDED');
    const writeId = written.data.updateCustomer.operation.id;
    await first.stop({ keepData: true });

    // What an earlier canon left: a propagation enqueued, not yet run, its input in DBOS's default format.
    const pool = await PglitePool.open({ dataDir: join(dataDir, 'workflows') });
    const propagationId = `propagate.${c.id}.name.${Date.now()}`;
    try {
      const client = await DBOSClient.create({ systemDatabaseUrl: 'postgresql://canon@localhost:5432/unused', systemDatabasePool: pool as never, systemDatabaseSchemaName: SCHEMA });
      const change = { customerId: c.id, field: 'name', owner: 'crm', value: 'Serafina Okonkwo', stamp: Date.now(), origin: 'feed' };
      await client.enqueue({ workflowName: 'canon.propagate', queueName: 'canon-operations', workflowID: propagationId }, dataDir, change);
      await client.destroy();
      expect(await formats(pool, [writeId, propagationId])).toEqual({ [writeId]: CANON_JSON.name(), [propagationId]: 'js_superjson' });
    } finally {
      await pool.end();
    }

    const second = await startTestStack(overrides);
    try {
      const op = await until('the propagation stored under SuperJSON to finish', async () => {
        const r = await second.gql('query($id: ID!) { operation(id: $id) { status steps { system status } } }', { id: propagationId });
        return r.data.operation?.status === 'SUCCEEDED' && r.data.operation;
      });
      expect(op.steps).toContainEqual({ system: 'MARKETING', status: 'SUCCEEDED' });
      const member = await second.systemApi('marketing', 'GET', `/3.0/lists/${MARKETING_LIST_ID}/members/${c.sourceIds.marketing}`);
      expect(member.merge_fields).toMatchObject({ FNAME: 'Serafina', LNAME: 'Okonkwo' });
    } finally {
      await second.stop({ keepData: true });
    }
  });

  it('gives back what it stores: values, nested nulls, a result of undefined; a field of undefined is left out', () => {
    const value = { a: 1, b: 'x', c: [1, null, { d: true }], e: null, f: undefined };
    expect(CANON_JSON.parse(CANON_JSON.stringify(value) as string)).toEqual({ a: 1, b: 'x', c: [1, null, { d: true }], e: null });
    expect('f' in (CANON_JSON.parse(CANON_JSON.stringify(value) as string) as object)).toBe(false);
    expect(CANON_JSON.parse(CANON_JSON.stringify(undefined) as string)).toBeUndefined();
    expect(CANON_JSON.parse(CANON_JSON.stringify(null) as string)).toBeNull();
    expect(CANON_JSON.parse(null)).toBeNull();
  });
});
