// `npm run apps -- create NAME --scopes a,b [--rate N] | list | revoke NAME`: managing the apps that may call canon, in the store the gateway reads (DATA_DIR or DATABASE_URL).
//
// A key is printed once, by `create`, as `key: <key>`; nothing prints it again. A running gateway sees every change
// on its next request, with no restart.

import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openAppStore, type AppRecord } from './app-store.js';
import { createApp, revokeApp } from './apps.js';
import { SCOPES } from './scopes.js';

const USAGE = `usage: npm run apps -- create NAME --scopes a,b [--rate N]
       npm run apps -- list
       npm run apps -- revoke NAME
scopes: ${SCOPES.join(', ')}`;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function describe(app: AppRecord): string {
  const rate = app.ratePerSecond === null ? 'default rate' : `${app.ratePerSecond}/s`;
  const state = app.revokedAt ? `revoked ${app.revokedAt}` : 'active';
  return `${app.name.padEnd(24)} ${state.padEnd(32)} ${rate.padEnd(14)} created ${app.createdAt}  scopes: ${app.scopes.join(',')}`;
}

let parsed: ReturnType<typeof parseArgs<{ options: { scopes: { type: 'string' }; rate: { type: 'string' } }; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: { scopes: { type: 'string' }, rate: { type: 'string' } }, allowPositionals: true });
} catch (e) {
  fail(`${(e as Error).message}\n${USAGE}`);
}
const [command, name, ...extra] = parsed.positionals;
if (extra.length) fail(`Unexpected arguments: ${extra.join(' ')}\n${USAGE}`);

const config = loadConfig();
if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
const store = await openAppStore(config);
try {
  if (command === 'create') {
    if (!name) fail(`create needs the app's name.\n${USAGE}`);
    if (parsed.values.scopes === undefined) fail(`create needs --scopes, a comma-separated list of: ${SCOPES.join(', ')}.`);
    const scopes = parsed.values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
    let rate: number | undefined;
    if (parsed.values.rate !== undefined) {
      rate = Number(parsed.values.rate);
      if (!/^\d+$/.test(parsed.values.rate)) fail(`--rate takes a whole number of requests per second; got "${parsed.values.rate}".`);
    }
    const made = await createApp(store, { name, scopes, ratePerSecond: rate });
    if (!made.ok) fail(made.message);
    console.log(`created app ${made.app.name} (scopes ${made.app.scopes.join(',')}; ${made.app.ratePerSecond === null ? 'default rate' : `${made.app.ratePerSecond} requests/s`})`);
    console.log(`key: ${made.key}`);
    console.log('The key is shown this once and stored only as a hash: keep it now. Send it as "Authorization: Bearer <key>".');
  } else if (command === 'list') {
    if (name) fail(`list takes no name.\n${USAGE}`);
    const apps = await store.list();
    console.log(apps.length ? apps.map(describe).join('\n') : 'No apps yet: `npm run apps -- create NAME --scopes …` makes one.');
  } else if (command === 'revoke') {
    if (!name) fail(`revoke needs the app's name.\n${USAGE}`);
    const out = await revokeApp(store, name);
    if (!out.ok) fail(out.message);
    console.log(out.already ? `app ${name} was already revoked (${out.app.revokedAt}).` : `revoked app ${name}: its key stops working on every gateway's next request.`);
  } else {
    fail(command ? `Unknown command "${command}".\n${USAGE}` : USAGE);
  }
} finally {
  await store.close();
}
