// Reading a V8 .cpuprofile (from `node --cpu-prof`): self time summed by function, by file and by package.
// Also a CLI: `tsx test/bench/profile.ts <file.cpuprofile> [top]`.
//
// V8 samples on wall-clock ticks: on a machine busier than its cores, a thread descheduled in a system call (a
// socket or log write that wakes another thread) has the wait charged to that call. Figures for such frames are
// upper bounds there; the CPU a change saves is measured by --baseline --side-by-side, from /proc.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface CostLine {
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) time, in %. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** Time sampled while the process was doing something (everything but `(idle)`), in ms. */
  busyMs: number;
  idleMs: number;
  byFunction: CostLine[];
  byFile: CostLine[];
  byPackage: CostLine[];
}

/** `node_modules/@scope/pkg/...` → `@scope/pkg`; canon's own files by top folder; node internals as `node:internal`. */
function packageOf(url: string): string {
  if (!url) return '(native/vm)';
  if (url.startsWith('node:')) return 'node:internal';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const own = /\/((?:gateway|subgraphs|schema)(?:\/[^/]+(?=\/))?)\/[^/]+$/.exec(url);
  return own ? `canon:${own[1]}` : url.replace(/^file:\/\//, '');
}

function shortFile(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/((?:gateway|subgraphs|schema)\/)/, '$1');
}

function top(map: Map<string, number>, busyMs: number, n: number): CostLine[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, pct: Math.round((us / 1000 / busyMs) * 1000) / 10 }));
}

/** Self time is what a function spends in its own code, not in its callees: summed from the samples that land on it. */
export function summarizeProfile(file: string, n = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attributing it to sample i is what Chrome DevTools does too.
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // The bench's own profiler plumbing (protocol.ts answering profile-stop) is no cost of the process profiled.
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parentOf.set(c, node.id);
  const benchOwn = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) if (byId.get(cur)!.callFrame.url.endsWith('/test/bench/protocol.ts')) return true;
    return false;
  };
  for (const id of [...selfUs.keys()]) if (benchOwn(id)) selfUs.delete(id);

  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = url ? `${shortFile(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = url ? shortFile(url) : functionName.startsWith('(') ? functionName : '(native/vm)';
    files.set(f, (files.get(f) ?? 0) + us);
    const p = url ? packageOf(url) : functionName.startsWith('(') ? functionName : '(native/vm)';
    pkgs.set(p, (pkgs.get(p) ?? 0) + us);
  }
  const busyMs = busyUs / 1000;
  return { file, busyMs: Math.round(busyMs), idleMs: Math.round(idleUs / 1000), byFunction: top(fn, busyMs, n), byFile: top(files, busyMs, n), byPackage: top(pkgs, busyMs, n) };
}

export function formatSummary(s: ProfileSummary): string {
  const section = (title: string, lines: CostLine[]) =>
    [`  ${title}`, ...lines.map((l) => `    ${l.pct.toFixed(1).padStart(5)}%  ${l.selfMs.toFixed(0).padStart(7)} ms  ${l.name}`)].join('\n');
  return [
    `profile ${s.file}: ${s.busyMs} ms busy, ${s.idleMs} ms idle (percentages are of busy time)`,
    section('self time by package', s.byPackage),
    section('self time by file', s.byFile),
    section('self time by function', s.byFunction),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx test/bench/profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfile(file, Number(process.argv[3] ?? 25))));
}
