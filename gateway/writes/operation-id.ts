// The id of the operation a write request is: under an idempotency key, derived from the app and the key, so that however often (and wherever) the key is sent, it names the same operation and workflow.

import { createHash } from 'node:crypto';
import type { GatewayContext } from '../federation/context.js';

/** The request's own random id without a key; with one, a UUID-shaped digest of app and key (keys belong to their app). */
export function operationIdFor(ctx: Pick<GatewayContext, 'operationId' | 'app' | 'idempotencyKey'>): string {
  if (!ctx.idempotencyKey) return ctx.operationId;
  const h = createHash('sha256').update(`${ctx.app ?? ''}\n${ctx.idempotencyKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
