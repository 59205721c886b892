// The sandboxes' own credentials: generated once per data directory into DATA_DIR/sandbox-credentials.json (mode 0600), and the checks each sandbox makes of what a request presents.
//
// Guarantees: the file is created with mode 0600 and never rewritten once it exists; a comparison of secrets takes
// the same time whatever the guess; nothing here logs or echoes a secret.

import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { AllSystemCredentials } from '../kit/credentials.js';

/** The file's name inside a data directory. */
export const SANDBOX_CREDENTIALS_FILE = 'sandbox-credentials.json';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const alnum = (length: number) => randomBytes(length * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, length);

/** Fresh random credentials for the four sandboxes, each in the format its product issues (at least 128 random bits each). */
export function generateSandboxCredentials(): AllSystemCredentials {
  return {
    // HubSpot private-app tokens read `pat-<region>-<uuid>`; the sandbox names its own region.
    crm: { token: `pat-sandbox-${randomUUID()}-${hex(16)}` },
    erp: { user: 'CANON_COMM_USER', password: alnum(40) },
    // Mailchimp keys end in their data centre.
    marketing: { apiKey: `${hex(16)}-sandbox` },
    support: { email: 'canon-agent@sandbox.zendesk.example', token: alnum(40) },
  };
}

function isCredentials(v: unknown): v is AllSystemCredentials {
  const o = v as Record<string, Record<string, unknown> | undefined> | null;
  const str = (x: unknown) => typeof x === 'string' && x !== '';
  return (
    typeof o === 'object' && o !== null &&
    str(o.crm?.token) && str(o.erp?.user) && str(o.erp?.password) && str(o.marketing?.apiKey) && str(o.support?.email) && str(o.support?.token)
  );
}

/**
 * The sandboxes' credentials of `dataDir`: read from its sandbox-credentials.json, or generated and written there
 * (mode 0600) on first start. A file that is not in the expected shape stops start-up with its path, not its content.
 */
export function loadOrCreateSandboxCredentials(dataDir: string): AllSystemCredentials {
  const file = join(dataDir, SANDBOX_CREDENTIALS_FILE);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new Error(`${file} is not valid JSON; delete it to have new sandbox credentials generated.`);
    }
    if (!isCredentials(parsed)) {
      throw new Error(`${file} does not hold { crm: { token }, erp: { user, password }, marketing: { apiKey }, support: { email, token } }; delete it to have new ones generated.`);
    }
    return parsed;
  }
  mkdirSync(dataDir, { recursive: true });
  const fresh = generateSandboxCredentials();
  // `wx`: if another process created the file meanwhile, fail rather than overwrite the credentials it now serves.
  writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return fresh;
}

/** Compares two secrets in constant time (over their SHA-256, so unequal lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function authorizationHeader(headers: IncomingHttpHeaders): string | null {
  const v = headers.authorization;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(authorizationHeader(headers) ?? '');
  return m ? m[1]! : null;
}

/** User and password of `Authorization: Basic <base64>`, or null when absent or malformed. */
export function basicCredentials(headers: IncomingHttpHeaders): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorizationHeader(headers) ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
