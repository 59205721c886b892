// Owns the marketing sandbox's batch write: Mailchimp's "batch subscribe or unsubscribe list members", `POST /3.0/lists/{list_id}`, at most 500 members, failing members listed in `errors`.

import { isRecord, type Route, type SandboxResponse } from '../../sandbox-kit/router.js';
import { MARKETING_LIST_ID, MARKETING_STATUSES, subscriberHash } from './store.js';
import type { MarketingMemberRow, MarketingMergeFields, MarketingStatus, MarketingStore } from './store.js';

/** Mailchimp's documented limit of members per batch subscribe call. */
export const MARKETING_BATCH_LIMIT = 500;

/** What the batch route shares with the single-member routes, so each member is checked and rendered as a PUT would be. */
export interface MarketingBatchDeps {
  problem(status: number, detail: string): SandboxResponse;
  toMember(row: MarketingMemberRow): unknown;
  checkMergeFields(value: unknown): MarketingMergeFields | string | undefined;
}

/** Mailchimp's schema-validation answer: a problem document with one entry per offending field. */
function invalidResource(errors: { field: string; message: string }[]): SandboxResponse {
  return {
    status: 400,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify({
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title: 'Invalid Resource',
      status: 400,
      detail: "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
      instance: crypto.randomUUID(),
      errors,
    }),
  };
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** One member Mailchimp could not add or update: the address, why, and its error code. */
interface MemberError {
  email_address: string;
  error: string;
  error_code: 'ERROR_CONTACT_EXISTS' | 'ERROR_GENERIC';
}

/** The marketing batch subscribe route over an open store. */
export function marketingBatchRoutes(store: MarketingStore, deps: MarketingBatchDeps): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/3.0/lists/{list_id}',
      write: true,
      handle: ({ params, body }) => {
        if (params.list_id !== MARKETING_LIST_ID) return { ...deps.problem(404, `The requested resource could not be found: list ${params.list_id}`), writes: 0 };
        if (!isRecord(body) || !Array.isArray(body.members)) return invalidResource([{ field: 'members', message: 'Required field: an array of {email_address, status, merge_fields?}' }]);
        if (body.members.length > MARKETING_BATCH_LIMIT) {
          return invalidResource([{ field: 'members', message: `Schema describes array with at most ${MARKETING_BATCH_LIMIT} items, ${body.members.length} given` }]);
        }
        if (body.update_existing !== undefined && typeof body.update_existing !== 'boolean') {
          return invalidResource([{ field: 'update_existing', message: 'must be a boolean' }]);
        }
        const updateExisting = body.update_existing === true;
        const created: MarketingMemberRow[] = [];
        const updated: MarketingMemberRow[] = [];
        const errors: MemberError[] = [];
        store.db.transaction(() => {
          for (const m of body.members as unknown[]) {
            const email = isRecord(m) && typeof m.email_address === 'string' ? m.email_address.trim() : '';
            const fail = (error: string, code: MemberError['error_code'] = 'ERROR_GENERIC') => errors.push({ email_address: email, error, error_code: code });
            if (!isRecord(m) || !EMAIL.test(email)) {
              fail(`${email || JSON.stringify(isRecord(m) ? m.email_address : m)} looks fake or invalid, please enter a real email address.`);
              continue;
            }
            if (typeof m.status !== 'string' || !(MARKETING_STATUSES as readonly string[]).includes(m.status)) {
              fail(`status must be one of ${MARKETING_STATUSES.join(', ')}, got ${JSON.stringify(m.status)}`);
              continue;
            }
            const merge = deps.checkMergeFields(m.merge_fields);
            if (typeof merge === 'string') {
              fail(merge);
              continue;
            }
            const hash = subscriberHash(email);
            const exists = store.get(MARKETING_LIST_ID, hash) !== undefined;
            if (exists && !updateExisting) {
              fail(`${email} is already a list member. Use PUT to insert or update list members, or send update_existing: true.`, 'ERROR_CONTACT_EXISTS');
              continue;
            }
            const status = m.status as MarketingStatus;
            const row = store.upsert(MARKETING_LIST_ID, hash, { email_address: email, status_if_new: status, status, ...(merge !== undefined ? { merge_fields: merge } : {}) });
            (exists ? updated : created).push(row);
          }
        })();
        return {
          status: 200,
          body: {
            new_members: created.map(deps.toMember),
            updated_members: updated.map(deps.toMember),
            errors,
            total_created: created.length,
            total_updated: updated.length,
            error_count: errors.length,
          },
          writes: created.length + updated.length,
        };
      },
    },
  ];
}
