// Owns the marketing sandbox's HTTP API: a subset of the Mailchimp Marketing API 3.0 list members.

import { isRecord, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { basicCredentials, sameSecret } from '../../sandbox-kit/credentials.js';
import { defineSandbox } from '../../sandbox-kit/starter.js';
import {
  MARKETING_LIST_ID,
  MARKETING_MERGE_FIELDS,
  MARKETING_STATUSES,
  openMarketingStore,
  subscriberHash,
} from './store.js';
import type { MarketingListOptions, MarketingMemberRow, MarketingMergeFields, MarketingStatus, MarketingStore, MarketingTag } from './store.js';
import { marketingBatchRoutes } from './batch.js';

export { openMarketingStore, subscriberHash, seededContactId, newContactId, MARKETING_LIST_ID, MARKETING_STATUSES, MARKETING_MERGE_FIELDS } from './store.js';
export type { MarketingMemberRow, MarketingStore, MarketingTag } from './store.js';

const DEFAULT_COUNT = 10;
/** Mailchimp's documented maximum page size for members. */
const MAX_COUNT = 1000;

const TITLES: Record<number, string> = {
  400: 'Invalid Resource',
  404: 'Resource Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Mailchimp answers every error as RFC 7807 problem JSON pointing at its errors doc. */
function problem(status: number, detail: string, title = TITLES[status] ?? 'Error'): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify({
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title,
      status,
      detail,
      instance: crypto.randomUUID(),
    }),
  };
}

function toMember(row: MarketingMemberRow) {
  return {
    id: row.subscriber_hash,
    email_address: row.email_address,
    unique_email_id: row.subscriber_hash.slice(0, 10),
    // Mailchimp's id for the contact whatever its address: the member keeps it when a PATCH moves it to a new hash.
    contact_id: row.contact_id,
    status: row.status,
    merge_fields: JSON.parse(row.merge_fields) as MarketingMergeFields,
    tags: JSON.parse(row.tags) as MarketingTag[],
    timestamp_signup: row.timestamp_signup,
    last_changed: row.last_changed,
    list_id: row.list_id,
  };
}

/** Mailchimp also accepts the email address in place of the hash; normalize to the hash. */
function keyToHash(key: string): string {
  return key.includes('@') ? subscriberHash(key) : key.toLowerCase();
}

function checkStatus(value: unknown, field: string): MarketingStatus | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(MARKETING_STATUSES as readonly string[]).includes(value)) {
    return `${field} must be one of ${MARKETING_STATUSES.join(', ')}, got ${JSON.stringify(value)}`;
  }
  return value as MarketingStatus;
}

const isStatus = (v: MarketingStatus | string | undefined): v is MarketingStatus | undefined =>
  v === undefined || (MARKETING_STATUSES as readonly string[]).includes(v);

function checkMergeFields(value: unknown): MarketingMergeFields | string | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return 'merge_fields must be an object';
  const out: MarketingMergeFields = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(MARKETING_MERGE_FIELDS as readonly string[]).includes(k)) {
      return `Your merge fields were invalid: unknown merge field ${k}; the list has ${MARKETING_MERGE_FIELDS.join(', ')}`;
    }
    if (typeof v !== 'string') return `Your merge fields were invalid: ${k} must be a string`;
    out[k as keyof MarketingMergeFields] = v;
  }
  return out;
}

/** Mailchimp's `since_last_changed`, `sort_field` and `sort_dir` of a member list; a message when one is malformed. */
function listOptions(query: URLSearchParams): MarketingListOptions | string {
  const out: MarketingListOptions = {};
  const since = query.get('since_last_changed');
  if (since !== null) {
    const ms = Date.parse(since);
    if (Number.isNaN(ms)) return `since_last_changed must be an ISO 8601 time, e.g. 2026-01-01T00:00:00+00:00, got ${JSON.stringify(since)}`;
    out.since = new Date(ms).toISOString();
  }
  const field = query.get('sort_field');
  const dir = query.get('sort_dir') ?? 'ASC';
  if (field !== null) {
    if (field !== 'last_changed' && field !== 'timestamp_signup') return `sort_field must be last_changed or timestamp_signup, got ${JSON.stringify(field)}`;
    if (dir !== 'ASC' && dir !== 'DESC') return `sort_dir must be ASC or DESC, got ${JSON.stringify(dir)}`;
    out.sort = { field, ascending: dir === 'ASC' };
  }
  return out;
}

/** The marketing routes over an open store. */
export function marketingRoutes(store: MarketingStore): Route[] {
  const unknownList = (id: string) => problem(404, `The requested resource could not be found: list ${id}`);
  const notFound = (hash: string) => problem(404, `The requested resource could not be found: member ${hash}`);
  return [
    {
      method: 'GET',
      pattern: '/3.0/lists/{list_id}/members/{subscriber_hash}',
      write: false,
      handle: ({ params }) => {
        if (params.list_id !== MARKETING_LIST_ID) return unknownList(params.list_id!);
        const hash = keyToHash(params.subscriber_hash!);
        const row = store.get(MARKETING_LIST_ID, hash);
        return row ? { status: 200, body: toMember(row) } : notFound(hash);
      },
    },
    {
      method: 'GET',
      pattern: '/3.0/lists/{list_id}/members',
      write: false,
      handle: ({ params, query }) => {
        if (params.list_id !== MARKETING_LIST_ID) return unknownList(params.list_id!);
        const count = query.get('count') === null ? DEFAULT_COUNT : Number(query.get('count'));
        const offset = query.get('offset') === null ? 0 : Number(query.get('offset'));
        if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) return problem(400, `count must be an integer 0..${MAX_COUNT}`);
        if (!Number.isInteger(offset) || offset < 0) return problem(400, 'offset must be a non-negative integer');
        const options = listOptions(query);
        if (typeof options === 'string') return problem(400, options);
        const { rows, total } = store.list(MARKETING_LIST_ID, count, offset, options);
        return { status: 200, body: { members: rows.map(toMember), list_id: MARKETING_LIST_ID, total_items: total } };
      },
    },
    {
      // SANDBOX EXTENSION: real Mailchimp has no synchronous batch read by hash (only the async
      // /batches endpoint); the sandbox offers one so the connector can batch without polling.
      method: 'POST',
      pattern: '/3.0/lists/{list_id}/members/batch-read',
      write: false,
      handle: ({ params, body }) => {
        if (params.list_id !== MARKETING_LIST_ID) return unknownList(params.list_id!);
        if (!isRecord(body) || !Array.isArray(body.subscriber_hashes) || !body.subscriber_hashes.every((h) => typeof h === 'string')) {
          return problem(400, 'body must be {"subscriber_hashes": ["<md5 hex>", ...]}');
        }
        const hashes = [...new Set((body.subscriber_hashes as string[]).map(keyToHash))];
        const found = new Map(store.getMany(MARKETING_LIST_ID, hashes).map((r) => [r.subscriber_hash, r]));
        return {
          status: 200,
          body: {
            members: hashes.filter((h) => found.has(h)).map((h) => toMember(found.get(h)!)),
            missing: hashes.filter((h) => !found.has(h)),
          },
        };
      },
    },
    {
      method: 'PUT',
      pattern: '/3.0/lists/{list_id}/members/{subscriber_hash}',
      write: true,
      handle: ({ params, body }) => {
        if (params.list_id !== MARKETING_LIST_ID) return unknownList(params.list_id!);
        if (!isRecord(body)) return problem(400, 'body must be a JSON object');
        const email = body.email_address;
        if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) {
          return problem(400, `email_address must be a valid email address, got ${JSON.stringify(email)}`);
        }
        const hash = keyToHash(params.subscriber_hash!);
        if (hash !== subscriberHash(email)) {
          return problem(400, `The subscriber hash in the URL (${hash}) is not the MD5 hash of the lower-cased email_address ${JSON.stringify(email)}`);
        }
        const statusIfNew = checkStatus(body.status_if_new, 'status_if_new');
        const status = checkStatus(body.status, 'status');
        if (!isStatus(statusIfNew)) return problem(400, statusIfNew);
        if (!isStatus(status)) return problem(400, status);
        const merge = checkMergeFields(body.merge_fields);
        if (typeof merge === 'string') return problem(400, merge);
        const exists = store.get(MARKETING_LIST_ID, hash) !== undefined;
        if (!exists && statusIfNew === undefined && status === undefined) {
          return problem(400, 'status_if_new is required when the member does not exist yet');
        }
        const row = store.upsert(MARKETING_LIST_ID, hash, {
          email_address: email,
          status_if_new: (statusIfNew ?? status)!,
          ...(status !== undefined ? { status } : {}),
          ...(merge !== undefined ? { merge_fields: merge } : {}),
        });
        return { status: 200, body: toMember(row) };
      },
    },
    {
      method: 'PATCH',
      pattern: '/3.0/lists/{list_id}/members/{subscriber_hash}',
      write: true,
      handle: ({ params, body }) => {
        if (params.list_id !== MARKETING_LIST_ID) return unknownList(params.list_id!);
        if (!isRecord(body)) return problem(400, 'body must be a JSON object');
        const extra = Object.keys(body).filter((k) => k !== 'status' && k !== 'merge_fields' && k !== 'email_address');
        if (extra.length) return problem(400, `the sandbox PATCH accepts only email_address, status and merge_fields, got ${extra.join(', ')}`);
        const email = body.email_address;
        if (email !== undefined && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()))) {
          return problem(400, `email_address must be a valid email address, got ${JSON.stringify(email)}`);
        }
        const status = checkStatus(body.status, 'status');
        if (!isStatus(status)) return problem(400, status);
        const merge = checkMergeFields(body.merge_fields);
        if (typeof merge === 'string') return problem(400, merge);
        const hash = keyToHash(params.subscriber_hash!);
        // A new address moves the member: Mailchimp keys it by the address's hash, so its id changes with it.
        const row = store.patch(MARKETING_LIST_ID, hash, {
          ...(status !== undefined ? { status } : {}),
          ...(merge !== undefined ? { merge_fields: merge } : {}),
          ...(typeof email === 'string' ? { email_address: email } : {}),
        });
        if (row === 'exists') return problem(400, `${String(email).trim()} is already a list member.`, 'Member Exists');
        return row ? { status: 200, body: toMember(row) } : notFound(hash);
      },
    },
  ];
}

/** Starts the marketing sandbox; closing it also closes its database. */
export const startMarketingSandbox = defineSandbox({
  name: 'marketing',
  openStore: openMarketingStore,
  routes: (store) => [...marketingRoutes(store), ...marketingBatchRoutes(store, { problem, toMember, checkMergeFields })],
  errorBody: (status, message) => problem(status, message),
  // The API key as the password of HTTP basic; Mailchimp ignores the user name.
  authorize: (headers, credentials: { apiKey: string }) => {
    const given = basicCredentials(headers);
    return given !== null && sameSecret(given.password, credentials.apiKey);
  },
  unauthorized: () => problem(401, "Your API key may be invalid, or you've attempted to access the wrong datacenter.", 'API Key Invalid'),
});
