// One part of canon as a process of its own: a sandbox system (`canon sandbox SYSTEM`) or a subgraph (`canon subgraph NAME`); the gateway and the control service are gateway/stack.ts's startService.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Owner, SystemName } from '../../schema/model.js';
import { PolicyRegistry } from '../../subgraphs/kit/resilience.js';
import { startSubgraphServer } from '../../subgraphs/kit/server.js';
import { createLogger, startTelemetry } from '../../subgraphs/kit/telemetry.js';
import { identitySubgraph } from '../../subgraphs/identity/index.js';
import { startSandboxIn } from '../../subgraphs/sandbox-kit/sandboxes.js';
import type { RunningSandbox } from '../../subgraphs/sandbox-kit/server.js';
import { isSeeded, seedAll } from '../../subgraphs/sandbox-kit/seed.js';
import type { CanonConfig } from '../config.js';
import { openAppStore } from '../security/app-store.js';
import { Authenticator, JwtVerifier } from '../security/authenticate.js';
import { recordLock, resolveCredentials, systemSubgraphs } from '../stack.js';
import { subgraphAccess } from './access.js';

/** A process serving one part of canon on config.port. */
export interface RunningPart {
  name: string;
  url: string;
  close(): Promise<void>;
}

/** Seeds DATA_DIR on first start, as the whole stack does, so a sandbox serves the same customers wherever it runs. */
function ensureSeeded(config: CanonConfig): void {
  mkdirSync(config.dataDir, { recursive: true });
  if (!isSeeded(config.dataDir)) seedAll(config.dataDir, { seed: config.seed, size: config.seedSize });
}

/** `canon sandbox SYSTEM`: the system's stand-in on PORT, on DATA_DIR's seeded data and the credentials canon presents. */
export async function startSandboxService(config: CanonConfig, system: SystemName): Promise<RunningSandbox> {
  ensureSeeded(config);
  return startSandboxIn(system, config.dataDir, resolveCredentials(config), { port: config.port, host: config.host, maxBodyBytes: config.maxBodyBytes });
}

/**
 * `canon subgraph NAME` for identity or a system: its GraphQL on PORT under canon's access rule
 * (gateway/services/access.ts). A system subgraph reaches its system at `<SYSTEM>_URL`, or starts its sandbox in
 * this process when none is set; identity keeps its store in DATA_DIR/identity.sqlite (one replica).
 */
export async function startSubgraphService(config: CanonConfig, name: Owner): Promise<RunningPart> {
  if (!config.serviceToken) throw new Error('Set CANON_SERVICE_TOKEN (the same secret on every canon service): canon\'s gateway and control service present it to this subgraph.');
  mkdirSync(config.dataDir, { recursive: true });
  startTelemetry({ otlpEndpoint: config.otlpEndpoint });
  const log = createLogger(config.logLevel);
  const held: { close(): Promise<void> }[] = [];
  try {
    const apps = await openAppStore(config);
    held.push(apps);
    const authenticator = new Authenticator({ store: apps, jwt: config.jwt ? new JwtVerifier(config.jwt) : undefined });
    let def;
    if (name === 'identity') {
      def = identitySubgraph({ file: join(config.dataDir, 'identity.sqlite') });
    } else {
      const system = name as SystemName;
      let url = config.systemUrls[system];
      if (!url) {
        ensureSeeded(config);
        const sandbox = await startSandboxIn(system, config.dataDir, resolveCredentials(config), { port: 0, maxBodyBytes: config.maxBodyBytes });
        held.push(sandbox);
        url = sandbox.url;
      }
      // In Redis with REDIS_URL: every replica of this subgraph and the control service share it.
      const locking = await recordLock(config);
      held.push(locking);
      def = systemSubgraphs({ [system]: url } as Record<SystemName, string>, resolveCredentials(config), new PolicyRegistry(config.systemResilience), locking.lock, log)[system];
    }
    const server = await startSubgraphServer(def, { port: config.port, host: config.host, maxBodyBytes: config.maxBodyBytes, access: subgraphAccess({ name, serviceToken: config.serviceToken, authenticator }) });
    return {
      name,
      url: server.url,
      async close() {
        await server.close();
        await Promise.all(held.map((h) => h.close()));
      },
    };
  } catch (e) {
    await Promise.allSettled(held.map((h) => h.close()));
    throw e;
  }
}
