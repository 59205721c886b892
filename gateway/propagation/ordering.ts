// The ordering rule of propagation: a copy is written under its record's lock, and only by an owner change no later owner change has claimed it for, so a later owner change wins over an earlier one still in flight.
//
// Why both a claim and a lock: the claim (identity's copy_claims, a compare-and-set on the owner's version stamp)
// refuses an older change once a newer one claimed the copy; the lock makes claim-then-send one turn per record,
// so an older change that claimed first has sent (and landed) before a newer one claims and sends. Without the
// lock an older change could pass its claim, stall, and land after the newer one.
// Guarantee: with every writer of a copy going through `writeIfNewest` under one lock, the copy ends holding the
// value of the newest owner change among those that ran, whatever order they ran in (test/propagation.test.ts
// checks it over seeded interleavings).

import type { RecordLock } from '../../subgraphs/kit/record-lock.js';

/** One owner change's claim on one copy. */
export interface CopyClaim {
  system: string;
  nativeId: string;
  field: string;
  value: string;
  /** The owner's version stamp of the change: larger is later. */
  stamp: number;
  operationId: string | null;
}

export interface OrderedWrite<R> {
  lock: RecordLock;
  /** Claims the copy: true when no later change has claimed it. */
  claim(c: CopyClaim): Promise<boolean>;
  /** Sends the write to the copy's system. */
  send(c: CopyClaim): Promise<R>;
}

export type OrderedOutcome<R> = { sent: true; result: R } | { sent: false };

/** Claims and, if the claim holds, sends, as one turn under the record's lock. */
export function writeIfNewest<R>(w: OrderedWrite<R>, c: CopyClaim): Promise<OrderedOutcome<R>> {
  return w.lock.run(`copy:${c.system}:${c.nativeId}`, async () => {
    if (!(await w.claim(c))) return { sent: false };
    return { sent: true, result: await w.send(c) };
  });
}
