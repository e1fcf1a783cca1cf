/**
 * The downstream request as the engine reads it: HTTP/1.1 and HTTP/2 requests through node's compatible objects,
 * whether it carries a body, its peer address, one header's value.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type DownReq = IncomingMessage | Http2ServerRequest;
export type DownRes = ServerResponse | Http2ServerResponse;

export function hasBody(req: DownReq): boolean {
  if (req.httpVersionMajor === 2) {
    return !(req as Http2ServerRequest).stream.endAfterHeaders;
  }
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** The peer's address. Under HTTP/2, `req.socket` is a Proxy made per stream, so the session's socket is read. */
export function peerAddress(req: DownReq): string | undefined {
  if (req.httpVersionMajor === 2) return (req as Http2ServerRequest).stream.session?.socket?.remoteAddress;
  return req.socket?.remoteAddress;
}

/** A request header by lower-case name, several values joined with ",". */
export function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}
