// process-webhook's two checks in JavaScript, as functions/process-webhook does them: who sent
// the delivery (sender_auth.rs, api_keys.rs, edge-crypto's webhook.rs: X-API-Key or a Standard
// Webhooks signature) and whether its body is a valid report (webhook_body.rs). Refusals are
// { status, code, message } with the Rust function's codes and messages.

import { tryParseUuid } from './access-token.mjs';
import { FIELD, JsonRefusal, readStruct } from './strict-json.mjs';

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Refusal extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}
const unauthorized = (code, message) => new Refusal(401, code, message);
const badRequest = (code, message) => new Refusal(400, code, message);

// --- sender ------------------------------------------------------------------------------------
const MIN_KEY_LEN = 16;
const MAX_DELIVERY_ID_LEN = 255;
const TOLERANCE_SECS = 300n;
const I64_RANGE = [-(2n ** 63n), 2n ** 63n - 1n];
const utf8Length = (text) => encoder.encode(text).length;
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
const sha256Hex = async (text) => hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
const setting = (value) => (value && value.trim() ? value : null);

/** Standard base64 with canonical padding (the base64 crate's STANDARD engine), or null. */
function base64Strict(text) {
  if (text.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return btoa(String.fromCharCode(...bytes)) === text ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * The accepted credentials from WEBHOOK_API_KEYS and WEBHOOK_SECRETS (at least one set): API
 * keys as SHA-256 digests, secrets as HMAC keys. Throws a message for the operator's log.
 */
export async function senderCredentials(apiKeys, secrets) {
  apiKeys = setting(apiKeys);
  secrets = setting(secrets);
  if (!apiKeys && !secrets) throw new Error('neither WEBHOOK_API_KEYS nor WEBHOOK_SECRETS is set');
  let digests = null;
  if (apiKeys) {
    const keys = apiKeys.split(',').map((k) => k.trim()).filter(Boolean);
    if (!keys.length) throw new Error('WEBHOOK_API_KEYS lists no key');
    const short = keys.findIndex((k) => utf8Length(k) < MIN_KEY_LEN);
    if (short >= 0) throw new Error(`key ${short + 1} of WEBHOOK_API_KEYS is shorter than ${MIN_KEY_LEN} characters`);
    digests = await Promise.all(keys.map(sha256Hex));
  }
  let macKeys = null;
  if (secrets) {
    const invalid = new Error("WEBHOOK_SECRETS: webhook secret must be 'whsec_' followed by base64 of at least 16 bytes");
    const list = secrets.split(/[,\s]/).filter(Boolean);
    if (!list.length) throw invalid;
    macKeys = await Promise.all(list.map((secret) => {
      const bytes = base64Strict(secret.trim().replace(/^whsec_/, ''));
      if (!bytes || bytes.length < 16) throw invalid;
      return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    }));
  }
  return { digests, macKeys };
}

/** A delivery id: 1-255 visible ASCII characters. */
function deliveryId(header, id) {
  if (id && id.length <= MAX_DELIVERY_ID_LEN && /^[\x21-\x7e]+$/.test(id)) return id;
  throw badRequest('invalid_delivery_id', `${header} must be 1-${MAX_DELIVERY_ID_LEN} visible ASCII characters`);
}

async function checkSignature(credentials, id, timestamp, signatures, body, now) {
  if (!credentials.macKeys) throw unauthorized('signatures_not_accepted', 'Signed webhooks are not configured here; send X-API-Key');
  if (id === null) throw unauthorized('webhook_missing_id', 'missing webhook-id header');
  if (timestamp === null) throw unauthorized('webhook_missing_timestamp', 'missing webhook-timestamp header');
  if (signatures === null) throw unauthorized('webhook_missing_signature', 'missing webhook-signature header');
  const sent = /^[+-]?\d+$/.test(timestamp) ? BigInt(timestamp) : null;
  if (sent === null || sent < I64_RANGE[0] || sent > I64_RANGE[1]) throw unauthorized('webhook_invalid_timestamp', 'webhook-timestamp is not an integer number of seconds');
  if (BigInt(now) - sent > TOLERANCE_SECS) throw unauthorized('webhook_timestamp_too_old', 'webhook timestamp is too old');
  if (sent - BigInt(now) > TOLERANCE_SECS) throw unauthorized('webhook_timestamp_too_new', 'webhook timestamp is too far in the future');
  const candidates = signatures.split(/\s+/).filter((e) => e.startsWith('v1,')).map((e) => base64Strict(e.slice(3))).filter(Boolean);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  let matched = 0;
  for (const key of credentials.macKeys) {
    const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, content));
    for (const candidate of candidates) {
      if (candidate.length !== expected.length) continue;
      let diff = 0;
      for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ candidate[i];
      matched |= diff === 0 ? 1 : 0;
    }
  }
  if (!matched) throw unauthorized('webhook_bad_signature', 'no valid webhook signature');
  return { method: 'Signature', deliveryId: deliveryId('webhook-id', id) };
}

async function checkApiKey(credentials, key, idempotencyKey, webhookId) {
  let accepted = false;
  if (credentials.digests) {
    const digest = await sha256Hex(key);
    for (const known of credentials.digests) {
      let diff = 0;
      for (let i = 0; i < known.length; i++) diff |= known.charCodeAt(i) ^ digest.charCodeAt(i);
      accepted = diff === 0 || accepted;
    }
  }
  if (!accepted) throw unauthorized('invalid_api_key', 'X-API-Key is not a valid webhook key');
  if (idempotencyKey !== null && webhookId !== null && idempotencyKey !== webhookId) {
    throw badRequest('conflicting_delivery_ids', 'Idempotency-Key and webhook-id differ; send one delivery id');
  }
  const id = idempotencyKey !== null ? deliveryId('Idempotency-Key', idempotencyKey) : webhookId !== null ? deliveryId('webhook-id', webhookId) : null;
  return { method: 'ApiKey', deliveryId: id };
}

/**
 * Who sent the delivery: a `webhook-signature` (or `webhook-id`/`webhook-timestamp` without a
 * key) selects the signature check, else `X-API-Key`; a presented credential must be valid.
 * Returns { method, deliveryId }.
 */
export function authenticateSender(credentials, headers, body, now) {
  const [apiKey, idempotencyKey, id, timestamp, signature] = ['x-api-key', 'idempotency-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => headers.get(h));
  if (signature !== null || (apiKey === null && (id !== null || timestamp !== null))) return checkSignature(credentials, id, timestamp, signature, body, now);
  if (apiKey !== null) return checkApiKey(credentials, apiKey, idempotencyKey, id);
  throw unauthorized('missing_credentials', 'Send an X-API-Key header or a Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature)');
}

// --- body --------------------------------------------------------------------------------------
const MAX_MASK_URL_LEN = 2048;
const MAX_MASK_PATH_LEN = 1024;
const MAX_ERROR_CHARS = 2000;
const MAX_CREDITS_USED = 1000;
const MAX_LABELS = 1000;
const MAX_LABELS_BYTES = 128 * 1024;
const MAX_METADATA_KEYS = 100;
const MAX_METADATA_BYTES = 16 * 1024;
const MAX_JSON_DEPTH = 8;
const STATUSES = ['processing', 'done', 'error'];
const FIELD_NAMES = ['task_id', 'status', 'mask_url', 'mask_path', 'labels', 'metadata', 'credits_used', 'error'];

/** uuid's `Uuid::parse_str` error text for `text`, which did not parse. */
function uuidError(text) {
  const bytes = encoder.encode(text);
  if (!bytes.length || bytes.length > 45) return `invalid length: found ${bytes.length}`;
  let requested = 'any';
  let body = bytes;
  let start = 0;
  if (bytes.length === 38 && bytes[0] === 0x7b && bytes[37] === 0x7d) [requested, body, start] = ['hyphenated', bytes.subarray(1, 37), 0];
  else if (bytes.length === 45 && text.slice(0, 9).toLowerCase() === 'urn:uuid:') [requested, body, start] = ['hyphenated', bytes.subarray(9), 0];
  else if (bytes.length === 36) requested = 'hyphenated';
  // uuid's into_err on `body` with the format it was asked for.
  let format = requested;
  let end = body.length;
  if (format === 'any' && body[0] === 0x7b && body[body.length - 1] === 0x7d) [format, start, end] = ['braced', 1, body.length - 1];
  else if (format === 'any' && body.length >= 9 && utf8.decode(body.subarray(0, 9)).toLowerCase() === 'urn:uuid:') [format, start] = ['urn', 9];
  const inner = utf8.decode(body.subarray(start, end));
  const groups = [];
  let at = 0;
  for (const character of inner) {
    if (character === '-') {
      if (format === 'any') format = 'hyphenated';
      groups.push(at);
    } else if (!/^[0-9a-fA-F]$/.test(character)) {
      return `invalid character: found \`${character}\` at ${at + start}`;
    }
    at += utf8Length(character);
  }
  if (format === 'any') return `invalid length: found ${body.length}`;
  if (groups.length !== 4) return `invalid group count: expected 5, found ${groups.length + 1}`;
  const starts = [0, 9, 14, 19, 24];
  for (let i = 0; i < 4; i++) {
    if (groups[i] !== starts[i + 1] - 1) return `invalid group length in group ${i}: expected ${[8, 4, 4, 4][i]}, found ${groups[i] - starts[i]}`;
  }
  return `invalid group length in group 4: expected 12, found ${end - start - 24}`;
}

function parseTaskId(text) {
  const id = tryParseUuid(text);
  if (!id) throw new Error(`UUID parsing failed: ${uuidError(text)}`);
  return id;
}

function parseStatus(text) {
  if (!STATUSES.includes(text)) throw new Error(`unknown status \`${text}\`, expected one of \`processing\`, \`done\`, \`error\``);
  return text;
}

/** `WebhookInput`'s fields as serde reads them (the slow, exact path). */
const STRICT_FIELDS = {
  task_id: FIELD.string('a formatted UUID string', parseTaskId),
  status: FIELD.string('a string', parseStatus),
  mask_url: FIELD.option(FIELD.string('a string')),
  mask_path: FIELD.option(FIELD.string('a string')),
  labels: FIELD.option(FIELD.value),
  metadata: FIELD.option(FIELD.value),
  credits_used: FIELD.option(FIELD.i64),
  error: FIELD.option(FIELD.string('a string')),
};

// What JSON.parse hides from the fast path: a field given twice, `2.0` for credits_used,
// surrogate escapes (serde refuses lone ones).
const FIELD_KEYS = /"(?:task_id|status|mask_url|mask_path|labels|metadata|credits_used|error)"\s*:/g;
const FLOAT_CREDITS = /"credits_used"\s*:\s*-?\d+[.eE]/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Nesting depth (a scalar is 0, `[]` is 1), a U+0000 anywhere, a number JSON.parse overflowed. */
function measure(value) {
  if (typeof value === 'string') return { depth: 0, nul: value.includes('\0'), finite: true };
  if (typeof value === 'number') return { depth: 0, nul: false, finite: Number.isFinite(value) };
  if (value === null || typeof value !== 'object') return { depth: 0, nul: false, finite: true };
  const out = { depth: 0, nul: false, finite: true };
  const isArray = Array.isArray(value);
  for (const key in value) {
    const inner = measure(value[key]);
    out.depth = Math.max(out.depth, inner.depth);
    out.nul ||= inner.nul || (!isArray && key.includes('\0'));
    out.finite &&= inner.finite;
  }
  out.depth += 1;
  return out;
}

/** The fields by JSON.parse, or null when only the exact reader can tell what serde answers. */
function quickFields(body) {
  let text;
  let value;
  try {
    text = utf8.decode(body);
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  if ((text.match(FIELD_KEYS)?.length ?? 0) > keys.length || FLOAT_CREDITS.test(text) || SURROGATE_ESCAPE.test(text)) return null;
  const fields = {};
  for (const key of keys) {
    const v = value[key];
    if (!FIELD_NAMES.includes(key)) return null;
    if (v === null) continue;
    if (key === 'task_id') {
      if (typeof v !== 'string' || !(fields.task_id = tryParseUuid(v))) return null;
    } else if (key === 'status') {
      if (!STATUSES.includes(v)) return null;
      fields.status = v;
    } else if (key === 'credits_used') {
      if (!Number.isSafeInteger(v) || Object.is(v, -0)) return null;
      fields.credits_used = v;
    } else if (key === 'mask_url' || key === 'mask_path' || key === 'error') {
      if (typeof v !== 'string') return null;
      fields[key] = v;
    } else {
      const m = measure(v);
      if (!m.finite || m.depth > MAX_JSON_DEPTH) return null;
      fields[key] = v;
      fields[`${key}Measure`] = m;
    }
  }
  return fields.task_id && fields.status ? fields : null;
}

/** The body as `WebhookInput`, refusing as parse_webhook does before any check of values. */
function readInput(body) {
  let first = 0;
  while (first < body.length && [0x20, 0x09, 0x0a, 0x0c, 0x0d].includes(body[first])) first++;
  if (first === body.length) throw badRequest('invalid_json', 'request body is empty; expected JSON');
  if (body[first] === 0x5b) throw badRequest('invalid_body', 'the body must be a JSON object, not an array');
  const quick = quickFields(body);
  if (quick) return quick;
  try {
    return readStruct(body, 'WebhookInput', STRICT_FIELDS, ['task_id', 'status']);
  } catch (e) {
    if (e instanceof JsonRefusal) throw badRequest(e.code, e.message);
    throw e;
  }
}

const invalid = (field, message) => badRequest(`invalid_${field}`, message);

/** A mask URL the url crate would refuse: its error text (both parsers follow WHATWG). */
function urlError(raw) {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw)) return 'relative URL without a base';
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:[\\/]*([^\\/?#]*)/.exec(raw)[1].replace(/^.*@/, '');
  if (!authority) return 'empty host';
  if (authority.startsWith('[')) return 'invalid IPv6 address';
  const port = /:([^\]]*)$/.exec(authority)?.[1];
  if (port !== undefined && (!/^\d*$/.test(port) || Number(port) > 65535)) return 'invalid port number';
  if (/^[\d.]+$/.test(authority.replace(/:\d*$/, '')) || /\.\d+$/.test(authority.replace(/:\d*$/, ''))) return 'invalid IPv4 address';
  return 'invalid domain character';
}

function checkMaskUrl(raw) {
  if (utf8Length(raw) > MAX_MASK_URL_LEN) throw invalid('mask_url', `mask_url is longer than ${MAX_MASK_URL_LEN} characters`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) throw invalid('mask_url', 'mask_url must not contain control characters');
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('mask_url', `mask_url: ${urlError(raw)}`);
  }
  if (url.protocol !== 'https:' || !raw.startsWith('https://')) throw invalid('mask_url', 'mask_url must be an https URL');
  if (!url.hostname) throw invalid('mask_url', 'mask_url must name a host');
  if (url.username || url.password) throw invalid('mask_url', 'mask_url must not carry credentials');
}

/** An object name in `masks`: non-empty segments, none `.` or `..`, no backslash or control character. */
function checkMaskPath(path) {
  if (utf8Length(path) > MAX_MASK_PATH_LEN) throw invalid('mask_path', `mask_path is longer than ${MAX_MASK_PATH_LEN} bytes`);
  const clean = path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!clean || path.includes('\\') || /[\u0000-\u001f\u007f-\u009f]/.test(path)) {
    throw invalid(
      'mask_path',
      'mask_path must be an object name in masks, such as <task id>/mask.png (no empty, `.` or `..` segments, backslashes or control characters)',
    );
  }
}

function checkBounded(field, value, measured, maxBytes) {
  const m = measured ?? measure(value);
  if (m.nul) throw invalid(field, `${field} must not contain U+0000 (Postgres cannot store it)`);
  if (m.depth > MAX_JSON_DEPTH) throw invalid(field, `${field} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (utf8Length(JSON.stringify(value)) > maxBytes) throw invalid(field, `${field} is larger than ${maxBytes} bytes`);
}

/**
 * Parses and validates a delivery's body (bytes): a 400 Refusal naming the problem, or
 * { task_id, status, mask_url?, labels?, metadata?, credits_used?, error? }.
 */
export function parseWebhook(body) {
  const input = readInput(body);
  if (input.mask_url !== undefined) checkMaskUrl(input.mask_url);
  if (input.mask_path !== undefined) checkMaskPath(input.mask_path);
  if (input.labels !== undefined) {
    if (!Array.isArray(input.labels)) throw invalid('labels', 'labels must be a JSON array');
    if (input.labels.length > MAX_LABELS) throw invalid('labels', `labels has more than ${MAX_LABELS} entries`);
    checkBounded('labels', input.labels, input.labelsMeasure, MAX_LABELS_BYTES);
  }
  if (input.metadata !== undefined) {
    if (input.metadata === null || typeof input.metadata !== 'object' || Array.isArray(input.metadata)) throw invalid('metadata', 'metadata must be a JSON object');
    if (Object.keys(input.metadata).length > MAX_METADATA_KEYS) throw invalid('metadata', `metadata has more than ${MAX_METADATA_KEYS} keys`);
    checkBounded('metadata', input.metadata, input.metadataMeasure, MAX_METADATA_BYTES);
  }
  if (input.credits_used !== undefined) {
    if (input.status !== 'done') throw invalid('credits_used', 'credits_used is only accepted with status done (only finished tasks are charged)');
    if (input.credits_used < 0 || input.credits_used > MAX_CREDITS_USED) throw invalid('credits_used', `credits_used must be an integer from 0 to ${MAX_CREDITS_USED}`);
  }
  if (input.error !== undefined) {
    if (input.status !== 'error') throw invalid('error', 'error is only accepted with status error');
    if (input.error.includes('\0')) throw invalid('error', 'error must not contain U+0000 (Postgres cannot store it)');
    if ([...input.error].length > MAX_ERROR_CHARS) throw invalid('error', `error is longer than ${MAX_ERROR_CHARS} characters`);
  }
  return input;
}

/** apply_segmentation_webhook's named arguments; absent fields are left out. */
export function rpcArgs(webhook, deliveryId) {
  const args = { p_task_id: webhook.task_id, p_status: webhook.status };
  if (deliveryId !== null) args.p_delivery_id = deliveryId;
  for (const [field, arg] of [['mask_url', 'p_mask_url'], ['labels', 'p_labels'], ['metadata', 'p_metadata'], ['credits_used', 'p_credits_used'], ['error', 'p_error'], ['mask_path', 'p_mask_path']]) {
    if (webhook[field] !== undefined) args[arg] = webhook[field];
  }
  return args;
}
