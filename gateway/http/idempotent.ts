// A mutation sent with an Idempotency-Key: replayed, refused, or run once, its answer kept for replay only when it is final.
//
// Guarantees (with gateway/operations/idempotency.ts): the same key and request replays the stored answer and runs
// nothing again; an answer is stored only when final. Whether a run may be continued is read from what it left
// behind (the ledger's record for the key, the answer's errors), never from state set during the request.

import type { ServerResponse } from 'node:http';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { fingerprintOf, parseIdempotencyKey, type IdempotencyStore } from '../operations/idempotency.js';
import type { Ledger } from '../operations/ledger.js';
import { retryPlan } from '../operations/retry-plan.js';
import { sendError } from './errors.js';

/** A whole HTTP answer, as Apollo gives it and the idempotency store keeps it. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function sendAnswer(res: ServerResponse, answer: HttpAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

/** Whether a GraphQL request body holds a mutation (the only operations idempotency keys apply to). */
export function isMutation(body: Record<string, unknown>): boolean {
  // Most requests are reads: only a text that mentions the word at all is worth parsing.
  if (typeof body.query !== 'string' || !body.query.includes('mutation')) return false;
  try {
    const doc = parse(body.query);
    const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const op = typeof body.operationName === 'string' ? ops.find((o) => o.name?.value === body.operationName) : ops[0];
    return op?.operation === 'mutation';
  } catch {
    return false;
  }
}

/** Codes that mean the request was refused before it ran (FORBIDDEN: the app may be given the scope), or may succeed if sent again: such answers are not replayed. */
const NOT_FINAL = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.FORBIDDEN, ErrorCode.FIELD_NOT_WRITABLE, ErrorCode.GRAPHQL_VALIDATION_FAILED, ErrorCode.GRAPHQL_PARSE_FAILED, ErrorCode.BAD_REQUEST, ErrorCode.PERSISTED_QUERY_NOT_FOUND]);

function isFinal(answer: HttpAnswer): boolean {
  if (answer.status >= 500) return false;
  try {
    const parsed = JSON.parse(answer.body) as { errors?: { extensions?: { code?: string; retryable?: boolean } }[] };
    return !(parsed.errors ?? []).some((e) => e.extensions?.retryable || NOT_FINAL.has(String(e.extensions?.code)));
  } catch {
    return false;
  }
}

/**
 * Whether the run recorded under `key` has steps a retry may still complete (the rule retryOperation follows), or
 * undefined when the ledger cannot say: then its answer is not kept, and a repeat runs again, its steps carrying
 * their derived keys so each system recognises what already landed.
 */
async function mayContinue(ledger: Ledger, key: string): Promise<boolean | undefined> {
  try {
    const recorded = await ledger.byIdempotencyKey(key);
    return recorded !== null && retryPlan(recorded, Date.now()).possible;
  } catch {
    return undefined;
  }
}

export interface IdempotentOptions {
  store: IdempotencyStore;
  /**
   * The authenticated app. A key belongs to the app that first sent it: the same key and body from another app is
   * refused as reused, never replayed, so no app reads an answer made for another app's scopes.
   */
  app: string;
  /** Where the run's record is: a run with steps a retry may still complete can be continued under its key. */
  ledger: Ledger;
}

/**
 * Answers a mutation under `header`. `run(key, resume)` executes it (`resume`: an earlier run under the key failed
 * retryably, and this one continues it). Its answer is stored for replay unless the run may still be completed or
 * refused the input; then the key is freed, and a repeat runs again, skipping the steps that already succeeded.
 */
export async function answerIdempotently(res: ServerResponse, body: Record<string, unknown>, header: string, run: (key: string, resume: boolean) => Promise<HttpAnswer>, opts: IdempotentOptions): Promise<void> {
  const parsed = parseIdempotencyKey(header);
  if ('error' in parsed) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, parsed.error);
  const { key } = parsed;
  const fingerprint = `${opts.app}\n${fingerprintOf(body)}`;
  const claim = await opts.store.claim(key, fingerprint);
  if (claim.kind === 'replay') return sendAnswer(res, { status: claim.response.status, headers: { 'content-type': 'application/json; charset=utf-8', 'idempotent-replayed': 'true' }, body: claim.response.body });
  if (claim.kind === 'reused') return sendError(res, 422, ErrorCode.IDEMPOTENCY_KEY_REUSED, `Idempotency-Key "${key}" was already used for a different request (or by another app); use a new key for a new operation.`);
  if (claim.kind === 'in-progress') {
    return sendError(res, 409, ErrorCode.IDEMPOTENCY_IN_PROGRESS, `A request with Idempotency-Key "${key}" is still running; send it again once that one has answered.`, { extensions: { retryable: true } });
  }
  let answer: HttpAnswer | undefined;
  try {
    answer = await run(key, claim.resume);
  } finally {
    const continuable = answer ? await mayContinue(opts.ledger, key) : undefined;
    if (!answer || continuable !== false || !isFinal(answer)) await opts.store.release(key, fingerprint, { resumable: continuable === true || claim.resume });
    else await opts.store.complete(key, fingerprint, { status: answer.status, body: answer.body });
  }
  sendAnswer(res, answer);
}
