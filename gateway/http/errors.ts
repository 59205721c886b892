// How the gateway's errors look to apps: Apollo's formatted errors made canon's (FIELD_NOT_WRITABLE, the system named), and the answers canon gives before or around Apollo.
//
// Guarantee: every error an app sees from the gateway carries `extensions.code` from schema/errors.ts and
// `extensions.traceId` (Apollo's answers get the trace id from the operations plugin; the others here), and never
// a stack trace.

import type { ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { customerFields } from '../../schema/ownership.js';
import { sendJson } from '../../subgraphs/kit/http-io.js';
import { activeTraceId } from '../../subgraphs/kit/telemetry.js';

/** Thrown when the subgraphs do not compose; `errors` name each field, subgraph and owner at fault. */
export class CompositionError extends Error {
  constructor(readonly errors: string[]) {
    super(`The supergraph does not compose:\n- ${errors.join('\n- ')}`);
    this.name = 'CompositionError';
  }
}

const UNKNOWN_INPUT_FIELD = /Field "(\w+)" is not defined by type "UpdateCustomerInput"/;

/**
 * An app naming a canonical field it may not write (creditLimit, openTickets, id, …) gets FIELD_NOT_WRITABLE with
 * the field and its owner, not GraphQL's bare unknown-field error. (A custom validation rule cannot do this:
 * Apollo Server overwrites its code.) Covers literals and variables; unknown non-canonical names stay as they are.
 */
export function notWritable(formatted: GraphQLFormattedError): GraphQLFormattedError | null {
  const m = UNKNOWN_INPUT_FIELD.exec(formatted.message);
  const spec = m ? customerFields().get(m[1]!) : undefined;
  if (!spec || spec.writable) return null;
  return {
    message: `Customer.${spec.name} is not writable by apps: its owner is ${spec.owner}, where it is maintained. Nothing was written.`,
    locations: formatted.locations,
    extensions: { code: ErrorCode.FIELD_NOT_WRITABLE, field: spec.name, owner: spec.owner, system: spec.owner },
  };
}

/**
 * Apollo Server's formatError: canon's codes, the system named where the gateway only knew the subgraph, the trace
 * id, no stack. The trace id is set here as well as by the operations plugin: Apollo answers requests it refuses
 * before its pipeline runs (CSRF, batching, a body without a query) with formatted errors and no plugin hook.
 */
export function formatError(formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError {
  const traceId = activeTraceId();
  const refused = notWritable(formatted);
  if (refused) return { ...refused, extensions: { ...refused.extensions, traceId } };
  const ext = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  ext.traceId ??= traceId;
  // Apollo codes INTERNAL_SERVER_ERROR every error that came without a code, its own refusals of a request included
  // ("Unsupported persisted query version", "provided sha does not match query"). Those carry a 4xx status: they are
  // the request's fault, not canon's.
  if (ext.code === ErrorCode.INTERNAL_SERVER_ERROR && isClientStatus((error as { extensions?: { http?: { status?: unknown } } } | undefined)?.extensions?.http?.status)) ext.code = ErrorCode.BAD_REQUEST;
  // The gateway adds the subgraph's name; apps need the system, which our subgraphs already set.
  if (ext.system === undefined && typeof ext.serviceName === 'string' && ext.serviceName !== 'control') ext.system = ext.serviceName;
  delete ext.serviceName;
  delete ext.stacktrace;
  return { ...formatted, extensions: ext };
}

const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

/**
 * Whether the client prefers `application/graphql-response+json` to `application/json`, as Apollo Server decides it:
 * the higher quality wins, then the more specific range, then the earlier in the header, then application/json.
 * No Accept header means application/json (GraphQL over HTTP, for clients that predate the newer type).
 */
export function prefersGraphqlResponseJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((part, index) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim(), q: q ? Number(q.slice(2)) : 1, index };
  });
  const rank = (media: string) => {
    let best: { q: number; specificity: number; index: number } | null = null;
    for (const r of ranges) {
      const specificity = r.type === media ? 2 : r.type === 'application/*' ? 1 : r.type === '*/*' ? 0 : -1;
      if (specificity < 0 || !(r.q >= 0)) continue;
      if (!best || specificity > best.specificity) best = { q: r.q, specificity, index: r.index };
    }
    return best;
  };
  const gql = rank(GRAPHQL_RESPONSE_JSON);
  const json = rank('application/json');
  if (!gql || gql.q <= 0) return false;
  if (!json || json.q <= 0) return true;
  if (gql.q !== json.q) return gql.q > json.q;
  if (gql.specificity !== json.specificity) return gql.specificity > json.specificity;
  return gql.index < json.index;
}

/**
 * Codes of a GraphQL request error, one that refuses the document itself: it does not parse, does not validate,
 * names no operation it holds, its variables do not coerce, or it is past a query limit. GraphQL over HTTP answers
 * these 200 under application/json (the client reads `errors`) and 4xx under application/graphql-response+json.
 */
const DOCUMENT_ERRORS = new Set<string>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.FIELD_NOT_WRITABLE,
  ErrorCode.QUERY_TOO_COMPLEX,
]);

/**
 * Apollo answers every document error 400, whatever the media type. Under application/json GraphQL over HTTP wants
 * 200 for them (the graphql-http audit warns otherwise): an answer with no data whose errors are all document
 * errors gets 200 there. Every other answer keeps its status.
 */
export function documentErrorStatus(status: number, contentType: string | undefined, body: string): number {
  if (status !== 400 || !contentType?.startsWith('application/json')) return status;
  try {
    const parsed = JSON.parse(body) as { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
    const errors = parsed.errors ?? [];
    const documentError = parsed.data === undefined && errors.length > 0 && errors.every((e) => DOCUMENT_ERRORS.has(String(e.extensions?.code)));
    return documentError ? 200 : status;
  } catch {
    return status;
  }
}

/** A document error answered outside Apollo (a query limit), in the media type and status Apollo would use for it. */
export function sendDocumentError(res: ServerResponse, accept: string | undefined, code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): void {
  const gql = prefersGraphqlResponseJson(accept);
  const body = { errors: [{ message, extensions: { code, ...extensions, traceId: activeTraceId() } }] };
  sendJson(res, gql ? 400 : 200, body, { 'content-type': `${gql ? GRAPHQL_RESPONSE_JSON : 'application/json'}; charset=utf-8` });
}

function isClientStatus(status: unknown): boolean {
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** A GraphQL-shaped error answer given outside Apollo, with the request's trace id. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, opts: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, ...opts.extensions, traceId: activeTraceId() } }] }, opts.headers);
}

/**
 * The answer to a failure of canon itself: 500, INTERNAL_SERVER_ERROR, and the trace id that finds it in the logs.
 * The cause goes to the log only; apps see neither its message nor its stack.
 */
export function sendInternalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, "canon's gateway failed while answering this request; the trace id finds it in the gateway's log.");
}
