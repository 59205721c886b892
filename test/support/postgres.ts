// Test support: where the PostgreSQL tests connect, why they are skipped when they cannot, and dropping the schemas a test or bench run made.

import pg from 'pg';
import { loadConfig } from '../../gateway/config.js';

export const PG_URL = loadConfig().databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL tests cannot run here, or null when they can. */
export async function postgresSkipReason(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (e) {
    return `PostgreSQL is not reachable at ${PG_URL} (${(e as Error).message}): the PostgreSQL runs of the ledger tests are skipped. Start PostgreSQL or set DATABASE_URL to run them.`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops `schemas` and everything in them (schemas a test file or a bench contender made for itself). */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}
