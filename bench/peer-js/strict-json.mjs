// A strict reader of one JSON object into a typed struct, refusing with the exact messages a
// Rust function gives (serde_json read through serde_path_to_error and edge-http's parse_json:
// `invalid JSON at line L column C: …` for syntax, `field `x`: invalid type: …` for types,
// `unknown field …`, `duplicate field …`, `missing field …`), in the order serde meets them
// while it streams the body. The peers parse with JSON.parse first and come here only when that
// fails or when JSON.parse cannot tell what serde would refuse (duplicate keys, `2.0` for an
// integer, lone surrogates, numbers out of range, nesting past serde_json's 128 levels), so the
// happy path costs what JSON.parse costs.

/** A 400 refusal: `invalid_json` (syntax) or `invalid_body` (shape). */
export class JsonRefusal extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const MESSAGE = {
  eofValue: 'EOF while parsing a value', eofList: 'EOF while parsing a list', eofObject: 'EOF while parsing an object',
  eofString: 'EOF while parsing a string', colon: 'expected `:`', listCommaOrEnd: 'expected `,` or `]`',
  objectCommaOrEnd: 'expected `,` or `}`', ident: 'expected ident', value: 'expected value', escape: 'invalid escape',
  number: 'invalid number', range: 'number out of range', codePoint: 'invalid unicode code point',
  control: 'control character (\\u0000-\\u001F) found while parsing a string', key: 'key must be a string',
  loneSurrogate: 'lone leading surrogate in hex escape', trailingComma: 'trailing comma', trailing: 'trailing characters',
  hexEnd: 'unexpected end of hex escape', recursion: 'recursion limit exceeded',
};
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Rust's `{}` of an f64 (no exponent), with serde's `.0` for integral values. */
export function rustFloat(x) {
  if (Object.is(x, -0)) return '-0.0';
  let text = String(Math.abs(x));
  const e = text.indexOf('e');
  if (e >= 0) {
    const exponent = Number(text.slice(e + 1));
    const [whole, fraction = ''] = text.slice(0, e).split('.');
    const digits = whole + fraction;
    const point = whole.length + exponent;
    text = point >= digits.length ? digits + '0'.repeat(point - digits.length) : point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  return `${x < 0 ? '-' : ''}${text}${text.includes('.') ? '' : '.0'}`;
}

/** Rust's `{:?}` of a string, as serde's `Unexpected::Str` shows it. */
function rustDebug(s) {
  const escaped = s.replace(/[\\"\n\r\t\0]|[\u0001-\u001f\u007f-\u009f]/g, (c) =>
    ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' })[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`);
  return `"${escaped}"`;
}

/** serde's `Unexpected` for a scanned scalar. */
function unexpected(token) {
  switch (token.kind) {
    case 'null': return 'null';
    case 'bool': return `boolean \`${token.value}\``;
    case 'u64': case 'i64': return `integer \`${token.text}\``;
    case 'f64': return `floating point \`${rustFloat(token.value)}\``;
    case 'string': return `string ${rustDebug(token.value)}`;
    case 'seq': return 'sequence';
    default: return 'map';
  }
}

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
    this.depth = 128;
  }

  peek() {
    return this.b[this.i];
  }

  /** Skips JSON whitespace; the next byte, not consumed. */
  ws() {
    while (this.i < this.b.length) {
      const c = this.b[this.i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return c;
      this.i++;
    }
    return undefined;
  }

  /** serde_json's position of `index`: line, and bytes since the line's start. */
  refuse(index, message) {
    const start = this.b.lastIndexOf(0x0a, index - 1) + 1;
    let line = 1;
    for (let k = 0; k < start; k++) if (this.b[k] === 0x0a) line++;
    return new JsonRefusal('invalid_json', `invalid JSON at line ${line} column ${index - start}: ${message}`);
  }

  error(key) {
    return this.refuse(this.i, MESSAGE[key]);
  }

  peekError(key) {
    return this.refuse(Math.min(this.b.length, this.i + 1), MESSAGE[key]);
  }

  ident(rest) {
    for (const expected of rest) {
      const c = this.b[this.i];
      if (c === undefined) throw this.error('eofValue');
      this.i++;
      if (c !== expected.charCodeAt(0)) throw this.error('ident');
    }
  }

  /** A number (its `-` already consumed when negative): { kind: u64|i64|f64, text, value }. */
  number(positive) {
    const start = positive ? this.i : this.i - 1;
    const digits = () => {
      while (this.b[this.i] >= 0x30 && this.b[this.i] <= 0x39) this.i++;
    };
    const first = this.b[this.i];
    if (first === undefined) throw this.error('eofValue');
    this.i++;
    if (first === 0x30) {
      if (this.b[this.i] >= 0x30 && this.b[this.i] <= 0x39) throw this.peekError('number');
    } else if (first >= 0x31 && first <= 0x39) {
      digits();
    } else {
      throw this.error('number');
    }
    let float = false;
    if (this.b[this.i] === 0x2e) {
      float = true;
      this.i++;
      const at = this.i;
      digits();
      if (this.i === at) throw this.peekError(this.i < this.b.length ? 'number' : 'eofValue');
    }
    if (this.b[this.i] === 0x65 || this.b[this.i] === 0x45) {
      float = true;
      this.i++;
      if (this.b[this.i] === 0x2b || this.b[this.i] === 0x2d) this.i++;
      const c = this.b[this.i];
      if (c === undefined) throw this.error('eofValue');
      this.i++;
      if (!(c >= 0x30 && c <= 0x39)) throw this.error('number');
      digits();
    }
    const text = String.fromCharCode(...this.b.subarray(start, this.i));
    const asFloat = () => {
      const value = Number(text);
      if (!Number.isFinite(value)) throw this.error('range');
      return { kind: 'f64', text, value };
    };
    if (float) return asFloat();
    const big = BigInt(text);
    if (positive) return big <= U64_MAX ? { kind: 'u64', text, value: big } : asFloat();
    if (big === 0n) return { kind: 'f64', text, value: -0 };
    return big >= I64_MIN ? { kind: 'i64', text, value: big } : asFloat();
  }

  hex4() {
    if (this.b.length - this.i < 4) {
      this.i = this.b.length;
      throw this.error('eofString');
    }
    const text = String.fromCharCode(...this.b.subarray(this.i, this.i + 4));
    this.i += 4;
    if (!/^[0-9a-fA-F]{4}$/.test(text)) throw this.error('escape');
    return parseInt(text, 16);
  }

  /** A string, its opening quote consumed. */
  string() {
    const out = [];
    for (;;) {
      if (this.i >= this.b.length) throw this.error('eofString');
      const c = this.b[this.i++];
      if (c === 0x22) break;
      if (c < 0x20) throw this.error('control');
      if (c !== 0x5c) {
        out.push(c);
        continue;
      }
      if (this.i >= this.b.length) throw this.error('eofString');
      const e = this.b[this.i++];
      const simple = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 }[e];
      if (simple !== undefined) {
        out.push(simple);
        continue;
      }
      if (e !== 0x75) throw this.error('escape');
      let n = this.hex4();
      if (n >= 0xdc00 && n <= 0xdfff) throw this.error('loneSurrogate');
      if (n >= 0xd800 && n <= 0xdbff) {
        for (const expected of [0x5c, 0x75]) {
          if (this.i >= this.b.length) throw this.error('eofString');
          if (this.b[this.i++] !== expected) throw this.error('hexEnd');
        }
        const low = this.hex4();
        if (low < 0xdc00 || low > 0xdfff) throw this.error('loneSurrogate');
        n = 0x10000 + ((n - 0xd800) << 10) + (low - 0xdc00);
      }
      out.push(...encoder.encode(String.fromCodePoint(n)));
    }
    try {
      return utf8.decode(new Uint8Array(out));
    } catch {
      throw this.error('codePoint');
    }
  }

  /** `[` or `{` one level deeper, refused past serde_json's recursion limit. */
  enter() {
    if (--this.depth === 0) throw this.peekError('recursion');
    this.i++;
  }

  /** Any JSON value, as serde_json's `Value` reads it. */
  value() {
    const c = this.ws();
    if (c === undefined) throw this.peekError('eofValue');
    switch (c) {
      case 0x6e: this.i++; this.ident('ull'); return null;
      case 0x74: this.i++; this.ident('rue'); return true;
      case 0x66: this.i++; this.ident('alse'); return false;
      case 0x2d: this.i++; return Number(this.number(false).text);
      case 0x22: this.i++; return this.string();
      case 0x5b: {
        this.enter();
        const items = [];
        this.entries(0x5d, 'listCommaOrEnd', 'eofList', () => items.push(this.value()));
        this.depth++;
        return items;
      }
      case 0x7b: {
        this.enter();
        const map = {};
        this.entries(0x7d, 'objectCommaOrEnd', 'eofObject', () => {
          const key = this.key();
          this.colon();
          // As JSON.parse does: `__proto__` is an own key like any other.
          Object.defineProperty(map, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
        });
        this.depth++;
        return map;
      }
      default:
        if (c >= 0x30 && c <= 0x39) return Number(this.number(true).text);
        throw this.peekError('value');
    }
  }

  /** The entries of a list or map up to `close` (consumed), calling `entry` for each. */
  entries(close, commaOrEnd, eof, entry) {
    for (let first = true; ; first = false) {
      let c = this.ws();
      if (c === close) {
        this.i++;
        return;
      }
      if (c === 0x2c && !first) {
        this.i++;
        c = this.ws();
      } else if (c !== undefined && !first) {
        throw this.peekError(commaOrEnd);
      } else if (c === undefined) {
        throw this.peekError(eof);
      }
      if (c === close) throw this.peekError('trailingComma');
      if (c === undefined) throw this.peekError('eofValue');
      entry();
    }
  }

  /** A map key (a string, or refused). */
  key() {
    if (this.b[this.i] !== 0x22) throw this.peekError('key');
    this.i++;
    return this.string();
  }

  /** The colon after a key. */
  colon() {
    const c = this.ws();
    if (c !== 0x3a) throw this.peekError(c === undefined ? 'eofObject' : 'colon');
    this.i++;
  }

  /** A scalar token where another type was expected, as serde_json's `peek_invalid_type` reads it. */
  mismatch() {
    const c = this.b[this.i];
    switch (c) {
      case 0x6e: this.i++; this.ident('ull'); return { kind: 'null' };
      case 0x74: this.i++; this.ident('rue'); return { kind: 'bool', value: true };
      case 0x66: this.i++; this.ident('alse'); return { kind: 'bool', value: false };
      case 0x2d: this.i++; return this.number(false);
      case 0x22: this.i++; return { kind: 'string', value: this.string() };
      case 0x5b: return { kind: 'seq' };
      case 0x7b: return { kind: 'map' };
      default:
        if (c >= 0x30 && c <= 0x39) return this.number(true);
        throw this.peekError('value');
    }
  }
}

/**
 * Field readers: each gets the reader (whitespace skipped, not at EOF for non-options) and
 * returns the field's value or throws `[unexpected token, expected]` for a type refusal.
 */
export const FIELD = {
  /** `String` (or a type read through one): `check(text)` may refuse with a message. */
  string: (expected, check = (s) => s) => (r) => {
    if (r.peek() !== 0x22) throw [r.mismatch(), expected];
    r.i++;
    return check(r.string());
  },
  /** `i64`. */
  i64: (r) => {
    const c = r.peek();
    const token = c === 0x2d ? (r.i++, r.number(false)) : c >= 0x30 && c <= 0x39 ? r.number(true) : null;
    if (!token) throw [r.mismatch(), 'i64'];
    if (token.kind === 'f64') throw [token, 'i64'];
    if (token.value > I64_MAX) throw new JsonRefusal('invalid_body', `invalid value: integer \`${token.text}\`, expected i64`);
    return Number(token.value);
  },
  /** `serde_json::Value`. */
  value: (r) => r.value(),
  /** `Option<T>`: `null` is `None`. */
  option: (inner) => (r) => {
    if (r.peek() === 0x6e) {
      r.i++;
      r.ident('ull');
      return null;
    }
    return inner(r);
  },
};

/**
 * Reads `bytes` as the struct `name` with `fields` ({ key: reader }, in declaration order;
 * `required` lists the non-optional ones), refusing exactly as serde would. Returns the fields
 * read (absent optional fields left out).
 */
export function readStruct(bytes, name, fields, required) {
  const r = new Reader(bytes);
  const refuse = (path, error) => {
    if (error instanceof JsonRefusal) {
      if (error.code === 'invalid_body' && path) error.message = `field \`${path}\`: ${error.message}`;
      return error;
    }
    if (Array.isArray(error)) {
      const message = `invalid type: ${unexpected(error[0])}, expected ${error[1]}`;
      return new JsonRefusal('invalid_body', path ? `field \`${path}\`: ${message}` : message);
    }
    return new JsonRefusal('invalid_body', path ? `field \`${path}\`: ${error.message}` : error.message);
  };
  const c = r.ws();
  if (c === undefined) throw r.peekError('eofValue');
  if (c !== 0x7b) {
    let token;
    try {
      token = r.mismatch();
    } catch (e) {
      throw refuse('', e);
    }
    throw new JsonRefusal('invalid_body', `invalid type: ${unexpected(token)}, expected struct ${name}`);
  }
  r.enter();
  const names = Object.keys(fields);
  const out = {};
  r.entries(0x7d, 'objectCommaOrEnd', 'eofObject', () => {
    const key = r.key();
    if (!Object.hasOwn(fields, key)) throw new JsonRefusal('invalid_body', `unknown field \`${key}\`, expected one of ${names.map((n) => `\`${n}\``).join(', ')}`);
    if (Object.hasOwn(out, key)) throw new JsonRefusal('invalid_body', `duplicate field \`${key}\``);
    r.colon();
    if (r.ws() === undefined) throw r.peekError('eofValue');
    try {
      out[key] = fields[key](r);
    } catch (e) {
      if (e instanceof JsonRefusal && e.code === 'invalid_json') throw e;
      throw refuse(key, e);
    }
  });
  for (const field of required) if (!Object.hasOwn(out, field)) throw new JsonRefusal('invalid_body', `missing field \`${field}\``);
  if (r.ws() !== undefined) throw r.peekError('trailing');
  for (const key of Object.keys(out)) if (out[key] === null) delete out[key];
  return out;
}
