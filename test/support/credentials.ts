// Test support: the credentials tests start sandboxes with, and the one way a test calls a sandbox's API directly with them.

import type { SystemName } from '../../schema/model.js';
import { authorizationFor, type AllSystemCredentials } from '../../subgraphs/kit/credentials.js';
import { generateSandboxCredentials } from '../../subgraphs/sandbox-kit/credentials.js';

/** One random set per test process: what tests that start sandboxes themselves give them and their connectors. */
export const TEST_CREDENTIALS: AllSystemCredentials = generateSandboxCredentials();

/** The Authorization header `system` takes for `credentials` (the test set by default). */
export function sandboxHeaders(system: SystemName, credentials: AllSystemCredentials = TEST_CREDENTIALS): { authorization: string } {
  const build = authorizationFor[system] as (c: AllSystemCredentials[SystemName]) => string;
  return { authorization: build(credentials[system]) };
}

/** `fetch`, carrying `system`'s credentials (the test set by default) besides the headers given. */
export function sandboxFetch(system: SystemName, url: string, init: RequestInit = {}, credentials: AllSystemCredentials = TEST_CREDENTIALS): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...sandboxHeaders(system, credentials) } });
}

/**
 * A sandbox's own API as a test calls it: JSON in (a string body as text/plain), JSON out, with the system's
 * credentials; throws on an answer other than 2xx or 207.
 */
export async function sandboxApi<T = any>(system: SystemName, base: string, method: string, path: string, body?: unknown, credentials: AllSystemCredentials = TEST_CREDENTIALS): Promise<T> {
  const res = await sandboxFetch(system, base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  }, credentials);
  if (res.status >= 300 && res.status !== 207) throw new Error(`${method} ${path} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
