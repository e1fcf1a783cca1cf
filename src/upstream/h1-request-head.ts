/**
 * The upstream client's request head and body framing, over the codec's writer (src/http/h1/serialize.ts, which
 * checks every name and value: a CR or LF would let one request carry another). Here: the framing header the body
 * needs, added to the head without touching the exchange's header object (it is shared by every attempt), and a
 * refusal as null, for the client to end the attempt with.
 */
import type { OutHeaders } from '../http/headers.js';
import { InvalidHeaderError, lastChunk, requestHead, type CheckedValues } from '../http/h1/serialize.js';

/** How the body is framed on the wire. */
export const enum Framing {
  /** No body and no length header (GET without a body). */
  None,
  /** The headers carry Content-Length (as the downstream sent it, or added for a Buffer body). */
  Length,
  /** Transfer-Encoding: chunked is added: a streamed body of unknown length, or one that ends with trailers. */
  Chunked,
}

/** The head, or null when a field cannot be written. `extraLength`: a Content-Length to add (-1: none). `checked`:
 * values known valid (serialize.ts CheckedValues). */
export function upstreamRequestHead(
  method: string,
  path: string,
  headers: OutHeaders,
  framing: Framing,
  extraLength: number,
  checked: CheckedValues | null = null,
): string | null {
  let head: string;
  try {
    head = requestHead(method, path, headers, 1, checked);
  } catch (err) {
    if (err instanceof InvalidHeaderError) return null;
    throw err;
  }
  if (extraLength >= 0) return head.slice(0, -2) + 'content-length: ' + extraLength + '\r\n\r\n';
  if (framing === Framing.Chunked) return head.slice(0, -2) + 'transfer-encoding: chunked\r\n\r\n';
  return head;
}

/** The last chunk with the trailer fields, or null when a trailer cannot be written. */
export function upstreamLastChunk(trailers: OutHeaders | null): string | null {
  try {
    return lastChunk(trailers);
  } catch (err) {
    if (err instanceof InvalidHeaderError) return null;
    throw err;
  }
}
