// A subgraph Answer seen through the fetch Response interface Apollo's RemoteGraphQLDataSource reads (ok, status, headers.get, json/text).
//
// Guarantee: read-only and re-readable: the Answer may be shared by every caller of one deduplicated read, so each
// AnswerResponse parses its own copy and no caller can change what another sees.

import type { IncomingHttpHeaders } from 'node:http';
import type { FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import type { Answer } from './subgraph-client.js';

export class AnswerHeaders implements FetcherHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name)!];
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  // The answer is shared with duplicate callers: it is read-only.
  append(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
  delete(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
  set(): void {
    throw new TypeError('subgraph response headers are read-only');
  }
}

export class AnswerResponse implements FetcherResponse {
  readonly redirected = false;
  readonly headers: AnswerHeaders;
  bodyUsed = false;
  constructor(private readonly answer: Answer) {
    this.headers = new AnswerHeaders(answer.headers);
  }
  get url(): string {
    return this.answer.url;
  }
  get status(): number {
    return this.answer.status;
  }
  get ok(): boolean {
    return this.answer.status >= 200 && this.answer.status < 300;
  }
  get statusText(): string {
    return this.answer.statusText;
  }
  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.answer.text;
  }
  async json(): Promise<any> {
    // Parsed per caller: each gets its own objects, which Apollo merges into its own result.
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = Buffer.from(await this.text(), 'utf8');
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }
  clone(): FetcherResponse {
    return new AnswerResponse(this.answer);
  }
}
