// Starting any system's sandbox by name, with the credentials its product takes: how canon, the bench and tests start them.

import type { SystemName } from '../../schema/model.js';
import type { AllSystemCredentials } from '../kit/credentials.js';
import { startCrmSandbox } from '../crm/sandbox/index.js';
import { startErpSandbox } from '../erp/sandbox/index.js';
import { startMarketingSandbox } from '../marketing/sandbox/index.js';
import { startSupportSandbox } from '../support/sandbox/index.js';
import type { RunningSandbox } from './server.js';
import type { SandboxOptions } from './starter.js';

const starters: { [S in SystemName]: (opts: SandboxOptions<AllSystemCredentials[S]>) => Promise<RunningSandbox> } = {
  crm: startCrmSandbox,
  erp: startErpSandbox,
  marketing: startMarketingSandbox,
  support: startSupportSandbox,
};

/** Starts `system`'s sandbox on `opts.file`, requiring `opts.credentials` of every request. */
export function startSandbox<S extends SystemName>(system: S, opts: SandboxOptions<AllSystemCredentials[S]>): Promise<RunningSandbox> {
  return starters[system](opts);
}

/** Starts `system`'s sandbox on `<dataDir>/<system>.sqlite`, with its share of `credentials`. */
export function startSandboxIn(system: SystemName, dataDir: string, credentials: AllSystemCredentials, opts: { port?: number; host?: string; maxBodyBytes?: number } = {}): Promise<RunningSandbox> {
  return startSandbox(system, { file: `${dataDir}/${system}.sqlite`, credentials: credentials[system], ...opts });
}
