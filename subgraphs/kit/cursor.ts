// Opaque page cursors: a JSON tuple in base64url, so every connection in canon pages the same way and says the same thing about a bad cursor.

/** The cursor for a position given as a tuple of strings and numbers. */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position inside `cursor`, checked against `shape` (the type of each element); throws a TypeError that names
 * the list (`from`, e.g. "operations()") when the cursor is not one of its own.
 */
export function decodeCursor<const S extends readonly ('string' | 'number')[]>(cursor: string, shape: S, from: string): { -readonly [K in keyof S]: S[K] extends 'string' ? string : number } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === shape.length && v.every((x, i) => typeof x === shape[i])) return v as never;
  } catch {
    // fall through to the error below
  }
  throw new TypeError(`"${cursor}" is not a cursor from ${from}; pass an edge's cursor or pageInfo.endCursor.`);
}
