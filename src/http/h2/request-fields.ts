/**
 * A request's header section checked as RFC 9113 §8.2–§8.3 requires and nghttp2 (Envoy's HTTP/2 codec) enforces:
 * lower-case field names of token characters, no connection-specific fields, `te` only as "trailers", values without
 * NUL/CR/LF, pseudo-header fields known, once each and before every regular field, the ones a method needs present,
 * a numeric content-length. A violation makes the request malformed: a stream error of type PROTOCOL_ERROR.
 */

/** What the pseudo-header fields said; reused by the connection for every request (read at once, then overwritten). */
export interface RequestPseudo {
  method: string;
  path: string;
  authority: string;
  scheme: string;
  protocol: string;
  /** content-length, or -1 without one. */
  contentLength: number;
}

/** Token characters of a field name once lower-cased (RFC 9110 §5.6.2); upper-case letters excluded. */
const NAME_OK = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_OK[c.charCodeAt(0)] = 1;

/** Checks a request header block (`f`: name, value, ... with `count` fields). Returns null when valid, else why not
 * (a short reason for logs). `connectProtocol`: SETTINGS_ENABLE_CONNECT_PROTOCOL was advertised (RFC 8441). */
export function checkRequestFields(f: readonly string[], count: number, connectProtocol: boolean, out: RequestPseudo): string | null {
  out.method = '';
  out.path = '';
  out.authority = '';
  out.scheme = '';
  out.protocol = '';
  out.contentLength = -1;
  let seen = 0;
  let regular = false;
  for (let i = 0; i < 2 * count; i += 2) {
    const name = f[i]!;
    const value = f[i + 1]!;
    if (name.length === 0) return 'empty name';
    if (!valueOk(value)) return 'invalid value';
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) return 'pseudo-header after regular header';
      let bit: number;
      switch (name) {
        case ':method':
          bit = 1;
          out.method = value;
          break;
        case ':path':
          bit = 2;
          out.path = value;
          break;
        case ':authority':
          bit = 4;
          out.authority = value;
          break;
        case ':scheme':
          bit = 8;
          out.scheme = value;
          break;
        case ':protocol':
          if (!connectProtocol) return 'unknown pseudo-header';
          bit = 16;
          out.protocol = value;
          break;
        default:
          return 'unknown pseudo-header';
      }
      if ((seen & bit) !== 0) return 'duplicate pseudo-header';
      seen |= bit;
      continue;
    }
    regular = true;
    if (!nameOk(name)) return 'invalid header name';
    const bad = connectionSpecific(name, value);
    if (bad !== null) return bad;
    if (name === 'content-length') {
      const n = contentLength(value);
      if (n < 0 || (out.contentLength >= 0 && out.contentLength !== n)) return 'invalid content-length';
      out.contentLength = n;
    }
  }
  if ((seen & 1) === 0) return 'missing :method';
  if (out.method === 'CONNECT' && (seen & 16) === 0) {
    // RFC 9113 §8.5: :authority only.
    if ((seen & 4) === 0 || (seen & 10) !== 0) return 'malformed CONNECT';
    return null;
  }
  if ((seen & 16) !== 0 && out.method !== 'CONNECT') return ':protocol without CONNECT';
  if ((seen & 10) !== 10 || out.path === '') return 'missing :scheme or :path';
  return null;
}

/** Trailers: no pseudo-header fields, names and values as in a header section. */
export function checkTrailerFields(f: readonly string[], count: number): string | null {
  for (let i = 0; i < 2 * count; i += 2) {
    const name = f[i]!;
    if (name.length === 0 || name.charCodeAt(0) === 58) return 'pseudo-header in trailers';
    if (!nameOk(name)) return 'invalid header name';
    if (!valueOk(f[i + 1]!)) return 'invalid value';
    if (connectionSpecific(name, f[i + 1]!) !== null) return 'connection-specific header in trailers';
  }
  return null;
}

function nameOk(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_OK[c] === 0) return false;
  }
  return true;
}

function valueOk(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13) return false;
  }
  return true;
}

/** RFC 9113 §8.2.2: fields that only mean something on an HTTP/1.1 connection, and `te` other than "trailers". */
function connectionSpecific(name: string, value: string): string | null {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      return 'connection-specific header';
    case 'te':
      return value.toLowerCase() === 'trailers' ? null : 'te other than trailers';
    default:
      return null;
  }
}

function contentLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
