// Graceful stop of an HTTP server (subgraphs/kit/drain.ts): requests in flight are answered, new connections refused, and what outlives the grace period is cut.

import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drainable } from '../subgraphs/kit/drain.js';
import { until } from './support/until.js';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.closeAllConnections()));

/** A server whose /slow answers only when `release` is called; counts the requests it received. */
async function slowServer() {
  const waiting: (() => void)[] = [];
  let received = 0;
  const server = createServer((req, res) => {
    drain.track(req, res);
    received++;
    if (req.url === '/slow') waiting.push(() => res.end('slow done'));
    else res.end('fast');
  });
  const drain = drainable(server);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { drain, port, waiting, received: () => received };
}

/** One GET on a keep-alive connection of its own: status, Connection header and body, or the socket error. */
function get(port: number, path: string): Promise<{ status: number; connection: string | undefined; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: new Agent({ keepAlive: true }) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

describe('drainable', () => {
  it('answers a request in flight in full, marked Connection: close, and refuses new connections meanwhile', async () => {
    const s = await slowServer();
    const slow = get(s.port, '/slow');
    await until('the slow request to arrive', async () => s.waiting.length === 1);
    const closed = s.drain.close(10_000);
    expect(await get(s.port, '/fast')).toEqual({ error: 'ECONNREFUSED' });
    s.waiting[0]!();
    expect(await slow).toEqual({ status: 200, connection: 'close', body: 'slow done' });
    await closed;
    expect(s.received()).toBe(1);
  });

  it('cuts a request still running when the grace period ends', async () => {
    const s = await slowServer();
    const slow = get(s.port, '/slow');
    await until('the slow request to arrive', async () => s.waiting.length === 1);
    await s.drain.close(50);
    expect(await slow).toEqual({ error: 'ECONNRESET' });
  });
});
