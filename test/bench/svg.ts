// The bench's SVG chart: the varied-traffic headline as three bar charts, one bar per contender.

import type { BenchResults } from './report.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const COLOURS: Record<string, string> = { canon: '#2b6cb0', 'canon-nodedup': '#63b3ed', apollo: '#718096', hive: '#d69e2e', 'hive-nodedup': '#b7791f' };

/** Throughput (higher is better), p99 and gateway CPU per request (lower is better), under the varied mix. */
export function renderSvg(r: BenchResults): string {
  const W = 360;
  const H = 270;
  const top = 40;
  const bottom = 60;
  const panel = (x0: number, title: string, values: { name: string; v: number }[], unit: string, digits: number) => {
    const max = Math.max(Number.MIN_VALUE, ...values.map((d) => (Number.isFinite(d.v) ? d.v : 0)));
    const bw = (W - 40) / Math.max(1, values.length) - 10;
    const bars = values
      .map((d, i) => {
        const h = Number.isFinite(d.v) ? ((H - top - bottom) * d.v) / max : 0;
        const x = x0 + 30 + i * (bw + 10);
        const y = H - bottom - h;
        const cx = (x + bw / 2).toFixed(1);
        return [
          `<rect x="${x}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[d.name] ?? '#999'}"/>`,
          `<text x="${cx}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="11">${Number.isFinite(d.v) ? d.v.toFixed(digits) : 'n/a'}</text>`,
          `<text x="${cx}" y="${H - bottom + 14}" text-anchor="end" font-size="10" transform="rotate(-30 ${cx} ${H - bottom + 14})">${esc(d.name)}</text>`,
        ].join('');
      })
      .join('\n  ');
    return [
      `<text x="${x0 + W / 2}" y="22" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>`,
      `<line x1="${x0 + 24}" y1="${H - bottom}" x2="${x0 + W - 6}" y2="${H - bottom}" stroke="#333"/>`,
      `  ${bars}`,
    ].join('\n');
  };
  const s = r.varied.summaries;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H}" viewBox="0 0 ${3 * W} ${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Throughput, higher is better', s.map((x) => ({ name: x.contender, v: x.rps })), 'req/s', 0),
    panel(W, 'p99 latency, lower is better', s.map((x) => ({ name: x.contender, v: x.p99 })), 'ms', 0),
    panel(2 * W, 'Gateway CPU, lower is better', s.map((x) => ({ name: x.contender, v: x.processes.gateway.cpuMsPerRequest })), 'ms/request', 2),
    `<text x="${1.5 * W}" y="${H - 8}" text-anchor="middle" font-size="10" fill="#555">${esc(`canon bench ${r.startedAt} · varied traffic (distinct variables on every request) · ${r.options.connections} connections · ${r.options.duration} s runs × ${r.options.rounds} rounds · Node ${r.node}`)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
