// SystemError: what went wrong on a call to a source system (or a subgraph), and the one place such a failure becomes a canon error.
//
// Guarantees: every upstream failure is shaped here, once: `toSystemError` turns an HTTP outcome into a SystemError
// (code from schema/errors.ts, the system, whether retrying may help), and `toGraphQLError` turns any SystemError
// into the GraphQL error apps see, with `code`, `system`, `retryable` and `attempts` in extensions.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import type { Owner } from '../../schema/model.js';

export class SystemError extends Error {
  readonly code: ErrorCode;
  readonly system: Owner;
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** Seconds the system asked us to wait (its Retry-After header), if any. */
  readonly retryAfterSeconds: number | undefined;
  attempts = 1;
  constructor(opts: { code: ErrorCode; system: Owner; message: string; status?: number; retryable: boolean; retryAfterSeconds?: number; cause?: unknown }) {
    super(opts.message, { cause: opts.cause });
    this.name = 'SystemError';
    this.code = opts.code;
    this.system = opts.system;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** An answer's headers, as far as failures read them (web Headers is one). */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** Node's parsed headers (node:http, undici) looked up by name as web Headers would be: several values joined by a comma. */
export function headerLookup(raw: Record<string, string | string[] | undefined>): HeaderLookup {
  return {
    get(name) {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** Turns whatever went wrong on a call to a system into a SystemError: the only place connectors shape upstream failures. */
export function toSystemError(system: Owner, req: { method: string; path: string }, outcome: { response?: { status: number; headers: HeaderLookup; text: string }; cause?: unknown; timedOut?: boolean }): SystemError {
  const call = `${req.method} ${req.path.split('?')[0]}`;
  if (outcome.timedOut) {
    return new SystemError({ code: ErrorCode.SYSTEM_TIMEOUT, system, retryable: true, message: `${system} did not answer in time: ${call}`, cause: outcome.cause });
  }
  const res = outcome.response;
  if (!res) {
    const reason = outcome.cause instanceof Error ? ((outcome.cause.cause as Error | undefined)?.message ?? outcome.cause.message) : String(outcome.cause);
    return new SystemError({ code: ErrorCode.SYSTEM_UNAVAILABLE, system, retryable: true, message: `${system} is unreachable (${reason}): ${call}`, cause: outcome.cause });
  }
  const detail = upstreamMessage(res.text);
  const message = `${system} answered ${res.status}${detail ? ` (${detail})` : ''}: ${call}`;
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  if (res.status === 429 || res.status >= 500) {
    return new SystemError({ code: ErrorCode.SYSTEM_UNAVAILABLE, system, status: res.status, retryable: true, retryAfterSeconds: retryAfter, message });
  }
  const code =
    res.status === 404 ? ErrorCode.NOT_FOUND
    : res.status === 412 ? ErrorCode.STALE_WRITE
    : res.status === 400 || res.status === 422 ? ErrorCode.BAD_USER_INPUT
    : ErrorCode.SYSTEM_ERROR;
  return new SystemError({ code, system, status: res.status, retryable: false, message });
}

/** The record changed since the version the app read: refused before anything was written. */
export function staleWriteError(system: Owner, record: string, expected: string, actual: string | null | undefined): SystemError {
  return new SystemError({
    code: ErrorCode.STALE_WRITE,
    system,
    retryable: false,
    message: `${system} ${record} changed since version ${expected} (now ${actual ?? 'unknown'}); read it again and reapply the change.`,
  });
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// Systems phrase errors differently (HubSpot `message`, OData `error.message`, Mailchimp `detail`, Zendesk `description`).
function upstreamMessage(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const odata = body.error as { message?: string } | undefined;
    const msg = body.message ?? (typeof odata === 'object' ? odata?.message : undefined) ?? body.detail ?? body.description ?? body.error;
    return typeof msg === 'string' ? (msg + fieldDetails(body)).slice(0, 300) : '';
  } catch {
    return text.slice(0, 200);
  }
}


/** What a validation error says per field, where the headline says only that there were some (Zendesk `details`, Mailchimp `errors`). */
function fieldDetails(body: Record<string, unknown>): string {
  const said: string[] = [];
  if (typeof body.details === 'object' && body.details !== null && !Array.isArray(body.details)) {
    for (const entries of Object.values(body.details)) {
      for (const e of Array.isArray(entries) ? entries : []) if (typeof e?.description === 'string') said.push(e.description);
    }
  }
  if (Array.isArray(body.errors)) for (const e of body.errors) if (typeof e?.message === 'string') said.push(typeof e.field === 'string' ? `${e.field}: ${e.message}` : e.message);
  return said.length ? `: ${said.join('; ')}` : '';
}

/** A SystemError (or anything thrown) as the GraphQL error apps see: code, system, retryable and attempts in extensions, and the system's Retry-After when it sent one. */
export function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof SystemError) {
    return new GraphQLError(err.message, {
      originalError: err,
      extensions: { code: err.code, system: err.system, retryable: err.retryable, attempts: err.attempts, ...(err.status ? { status: err.status } : {}), ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) },
    });
  }
  return new GraphQLError(err instanceof Error ? err.message : String(err), { originalError: err instanceof Error ? err : undefined, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
}

/**
 * The inverse of `toGraphQLError`, for the hop above a subgraph: a subgraph's GraphQL error (its code, system,
 * retryable and attempts in extensions) read back as the SystemError it was, so the gateway shapes it like its own.
 * `system` names the subgraph, for an error that names no system of its own.
 */
export function fromGraphQLError(err: { message: string; extensions?: Record<string, unknown> }, system: Owner): SystemError {
  const ext = err.extensions ?? {};
  const out = new SystemError({
    // Subgraphs speak canon's enum; a code from elsewhere (Apollo's own) is kept as sent, not renamed.
    code: (typeof ext.code === 'string' ? ext.code : ErrorCode.SYSTEM_ERROR) as ErrorCode,
    system: (typeof ext.system === 'string' ? ext.system : system) as Owner,
    message: err.message,
    retryable: ext.retryable === true,
    ...(typeof ext.status === 'number' ? { status: ext.status } : {}),
    ...(typeof ext.retryAfterSeconds === 'number' ? { retryAfterSeconds: ext.retryAfterSeconds } : {}),
  });
  if (typeof ext.attempts === 'number' && ext.attempts > 0) out.attempts = ext.attempts;
  return out;
}
