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
