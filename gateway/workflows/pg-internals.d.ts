// Types for the parts of node-postgres the PGlite pool reuses that @types/pg does not declare.

declare module 'pg/lib/utils.js' {
  /** How pg turns a JS value into a statement parameter's text (dates, arrays, JSON, buffers). */
  export function prepareValue(value: unknown): string | Buffer | null;
}
