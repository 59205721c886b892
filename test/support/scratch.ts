// Test support: scratch directories and PostgreSQL schemas a test file makes, removed when the file is done.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { dropSchemas, PG_URL } from './postgres.js';

/** Call once at the top of a test file: every `dir()` and `schema()` it hands out is dropped after the file's last test. */
export function scratch(): { dir(prefix: string): string; schema(prefix: string): string } {
  const dirs: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    if (schemas.length) await dropSchemas(PG_URL, schemas);
  });
  return {
    dir: (prefix) => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    schema: (prefix) => {
      const s = `${prefix}_${process.pid}_${schemas.length}`;
      schemas.push(s);
      return s;
    },
  };
}
