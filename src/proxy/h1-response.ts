/**
 * A downstream HTTP/1.1 response of meshctl's own codec (a DownRes): the head is held until the first body bytes (or
 * the end) so that head and body leave in one write; the body is framed by the Content-Length the engine gives, or
 * chunked when it gives none; a response to HEAD, a 204 or a 304 has no body. `Connection: close` goes on the last
 * response of a connection (the client's `Connection: close`, HTTP/1.0 without keep-alive, a drain, or the engine's
 * own decision), as Envoy's HTTP/1.1 codec writes it.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { DownRes } from './downstream.js';
import { httpDate } from '../http/date.js';
import { ResponseEvents } from './response-events.js';

/** What a response tells its connection. */
export interface ResponseOwner {
  /** The response has been written whole (the socket holds it). */
  responseEnded(res: H1Response): void;
}

/** Writes below this size are copied into one buffer with the head; larger ones go as a corked second write. */
const COALESCE_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = '0\r\n\r\n';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class H1Response extends ResponseEvents implements DownRes {
  shouldKeepAlive: boolean;
  private status = 200;
  private head: string | null = null;
  private headWritten = false;
  private chunked = false;
  /** No body may follow the head (HEAD, 204, 304, 1xx). */
  private bodyless: boolean;
  private ended = false;
  private continued = false;
  private trailers: Readonly<Record<string, string | readonly string[] | undefined>> | null = null;

  constructor(
    readonly socket: Socket,
    private readonly owner: ResponseOwner,
    private readonly versionMinor: number,
    keepAlive: boolean,
    isHead: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
    this.bodyless = isHead;
  }

  get headersSent(): boolean {
    return this.head !== null;
  }

  get finished(): boolean {
    return this.ended;
  }

  writeHead(status: number, headers?: Record<string, string | string[]>): this {
    if (this.head !== null) throw new Error('response head already written');
    // Nothing is kept until the head is whole: a header refused below leaves the response as it was (the engine then
    // answers with a local reply instead).
    const bodyless = this.bodyless || status === 204 || status === 304 || status < 200;
    let keepAlive = this.shouldKeepAlive;
    let h = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let length = false;
    let connection = false;
    let date = false;
    if (headers !== undefined) {
      for (const k in headers) {
        const v = headers[k];
        if (v === undefined) continue;
        const c0 = k.charCodeAt(0);
        // Framing and connection headers are the codec's, checked by name only when the first letter could match.
        if (c0 === 99 /* c */) {
          if (k === 'content-length') length = true;
          else if (k === 'connection') {
            connection = true;
            if (typeof v === 'string' && v.toLowerCase() === 'close') keepAlive = false;
          }
        } else if (c0 === 116 /* t */ && k === 'transfer-encoding') continue;
        else if (c0 === 100 /* d */ && k === 'date') date = true;
        if (typeof v === 'string') h += headerLine(k, v);
        else for (let i = 0; i < v.length; i++) h += headerLine(k, v[i]!);
      }
    }
    if (!date) h += `date: ${httpDate()}\r\n`;
    let chunked = false;
    if (!length && !bodyless) {
      if (this.versionMinor === 1) {
        chunked = true;
        h += 'transfer-encoding: chunked\r\n';
      } else keepAlive = false; // HTTP/1.0: the body ends with the connection
    }
    if (!connection) {
      if (!keepAlive) h += 'connection: close\r\n';
      else if (this.versionMinor === 0) h += 'connection: keep-alive\r\n';
    }
    this.status = status;
    this.bodyless = bodyless;
    this.chunked = chunked;
    this.shouldKeepAlive = keepAlive;
    this.head = h + '\r\n';
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.ended) return true;
    if (this.head === null) this.writeHead(200);
    const sock = this.socket;
    if (sock.destroyed) return true;
    if (this.bodyless || chunk.length === 0) {
      if (!this.headWritten) return this.flushHead('');
      return true;
    }
    if (this.chunked) {
      const size = chunk.length.toString(16) + '\r\n';
      if (!this.headWritten) {
        this.headWritten = true;
        if (chunk.length < COALESCE_BYTES) return sock.write(concat(this.head! + size, chunk, '\r\n'));
        sock.cork();
        sock.write(this.head! + size, 'latin1');
      } else {
        if (chunk.length < COALESCE_BYTES) return sock.write(concat(size, chunk, '\r\n'));
        sock.cork();
        sock.write(size, 'latin1');
      }
      sock.write(chunk);
      const ok = sock.write(CRLF);
      sock.uncork();
      return ok;
    }
    if (!this.headWritten) {
      this.headWritten = true;
      if (chunk.length < COALESCE_BYTES) return sock.write(concat(this.head!, chunk, ''));
      sock.cork();
      sock.write(this.head!, 'latin1');
      const ok = sock.write(chunk);
      sock.uncork();
      return ok;
    }
    return sock.write(chunk);
  }

  end(chunk?: Buffer): this {
    if (this.ended) return this;
    if (this.head === null) this.writeHead(this.status);
    if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    this.ended = true;
    const sock = this.socket;
    if (!sock.destroyed) {
      let tail = '';
      if (this.chunked && !this.bodyless) tail = this.trailers === null ? LAST_CHUNK : lastChunkWith(this.trailers);
      if (!this.headWritten) this.flushHead(tail);
      else if (tail !== '') sock.write(tail, 'latin1');
    }
    this.owner.responseEnded(this);
    // The engine finishes its exchange right after end(): 'close' must come after that, as node's does.
    process.nextTick(emitClose, this);
    return this;
  }

  /** `100 Continue`, at most once and only before the final head. */
  writeContinue(): void {
    if (this.continued || this.head !== null || this.socket.destroyed) return;
    this.continued = true;
    this.socket.write(CONTINUE, 'latin1');
  }

  /** Trailers for the end of a chunked body (the engine passes them only where Envoy's HTTP/1 codec sends them:
   * http_protocol_options.enable_trailers); a body framed by Content-Length has nowhere to carry them. */
  addTrailers(trailers: Readonly<Record<string, string | readonly string[] | undefined>>): void {
    this.trailers = trailers;
  }

  private flushHead(tail: string): boolean {
    this.headWritten = true;
    return this.socket.write(tail === '' ? this.head! : this.head! + tail, 'latin1');
  }
}

function emitClose(res: H1Response): void {
  res.closed();
}

/** One header line. A value with CR or LF would split the head (header injection): refused, as node refuses it. */
function headerLine(name: string, value: string): string {
  if (value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1) throw new TypeError(`invalid character in header ${name}`);
  return `${name}: ${value}\r\n`;
}

function lastChunkWith(trailers: Readonly<Record<string, string | readonly string[] | undefined>>): string {
  let s = '0\r\n';
  for (const k in trailers) {
    const v = trailers[k];
    if (v === undefined) continue;
    if (typeof v === 'string') s += headerLine(k, v);
    else for (let i = 0; i < v.length; i++) s += headerLine(k, v[i]!);
  }
  return s + '\r\n';
}

function concat(head: string, chunk: Buffer, tail: string): Buffer {
  const hl = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(hl + chunk.length + tail.length);
  out.write(head, 0, 'latin1');
  chunk.copy(out, hl);
  if (tail.length > 0) out.write(tail, hl + chunk.length, 'latin1');
  return out;
}
