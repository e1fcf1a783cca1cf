/**
 * Byte class tables for the HTTP/1.1 parser: one Uint8Array lookup per byte instead of a regex or a chain of
 * comparisons. Grammar from RFC 9110 §5.6.2 (token), §5.5 (field-value) and RFC 9112 §3.2 (request-target).
 */

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar: method and field-name characters. */
export const TOKEN = table((c) => isDigit(c) || isAlpha(c) || TCHAR_PUNCT.includes(String.fromCharCode(c)));

/** field-content: HTAB, SP, VCHAR and obs-text. Everything else (NUL, CR, LF, other controls, DEL) is refused, as
 * Envoy's header value check (HeaderUtility::headerValueIsValid, nghttp2_check_header_value's table) and llhttp
 * both do. */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80);

/** request-target characters: visible ASCII only. llhttp (node 20) refuses obs-text, HTAB and DEL in the target,
 * and so do we. */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e);

/** The first character of a URI scheme, and the others (RFC 3986 §3.1). */
export const ALPHA = table(isAlpha);
export const SCHEME_REST = table((c) => isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e);

/** Chunk-extension bytes after the `;` (tolerated, not interpreted): like a field value. */
export const CHUNK_EXT = FIELD_VALUE;

/** Hex digit value, or 255 for a non-hex byte. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HT = 9;
export const COLON = 58;
