// /health: whether every subgraph and every source system answers, as `ok` or `degraded` with each one named.

export interface HealthReport {
  status: 'ok' | 'degraded';
  subgraphs: { name: string; url: string; ok: boolean }[];
  systems: { name: string; url: string; ok: boolean }[];
}

export interface HealthTargets {
  /** Remote subgraphs with the URL of their /graphql endpoint; each is probed at its /health. */
  subgraphs: { name: string; url: string }[];
  /** Source systems with their base URL. */
  systems: { name: string; url: string }[];
}

const PROBE_TIMEOUT_MS = 1000;

/** Any HTTP answer means the server is up; a refused or dropped connection or no answer in time means it is not. */
async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function health(targets: HealthTargets): Promise<HealthReport> {
  const [subgraphs, systems] = await Promise.all([
    Promise.all(targets.subgraphs.map(async (s) => ({ name: s.name, url: s.url, ok: await reachable(s.url.replace(/\/graphql$/, '/health')) }))),
    Promise.all(targets.systems.map(async (s) => ({ name: s.name, url: s.url, ok: await reachable(`${s.url}/`) }))),
  ]);
  const ok = subgraphs.every((s) => s.ok) && systems.every((s) => s.ok);
  return { status: ok ? 'ok' : 'degraded', subgraphs, systems };
}
