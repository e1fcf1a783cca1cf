/**
 * The downstream request and response as the engine reads and writes them: only what the engine uses, so that meshctl's
 * own HTTP/1.1 and HTTP/2 objects (h1-request.ts, h1-response.ts, h2-request.ts, h2-response.ts) and node's HTTP/2
 * compatibility objects (`--downstream-h2 node`) all satisfy them. Also: whether a
 * request carries a body, the stream its body arrives on, its peer address, one header's value.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { H2Request } from './h2-request.js';

export interface DownReq {
  readonly method?: string;
  /** The request-target; preflight writes back the normalised path. */
  url?: string;
  /** Lower-case names; a repeated header joined as node joins it (set-cookie an array, cookie with '; ', most with ', '). */
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  /** '1.0', '1.1' or '2.0'. */
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** The connection's socket (under HTTP/2, node's per-stream proxy of it). */
  readonly socket: Socket;
  /** Trailer fields of the body, once it has ended (lower-case names, as node's request objects have them). */
  readonly trailers?: Readonly<Record<string, string | string[] | undefined>>;
  /** The body's stream when it is not the request object itself (meshctl's HTTP/1.1 requests): see requestBody(). */
  readonly body?: Readable | null;
}

export interface DownRes {
  writeHead(status: number, headers?: Record<string, string | string[]>): unknown;
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer): unknown;
  addTrailers(trailers: Record<string, string>): void;
  /** An interim `100 Continue` (Expect: 100-continue answered before the final response). */
  writeContinue(): void;
  /** HTTP/1.1: false makes this response the connection's last (`Connection: close`). */
  shouldKeepAlive?: boolean;
  readonly headersSent: boolean;
  /** node's HTTP/1.1 response: the head waits for the first body bytes while corked. */
  cork?(): void;
  uncork?(): void;
  readonly writableCorked?: number;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

export function hasBody(req: DownReq): boolean {
  // meshctl's HTTP/1.1 requests know from their framing (a `Content-Length: 00` has no body).
  if (req.body !== undefined) return req.body !== null;
  if (req.httpVersionMajor === 2) {
    return !(req as Http2ServerRequest).stream.endAfterHeaders;
  }
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** The stream a request's body arrives on: node's request objects are their own body stream. */
export function requestBody(req: DownReq): Readable {
  return req.body ?? (req as unknown as Readable);
}

/** The peer's address. */
export function peerAddress(req: DownReq): string | undefined {
  return connectionSocket(req)?.remoteAddress;
}

/** The connection's socket. Under node's HTTP/2, `req.socket` is a Proxy made per stream, so the session's is read;
 * meshctl's own HTTP/2 requests carry the connection's socket itself. */
export function connectionSocket(req: DownReq): Socket | undefined {
  if (req.httpVersionMajor === 2 && !(req instanceof H2Request)) return (req as Http2ServerRequest).stream.session?.socket ?? undefined;
  return req.socket ?? undefined;
}

/** Ends the client's side of a request at once: the HTTP/2 stream reset (a tunnel's stream destroyed), an HTTP/1.1
 * socket destroyed. */
export function destroyDownstream(req: DownReq): void {
  if (req instanceof H2Request) {
    if (req.tunnelIo !== null) req.tunnelIo.destroy();
    else if (!req.stream.closed) req.conn.reset(req.stream, 0x8 /* CANCEL */);
  } else if (req.httpVersionMajor === 2) (req as Http2ServerRequest).stream.destroy();
  else req.socket.destroy();
}

/** A request header by lower-case name, several values joined with ",". */
export function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}
