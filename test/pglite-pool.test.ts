// The PGlite pool adapter: one embedded session shared safely by many pg-style clients, as DBOS uses them.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PglitePool } from '../gateway/workflows/pglite-pool.js';
import { gc } from './support/gc.js';
import { until } from './support/until.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'canon-pglite-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('PglitePool', () => {
  it('returns rows the way node-postgres does: int8 and numeric as strings, json parsed, bytea as Buffer', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    const { rows } = await pool.query(`SELECT 9007199254740993::int8 AS big, 2.50::numeric AS n, '{"a":1}'::jsonb AS j, '\\x0102'::bytea AS b, ARRAY[1::int8, 2] AS ids`);
    expect(rows[0]).toEqual({ big: '9007199254740993', n: '2.50', j: { a: 1 }, b: Buffer.from([1, 2]), ids: ['1', '2'] });
    await pool.end();
  });

  it('runs the embedded database with small buffers, which live in memory never given back', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    const { rows } = await pool.query(`SELECT current_setting('shared_buffers') AS shared, current_setting('wal_buffers') AS wal`);
    expect(rows[0]).toEqual({ shared: '16MB', wal: '1MB' });
    await pool.end();
  });

  it('keeps other clients out of a transaction until it commits, so 250 interleaved transactions each count once', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    await pool.query('CREATE TABLE counter (n INT NOT NULL)');
    await pool.query('INSERT INTO counter VALUES (0)');
    await pool.query('CREATE TABLE outside (id INT)');
    const tx = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const { rows } = await c.query('SELECT n FROM counter');
        // Yield between read and write: another client's statement would land here without the lease.
        await new Promise((r) => setImmediate(r));
        await c.query('UPDATE counter SET n = $1', [rows[0].n + 1]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    // Plain statements from other clients, sent while the transactions run, and one transaction that rolls back.
    const doomed = async () => {
      const c = await pool.connect();
      await c.query('BEGIN');
      await c.query('UPDATE counter SET n = n + 1000');
      await new Promise((r) => setImmediate(r));
      await c.query('ROLLBACK');
      c.release();
    };
    await Promise.all([...Array.from({ length: 250 }, tx), ...Array.from({ length: 50 }, (_, i) => pool.query('INSERT INTO outside VALUES ($1)', [i])), doomed()]);
    expect((await pool.query('SELECT n FROM counter')).rows).toEqual([{ n: 250 }]);
    expect((await pool.query('SELECT count(*)::int AS c FROM outside')).rows).toEqual([{ c: 50 }]);
    await pool.end();
  });

  it('prepares a statement with parameters once by name, keeps it across a rollback, and never records one whose parse failed', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    const sum = 'SELECT $1::int + 1 AS n';
    for (const i of [1, 2, 3]) expect((await pool.query(sum, [i])).rows).toEqual([{ n: i + 1 }]);
    await expect(pool.query('SELEC $1::int', [1])).rejects.toMatchObject({ code: '42601' });
    const c = await pool.connect();
    await c.query('BEGIN');
    await expect(c.query('SELECT 1 / $1::int AS q', [0])).rejects.toMatchObject({ code: '22012' });
    await c.query('ROLLBACK');
    c.release();
    expect((await pool.query(sum, [41])).rows).toEqual([{ n: 42 }]);
    const { rows } = await pool.query(`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'canon_%' AND statement <> $1 ORDER BY name`, ['']);
    // Each text prepared once: the sum, the division (its parse succeeded; its execution failed), this listing.
    expect(rows.map((r) => r.statement)).toEqual([sum, 'SELECT 1 / $1::int AS q', `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'canon_%' AND statement <> $1 ORDER BY name`]);
    await pool.end();
  });

  it('rolls back a failed transaction and frees the session, also when the client is released without ROLLBACK', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    await pool.query('CREATE TABLE t (id INT PRIMARY KEY)');
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query('INSERT INTO t VALUES (1)');
    await expect(a.query('INSERT INTO t VALUES (1)')).rejects.toMatchObject({ code: '23505' });
    await a.query('ROLLBACK');
    a.release();
    const b = await pool.connect();
    await b.query('BEGIN');
    await b.query('INSERT INTO t VALUES (2)');
    b.release(); // left open: the pool rolls it back
    expect((await pool.query('SELECT id FROM t')).rows).toEqual([]);
    await pool.end();
  });

  it('delivers NOTIFY to clients that ran LISTEN, as pg notification events', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    const listener = await pool.connect();
    const got: { channel: string; payload: string }[] = [];
    listener.on('notification', (m) => got.push({ channel: m.channel, payload: m.payload }));
    await listener.query('LISTEN canon_test');
    await pool.query(`NOTIFY canon_test, 'one'`);
    await pool.query(`SELECT pg_notify('canon_test', 'two')`);
    await pool.query(`NOTIFY other_channel, 'not for it'`);
    expect(got).toEqual([
      { channel: 'canon_test', payload: 'one' },
      { channel: 'canon_test', payload: 'two' },
    ]);
    await pool.end();
  });

  it('keeps no answer it has handed back: 20,000 statements leave the heap where it was', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) await pool.query('SELECT $1::text AS v, $2::int AS n', ['x'.repeat(300), i]);
    };
    await run(2000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(20_000);
    gc();
    // PGlite's execProtocolRaw kept every parsed message (about 850 bytes a statement, 17 MB here).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024);
    await pool.end();
  });

  it('vacuums the tables updated since, as autovacuum would, so rows updated again and again reuse their space', async () => {
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    await pool.query('CREATE SCHEMA kept');
    const pages = async (table: string) => Number((await pool.query(`SELECT pg_relation_size('kept.${table}') / 8192 AS n`)).rows[0].n);
    // A status row updated as DBOS updates workflow_status: each update leaves a dead row version behind.
    const churn = async (table: string, between: () => Promise<void>) => {
      await pool.query(`CREATE TABLE kept.${table} (id INT PRIMARY KEY, status TEXT, pad TEXT)`);
      await pool.query(`CREATE INDEX ON kept.${table} (status)`);
      await pool.query(`INSERT INTO kept.${table} SELECT g, 'ENQUEUED', repeat('x', 200) FROM generate_series(1, 500) g`);
      for (let round = 0; round < 12; round++) {
        await pool.query(`UPDATE kept.${table} SET status = $1`, [`S${round}`]);
        await between();
      }
      return pages(table);
    };
    const unvacuumed = await churn('plain', async () => undefined);
    const vacuumed = await churn('vacuumed', () => pool.vacuum(['kept.vacuumed']));
    expect(pool.vacuums).toBe(12);
    // 13 versions of each row without vacuum; with it, dead versions' space is reused (two versions at most).
    expect(unvacuumed).toBeGreaterThan(3 * vacuumed);
    // The timer: a vacuum after each round of writes (so the table stops growing), none while nothing is written.
    const failures: unknown[] = [];
    pool.vacuumEvery(20, (e) => failures.push(e));
    await pool.query('CREATE TABLE kept.timed (id INT PRIMARY KEY, status TEXT, pad TEXT)');
    await pool.query(`INSERT INTO kept.timed SELECT g, 'A', repeat('x', 200) FROM generate_series(1, 500) g`);
    for (let round = 0; round < 12; round++) {
      const before = pool.vacuums;
      await pool.query(`UPDATE kept.timed SET status = $1`, [`S${round}`]);
      await until('a vacuum after the update', async () => pool.vacuums > before);
    }
    // Rows only inserted leave nothing to vacuum.
    const idle = pool.vacuums;
    await pool.query(`INSERT INTO kept.timed SELECT g, 'B', 'y' FROM generate_series(501, 600) g`);
    await new Promise((r) => setTimeout(r, 200));
    expect(pool.vacuums).toBe(idle);
    // A DELETE does, in the table it named.
    await pool.query(`DELETE FROM "kept"."timed" WHERE id > 500`);
    await until('a vacuum after the delete', async () => pool.vacuums > idle);
    expect(failures).toEqual([]);
    expect(await pages('timed')).toBeLessThan(unvacuumed / 3);
    // A vacuum that fails (its table dropped in between) is reported, once.
    await pool.query(`UPDATE kept.plain SET status = 'gone'`);
    await pool.exclusive(async () => {
      await new Promise((r) => setTimeout(r, 60));
      await pool.run('DROP TABLE kept.plain');
    });
    await until('the failed vacuum reported', async () => failures.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(failures.map((e) => (e as Error).message)).toEqual(['relation "kept.plain" does not exist']);
    await pool.end();
  });

  it('creates a new database in a process of its own (the memory initdb takes leaves with it), and says where creating one failed', async () => {
    const dir = tempDir();
    const pool = await PglitePool.open({ dataDir: join(dir, 'fresh') });
    expect((await pool.query('SELECT $1::text AS ok', ['yes'])).rows).toEqual([{ ok: 'yes' }]);
    await pool.end();
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    await expect(PglitePool.open({ dataDir: join(dir, 'a-file', 'db') })).rejects.toThrow(`Creating the workflow database at ${join(dir, 'a-file', 'db')} failed`);
  });

  it('keeps what was committed and loses the open transaction when its process is killed with SIGKILL', async () => {
    const dir = tempDir();
    const child = fork(new URL('./support/pglite-child.ts', import.meta.url).pathname, [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const pool = await PglitePool.open({ dataDir: dir });
    const { rows } = await pool.query('SELECT count(*)::int AS c, max(id) AS top FROM effects');
    expect(rows).toEqual([{ c: 20, top: 20 }]);
    await pool.end();
  });
});

describe('DBOS on PglitePool', () => {
  let pool: PglitePool;
  beforeAll(async () => {
    pool = await PglitePool.open({ dataDir: tempDir() });
    DBOS.setConfig({ name: 'canon-pool-test', systemDatabaseUrl: 'postgresql://canon@localhost:5432/canon', systemDatabasePool: pool as never, logLevel: 'error' });
  });
  afterAll(async () => {
    await DBOS.shutdown();
    await pool.end();
  });

  it('runs 200 queued and 50 concurrent workflows, each with its steps recorded once', async () => {
    let calls = 0;
    const double = async (i: number) => {
      calls++;
      return i * 2;
    };
    const wf = DBOS.registerWorkflow(async (i: number) => (await DBOS.runStep(() => double(i), { name: 'double' })) + 1, { name: 'poolTestWorkflow' });
    await DBOS.launch();
    await DBOS.registerQueue('pool-test', { workerConcurrency: 10, minPollingIntervalMs: 20 });
    const queued = [];
    for (let i = 0; i < 200; i++) queued.push(await DBOS.startWorkflow(wf, { workflowID: `queued-${i}`, queueName: 'pool-test' })(i));
    const direct = await Promise.all(Array.from({ length: 50 }, (_, i) => DBOS.startWorkflow(wf, { workflowID: `direct-${i}` })(1000 + i).then((h) => h.getResult())));
    const results = await Promise.all(queued.map((h) => h.getResult()));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i * 2 + 1));
    expect(direct).toEqual(Array.from({ length: 50 }, (_, i) => (1000 + i) * 2 + 1));
    expect(calls).toBe(250);
    const steps = await DBOS.listWorkflowSteps('queued-7');
    expect(steps?.map((s) => [s.name, s.output])).toEqual([['double', 14]]);
    // The same id again is the same workflow: its stored result, the step not run again.
    expect(await (await DBOS.startWorkflow(wf, { workflowID: 'queued-7' })(7)).getResult()).toBe(15);
    expect(calls).toBe(250);
  });
});
