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
export function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const traceId = activeTraceId();
  const refused = notWritable(formatted);
  if (refused) return { ...refused, extensions: { ...refused.extensions, traceId } };
  const ext = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  ext.traceId ??= traceId;
  // The gateway adds the subgraph's name; apps need the system, which our subgraphs already set.
  if (ext.system === undefined && typeof ext.serviceName === 'string' && ext.serviceName !== 'control') ext.system = ext.serviceName;
  delete ext.serviceName;
  delete ext.stacktrace;
  return { ...formatted, extensions: ext };
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
