// Trusted documents (TRUSTED_DOCUMENTS): the operations an app's build registered, from a persisted-query manifest; canon runs those and nothing else.
//
// Terminology
// - manifest: Apollo's persisted-query manifest, `{ "format": "apollo-persisted-query-manifest", "version": 1,
//   "operations": [{ "id", "name", "type", "body" }] }` (what @apollo/generate-persisted-query-manifest writes).
//   GraphQL Code Generator's `persisted-documents.json` (`{ "<hash>": "<body>" }`, client preset with
//   `persistedDocuments: true`) is read as well: the same list in that tool's own shape.
// - by id: the request names a listed operation in `extensions.persistedQuery.sha256Hash` (Apollo's
//   persisted-query link) or in `documentId` (the GraphQL-over-HTTP persisted documents proposal, which codegen's
//   client preset documents) and may leave the text out; canon runs the listed body.
// - by text: the request's `query` is exactly a listed body, byte for byte.
// Guarantee: `admit` lets a request through only with a listed body as its query; anything else is refused before
// canon parses it, so an unlisted document never reaches the planner or any system.

import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

export interface TrustedDocument {
  id: string;
  /** The operation's name, from the manifest (null in codegen's list). */
  name: string | null;
  body: string;
}

/** What a request asks to run, as it arrived (a POST body, or a GET's parameters). */
export interface RequestedOperation {
  query?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

/** On success: the query to run and the extensions left once the id is resolved (`documentId` is to be dropped). */
export type Admission = { ok: true; query: string; extensions: Record<string, unknown> | undefined } | { ok: false; message: string };

function fromManifest(json: unknown, file: string): TrustedDocument[] {
  const bad = (why: string) => new Error(`TRUSTED_DOCUMENTS ${file} is not a persisted-query manifest: ${why}.`);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('expected a JSON object');
  const m = json as Record<string, unknown>;
  if (m.format === undefined) {
    // codegen's client preset: an object of id → body.
    const entries = Object.entries(m);
    if (!entries.length || !entries.every(([, v]) => typeof v === 'string')) throw bad('expected "format": "apollo-persisted-query-manifest", or an object of id → document text');
    return entries.map(([id, body]) => ({ id, name: null, body: body as string }));
  }
  if (m.format !== 'apollo-persisted-query-manifest') throw bad(`"format" is ${JSON.stringify(m.format)}, expected "apollo-persisted-query-manifest"`);
  if (m.version !== 1) throw bad(`"version" is ${JSON.stringify(m.version)}; canon reads version 1`);
  if (!Array.isArray(m.operations)) throw bad('"operations" must be an array');
  return m.operations.map((o: unknown, i: number) => {
    const op = (o ?? {}) as Record<string, unknown>;
    if (typeof op.id !== 'string' || !op.id) throw bad(`operations[${i}] has no "id"`);
    if (typeof op.body !== 'string' || !op.body) throw bad(`operations[${i}] (${op.id}) has no "body"`);
    return { id: op.id, name: typeof op.name === 'string' ? op.name : null, body: op.body };
  });
}

export class TrustedDocuments {
  private readonly byId = new Map<string, TrustedDocument>();
  private readonly byBody = new Set<string>();

  constructor(docs: readonly TrustedDocument[]) {
    for (const d of docs) {
      this.byId.set(d.id, d);
      this.byBody.add(d.body);
    }
  }

  /** Reads a manifest; a file that cannot be read, is not a manifest, or lists a document that does not parse stops start-up with the reason. */
  static load(file: string): TrustedDocuments {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`TRUSTED_DOCUMENTS ${file} cannot be read as JSON: ${(e as Error).message}`);
    }
    const docs = fromManifest(json, file);
    for (const d of docs) {
      try {
        parse(d.body);
      } catch (e) {
        throw new Error(`TRUSTED_DOCUMENTS ${file}: the document "${d.name ?? d.id}" does not parse: ${(e as Error).message}`);
      }
    }
    return new TrustedDocuments(docs);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The query to run for `request`, with the persisted-query extension taken off once resolved, or why it may not run. */
  admit(request: RequestedOperation): Admission {
    const extensions = request.extensions && typeof request.extensions === 'object' ? (request.extensions as Record<string, unknown>) : undefined;
    const persisted = extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
    const text = typeof request.query === 'string' && request.query !== '' ? request.query : undefined;
    const id = typeof request.documentId === 'string' ? request.documentId : typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
    if (id !== undefined) {
      const doc = this.byId.get(id);
      if (!doc) return { ok: false, message: `No trusted document has the id "${id.slice(0, 80)}"; canon runs only the operations in its manifest (TRUSTED_DOCUMENTS).` };
      if (text !== undefined && text !== doc.body) return { ok: false, message: `The text sent with id "${id}" is not the trusted document of that id; send the id alone, or its exact text.` };
      // Apollo would check the hash against the text itself (automatic persisted queries); the manifest already has.
      const { persistedQuery: _, ...rest } = extensions ?? {};
      return { ok: true, query: doc.body, extensions: Object.keys(rest).length ? rest : undefined };
    }
    if (text !== undefined && this.byBody.has(text)) return { ok: true, query: text, extensions };
    return { ok: false, message: 'This operation is not a trusted document: canon runs only the operations in its manifest (TRUSTED_DOCUMENTS), sent by id (extensions.persistedQuery.sha256Hash or documentId) or as their exact text.' };
  }
}
