/**
 * The byte stream of an HTTP/2 CONNECT stream (plain CONNECT, or RFC 8441 extended CONNECT such as WebSocket over
 * HTTP/2) on meshctl's own codec, as the tunnel code reads and writes a socket: DATA frames in, DATA frames out with
 * the peer's flow control, END_STREAM as the end of each side, RST_STREAM as a destroy. `respond` sends the tunnel's
 * answer (HEADERS), as node's ServerHttp2Stream.respond does.
 */
import { Duplex } from 'node:stream';
import type { H2ServerConnection } from '../http/h2/connection.js';
import type { H2Stream } from '../http/h2/stream.js';

const CANCEL = 0x8;

export class H2TunnelIo extends Duplex {
  /** Bytes pushed past the reader's high-water mark: given back to the window when it reads on. */
  private held = 0;
  private writeDone: ((err?: Error | null) => void) | null = null;

  constructor(
    private readonly conn: H2ServerConnection,
    private readonly stream: H2Stream,
  ) {
    super({ allowHalfOpen: true });
  }

  /** The answer's header section (`:status` and the rest). */
  respond(headers: Record<string, string | string[] | number>): void {
    const f: string[] = [':status', String(headers[':status'] ?? 200)];
    for (const k in headers) {
      if (k === ':status') continue;
      const v = headers[k]!;
      if (typeof v === 'number') f.push(k, String(v));
      else if (typeof v === 'string') f.push(k, v);
      else for (const x of v) f.push(k, x);
    }
    this.conn.sendHeaders(this.stream, f, f.length >> 1, false);
  }

  /** Bytes (and the end) from the client. */
  received(chunk: Buffer, end: boolean): void {
    if (this.destroyed) return this.conn.giveBack(null, chunk.length);
    if (chunk.length > 0) {
      if (this.push(chunk)) this.conn.giveBack(this.stream, chunk.length);
      else this.held += chunk.length;
    }
    if (end) this.push(null);
  }

  /** The stream was reset or the connection closed. */
  streamGone(): void {
    if (!this.destroyed) this.destroy();
  }

  /** The peer's window reopened: the write that waited is done. */
  windowOpened(): void {
    const cb = this.writeDone;
    this.writeDone = null;
    cb?.();
  }

  override _read(): void {
    const n = this.held;
    if (n === 0) return;
    this.held = 0;
    this.conn.giveBack(this.stream, n);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.stream.closed) return cb();
    if (this.conn.sendData(this.stream, chunk, false)) cb();
    else this.writeDone = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.stream.closed) this.conn.sendData(this.stream, Buffer.alloc(0), true);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const s = this.stream;
    if (!s.closed) this.conn.reset(s, CANCEL);
    const w = this.writeDone;
    this.writeDone = null;
    w?.();
    cb(err);
  }
}
