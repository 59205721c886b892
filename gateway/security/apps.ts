// Managing apps: creating one (name, scopes and rate checked, key made), revoking one, and the `dev` app a fresh data directory starts with.
//
// Guarantees: a refused request changes nothing and says why, naming what is allowed; a key is handed back only
// from `createApp`, once; the dev key file is created with mode 0600 and never holds a key the store refuses.

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppRecord, AppStore } from './app-store.js';
import { appIdOf, newAppId, newKey, verifyKey } from './keys.js';
import { parseScopes, SCOPES } from './scopes.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_RATE = 1_000_000;

export interface NewApp {
  name: string;
  scopes: readonly string[];
  /** Requests per second; omitted or null for the gateway's default. */
  ratePerSecond?: number | null;
}

export type Created = { ok: true; app: AppRecord; key: string } | { ok: false; message: string };

/** Creates an app and its key; refuses a bad name, an unknown scope, a bad rate or a name in use, and then stores nothing. */
export async function createApp(store: AppStore, input: NewApp): Promise<Created> {
  if (!NAME.test(input.name)) return { ok: false, message: `"${input.name}" is not a valid app name: 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.` };
  if (input.scopes.length === 0) return { ok: false, message: `An app needs at least one scope; the scopes are: ${SCOPES.join(', ')}.` };
  const scopes = parseScopes(input.scopes);
  if (!scopes.ok) return { ok: false, message: `Unknown scope${scopes.unknown.length > 1 ? 's' : ''} ${scopes.unknown.map((s) => `"${s}"`).join(', ')}; the scopes are: ${SCOPES.join(', ')}.` };
  const rate = input.ratePerSecond ?? null;
  if (rate !== null && (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE)) return { ok: false, message: `The rate must be a whole number of requests per second from 1 to ${MAX_RATE}; got ${rate}.` };
  if (await store.byName(input.name)) return { ok: false, message: nameTaken(input.name) };
  const id = newAppId();
  const { key, hash } = await newKey(id);
  const stored = await store.create({ id, name: input.name, scopes: scopes.scopes, ratePerSecond: rate, keyHash: hash, createdAt: new Date().toISOString() });
  // Another process may have taken the name since the check above.
  if (!stored.ok) return { ok: false, message: nameTaken(input.name) };
  return { ok: true, app: stored.app, key };
}

function nameTaken(name: string): string {
  return `An app named "${name}" already exists (a revoked app keeps its name, so the ledger's app names stay unambiguous); choose another name.`;
}

export type Revoked = { ok: true; app: AppRecord; already: boolean } | { ok: false; message: string };

/** Revokes an app by name: its key stops working on every gateway's next request. */
export async function revokeApp(store: AppStore, name: string): Promise<Revoked> {
  const before = await store.byName(name);
  if (!before) return { ok: false, message: `No app named "${name}"; \`npm run apps -- list\` shows them.` };
  if (before.revokedAt) return { ok: true, app: before, already: true };
  const app = await store.revoke(name, new Date().toISOString());
  return { ok: true, app: app!, already: false };
}

/** The app a fresh checkout gets, with every scope. */
export const DEV_APP = 'dev';
export const DEV_KEY_FILE = 'dev-key';

export type DevApp =
  /** Made now: the key is new, and written to the key file. */
  | { status: 'created'; key: string; file: string }
  /** The key file's key, still valid for the dev app. */
  | { status: 'reused'; key: string; file: string }
  /** There is a dev app, but no key canon could hand out: `reason` says why and what to do. */
  | { status: 'unavailable'; reason: string; file: string };

/**
 * Makes sure the dev app can be used: reuses the key in `DATA_DIR/dev-key` when the store still accepts it, or
 * creates the app and writes its key there (mode 0600). Never recreates a dev app that exists, revoked or not: an
 * operator who revoked it meant it.
 */
export async function ensureDevApp(store: AppStore, dataDir: string): Promise<DevApp> {
  const file = join(dataDir, DEV_KEY_FILE);
  const existing = await store.byName(DEV_APP);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (existing && appIdOf(key) === existing.id && (await verifyKey(key, existing.keyHash))) {
      if (existing.revokedAt) return { status: 'unavailable', reason: `the app "${DEV_APP}" was revoked at ${existing.revokedAt}; create another with \`npm run apps -- create NAME --scopes …\`.`, file };
      return { status: 'reused', key, file };
    }
    if (existing) return { status: 'unavailable', reason: `${file} holds a key the app store does not accept for "${DEV_APP}" (another store, or an older key); create an app with \`npm run apps -- create NAME --scopes …\`.`, file };
  } else if (existing) {
    return { status: 'unavailable', reason: `the app "${DEV_APP}" exists but its key is not in ${file} (keys are stored hashed and cannot be shown again); create another app with \`npm run apps -- create NAME --scopes …\`.`, file };
  }
  const made = await createApp(store, { name: DEV_APP, scopes: SCOPES });
  if (!made.ok) return { status: 'unavailable', reason: made.message, file };
  writeFileSync(file, `${made.key}\n`, { mode: 0o600 });
  // mode applies only when the file is created; a stale file replaced here must not stay readable by others.
  chmodSync(file, 0o600);
  return { status: 'created', key: made.key, file };
}
