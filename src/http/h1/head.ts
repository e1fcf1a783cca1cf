/**
 * A complete head (start line, header fields, final CRLF) or a trailer section, already delimited by the parser,
 * read in one pass: bytes are read from the Buffer through the byte-class tables, and the block is decoded once into
 * a latin1 string (one native call) of which names and values are substrings (a Buffer-to-string call per field
 * would cost several times more). Line endings are CRLF: the parser found the block by its CRLF CRLF, and a bare LF
 * or bare CR inside it is refused here.
 */
import { ALPHA, COLON, CR, FIELD_VALUE, HT, LF, SCHEME_REST, SP, TARGET, TOKEN } from './chars.js';
import {
  bodyDisallowed,
  codecError,
  contentLengthAndChunked,
  invalidCharacters,
  invalidTransferEncoding,
  invalidUrl,
  tooManyHeaders,
} from './errors.js';
import type { H1Head, H1Kind } from './types.js';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const CONTENT_LENGTH = bytes('content-length');
const TRANSFER_ENCODING = bytes('transfer-encoding');
const CONNECTION = bytes('connection');
const UPGRADE = bytes('upgrade');
const EXPECT = bytes('expect');
/** "HTTP/1." */
const HTTP_1 = bytes('HTTP/1.');

/** Case-insensitive compare of a token in `b` with a lowercase literal. `| 0x20` folds only ASCII letters here:
 * every other byte of a token maps to a byte no literal contains. */
function nameIs(b: Buffer, start: number, len: number, lit: Uint8Array): boolean {
  if (len !== lit.length) return false;
  for (let i = 0; i < len; i++) if ((b[start + i] | 0x20) !== lit[i]) return false;
  return true;
}

/** What the framing and connection fields of a head said. */
interface Facts {
  contentLength: number;
  transferEncoding: string | null;
  close: boolean;
  keepAlive: boolean;
  connectionUpgrade: boolean;
  upgrade: string | null;
  expectContinue: boolean;
}

/** Reads "HTTP/1.0" or "HTTP/1.1" at `i`; returns the minor version. Envoy's codec speaks only these two over
 * HTTP/1 (llhttp would also take "HTTP/2.0" or "HTTP/0.9" heads: a deliberate difference). */
function version(b: Buffer, i: number): number {
  for (let k = 0; k < 7; k++) if (b[i + k] !== HTTP_1[k]) throw codecError('bad HTTP version');
  const minor = b[i + 7] - 0x30;
  if (minor !== 0 && minor !== 1) throw codecError('bad HTTP version');
  return minor;
}

/**
 * The request-target's form (RFC 9112 §3.2): origin-form ("/..."), absolute-form ("scheme://..."), authority-form
 * for CONNECT, "*" for OPTIONS. Envoy answers anything else 400 http1.invalid_url (codec_impl.cc handlePath: a
 * target not starting with "/" must parse as an absolute URL, or an authority on CONNECT; "*" only on OPTIONS).
 * llhttp takes "*" with any method and "/x" on CONNECT: Envoy is stricter, and so are we.
 */
function targetForm(method: string, h: string, s: number, e: number): void {
  const c = h.charCodeAt(s);
  if (method === 'CONNECT') {
    if (c === 0x2f /* / */ || c === 0x2a /* * */) throw invalidUrl('CONNECT needs host:port');
    return;
  }
  if (c === 0x2f) return;
  if (c === 0x2a) {
    if (e - s === 1 && method === 'OPTIONS') return;
    throw invalidUrl('"*" is only for OPTIONS');
  }
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" and a non-empty authority.
  let i = s;
  while (i < e && (ALPHA[h.charCodeAt(i)] === 1 || (i > s && SCHEME_REST[h.charCodeAt(i)] === 1))) i++;
  if (i === s || !h.startsWith('://', i) || i + 3 >= e || h.charCodeAt(i + 3) === 0x2f) {
    throw invalidUrl('request-target is not origin, absolute or authority form');
  }
}

/** Parses the head in b[start, end). `end` is just past the CRLF of the empty line. */
export function parseHead(kind: H1Kind, b: Buffer, start: number, end: number, maxHeaders: number): H1Head {
  // Bytes are read from b (typed-array loads are V8's fastest path), strings cut from h: h[k] is b[o + k].
  const h = b.toString('latin1', start, end);
  const o = start;
  let method = '';
  let target = '';
  let status = 0;
  let reason = '';
  let minor: number;
  let i = 0;
  if (kind === 'request') {
    // request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3): single spaces, as Envoy's
    // strict codec reads it (llhttp also takes several spaces: a deliberate difference).
    while (TOKEN[b[o + i]] === 1) i++;
    if (i === 0 || b[o + i] !== SP) throw codecError('bad method');
    method = h.slice(0, i);
    const t = ++i;
    while (TARGET[b[o + i]] === 1) i++;
    const c = b[o + i];
    if (c === SP && (i === t || b[o + i + 1] === SP)) throw codecError('more than one SP in the request line');
    if (c === CR && i > t) throw codecError('bad HTTP version'); // an HTTP/0.9 request line
    if (i === t || c !== SP) throw codecError('bad request-target');
    target = h.slice(t, i);
    targetForm(method, h, t, i);
    minor = version(b, o + i + 1);
    i += 9;
  } else {
    // status-line = HTTP-version SP 3DIGIT SP [reason-phrase] CRLF (RFC 9112 §4); the SP before an empty reason
    // may be missing, as llhttp accepts.
    minor = version(b, o + i);
    i += 8;
    if (b[o + i] !== SP) throw codecError('bad status line');
    const d0 = b[o + i + 1] - 0x30;
    const d1 = b[o + i + 2] - 0x30;
    const d2 = b[o + i + 3] - 0x30;
    // 100-999, as Envoy's header validator takes a status (envoy_default/header_validator.cc, validateStatusHeader).
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw codecError('bad status code');
    status = d0 * 100 + d1 * 10 + d2;
    i += 4;
    if (b[o + i] === SP) {
      // The reason phrase is only informative (RFC 9112 §4: a client should ignore it); llhttp takes any byte but
      // CR and LF in it, and so do we. A writer that forwards it must check it (serialize.ts does).
      const r = ++i;
      for (let c = b[o + i]; c !== CR; c = b[o + ++i]) if (c === LF) throw codecError('bare LF line ending');
      reason = h.slice(r, i);
    }
  }
  if (b[o + i] === CR && b[o + i + 1] !== LF) throw codecError('bare CR in the start line'); // RFC 9112 §2.2
  if (b[o + i] !== CR) throw codecError('bad start line');
  i += 2;

  const facts: Facts = {
    contentLength: -1,
    transferEncoding: null,
    close: false,
    keepAlive: false,
    connectionUpgrade: false,
    upgrade: null,
    expectContinue: false,
  };
  const rawHeaders: string[] = [];
  readFields(b, o, h, i, rawHeaders, facts, maxHeaders);

  const connect = method === 'CONNECT';
  if (connect) {
    if (facts.contentLength > 0) throw bodyDisallowed();
    if (facts.transferEncoding !== null) throw invalidTransferEncoding('Transfer-Encoding on CONNECT');
  }
  let chunked = false;
  if (facts.transferEncoding !== null) {
    if (facts.contentLength !== -1) throw contentLengthAndChunked();
    // Envoy takes exactly `chunked` (any case) and nothing else: "gzip, chunked" is a 501 there, where llhttp
    // would accept it (a deliberate difference).
    if (facts.transferEncoding.trim().toLowerCase() !== 'chunked') {
      throw invalidTransferEncoding(`Transfer-Encoding: ${facts.transferEncoding}`);
    }
    chunked = true;
  }
  const keepAlive = minor === 1 ? !facts.close : facts.keepAlive && !facts.close;
  let upgrade: boolean;
  if (kind === 'request') {
    // An h2c upgrade is not an upgrade for Envoy: its codec drops the h2c headers and serves the request.
    upgrade =
      connect ||
      (facts.connectionUpgrade && facts.upgrade !== null && facts.upgrade.trim().toLowerCase() !== 'h2c');
  } else {
    upgrade = status === 101;
  }
  return {
    method,
    target,
    status,
    reason,
    versionMinor: minor,
    rawHeaders,
    contentLength: chunked ? -1 : facts.contentLength,
    chunked,
    keepAlive,
    upgrade,
    expectContinue: kind === 'request' && facts.expectContinue,
  };
}

/** Reads "digits" as a Content-Length. */
function contentLengthOf(b: Buffer, o: number, s: number, e: number): number {
  if (s === e) throw codecError('empty Content-Length');
  let n = 0;
  for (let k = s; k < e; k++) {
    const d = b[o + k] - 0x30;
    if (d < 0 || d > 9) throw codecError('Content-Length is not a number');
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER) throw codecError('Content-Length too large');
  }
  return n;
}

/** Connection: a comma-separated list of case-insensitive tokens (RFC 9110 §7.6.1). */
function connectionTokens(value: string, facts: Facts): void {
  // The usual single tokens, without splitting.
  if (value === 'keep-alive' || value === 'Keep-Alive') {
    facts.keepAlive = true;
    return;
  }
  if (value === 'close' || value === 'Close') {
    facts.close = true;
    return;
  }
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === 'close') facts.close = true;
    else if (t === 'keep-alive') facts.keepAlive = true;
    else if (t === 'upgrade') facts.connectionUpgrade = true;
  }
}

/** Reads the field lines of a trailer section in b[start, end) (ending with its empty line) into `raw`. */
export function parseFields(b: Buffer, start: number, end: number, raw: string[], maxFields: number): void {
  readFields(b, start, b.toString('latin1', start, end), 0, raw, null, maxFields);
}

/**
 * Reads field lines from h[i] to the empty line, appending [name, value] to `raw`. With `facts` (a head), the
 * framing and connection fields are interpreted; without (trailers), fields are only checked.
 */
function readFields(
  b: Buffer,
  o: number,
  h: string,
  i: number,
  raw: string[],
  facts: Facts | null,
  maxFields: number,
): void {
  for (;;) {
    const c = b[o + i];
    if (c === CR) {
      if (b[o + i + 1] === LF) return; // the empty line
      throw codecError('bare CR at the start of a field line');
    }
    const n = i;
    while (TOKEN[b[o + i]] === 1) i++;
    if (b[o + i] !== COLON) {
      const d = b[o + i];
      if (i === n && (c === SP || c === HT)) throw codecError('obsolete line folding'); // RFC 9112 §5.2
      if (d === SP || d === HT) throw codecError('whitespace between field name and colon'); // RFC 9112 §5.1
      throw codecError('invalid character in field name');
    }
    if (i === n) throw codecError('empty field name');
    const nameEnd = i++;
    let d = b[o + i];
    while (d === SP || d === HT) d = b[o + ++i];
    const vs = i;
    while (FIELD_VALUE[d] === 1) d = b[o + ++i];
    if (d === LF) throw codecError('bare LF line ending');
    if (d !== CR) throw invalidCharacters('control character in field value');
    if (b[o + i + 1] !== LF) throw codecError('bare CR in field value');
    let ve = i;
    for (d = b[o + ve - 1]; ve > vs && (d === SP || d === HT); d = b[o + --ve - 1]);
    i += 2;
    const name = h.slice(n, nameEnd);
    const value = h.slice(vs, ve);
    raw.push(name, value);
    if (raw.length > 2 * maxFields) throw tooManyHeaders(maxFields);
    if (facts === null) continue;
    const len = nameEnd - n;
    // Only names of these lengths can be framing or connection fields: one length test for most fields.
    if (len === 14 && nameIs(b, o + n, len, CONTENT_LENGTH)) {
      // A second Content-Length is refused even when it repeats the first: Envoy's codec does so with both its
      // parsers (envoyproxy/envoy#28931 made Balsa match http-parser), and so does llhttp. RFC 9110 §8.6 allows it.
      if (facts.contentLength !== -1) throw codecError('more than one Content-Length');
      facts.contentLength = contentLengthOf(b, o, vs, ve);
    } else if (len === 17 && nameIs(b, o + n, len, TRANSFER_ENCODING)) {
      facts.transferEncoding = facts.transferEncoding === null ? value : `${facts.transferEncoding},${value}`;
    } else if (len === 10 && nameIs(b, o + n, len, CONNECTION)) {
      connectionTokens(value, facts);
    } else if (len === 7 && nameIs(b, o + n, len, UPGRADE)) {
      facts.upgrade = value;
    } else if (len === 6 && nameIs(b, o + n, len, EXPECT)) {
      if (value.toLowerCase() === '100-continue') facts.expectContinue = true;
    }
  }
}
