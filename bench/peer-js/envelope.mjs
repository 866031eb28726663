// edge-crypto's envelope format in JavaScript with WebCrypto (workerd and Node 22 alike):
// `enc:v1:<key-id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, AES-256-GCM, bound by associated data
// to (owner, row, field) exactly as shared/crypto/src/aad.rs encodes it. Used by the JS peer
// Worker and by the benchmark harness (to seed envelopes).

const AAD_DOMAIN = new TextEncoder().encode('edge-crypto/aad/v1');
const encoder = new TextEncoder();

export function fromBase64Url(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text, { alphabet: 'base64url' });
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function fromBase64(text) {
  return fromBase64Url(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
}

export function toBase64Url(bytes) {
  if (bytes.toBase64) return bytes.toBase64({ alphabet: 'base64url', omitPadding: true });
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function uuidBytes(uuid) {
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The associated data: domain, then header, owner, row, field (variable parts length-prefixed, u32 big-endian). */
export function aadBytes(header, owner, row, field) {
  const parts = [encoder.encode(header), encoder.encode(row), encoder.encode(field)];
  const out = new Uint8Array(AAD_DOMAIN.length + 16 + 12 + parts[0].length + parts[1].length + parts[2].length);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(AAD_DOMAIN, at);
  at += AAD_DOMAIN.length;
  const prefixed = (part) => {
    view.setUint32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  };
  prefixed(parts[0]);
  out.set(uuidBytes(owner), at);
  at += 16;
  prefixed(parts[1]);
  prefixed(parts[2]);
  return out;
}

/** Parses `v1;active=<id>;<id>=<base64 key>;…` and imports every key for AES-GCM. */
export async function importKeyRing(text) {
  const keys = new Map();
  let active;
  for (const entry of text.split(';').map((e) => e.trim())) {
    if (entry === 'v1' || entry === '') continue;
    const eq = entry.indexOf('=');
    const id = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (id === 'active') active = value;
    else keys.set(id, await crypto.subtle.importKey('raw', fromBase64(value), 'AES-GCM', false, ['encrypt', 'decrypt']));
  }
  if (!keys.has(active)) throw new Error('the key ring has no active key');
  return { keys, active };
}

/** Seals `plaintext` (bytes) under the ring's active key; returns the envelope text. */
export async function seal(ring, plaintext, owner, row, field) {
  const header = `enc:v1:${ring.active}`;
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aadBytes(header, owner, row, field) }, ring.keys.get(ring.active), plaintext),
  );
  const data = new Uint8Array(12 + sealed.length);
  data.set(nonce);
  data.set(sealed, 12);
  return `${header}:${toBase64Url(data)}`;
}

/** Opens an envelope; returns the plaintext bytes, or null when it is malformed, foreign or forged. */
export async function open(ring, envelope, owner, row, field) {
  const parts = envelope.split(':');
  if (parts.length !== 4 || parts[0] !== 'enc' || parts[1] !== 'v1') return null;
  const key = ring.keys.get(parts[2]);
  if (!key) return null;
  const data = fromBase64Url(parts[3]);
  if (data.length < 28) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: data.subarray(0, 12), additionalData: aadBytes(`enc:v1:${parts[2]}`, owner, row, field) },
      key,
      data.subarray(12),
    );
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}
