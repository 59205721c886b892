// Reading a system's changes page by page, each page with the cursor to resume from, and the watermark three of the four products' feeds are read with.
//
// Terms used below:
//   change page — records a feed delivered in one step, with the cursor that resumes right after them.
//   watermark   — where a feed stands: every record last changed before `at` was delivered, and of those changed
//                 exactly at `at`, the ones in `ids`. Stamps are milliseconds since the epoch.
//   query       — one search of the system from the watermark (changed at or after `at`), sorted by change time,
//                 ascending; its pages are followed with the system's own continuation (an offset, a next-page url).
//
// Guarantees: delivery is at least once: resuming from any page's cursor loses no record changed before that page
// was read (a record may come again when it changed again, or shares its stamp with a record at the boundary).
// A query is begun afresh from the watermark after every page that brought something new, never continued by offset
// across changes: a record changed while a feed is read moves to the end of the order, and an offset held across it
// would skip the record that slid into its place. Offsets only page through records sharing one stamp.

import type { Owner } from '../../schema/model.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** What one step of a feed delivers. */
export interface ChangePage<T> {
  records: T[];
  /** Where the next read resumes: pass it to `changes` (or `changesSince`) again. */
  cursor: string;
}

/** Every change from `cursor` on (null: from the beginning), drained: the records in feed order and the cursor after the last. */
export async function drainChanges<T>(pages: AsyncIterable<ChangePage<T>>, cursor: string | null): Promise<{ records: T[]; cursor: string | null }> {
  const records: T[] = [];
  let last = cursor;
  for await (const page of pages) {
    records.push(...page.records);
    last = page.cursor;
  }
  return { records, cursor: last };
}

export interface Watermark {
  /** Stamp of the latest change delivered (ms since the epoch); null before the first. */
  at: number | null;
  /** Ids of the records delivered with exactly that stamp. */
  ids: string[];
}

/** The watermark inside a cursor of `from` (e.g. "crm changes"); a cursor of anything else is refused with a TypeError naming it. */
export function decodeWatermark(cursor: string | null, from: string): Watermark {
  if (cursor === null) return { at: null, ids: [] };
  const [at, ids] = decodeCursor(cursor, ['number', 'string'], from);
  return { at: at < 0 ? null : at, ids: ids === '' ? [] : ids.split(',') };
}

export function encodeWatermark(w: Watermark): string {
  // Native ids of the four systems never hold a comma (numeric strings, md5 hex).
  return encodeCursor([w.at ?? -1, w.ids.join(',')]);
}

/** Whether a record with `stamp` and `id` is new to a feed at `w`. */
export function isNewTo(w: Watermark, stamp: number, id: string): boolean {
  return w.at === null || stamp > w.at || (stamp === w.at && !w.ids.includes(id));
}

/** The watermark after delivering `records` (already new to `w`), given their stamps and ids. */
export function advance<T>(w: Watermark, records: readonly T[], stampOf: (r: T) => number, idOf: (r: T) => string): Watermark {
  let at = w.at;
  for (const r of records) at = at === null ? stampOf(r) : Math.max(at, stampOf(r));
  const atStamp = records.filter((r) => stampOf(r) === at).map(idOf);
  return { at, ids: at === w.at ? [...w.ids, ...atStamp] : atStamp };
}

/** One page of a query, as the system answered it. */
export interface QueryPage<T> {
  records: T[];
  /** The system's continuation to the next page of the same query (an offset, a next-page url), or null at its end. */
  next: string | null;
}

export interface WatermarkFeedOptions<T> {
  system: Owner;
  /** Where to resume (a cursor this feed gave), or null for every record. */
  cursor: string | null;
  /** A record's change stamp in ms (its lastmodifieddate, last_changed, updated_at). */
  stampOf(record: T): number;
  idOf(record: T): string;
  /**
   * One page of the query of records changed at or after `since` (null: all), sorted by change time, ascending;
   * `next` null for its first page, else the continuation its previous page gave.
   */
  page(since: number | null, next: string | null): Promise<QueryPage<T>>;
}

/**
 * A feed read by watermark: pages of records new to the watermark, each with its cursor, until a query ends.
 * Rejects with the system's error when a page cannot be read; the cursor of the last page yielded is then where to resume.
 */
export async function* watermarkFeed<T>(opts: WatermarkFeedOptions<T>): AsyncGenerator<ChangePage<T>> {
  let w = decodeWatermark(opts.cursor, `${opts.system} changes`);
  let next: string | null = null;
  for (;;) {
    const page = await opts.page(w.at, next);
    const fresh = page.records.filter((r) => isNewTo(w, opts.stampOf(r), opts.idOf(r)));
    if (fresh.length) {
      w = advance(w, fresh, opts.stampOf, opts.idOf);
      yield { records: fresh, cursor: encodeWatermark(w) };
      // Begin again from the watermark (see the guarantees above), unless this was the query's last page.
      next = null;
      if (page.next === null) return;
      continue;
    }
    // Nothing new: either the query is done, or a page held only records at the watermark already delivered.
    if (page.next === null) return;
    next = page.next;
  }
}
