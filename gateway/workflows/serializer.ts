// How DBOS stores canon's workflow inputs, step outputs and results: plain JSON, under the format name `canon_json`.
//
// Why not DBOS's default (SuperJSON): it walks every value twice more (to record types JSON lacks, then to stub
// functions lost in the round trip DBOS makes of each value), about 5% of the gateway's CPU on the realtime write
// path, for types canon never checkpoints: its workflow values are JSON already (times as ISO text, no Date, Map,
// BigInt or class instance). Rules that follow: a field whose value is `undefined` is left out, as JSON leaves it.
// A workflow whose result is `undefined` gets it back as such.
// Workflows stored before under SuperJSON keep their own format's name in the database, and DBOS reads them with
// SuperJSON still, so a database of an earlier canon resumes its workflows.

import type { DBOSSerializer } from '@dbos-inc/dbos-sdk';

/** What `undefined` is stored as at the top (JSON has no text for it); never the text of a JSON value. */
const UNDEFINED = '';

export const CANON_JSON: DBOSSerializer = {
  name: () => 'canon_json',
  stringify: (value) => (value === undefined ? UNDEFINED : JSON.stringify(value)),
  parse: (text) => (text === null || text === undefined ? null : text === UNDEFINED ? undefined : JSON.parse(text)),
};
