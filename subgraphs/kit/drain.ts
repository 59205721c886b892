// Stopping an HTTP server gracefully: no new connections, requests in flight finish within a grace period, and only then are the connections that remain cut.
//
// Guarantee: a request the server began to answer before `close` is answered in full unless it takes longer than
// the grace period; every answer given while closing says `Connection: close`, so clients take their next request
// elsewhere (another replica behind the load balancer) instead of to a server that is going away.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface Drainable {
  /** Call first thing in the request handler: counts the request, and marks its answer `Connection: close` while closing. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Stops accepting, waits up to `graceMs` for the requests in flight, then closes every connection left. */
  close(graceMs: number): Promise<void>;
}

export function drainable(server: Server): Drainable {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  let wake: (() => void) | null = null;
  return {
    track(_req, res) {
      inFlight.add(res);
      if (closing) res.setHeader('connection', 'close');
      res.once('close', () => {
        inFlight.delete(res);
        if (inFlight.size === 0) wake?.();
      });
    },
    async close(graceMs) {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      // What is left is idle keep-alive sockets, or requests past the grace period.
      server.closeAllConnections();
      await closed;
    },
  };
}
