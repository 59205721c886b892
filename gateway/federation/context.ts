// What every GraphQL request carries through the gateway, into canon's own resolvers (the control subgraph runs in process).
//
// Read-only inputs: nothing is set here during a request to be read back after it. What a request did is in its
// response and in the ledger.

import type { IncomingHttpHeaders } from 'node:http';

export interface GatewayContext {
  /** The request's headers, without its credential (Authorization never travels past authentication). */
  readonly headers: IncomingHttpHeaders;
  /** The request's Idempotency-Key, for mutations that sent one; null otherwise. */
  readonly idempotencyKey: string | null;
  /** The key's earlier run failed retryably: this run continues it (its ledger record, its succeeded steps). */
  readonly resume: boolean;
  /** The ledger id this request's record gets, if it gets one. */
  readonly operationId: string;
  /** The W3C trace id of this request, the app's own when it sent a traceparent. */
  readonly traceId: string | null;
  /** The authenticated app that sent the request (its key's or token's app), never a name the client chose. */
  readonly app: string | null;
  /** The app's scopes: what it may read and write (gateway/security/scopes.ts). */
  readonly scopes: ReadonlySet<string>;
  /** When the gateway received the request (performance.now()): its reads may join identical ones sent since, no earlier. */
  readonly receivedAt: number;
}

/**
 * Who called a subgraph served on its own (gateway/services/access.ts): canon's own gateway or control service,
 * which present CANON_SERVICE_TOKEN and name the app they already authenticated and scope-checked, or an app
 * itself, whose credential another router forwarded and the subgraph verified.
 */
export type Caller =
  | { kind: 'service'; app: string | null; scopes: ReadonlySet<string> }
  /** `resume`: the control service's replay store says an earlier run under the request's key failed retryably. */
  | { kind: 'app'; app: string; scopes: ReadonlySet<string>; resume?: boolean };

/**
 * The headers that carry a request's context from canon's gateway to the control subgraph served as a service: the
 * app it authenticated (never its credential), its scopes, the idempotency key, and whether this run resumes one.
 */
export const CONTEXT_HEADERS = { app: 'canon-app', scopes: 'canon-scopes', resume: 'canon-resume', operationId: 'canon-operation-id', key: 'idempotency-key' } as const;

export function contextHeaders(ctx: GatewayContext): Record<string, string> {
  const out: Record<string, string> = { [CONTEXT_HEADERS.scopes]: [...ctx.scopes].join(' '), [CONTEXT_HEADERS.operationId]: ctx.operationId };
  if (ctx.app) out[CONTEXT_HEADERS.app] = ctx.app;
  if (ctx.idempotencyKey) out[CONTEXT_HEADERS.key] = ctx.idempotencyKey;
  if (ctx.resume) out[CONTEXT_HEADERS.resume] = 'true';
  return out;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * The control service's request context, rebuilt from who called and the headers they sent. An app calling through
 * another router sends its own Idempotency-Key (the operation id derives from it, so a repeat joins the same
 * workflow, and the control service's own replay store decides whether the run resumes an earlier one); only canon's
 * own services may name the operation id or say a run resumes by header.
 */
export function contextFromCaller(caller: Caller, headers: IncomingHttpHeaders, traceId: string | null, newId: () => string): GatewayContext {
  const { authorization: _, ...withoutCredential } = headers;
  const service = caller.kind === 'service';
  return {
    headers: withoutCredential,
    idempotencyKey: one(headers[CONTEXT_HEADERS.key]) ?? null,
    resume: caller.kind === 'service' ? one(headers[CONTEXT_HEADERS.resume]) === 'true' : caller.resume === true,
    operationId: (service && one(headers[CONTEXT_HEADERS.operationId])) || newId(),
    traceId,
    app: caller.app,
    scopes: caller.scopes,
    receivedAt: performance.now(),
  };
}
