// Reading request bodies and answering JSON over node:http: one pair of helpers for the gateway, the subgraphs and the sandboxes.
//
// Guarantee: `readBody` never holds more than `limitBytes` of a body in memory; past it, it stops reading and rejects
// with BodyTooLargeError, so a hostile client cannot make a server buffer a body of any size.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Default cap on a request body: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes; send at most ${limitBytes}.`);
    this.name = 'BodyTooLargeError';
  }
}

export interface ReadBodyOptions {
  /** Most bytes read before giving up with BodyTooLargeError. Default 1 MiB; Infinity for none. */
  limitBytes?: number;
}

/** The whole body as UTF-8. A Content-Length over the limit is refused before a byte is read. */
export function readBody(req: IncomingMessage, opts: ReadBodyOptions = {}): Promise<string> {
  const limit = opts.limitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      // Stop reading: the socket is not drained, so it is closed once the answer is sent.
      req.pause();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Answers `body` as JSON with its length; `headers` are added (a content-type there wins). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
