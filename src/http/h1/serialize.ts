/**
 * Writing HTTP/1.1 heads and chunk framing, for both sides of the proxy: a request or response head as one string
 * (one socket write, latin1), chunk-size lines and the last chunk with trailers. Every name and value is checked
 * before it is written: a CR or LF in a value would let a header inject a header or a whole message (response
 * splitting, RFC 9110 §5.5), so such a value throws InvalidHeaderError and the caller decides (a local 502/500, or a
 * reset), as Envoy's codec refuses to encode an invalid header.
 */
import { FIELD_VALUE, TARGET, TOKEN } from './chars.js';

/** Headers to write: a record (a value may repeat as an array; undefined is skipped) or [name, value, ...]. */
export type H1OutHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | readonly string[];

/** A name, value, method, target or reason that cannot be written. */
export class InvalidHeaderError extends Error {
  override readonly name = 'InvalidHeaderError';
  constructor(
    /** The field (or "method", "target", "reason", "status") at fault. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A token (RFC 9110 §5.6.2): a header name or a method. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** A field value that can be written as is: HTAB, SP, VCHAR, obs-text; no CR, LF, NUL or other control. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || FIELD_VALUE[c] !== 1) return false;
  }
  return true;
}

/**
 * Tokens (header names, methods) already found valid. A proxy writes the same few names on every request, and a
 * character loop in JavaScript costs tens of instructions per character (callgrind: the name checks were ≈ 3k
 * instructions of every proxied request): a name is checked once, then found here by its hash (names are object
 * keys, so V8 has interned and hashed them already). Bounded in count and length, so no sender can grow it.
 */
const TOKENS = new Set<string>();
const MAX_TOKENS = 1024;
const MAX_TOKEN_CACHED = 64;

/** isToken, remembered for the short tokens that passed. */
function knownToken(s: string): boolean {
  if (TOKENS.has(s)) return true;
  if (!isToken(s)) return false;
  if (TOKENS.size < MAX_TOKENS && s.length <= MAX_TOKEN_CACHED) TOKENS.add(s);
  return true;
}

/** Throws InvalidHeaderError unless `name: value` can be written. */
export function checkHeader(name: string, value: string): void {
  if (!knownToken(name)) throw new InvalidHeaderError(name, `invalid header name ${JSON.stringify(name)}`);
  if (!isFieldValue(value)) {
    throw new InvalidHeaderError(name, `invalid character in the value of header ${JSON.stringify(name)}`);
  }
}

/**
 * Values already known to be valid field values, by name: a header whose value is the very same string here (the
 * headers a downstream codec parsed, which checked every byte) has its value written without a second check. An
 * identity test, not a comparison: a value built or replaced after parsing is a different string and is checked.
 */
export type CheckedValues = Readonly<Record<string, string | readonly string[] | undefined>>;

function fieldLines(headers: H1OutHeaders, checked: CheckedValues | null): string {
  let out = '';
  if (Array.isArray(headers)) {
    const flat = headers as readonly string[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      checkHeader(flat[i], flat[i + 1]);
      out += `${flat[i]}: ${flat[i + 1]}\r\n`;
    }
    return out;
  }
  const rec = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const name in rec) {
    const v = rec[name];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      if (checked === null || checked[name] !== v) checkHeader(name, v);
      else if (!knownToken(name)) throw new InvalidHeaderError(name, `invalid header name ${JSON.stringify(name)}`);
      out += `${name}: ${v}\r\n`;
    } else {
      for (const one of v) {
        checkHeader(name, one);
        out += `${name}: ${one}\r\n`;
      }
    }
  }
  return out;
}

/** "METHOD target HTTP/1.x", the fields and the empty line, as one latin1 string. `checked`: values known valid
 * (see CheckedValues). */
export function requestHead(
  method: string,
  target: string,
  headers: H1OutHeaders,
  versionMinor: 0 | 1 = 1,
  checked: CheckedValues | null = null,
): string {
  if (!knownToken(method)) throw new InvalidHeaderError('method', `invalid method ${JSON.stringify(method)}`);
  if (target.length === 0) throw new InvalidHeaderError('target', 'empty request-target');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 255 || TARGET[c] !== 1) {
      throw new InvalidHeaderError('target', `invalid character in request-target ${JSON.stringify(target)}`);
    }
  }
  return `${method} ${target} HTTP/1.${versionMinor}\r\n${fieldLines(headers, checked)}\r\n`;
}

/** "HTTP/1.x status reason", the fields and the empty line, as one latin1 string. */
export function responseHead(status: number, reason: string, headers: H1OutHeaders, versionMinor: 0 | 1 = 1): string {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new InvalidHeaderError('status', `invalid status ${status}`);
  }
  // A reason read from an upstream may hold any byte but CR/LF (the parser keeps it as llhttp does); only what
  // a field value may hold is written.
  if (!isFieldValue(reason)) {
    throw new InvalidHeaderError('reason', `invalid character in reason phrase ${JSON.stringify(reason)}`);
  }
  return `HTTP/1.${versionMinor} ${status} ${reason}\r\n${fieldLines(headers, null)}\r\n`;
}

/** The chunk-size line before `len` bytes of chunk data (len > 0); the data is followed by CHUNK_END. */
export function chunkHeader(len: number): string {
  if (!Number.isSafeInteger(len) || len <= 0) {
    throw new RangeError(`chunk length must be a positive integer, not ${len}`);
  }
  return `${len.toString(16)}\r\n`;
}

/** What follows each chunk's data. */
export const CHUNK_END = '\r\n';

/** The last chunk, the trailer fields and the final CRLF (RFC 9112 §7.1). */
export function lastChunk(trailers?: H1OutHeaders | null): string {
  return trailers ? `0\r\n${fieldLines(trailers, null)}\r\n` : '0\r\n\r\n';
}
