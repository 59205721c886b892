// Who is asking: an `Authorization: Bearer` credential turned into an app (name, scopes, rate), from canon's API keys or from a JWT verified with jose.
//
// Guarantees
// - A key is checked against its stored scrypt hash once per process; later requests with it cost one read of the
//   app's row (to see a revocation made anywhere at once) and a sha256. Concurrent first requests with one key
//   share one scrypt; a key that failed is not checked again against the same hash.
// - A revoked key, an unknown or malformed one, an expired token, a token for another audience or issuer: refused,
//   with a message that names the reason and never the credential.

import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../config.js';
import type { AppStore } from './app-store.js';
import { appIdOf, keyDigest, looksLikeKey, verifyKey } from './keys.js';
import { SCOPES } from './scopes.js';

/** The app a request comes from, as every later step sees it. */
export interface AppIdentity {
  /** The app's name: what the ledger records as the operation's app. */
  name: string;
  scopes: ReadonlySet<string>;
  /** Its own rate (requests per second), or null for the gateway's default. */
  ratePerSecond: number | null;
  via: 'key' | 'jwt';
}

export type Authentication = { ok: true; app: AppIdentity } | { ok: false; missing: boolean; message: string };

const HOW = 'Send Authorization: Bearer <key>, with a key from `npm run apps -- create NAME --scopes …` (a fresh data directory has one for the app "dev" in DATA_DIR/dev-key).';

const refuse = (message: string, missing = false): Authentication => ({ ok: false, missing, message });

/** A map that forgets its oldest entry past `max`: caches here must stay bounded whatever clients send. */
class Bounded<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/** Verifies JWTs against one key set, issuer and audience. */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly config: JwtConfig) {
    if (config.jwksFile) {
      let jwks: unknown;
      try {
        jwks = JSON.parse(readFileSync(config.jwksFile, 'utf8'));
      } catch (e) {
        throw new Error(`AUTH_JWKS_FILE ${config.jwksFile} is not a readable JSON key set: ${(e as Error).message}`);
      }
      this.keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    } else {
      // jose fetches the set on first use, caches it and fetches again when a token names a key it does not know.
      this.keys = createRemoteJWKSet(new URL(config.jwksUrl!));
    }
  }

  async verify(token: string): Promise<Authentication> {
    try {
      const { payload } = await jwtVerify(token, this.keys, { issuer: this.config.issuer, audience: this.config.audience });
      const name = [payload.azp, payload.client_id, payload.sub].find((v): v is string => typeof v === 'string' && v !== '');
      if (!name) return refuse('The token names no app: canon reads the app from its azp, client_id or sub claim.');
      // An identity provider adds scopes of its own (openid, profile, …); only canon's mean anything here.
      const granted = typeof payload.scope === 'string' ? payload.scope.split(' ').filter((s) => SCOPES.includes(s)) : [];
      return { ok: true, app: { name, scopes: new Set(granted), ratePerSecond: null, via: 'jwt' } };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) return refuse('The token has expired; get a new one from the identity provider.');
      if (e instanceof joseErrors.JWTClaimValidationFailed) {
        if (e.claim === 'aud') return refuse(`The token is not meant for canon: its audience does not include "${this.config.audience}".`);
        if (e.claim === 'iss') return refuse(`The token was not issued by "${this.config.issuer}".`);
        return refuse(`The token's ${e.claim} claim is not valid now (${e.reason}).`);
      }
      if (e instanceof joseErrors.JWKSNoMatchingKey) return refuse("The token is signed with a key that is not in canon's key set.");
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) return refuse("The token's signature does not verify.");
      if (e instanceof joseErrors.JOSEError) return refuse(`The token is not a valid JWT (${e.code}).`);
      throw e;
    }
  }
}

export interface AuthenticatorOptions {
  store: AppStore;
  /** JWTs are accepted only with a verifier; otherwise only canon's API keys. */
  jwt?: JwtVerifier;
}

export class Authenticator {
  private readonly store: AppStore;
  private readonly jwt: JwtVerifier | undefined;
  /** digest of a key → the stored hash it was verified against. */
  private readonly verified = new Bounded<string, string>(10_000);
  /** digest of a key → the stored hash it failed against. */
  private readonly rejected = new Bounded<string, string>(10_000);
  private readonly checking = new Map<string, Promise<boolean>>();

  constructor(opts: AuthenticatorOptions) {
    this.store = opts.store;
    this.jwt = opts.jwt;
  }

  /** The app an `Authorization` header names, or why there is none. */
  async authenticate(header: string | undefined): Promise<Authentication> {
    if (!header) return refuse(`canon needs to know which app is asking. ${HOW}`, true);
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) return refuse(`The Authorization header must be "Bearer <key>". ${HOW}`);
    const credential = m[1]!;
    if (looksLikeKey(credential)) return this.byKey(credential);
    if (this.jwt && credential.split('.').length === 3) return this.jwt.verify(credential);
    return refuse(`The bearer credential is not a canon API key${this.jwt ? ' or a JWT' : ''}. ${HOW}`);
  }

  private async byKey(key: string): Promise<Authentication> {
    const id = appIdOf(key);
    const app = id ? await this.store.get(id) : null;
    if (!app || !(await this.matches(key, app.keyHash))) return refuse(`The key is not valid: it belongs to no app (mistyped, or from another installation). ${HOW}`);
    if (app.revokedAt) return refuse(`The key of the app "${app.name}" was revoked at ${app.revokedAt}; ask for a new app.`);
    return { ok: true, app: { name: app.name, scopes: new Set(app.scopes), ratePerSecond: app.ratePerSecond, via: 'key' } };
  }

  private async matches(key: string, hash: string): Promise<boolean> {
    const digest = keyDigest(key);
    if (this.verified.get(digest) === hash) return true;
    if (this.rejected.get(digest) === hash) return false;
    let pending = this.checking.get(digest);
    if (!pending) {
      pending = verifyKey(key, hash).finally(() => this.checking.delete(digest));
      this.checking.set(digest, pending);
    }
    const ok = await pending;
    (ok ? this.verified : this.rejected).set(digest, hash);
    return ok;
  }
}
