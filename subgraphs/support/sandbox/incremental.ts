// Owns the support sandbox's change feed: Zendesk's time-based incremental export of organizations, `GET /api/v2/incremental/organizations.json?start_time=`.
//
// As Zendesk documents it: `start_time` is a Unix time in seconds and must be at least a minute in the past; a page
// holds the organizations updated at or after it, oldest first, 1000 at most, except that a page never ends inside
// a second (every organization of its last second is on it, so it can hold more); `end_time` is the second of the
// last one, to pass as the next `start_time` (organizations of that second then come again); `end_of_stream` is
// true once a page holds fewer than 1000.

import type { Route, SandboxResponse } from '../../sandbox-kit/router.js';
import type { SupportOrganizationRow, SupportStore } from './store.js';

/** Most organizations per page, as Zendesk's incremental exports. */
export const SUPPORT_EXPORT_PAGE = 1000;
/** How far in the past `start_time` must be, in seconds. */
export const SUPPORT_EXPORT_MIN_AGE_S = 60;

export interface SupportIncrementalDeps {
  toOrganization(row: SupportOrganizationRow, base: string): Record<string, unknown>;
  /** Current time in ms. Default Date.now. */
  now?: () => number;
}

const badRequest = (error: string, description: string): SandboxResponse => ({ status: 400, body: { error, description } });
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const secondOf = (row: SupportOrganizationRow) => Math.floor(Date.parse(row.updated_at) / 1000);

/** The incremental export route over an open store. */
export function supportIncrementalRoutes(store: SupportStore, deps: SupportIncrementalDeps): Route[] {
  const now = deps.now ?? Date.now;
  const from = store.db.prepare<[string, number], SupportOrganizationRow>('SELECT * FROM organizations WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?');
  const within = store.db.prepare<[string, string], SupportOrganizationRow>('SELECT * FROM organizations WHERE updated_at >= ? AND updated_at < ? ORDER BY updated_at, id');
  return [
    {
      method: 'GET',
      pattern: '/api/v2/incremental/organizations.json',
      write: false,
      handle: ({ query, headers }) => {
        const raw = query.get('start_time');
        const start = raw === null ? NaN : Number(raw);
        if (!Number.isSafeInteger(start) || start < 0) return badRequest('InvalidValue', 'start_time is required: a Unix time in seconds, e.g. ?start_time=1735689600');
        if (start > Math.floor(now() / 1000) - SUPPORT_EXPORT_MIN_AGE_S) return badRequest('InvalidValue', 'Too recent start_time. Use a start_time older than 1 minute');
        const first = from.all(iso(start), SUPPORT_EXPORT_PAGE);
        let rows = first;
        if (first.length === SUPPORT_EXPORT_PAGE) {
          // Never end inside a second: the rest of the last second's organizations join this page.
          const last = secondOf(first[first.length - 1]!);
          rows = [...first.filter((r) => secondOf(r) < last), ...within.all(iso(last), iso(last + 1))];
        }
        const endOfStream = first.length < SUPPORT_EXPORT_PAGE;
        let end = rows.length ? secondOf(rows[rows.length - 1]!) : start;
        // A full page that is all one second would name itself again as the next; that second is complete here.
        if (!endOfStream && end === start) end += 1;
        const base = `http://${String(headers.host ?? '127.0.0.1')}`;
        return {
          status: 200,
          body: {
            organizations: rows.map((r) => deps.toOrganization(r, base)),
            count: rows.length,
            end_time: end,
            next_page: `${base}/api/v2/incremental/organizations.json?start_time=${end}`,
            end_of_stream: endOfStream,
          },
        };
      },
    },
  ];
}
