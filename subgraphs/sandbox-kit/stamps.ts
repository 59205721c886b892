// Modified stamps of sandbox records: the times canon's version tokens are derived from.

/**
 * The next modified stamp of a record: max(now, previous + 1 ms), so stamps strictly increase per
 * record even when two writes land in the same millisecond (canon derives version tokens from them).
 */
export function nextStamp(previous: string | null | undefined, now: number = Date.now()): string {
  const prev = previous ? Date.parse(previous) : Number.NaN;
  const next = Number.isNaN(prev) ? now : Math.max(now, prev + 1);
  return new Date(next).toISOString();
}
