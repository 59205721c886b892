// The version-checked write for systems without a conditional write (CRM, marketing, support): lock, read, compare, write, or refuse as stale.
//
// Terminology
// - version: the token an app read with the record (a modified stamp) and passes back as `expectedVersion`.
// - repeat: a write sent again under the same idempotency key, after an earlier attempt landed but its answer was lost.
// Guarantees: the whole check-and-write runs under the record's lock (see record-lock.ts for why and its limits);
// with no `expectedVersion` nothing is read first; a version that moved on refuses the write with STALE_WRITE and
// nothing is sent, unless the write carries an idempotency key and the record already holds exactly what it sets:
// that is our own repeat, and the record as it is answers it without a second write.

import type { Owner } from '../../schema/model.js';
import type { RecordLock } from './record-lock.js';
import { staleWriteError } from './system-error.js';

export interface VersionedWrite<Current, Result> {
  system: Owner;
  /** What kind of record, in the system's words ("contact"), and its native id: the lock key and the messages name both. */
  kind: string;
  id: string;
  lock: RecordLock;
  /** The version the app read; null or absent writes without a check. */
  expectedVersion?: string | null;
  /** The write's idempotency key: only a keyed write may be recognised as a repeat. */
  idempotencyKey?: string | null;
  /** Reads the record as the system holds it now. */
  read(): Promise<Current>;
  /** The version token of what `read` returned. */
  versionOf(current: Current): string | null | undefined;
  /** Whether the record already holds every value this write sets. */
  holds(current: Current): boolean;
  /** Sends the write; the connector retries it only under the idempotency key. */
  write(): Promise<Result>;
  /** What a recognised repeat answers, from the record as read. Default: the record itself. */
  repeated?(current: Current): Result | Promise<Result>;
}

/** Runs `w` under the record's lock: its write's result, a repeat's answer, or a STALE_WRITE SystemError. */
export function versionedWrite<Current, Result = Current>(w: VersionedWrite<Current, Result>): Promise<Result> {
  return w.lock.run(`${w.system}:${w.kind}:${w.id}`, async () => {
    if (w.expectedVersion) {
      const current = await w.read();
      const actual = w.versionOf(current);
      if (actual !== w.expectedVersion) {
        if (w.idempotencyKey && w.holds(current)) return w.repeated ? w.repeated(current) : (current as unknown as Result);
        throw staleWriteError(w.system, `${w.kind} ${w.id}`, w.expectedVersion, actual);
      }
    }
    return w.write();
  });
}
