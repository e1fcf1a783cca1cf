/**
 * An HTTP/1.1 request head as one string (one write on the socket), and the chunked framing of a request body. The
 * headers come from the downstream request (already through a parser's checks) and from the route's mutations, so
 * each field is checked here once more: a name that is not a token or a value with CR, LF or NUL would let one
 * request carry another (request splitting); such a request is refused before anything is written.
 */
import type { OutHeaders } from '../http/headers.js';

/** How the body is framed on the wire. */
export const enum Framing {
  /** No body and no length header (GET without a body). */
  None,
  /** The headers carry Content-Length (as the downstream sent it, or added for a Buffer body). */
  Length,
  /** Transfer-Encoding: chunked is added: a streamed body of unknown length, or one that ends with trailers. */
  Chunked,
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

/** The head, or null when a header cannot be written safely. `extraLength`: a Content-Length to add (-1: none). */
export function requestHead(method: string, path: string, headers: OutHeaders, framing: Framing, extraLength: number): string | null {
  if (BAD_VALUE.test(path) || path.includes(' ') || !TOKEN.test(method)) return null;
  let head = method + ' ' + path + ' HTTP/1.1\r\n';
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (!TOKEN.test(k)) return null;
    if (typeof v === 'string') {
      if (BAD_VALUE.test(v)) return null;
      head += k + ': ' + v + '\r\n';
    } else {
      for (let i = 0; i < v.length; i++) {
        if (BAD_VALUE.test(v[i]!)) return null;
        head += k + ': ' + v[i] + '\r\n';
      }
    }
  }
  if (extraLength >= 0) head += 'content-length: ' + extraLength + '\r\n';
  if (framing === Framing.Chunked) head += 'transfer-encoding: chunked\r\n';
  return head + '\r\n';
}

/** The size line of one chunk (the data follows, then CRLF). */
export function chunkHeader(size: number): string {
  return size.toString(16) + '\r\n';
}

/** The last chunk, trailer fields, and the end of the message; null when a trailer cannot be written safely. */
export function lastChunk(trailers: OutHeaders | null): string | null {
  if (trailers === null) return '0\r\n\r\n';
  let out = '0\r\n';
  for (const k in trailers) {
    const v = trailers[k];
    if (v === undefined) continue;
    if (!TOKEN.test(k)) return null;
    for (const one of typeof v === 'string' ? [v] : v) {
      if (BAD_VALUE.test(one)) return null;
      out += k + ': ' + one + '\r\n';
    }
  }
  return out + '\r\n';
}
