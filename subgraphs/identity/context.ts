// What one request to the identity subgraph works with: the store, the resolution over it, and per-request loaders that batch its reads.

import DataLoader from 'dataloader';
import type { SystemName } from '../../schema/model.js';
import type { IdentityRecord, IdentityStore, LinkedRecord } from './connector.js';
import type { IdentityResolution } from './resolution.js';

/** A page of customers as the resolvers build it; totalCount is resolved on its own, only when selected. */
export interface IdentityConnection {
  edges: { cursor: string; node: IdentityRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface IdentityContext {
  store: IdentityStore;
  resolution: IdentityResolution;
  byId: DataLoader<string, IdentityRecord | null>;
  /** By a system's native id, duplicates (non-primary rows) included. */
  bySource: (system: SystemName) => DataLoader<string, IdentityRecord | null>;
  records: DataLoader<string, LinkedRecord[]>;
}

export function createIdentityContext(store: IdentityStore, resolution: IdentityResolution): IdentityContext {
  const bySource = new Map<SystemName, DataLoader<string, IdentityRecord | null>>();
  return {
    store,
    resolution,
    byId: new DataLoader(async (ids) => store.byIds(ids)),
    bySource: (system) => {
      let loader = bySource.get(system);
      if (!loader) {
        loader = new DataLoader(async (ids) => store.bySource(system, ids));
        bySource.set(system, loader);
      }
      return loader;
    },
    records: new DataLoader(async (ids) => store.recordsOf(ids)),
  };
}
