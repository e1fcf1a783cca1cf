/**
 * A downstream HTTP/2 request of meshctl's own codec (src/http/h2) as the engine reads it (a DownReq): the header
 * object in node's shape (pseudo-headers included, as node's HTTP/2 request objects have them), a body stream only
 * when the stream did not end with its headers, and for CONNECT streams the tunnel's byte stream instead of a body.
 * Body bytes are given back to the peer's flow-control window as the body's reader takes them, so a slow upstream
 * holds the client back.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { H2ServerConnection } from '../http/h2/connection.js';
import type { RequestPseudo } from '../http/h2/request-fields.js';
import type { H2Stream } from '../http/h2/stream.js';
import type { DownReq } from './downstream.js';
import { H1Body, headersOf, type BodySource } from './h1-request.js';
import { H2TunnelIo } from './h2-tunnel-io.js';

const EMPTY_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

export class H2Request implements DownReq, BodySource {
  readonly method: string;
  url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  /** Request body; null when the headers ended the stream (or for CONNECT: see tunnelIo). */
  readonly body: H1Body | null;
  trailers: IncomingHttpHeaders = EMPTY_TRAILERS;
  /** CONNECT (plain or extended): the stream's bytes both ways, for the tunnel. */
  readonly tunnelIo: H2TunnelIo | null;
  /** Body bytes pushed to a reader that had asked to stop: given back to the window when it reads on. */
  private held = 0;

  constructor(
    readonly conn: H2ServerConnection,
    readonly stream: H2Stream,
    readonly rawHeaders: string[],
    pseudo: RequestPseudo,
    endStream: boolean,
    readonly socket: Socket,
  ) {
    this.method = pseudo.method;
    // A plain CONNECT has no :path (RFC 9113 §8.5).
    this.url = pseudo.path === '' ? undefined : pseudo.path;
    this.headers = headersOf(rawHeaders);
    const connect = pseudo.method === 'CONNECT';
    this.tunnelIo = connect ? new H2TunnelIo(conn, stream) : null;
    this.body = endStream || connect ? null : new H1Body(this);
  }

  /** Body bytes from the stream. */
  data(chunk: Buffer, end: boolean): void {
    const io = this.tunnelIo;
    if (io !== null) return io.received(chunk, end);
    const body = this.body;
    if (body === null || body.destroyed) return this.conn.giveBack(null, chunk.length);
    if (chunk.length > 0) {
      body.bytes += chunk.length;
      if (body.push(chunk)) this.conn.giveBack(this.stream, chunk.length);
      else this.held += chunk.length;
    }
    if (end) body.push(null);
  }

  /** Request trailers: set before the body's end is pushed (whoever reads them does so at the end). */
  trailersArrived(f: string[]): void {
    this.trailers = headersOf(f);
    if (this.tunnelIo !== null) return this.tunnelIo.received(Buffer.alloc(0), true);
    this.body?.push(null);
  }

  /** The stream was reset or the connection closed. */
  aborted(): void {
    const body = this.body;
    if (body !== null && !body.readableEnded && !body.destroyed) body.destroy(new Error('aborted'));
    this.tunnelIo?.streamGone();
  }

  // ---- BodySource ----
  bodyWanted(): void {
    const n = this.held;
    if (n === 0) return;
    this.held = 0;
    this.conn.giveBack(this.stream, n);
  }
}
