// What every GraphQL request carries through the gateway, into canon's own resolvers (the control subgraph runs in process).

import type { IncomingHttpHeaders } from 'node:http';

export interface GatewayContext {
  headers: IncomingHttpHeaders;
  /** The request's Idempotency-Key, for mutations that sent one; null otherwise. */
  idempotencyKey: string | null;
  /** The key's earlier run failed retryably: this run continues it (its ledger record, its succeeded steps). */
  resume: boolean;
  /**
   * Set by canon's mutations when a step failed in a way a retry may fix. The key's response is then not stored:
   * sending the key again re-runs only the steps that did not succeed.
   */
  outcome: { retryable: boolean };
  /** The ledger id this request's record gets, if it gets one. */
  operationId: string;
  /** The W3C trace id of this request, the app's own when it sent a traceparent. */
  traceId: string | null;
  /** The app that sent the request (`apollographql-client-name` header). */
  app: string | null;
  /** Set once canon's resolvers recorded the operation in the ledger, so the gateway does not record it twice. */
  recorded: boolean;
  /** When the gateway received the request (performance.now()): its reads may join identical ones sent since, no earlier. */
  receivedAt: number;
}
