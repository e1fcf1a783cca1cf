/**
 * A downstream HTTP/2 response of meshctl's own codec (a DownRes), and the owner of its stream: the header section is
 * held until the first body bytes or the end, so a response without a body is one HEADERS frame with END_STREAM and
 * one with a body leaves as HEADERS + DATA in the connection's one write of the turn. Trailers end the stream as a
 * HEADERS frame. A response to HEAD, a 204 or a 304 has no body. Connection-specific headers are dropped (RFC 9113
 * §8.2.2; Envoy's codec never sends them).
 */
import type { H2ServerConnection } from '../http/h2/connection.js';
import type { H2Stream, H2StreamOwner } from '../http/h2/stream.js';
import type { DownRes } from './downstream.js';
import type { H2Request } from './h2-request.js';
import { httpDate } from '../http/date.js';
import { ResponseEvents } from './response-events.js';

const EMPTY = Buffer.alloc(0);
type Fields = Readonly<Record<string, string | readonly string[] | undefined>>;

export class H2Response extends ResponseEvents implements DownRes, H2StreamOwner {
  private head: string[] | null = null;
  private headWritten = false;
  private bodyless: boolean;
  private ended = false;
  private continued = false;
  private trailers: Fields | null = null;

  constructor(
    private readonly conn: H2ServerConnection,
    private readonly stream: H2Stream,
    private readonly req: H2Request,
  ) {
    super();
    this.bodyless = req.method === 'HEAD';
  }

  get headersSent(): boolean {
    return this.head !== null;
  }

  get finished(): boolean {
    return this.ended;
  }

  writeHead(status: number, headers?: Record<string, string | string[]>): this {
    if (this.head !== null) throw new Error('response head already written');
    const f: string[] = [':status', String(status)];
    let date = false;
    const bodyless = status === 204 || status === 304;
    if (headers !== undefined) {
      for (const k in headers) {
        const v = headers[k];
        if (v === undefined || k.charCodeAt(0) === 58 /* : */ || connectionSpecific(k)) continue;
        if (bodyless && k === 'content-length') continue;
        if (k === 'date') date = true;
        if (typeof v === 'string') f.push(k, checked(k, v));
        else for (let i = 0; i < v.length; i++) f.push(k, checked(k, v[i]!));
      }
    }
    // node's HTTP/2 server adds Date as its HTTP/1.1 one does; so does Envoy.
    if (!date) f.push('date', httpDate());
    if (bodyless) this.bodyless = true;
    this.head = f;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.ended || this.stream.closed) return true;
    if (this.head === null) this.writeHead(200);
    this.sendHead(false);
    if (this.bodyless || chunk.length === 0) return true;
    return this.conn.sendData(this.stream, chunk, false);
  }

  end(chunk?: Buffer): this {
    if (this.ended) return this;
    if (this.head === null) this.writeHead(200);
    this.ended = true;
    const s = this.stream;
    if (!s.closed) {
      const data = chunk !== undefined && chunk.length > 0 && !this.bodyless ? chunk : EMPTY;
      const t = this.trailers;
      if (t !== null) {
        this.sendHead(false);
        if (data.length > 0) this.conn.sendData(s, data, false);
        const f = trailerFields(t);
        if (f.length > 0) this.conn.sendTrailers(s, f, f.length >> 1);
        else this.conn.sendData(s, EMPTY, true);
      } else if (!this.headWritten && data.length === 0) this.sendHead(true);
      else {
        this.sendHead(false);
        this.conn.sendData(s, data, true);
      }
    }
    // The engine finishes its exchange right after end(): 'close' comes after that, as node's does.
    process.nextTick(emitClose, this);
    return this;
  }

  /** An interim `100 Continue` HEADERS frame, at most once and only before the final head. */
  writeContinue(): void {
    if (this.continued || this.head !== null || this.stream.closed) return;
    this.continued = true;
    this.conn.sendHeaders(this.stream, CONTINUE, 1, false);
  }

  addTrailers(trailers: Fields): void {
    this.trailers = trailers;
  }

  /** RST_STREAM (a response that cannot be completed). */
  reset(code: number): void {
    if (!this.stream.closed) this.conn.reset(this.stream, code);
  }

  private sendHead(end: boolean): void {
    if (this.headWritten) return;
    this.headWritten = true;
    const f = this.head!;
    this.conn.sendHeaders(this.stream, f, f.length >> 1, end);
  }

  // ---- H2StreamOwner ----
  streamData(chunk: Buffer, end: boolean): void {
    this.req.data(chunk, end);
  }

  streamTrailers(fields: string[]): void {
    this.req.trailersArrived(fields);
  }

  streamReset(): void {
    // 'close' first: the exchange lets go of the request body (and its error listener) before the body fails, so the
    // failure reaches only a reader still listening.
    this.closed();
    this.req.aborted();
  }

  streamWritable(): void {
    this.req.tunnelIo?.windowOpened();
    this.drained();
  }
}

const CONTINUE = [':status', '100'];

function emitClose(res: H2Response): void {
  res.closed();
}

function connectionSpecific(k: string): boolean {
  return k === 'connection' || k === 'keep-alive' || k === 'proxy-connection' || k === 'transfer-encoding' || k === 'upgrade';
}

/** A value with CR, LF or NUL cannot be sent (RFC 9113 §8.2.1): refused, as node refuses it. */
function checked(name: string, v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) throw new TypeError(`invalid character in header ${name}`);
  }
  return v;
}

function trailerFields(t: Fields): string[] {
  const f: string[] = [];
  for (const k in t) {
    const v = t[k];
    if (v === undefined || k.charCodeAt(0) === 58 || connectionSpecific(k)) continue;
    if (typeof v === 'string') f.push(k, checked(k, v));
    else for (let i = 0; i < v.length; i++) f.push(k, checked(k, v[i]!));
  }
  return f;
}
