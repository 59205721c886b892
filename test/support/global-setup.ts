// Runs once before any test file: makes sure the browser the browser tests need is there, installing it at most once (parallel installs would fight over dpkg's lock), and creates the embedded workflow database every test stack copies.

import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PglitePool } from '../../gateway/workflows/pglite-pool.js';
import { findChromium } from './browser.js';

/**
 * One created workflow database per PGlite version, under the temp directory: each test stack copies it
 * (testConfig's `embeddedTemplate`) instead of creating its own, 0.1 s instead of 2.5 s, about fifty times a run.
 */
async function workflowTemplate(): Promise<string> {
  const pkg = join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  const dir = join(tmpdir(), `canon-test-pglite-${JSON.parse(readFileSync(pkg, 'utf8')).version}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  // Made aside and moved into place whole, so a run that stops half-way leaves no half-made template.
  const making = mkdtempSync(join(tmpdir(), 'canon-test-pglite-making-'));
  const pool = await PglitePool.open({ dataDir: join(making, 'db') });
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(making, 'db'), dir);
  rmSync(making, { recursive: true, force: true });
  return dir;
}

export default async function setup(): Promise<void> {
  process.env.CANON_TEST_PGLITE_TEMPLATE = await workflowTemplate();
  const found = await findChromium();
  if ('skip' in found) console.warn(found.skip);
}
