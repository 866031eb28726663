// Supabase access tokens checked the way shared/auth checks them (verifier.rs, jwks_cache.rs,
// error.rs), with WebCrypto: HS256 with SUPABASE_JWT_SECRET when it is set (a legacy project),
// ES256 and RS256 through the project's JWKS (`<url>/auth/v1/.well-known/jwks.json`), fetched
// once per isolate and cached by `kid` as imported CryptoKeys, refetched on an unknown `kid` or
// after 10 minutes, never twice within 30 s. Same refusals, in the same order, with the same
// codes and messages; 503 `auth_keys_unavailable` when no key set could ever be fetched.

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const AUTH_MESSAGES = {
  missing_authorization: 'missing Authorization header',
  not_bearer: "Authorization header must be 'Bearer <access token>'",
  token_malformed: 'access token is malformed',
  unsupported_algorithm: 'access token algorithm is not accepted',
  missing_key_id: 'access token has no key id',
  unknown_key_id: 'access token was signed with an unknown key',
  key_algorithm_mismatch: 'access token algorithm does not match its key',
  bad_signature: 'access token signature is invalid',
  missing_expiry: 'access token has no expiry',
  token_expired: 'access token has expired',
  token_not_yet_valid: 'access token is not valid yet',
  wrong_audience: 'access token audience is not accepted',
  wrong_issuer: 'access token issuer is not accepted',
  wrong_role: "access token role is not accepted; a user session has role 'authenticated'",
  bad_subject: 'access token subject is not a user id',
  malformed_claims: 'access token claims are malformed',
  auth_keys_unavailable: 'authentication keys are unavailable; try again later',
};

/** A refused credential: `code` is one of AUTH_MESSAGES' keys. */
export class AuthRefusal extends Error {
  constructor(code) {
    super(AUTH_MESSAGES[code]);
    this.code = code;
    this.status = code === 'auth_keys_unavailable' ? 503 : 401;
  }
}
const refuse = (code) => new AuthRefusal(code);

const LEEWAY_SECS = 30;
const JWKS_MAX_AGE_SECS = 600;
const JWKS_MIN_REFETCH_SECS = 30;
const JWKS_TIMEOUT_MS = 3000;
const MIN_RSA_BITS = 2048;
/** The order of P-256, big-endian: an ES256 signature's r and s must lie in [1, n-1]. */
const P256_ORDER = Uint8Array.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'.match(/../g), (h) => parseInt(h, 16));
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' };

/** The token of `Authorization: Bearer <token>` (scheme in any case, no whitespace inside). */
export function bearerToken(authorization) {
  const value = (authorization ?? '').trim();
  if (!value) throw refuse('missing_authorization');
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') throw refuse('not_bearer');
  const token = value.slice(space + 1).trimStart();
  if (!token || /\s/.test(token)) throw refuse('not_bearer');
  return token;
}

/** Unpadded base64url, strictly (no `=`, canonical trailing bits), as base64ct decodes it. */
function base64UrlStrict(text) {
  const tail = text.length % 4;
  if (tail === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
  if (tail) {
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(text[text.length - 1]);
    if (last & (tail === 2 ? 0x0f : 0x03)) return null;
  }
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text, { alphabet: 'base64url' });
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const jsonOf = (bytes) => JSON.parse(utf8.decode(bytes));
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const optionalString = (v) => v === undefined || v === null || typeof v === 'string';

/** jwt-compact's header: `alg` a string; `kid`, `typ` strings when given; `cty` JSON when given. */
function parseHeader(bytes) {
  const header = jsonOf(bytes);
  if (!isObject(header) || typeof header.alg !== 'string' || !optionalString(header.kid) || !optionalString(header.typ) || !optionalString(header.cty)) return null;
  if (typeof header.cty === 'string' && header.cty.toLowerCase() !== 'json') return null;
  return header;
}

/** The claims as jwt-compact and edge-auth's `SupabaseClaims` read them, or null when a type is off. */
function parseClaims(bytes) {
  let claims;
  try {
    claims = jsonOf(bytes);
  } catch {
    return null;
  }
  if (!isObject(claims)) return null;
  for (const time of ['exp', 'nbf', 'iat']) {
    const t = claims[time];
    if (t === undefined) continue;
    if (typeof t !== 'number' || Math.abs(t) > 8.2e12) return null;
    claims[time] = Math.trunc(t);
  }
  const aud = claims.aud;
  const audOk = aud === undefined || aud === null || typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
  if (!audOk || !['sub', 'iss', 'role', 'email', 'phone', 'session_id', 'aal'].every((k) => optionalString(claims[k]))) return null;
  if (claims.is_anonymous !== undefined && typeof claims.is_anonymous !== 'boolean') return null;
  if (claims.app_metadata !== undefined && !isObject(claims.app_metadata)) return null;
  return claims;
}

/** Uuid::try_parse: simple, hyphenated, braced or URN; the lower-case hyphenated form, or null. */
export function tryParseUuid(text) {
  let hex;
  if (text.length === 32) hex = text;
  else {
    const inner = text.length === 36 ? text : text.length === 38 && text[0] === '{' && text[37] === '}' ? text.slice(1, 37)
      : text.length === 45 && text.slice(0, 9).toLowerCase() === 'urn:uuid:' ? text.slice(9) : null;
    if (!inner || inner[8] !== '-' || inner[13] !== '-' || inner[18] !== '-' || inner[23] !== '-') return null;
    hex = inner.slice(0, 8) + inner.slice(9, 13) + inner.slice(14, 18) + inner.slice(19, 23) + inner.slice(24);
  }
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** r and s of a 64-byte P-256 signature are both in [1, n-1] (p256's `Signature::try_from`). */
function validEcdsaScalars(signature) {
  const inRange = (scalar) => {
    if (scalar.every((b) => b === 0)) return false;
    for (let i = 0; i < 32; i++) if (scalar[i] !== P256_ORDER[i]) return scalar[i] < P256_ORDER[i];
    return false;
  };
  return inRange(signature.subarray(0, 32)) && inRange(signature.subarray(32));
}

/** One JWKS entry as edge-auth's `jwks.rs` accepts it, imported: [kid, { alg, key }] or null. */
async function importJwk(entry) {
  if (!isObject(entry) || typeof entry.kid !== 'string') return null;
  if (entry.use !== undefined && entry.use !== 'sig') return null;
  if (entry.alg !== undefined && !['HS256', 'ES256', 'RS256'].includes(entry.alg)) return null;
  try {
    if (entry.kty === 'EC' && entry.crv === 'P-256') {
      const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: entry.x, y: entry.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      return entry.alg === undefined || entry.alg === 'ES256' ? [entry.kid, { alg: 'ES256', key }] : null;
    }
    if (entry.kty === 'RSA' && typeof entry.n === 'string') {
      const modulus = base64UrlStrict(entry.n);
      const significant = modulus ? modulus.length - modulus.findIndex((b) => b !== 0) : 0;
      if (!modulus || significant * 8 < MIN_RSA_BITS) return null;
      const key = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: entry.n, e: entry.e }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
      return entry.alg === undefined || entry.alg === 'RS256' ? [entry.kid, { alg: 'RS256', key }] : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** The project's JWKS by `kid`, with jwks_cache.rs's refresh policy. */
class JwksCache {
  constructor(url) {
    this.url = url;
    this.keys = new Map();
    this.fetchedAt = null;
    this.lastAttempt = null;
    this.fetching = null;
  }

  async key(kid, now) {
    const cached = this.keys.get(kid);
    if (cached && this.fetchedAt !== null && now - this.fetchedAt < JWKS_MAX_AGE_SECS) return cached;
    // A fetch under way: a key already held (stale) serves meanwhile; an unknown one waits for it.
    if (this.fetching) {
      if (cached) return cached;
      await this.fetching.catch(() => {});
      return this.key(kid, now);
    }
    const mayFetch = this.lastAttempt === null || now - this.lastAttempt >= JWKS_MIN_REFETCH_SECS || now < this.lastAttempt;
    if (!mayFetch) {
      if (cached) return cached;
      throw refuse(this.fetchedAt === null ? 'auth_keys_unavailable' : 'unknown_key_id');
    }
    // Set before the fetch, so the requests that waited for it are throttled, not fetching again.
    this.lastAttempt = now;
    this.fetching = this.fetchKeys();
    let fetched;
    try {
      fetched = await this.fetching;
    } finally {
      this.fetching = null;
    }
    if (fetched) {
      this.keys = fetched;
      this.fetchedAt = now;
    }
    const key = this.keys.get(kid);
    if (key) return key;
    if (!fetched && cached) return cached;
    throw refuse(!fetched && this.fetchedAt === null ? 'auth_keys_unavailable' : 'unknown_key_id');
  }

  /** The usable keys of the JWKS document, or null when it cannot be fetched or is not a key set. */
  async fetchKeys() {
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) });
      if (response.status !== 200) return null;
      const doc = JSON.parse(await response.text());
      if (!isObject(doc) || !Array.isArray(doc.keys)) return null;
      return new Map((await Promise.all(doc.keys.map(importJwk))).filter(Boolean));
    } catch (e) {
      console.error(`JWKS fetch failed: ${e}`);
      return null;
    }
  }
}

/**
 * Verifies a project's access tokens: `{ url, jwtSecret }` as the Worker's settings give them
 * (no secret: JWKS-signed tokens only, as a new project's functions). One per isolate.
 */
export class TokenVerifier {
  constructor({ url, jwtSecret }) {
    this.issuer = `${url}/auth/v1`;
    this.hmacKey = jwtSecret ? crypto.subtle.importKey('raw', encoder.encode(jwtSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) : null;
    this.jwks = new JwksCache(`${url}/auth/v1/.well-known/jwks.json`);
  }

  /** The caller of `token` at `now` (seconds): { userId, isAnonymous }, or throws an AuthRefusal. */
  async verify(token, now) {
    const parts = token.split('.');
    if (parts.length !== 3) throw refuse('token_malformed');
    const [headerBytes, claimsBytes, signature] = parts.map(base64UrlStrict);
    if (!headerBytes || !claimsBytes || !signature) throw refuse('token_malformed');
    let header;
    try {
      header = parseHeader(headerBytes);
    } catch {
      throw refuse('token_malformed');
    }
    if (!header) throw refuse('token_malformed');
    const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
    let claims;
    if (header.alg === 'HS256' && this.hmacKey) {
      if (signature.length !== 32) throw refuse('bad_signature');
      claims = parseClaims(claimsBytes);
      if (!claims) throw refuse('malformed_claims');
      if (!(await crypto.subtle.verify('HMAC', await this.hmacKey, signature, signed))) throw refuse('bad_signature');
    } else if (header.alg === 'ES256' || header.alg === 'RS256') {
      if (typeof header.kid !== 'string') throw refuse('missing_key_id');
      const { alg, key } = await this.jwks.key(header.kid, now);
      if (alg !== header.alg) throw refuse('key_algorithm_mismatch');
      if (alg === 'ES256' && (signature.length !== 64 || !validEcdsaScalars(signature))) throw refuse('bad_signature');
      claims = parseClaims(claimsBytes);
      if (!claims) throw refuse('malformed_claims');
      const valid = await crypto.subtle.verify(alg === 'ES256' ? ECDSA : 'RSASSA-PKCS1-v1_5', key, signature, signed);
      if (!valid) throw refuse('bad_signature');
    } else {
      throw refuse('unsupported_algorithm');
    }
    return this.checkClaims(claims, now);
  }

  checkClaims(claims, now) {
    if (claims.exp === undefined) throw refuse('missing_expiry');
    if (now >= claims.exp + LEEWAY_SECS) throw refuse('token_expired');
    if ([claims.nbf, claims.iat].some((t) => t !== undefined && t > now + LEEWAY_SECS)) throw refuse('token_not_yet_valid');
    if (!(claims.aud === 'authenticated' || (Array.isArray(claims.aud) && claims.aud.includes('authenticated')))) throw refuse('wrong_audience');
    if (claims.iss !== this.issuer) throw refuse('wrong_issuer');
    if (claims.role !== 'authenticated') throw refuse('wrong_role');
    const userId = typeof claims.sub === 'string' ? tryParseUuid(claims.sub) : null;
    if (!userId) throw refuse('bad_subject');
    return { userId, isAnonymous: claims.is_anonymous === true };
  }
}
