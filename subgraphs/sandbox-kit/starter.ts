// The one way a system's sandbox starts and stops: open its store, serve its routes in the system's own error format, and close both.
//
// Guarantee: the store never outlives the server. A listen that fails (a port in use) closes the store before the
// error reaches the caller; closing the running sandbox closes the server first, so no request meets a closed store.

import type { IncomingHttpHeaders } from 'node:http';
import type { SystemName } from '../../schema/model.js';
import type { Route, SandboxResponse } from './router.js';
import { startSandboxServer, type RunningSandbox } from './server.js';

/** How a caller starts any sandbox; `Credentials` is the shape the system's product issues. */
export interface SandboxOptions<Credentials = unknown> {
  /** What a request must present; the sandbox answers 401 to anything else (admin endpoints excepted). */
  credentials: Credentials;
  /** SQLite file; created with the schema if missing. */
  file: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest request body read, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** What makes one system's sandbox: its store, its API over that store, and its error format. */
export interface SandboxDefinition<Store extends { close(): void }, Credentials> {
  name: SystemName;
  /** Opens (creating if needed) the system's SQLite file. */
  openStore(file: string): Store;
  routes(store: Store): Route[];
  /** The system's own error body for `status` (unknown route, bad JSON, too large, injected faults). */
  errorBody(status: number, message: string): SandboxResponse;
  /** Endpoints of this system only under /_admin/ (e.g. the ERP's credit-check approvals); like every admin call, never counted, faulted or logged. */
  adminRoutes?(store: Store): Route[];
  /** Whether a request's headers carry `credentials` the way the product takes them. */
  authorize(headers: IncomingHttpHeaders, credentials: Credentials): boolean;
  /** The product's own 401 answer. */
  unauthorized(): SandboxResponse;
}

/** The start function of a sandbox; closing what it returns also closes the store. */
export function defineSandbox<Store extends { close(): void }, Credentials>(def: SandboxDefinition<Store, Credentials>): (opts: SandboxOptions<Credentials>) => Promise<RunningSandbox> {
  return async (opts) => {
    const store = def.openStore(opts.file);
    let running: RunningSandbox;
    try {
      running = await startSandboxServer({
        name: def.name,
        routes: def.routes(store),
        errorBody: def.errorBody,
        authorize: (headers) => def.authorize(headers, opts.credentials),
        unauthorized: def.unauthorized,
        ...(def.adminRoutes ? { adminRoutes: def.adminRoutes(store) } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      });
    } catch (err) {
      store.close();
      throw err;
    }
    return {
      ...running,
      close: async () => {
        await running.close();
        store.close();
      },
    };
  };
}
