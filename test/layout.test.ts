// The tree's shape, checked: one concern per folder, dependencies one way, no import circle, no file too long to read.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CODE = ['gateway', 'subgraphs', 'schema', 'test'];

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'generated' || name === 'public' || name === 'contenders') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const files = CODE.flatMap((d) => walk(join(ROOT, d)));
const rel = (f: string) => relative(ROOT, f).split('\\').join('/');

/** Every relative import of a file (type-only ones included), resolved to the imported file. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return found;
}

const loose = (dir: string) => readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.ts') && statSync(join(ROOT, dir, n)).isFile());

describe('the source tree', () => {
  it('has no import circle, type imports included', () => {
    expect(cycles()).toEqual([]);
  });

  it('points dependencies one way: gateway → subgraphs → schema, and schema imports nothing of ours', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      const f = rel(from);
      for (const t of targets.map(rel)) {
        if (f.startsWith('schema/') && !t.startsWith('schema/')) wrong.push(`${f} → ${t}`);
        if (f.startsWith('subgraphs/') && (t.startsWith('gateway/') || t.startsWith('test/'))) wrong.push(`${f} → ${t}`);
        if (f.startsWith('gateway/') && t.startsWith('test/')) wrong.push(`${f} → ${t}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps at most 6 loose .ts files in gateway/ and 2 in subgraphs/', () => {
    expect(loose('gateway').length, loose('gateway').join(', ')).toBeLessThanOrEqual(6);
    expect(loose('subgraphs').length, loose('subgraphs').join(', ')).toBeLessThanOrEqual(2);
  });

  it('has no source file over 400 lines but the model declaration', () => {
    const long = files
      .filter((f) => !f.endsWith('.test.ts') && rel(f) !== 'schema/model.ts')
      .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });

  it('keeps the benchmark out of the gateway', () => {
    expect(files.map(rel).filter((f) => f.startsWith('gateway/') && /bench/.test(f))).toEqual([]);
  });
});
