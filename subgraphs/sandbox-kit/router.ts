// Routing inside a sandbox: the route a system's API declares, matching a request path to it, and the helpers handlers share for reading requests.

import type { IncomingHttpHeaders } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route handler sees: path params (decoded), query, parsed body and raw headers. */
export interface SandboxRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON when the content-type says JSON; the raw string otherwise; undefined when there is no body. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

/** What a route handler answers; `body` undefined means no body (e.g. 204). */
export interface SandboxResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * How many changes a write route committed, when that is not one: a batch answers 200 or 207 whatever each of
   * its parts did, so it counts its committed parts itself. Default: 1 for a 2xx answer of a write route, else 0.
   */
  writes?: number;
}

/** One endpoint of a sandbox. `pattern` placeholders `{name}` may sit anywhere inside a segment. */
export interface Route {
  method: HttpMethod;
  pattern: string;
  /** True only when the route changes state: writes are counted apart and are the only ones reset after commit. */
  write: boolean;
  handle(req: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
}

/** Where a request goes: its route (with "METHOD pattern" as `key`), or the methods its path allows, or nowhere. */
export type RouteMatch =
  | { kind: 'route'; route: Route; key: string; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'none' };

/** Private: a route compiled to one regex per path segment. */
interface CompiledRoute {
  route: Route;
  key: string;
  segments: { regex: RegExp; names: string[] }[];
  /** Fewer placeholders wins, so `/organizations/show_many.json` beats `/organizations/{id}.json`. */
  paramCount: number;
  literalLength: number;
}

function compileRoute(route: Route): CompiledRoute {
  if (!route.pattern.startsWith('/')) {
    throw new TypeError(`Route pattern must start with "/", got: ${JSON.stringify(route.pattern)}`);
  }
  let paramCount = 0;
  let literalLength = 0;
  const segments = route.pattern
    .split('/')
    .slice(1)
    .map((segment) => {
      const names: string[] = [];
      let source = '';
      let last = 0;
      for (const m of segment.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        const literal = segment.slice(last, m.index);
        source += escapeRegex(literal);
        literalLength += literal.length;
        source += '(.+?)';
        names.push(m[1]!);
        paramCount++;
        last = m.index! + m[0].length;
      }
      source += escapeRegex(segment.slice(last));
      literalLength += segment.length - last;
      return { regex: new RegExp(`^${source}$`), names };
    });
  return { route, key: `${route.method} ${route.pattern}`, segments, paramCount, literalLength };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matchSegments(compiled: CompiledRoute, pathSegments: string[]): Record<string, string> | null {
  if (compiled.segments.length !== pathSegments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pathSegments.length; i++) {
    const { regex, names } = compiled.segments[i]!;
    const m = regex.exec(pathSegments[i]!);
    if (!m) return null;
    names.forEach((name, j) => {
      params[name] = m[j + 1]!;
    });
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Compiles `routes` once (a bad pattern throws here, at start) and returns the matcher. Where several routes
 * match a path, the one with fewer placeholders wins, then the one with more literal text.
 */
export function createRouter(routes: readonly Route[]): (method: string, path: string) => RouteMatch {
  const compiled = routes.map(compileRoute);
  return (method, path) => {
    const segments = path.split('/').slice(1).map(safeDecode);
    let best: { c: CompiledRoute; params: Record<string, string> } | null = null;
    const allowed = new Set<string>();
    for (const c of compiled) {
      const params = matchSegments(c, segments);
      if (!params) continue;
      allowed.add(c.route.method);
      if (c.route.method !== method) continue;
      if (!best || c.paramCount < best.c.paramCount || (c.paramCount === best.c.paramCount && c.literalLength > best.c.literalLength)) {
        best = { c, params };
      }
    }
    if (best) return { kind: 'route', route: best.c.route, key: best.c.key, params: best.params };
    return allowed.size ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'none' };
  };
}

/** Whether a parsed body (or part of one) is a JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a comma-separated query value (also accepting repeated keys), dropping empties. */
export function listParam(query: URLSearchParams, name: string): string[] | null {
  const all = query.getAll(name);
  if (all.length === 0) return null;
  return all
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
