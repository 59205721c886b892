// Test support: a process that writes to a PGlite database through the pool adapter and is then killed mid-transaction by its parent (test/pglite-pool.test.ts).

import { PglitePool } from '../../gateway/workflows/pglite-pool.js';

const dir = process.argv[2]!;
const pool = await PglitePool.open({ dataDir: dir });
await pool.query('CREATE TABLE IF NOT EXISTS effects (id INT PRIMARY KEY, note TEXT NOT NULL)');
for (let i = 1; i <= 20; i++) await pool.query('INSERT INTO effects (id, note) VALUES ($1, $2)', [i, `committed ${i}`]);
const open = await pool.connect();
await open.query('BEGIN');
await open.query('INSERT INTO effects (id, note) VALUES ($1, $2)', [999, 'never committed']);
// The parent kills this process with SIGKILL on this line: the transaction above is still open.
process.send!({ kind: 'in-flight' });
await new Promise(() => undefined);
