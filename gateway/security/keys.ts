// canon's API keys: how a key is made, what it looks like, and how its stored hash is checked. The only module that touches key material.
//
// Terminology
// - key: what an app sends, `canon_<app id>_<secret>`. Shown once, when the app is created; never stored.
// - app id: 16 hex digits naming the app's row, so a request finds its app without a scan of every hash.
// - key hash: `scrypt$<N>$<r>$<p>$<salt>$<hash>`, the only form of a key canon keeps. scrypt is slow and memory-hard
//   on purpose (about 16 MiB and tens of ms per check), so a leaked table cannot be guessed through; the cost
//   parameters travel with each hash so they can be raised without invalidating older keys.
// Guarantees: keys carry 256 bits from the CSPRNG; a check compares in constant time; nothing here logs or throws
// with a key in the message.

import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'canon_';
const KEY_PATTERN = /^canon_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** scrypt's cost for new keys: N = 2^14, r = 8 (16 MiB), p = 1; OWASP's floor for scrypt. */
const COST = { N: 16_384, r: 8, p: 1 } as const;
const HASH_BYTES = 32;

/** Whether a bearer credential is meant as a canon API key (as opposed to a JWT). */
export function looksLikeKey(credential: string): boolean {
  return credential.startsWith(PREFIX);
}

/** The app id a key names, or null for anything that is not a well-formed key. */
export function appIdOf(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** A fresh random app id. */
export function newAppId(): string {
  return randomBytes(8).toString('hex');
}

function scryptAsync(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** A new key for `appId` and the hash to store; the key itself is for the app's owner only. */
export async function newKey(appId: string): Promise<{ key: string; hash: string }> {
  const key = `${PREFIX}${appId}_${randomBytes(32).toString('base64url')}`;
  const salt = randomBytes(16);
  const hash = await scryptAsync(key, salt, HASH_BYTES, COST);
  return { key, hash: ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), hash.toString('base64')].join('$') };
}

/** Whether `key` is the one `stored` was made from. A malformed stored hash never matches. */
export async function verifyKey(key: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(key, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A fingerprint of a key for in-memory caches: sha256, so a process dump holds no usable key. Not a substitute for
 * the stored hash: it is fast by design, and only ever compared with digests of keys already checked by scrypt.
 */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
