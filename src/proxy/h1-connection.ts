/**
 * One downstream HTTP/1.1 connection on meshctl's own codec (src/http/h1): a request parser over the socket's bytes,
 * one request and one response object per request handed to the engine, keep-alive and pipelining (the parser stops
 * after a complete request while its response is in flight, and goes on when it is written), request body flow
 * control, `Expect: 100-continue`, the connection's clocks (request_headers_timeout, idle_timeout), a drain, and
 * upgrades/CONNECT handed to the tunnel code with the bytes that followed their head.
 *
 * Nothing per request is a closure: the socket's listeners are made once per connection, timers get the connection
 * as their argument.
 */
import type { Socket } from 'node:net';
import { H1Parser } from '../http/h1/parser.js';
import type { H1Error, H1Handler, H1Head } from '../http/h1/types.js';
import type { ListenerRuntime } from './generation.js';
import { startConnectionClocks, type ClockedConnection } from './connection-lifetime.js';
import { H1Request, RefusedRequest, headersOf, type BodySource } from './h1-request.js';
import { H1Response, type ResponseOwner } from './h1-response.js';

/** What the connection asks of its listener. */
export interface H1Host {
  /** The listener's current runtime (a reload swaps it). */
  readonly lr: ListenerRuntime;
  /** A request (head parsed) for the engine. */
  h1Request(req: H1Request, res: H1Response): void;
  /** An upgrade or CONNECT: the socket now belongs to the tunnel; `rest` is what followed the head. */
  h1Tunnel(req: H1Request, res: H1Response, rest: Buffer): void;
  /** A request head the codec refuses: Envoy's local reply with `err.status` on `res`, then the connection closes. */
  h1Refused(req: RefusedRequest, res: H1Response, err: H1Error): void;
  /** The body of a request in flight is malformed: a reply straight to the socket, then the connection closes. */
  h1CodecError(sock: Socket, err: H1Error): void;
  /** request_headers_timeout ran out before a head was complete: 408 and close. */
  h1HeadersTimeout(sock: Socket): void;
  /** The listener is draining or closing: responses say `Connection: close`. */
  h1Draining(sock: Socket): boolean;
  /** The connection is over (the listener forgets it). */
  h1Closed(conn: H1Connection): void;
}

function headersTimeoutFired(conn: H1Connection): void {
  conn.headersTimedOut();
}
function endSocket(this: Socket): void {
  this.end();
}
function resumeLater(conn: H1Connection): void {
  conn.resumeParsing();
}

export class H1Connection implements H1Handler, BodySource, ResponseOwner, ClockedConnection {
  private readonly parser: H1Parser;
  /** Bytes received but not parsed yet (the parser paused). */
  private pending: Buffer | null = null;
  private req: H1Request | null = null;
  /** The response in flight; null when none is. */
  private res: H1Response | null = null;
  /** The current request has been parsed whole (or no request has begun): the next bytes are a new head. */
  private awaitingHead = true;
  /** The response ended before the request's body did: the rest of the body is read and dropped. */
  private bodyDropped = false;
  private inExecute = false;
  private socketPaused = false;
  private over = false;
  private draining = false;
  private tunnelled: H1Request | null = null;
  private headTimer: NodeJS.Timeout | undefined;
  /** The request body's reader wants more bytes (its stream is below its high-water mark). */
  private bodyWanted_ = true;
  /** The client half-closed: the response in flight is its last. */
  private peerGone = false;
  /** Requests begun on this connection (max_requests_per_connection). */
  private requests = 0;
  private durationTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly sock: Socket,
    private readonly host: H1Host,
    first: Buffer | null,
  ) {
    const lr = host.lr;
    this.parser = new H1Parser('request', { maxHeadBytes: lr.maxRequestHeadersBytes, maxHeaders: lr.maxHeadersCount }, this);
    sock.on('data', (b: Buffer) => this.received(b));
    sock.on('drain', () => this.res?.drained());
    sock.on('end', () => this.peerEnded());
    sock.on('close', () => this.socketClosed());
    sock.on('error', () => sock.destroy());
    // Past max_connection_duration the connection drains: closed when idle, else after the response in flight, which
    // says `Connection: close`.
    this.durationTimer = startConnectionClocks(sock, lr.hcm, lr.maxConnectionDurationMs, this);
    if (first !== null) this.received(first);
  }

  /** max_connection_duration has passed (counted in downstream_cx_max_duration_reached). */
  durationReached(): void {
    this.durationTimer = undefined;
    if (this.over) return;
    this.host.lr.stats.cx_max_duration_reached.value++;
    this.drain();
  }

  /** Ask the connection to go: now when idle, else after its response. */
  drain(): void {
    this.draining = true;
    if (this.isIdle()) this.sock.end();
    else if (this.res !== null && !this.res.headersSent) this.res.shouldKeepAlive = false;
  }

  /** No request in flight and no bytes of one received. */
  isIdle(): boolean {
    return this.res === null && this.awaitingHead && this.pending === null && this.tunnelled === null && this.headTimer === undefined;
  }

  private received(buf: Buffer): void {
    if (this.over) return;
    if (this.pending !== null || !this.canParse()) {
      this.pending = this.pending === null ? buf : Buffer.concat([this.pending, buf]);
      this.pauseSocket();
      return;
    }
    this.execute(buf);
  }

  private execute(buf: Buffer): void {
    if (this.awaitingHead && this.headTimer === undefined) {
      const ms = this.host.lr.requestHeadersTimeoutMs;
      if (ms > 0) this.headTimer = setTimeout(headersTimeoutFired, ms, this);
    }
    this.inExecute = true;
    const n = this.parser.execute(buf);
    this.inExecute = false;
    if (n < 0 || this.over) return;
    const tunnel = this.tunnelled;
    if (tunnel !== null) {
      this.tunnelled = null;
      return this.handOver(tunnel, n < buf.length ? buf.subarray(n) : EMPTY);
    }
    if (n < buf.length) {
      this.pending = buf.subarray(n);
      this.pauseSocket();
    }
    // The reason to pause may have gone while the parser ran (a response written at once): go on.
    if (this.canParse()) this.resume();
  }

  /** Whether the parser may take the next bytes. */
  private canParse(): boolean {
    if (this.over || this.tunnelled !== null) return false;
    // Pipelining: a complete request waits for its response before the next is read.
    if (this.awaitingHead) return this.res === null;
    // A body stream takes more only when its reader asked (readableLength is not yet updated inside _read()).
    return this.bodyWanted_ || this.bodyDropped || this.req === null || this.req.body === null;
  }

  private resume(): void {
    if (this.inExecute) return;
    while (this.pending !== null) {
      if (!this.canParse()) return;
      const buf = this.pending;
      this.pending = null;
      this.execute(buf);
      if (this.over || this.pending !== null) return;
    }
    if (this.socketPaused && this.canParse()) {
      this.socketPaused = false;
      this.sock.resume();
    }
  }

  private pauseSocket(): void {
    if (!this.socketPaused) {
      this.socketPaused = true;
      this.sock.pause();
    }
  }

  // ---- H1Handler ----
  onHead(head: H1Head): boolean {
    if (this.headTimer !== undefined) {
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
    this.awaitingHead = false;
    this.bodyDropped = false;
    this.bodyWanted_ = true;
    const sock = this.sock;
    const req = new H1Request(head, sock, this);
    let keepAlive = head.keepAlive && !head.upgrade && !this.draining && !this.host.h1Draining(sock);
    // Envoy's max_requests_per_connection: the request that reaches it is the connection's last.
    const maxRequests = this.host.lr.maxRequestsPerConnection;
    if (maxRequests > 0 && ++this.requests >= maxRequests) {
      if (this.requests === maxRequests) this.host.lr.stats.cx_max_requests_reached.value++;
      keepAlive = false;
    }
    const res = new H1Response(sock, this, head.versionMinor, keepAlive, head.method === 'HEAD');
    this.req = req;
    this.res = res;
    if (head.upgrade) {
      // The parser stops after this head; execute() hands the socket and the bytes after the head over.
      this.tunnelled = req;
      return true;
    }
    // Envoy's connection manager answers `Expect: 100-continue` itself before reading the body, and does not forward
    // the header (proxy_100_continue false, the default; http/headers.ts drops `expect`).
    if (head.expectContinue && head.versionMinor === 1 && req.body !== null && answersContinue(this.host.lr)) res.writeContinue();
    this.host.h1Request(req, res);
    return false;
  }

  onBody(chunk: Buffer): boolean {
    const body = this.req?.body;
    if (body === null || body === undefined || this.bodyDropped) return false;
    body.bytes += chunk.length;
    // The chunk is a view of a Buffer the socket handed over and nobody writes again: kept without a copy.
    if (body.push(chunk)) return false;
    this.bodyWanted_ = false;
    return true;
  }

  onComplete(trailers: string[] | null): boolean {
    const req = this.req;
    const body = req?.body;
    if (body !== null && body !== undefined && !this.bodyDropped) {
      // Set before the end is pushed: whoever reads them does so when the body has ended.
      if (trailers !== null && trailers.length > 0) req!.trailers = headersOf(trailers);
      body.push(null);
    }
    this.awaitingHead = true;
    if (this.res === null) {
      this.req = null;
      return false;
    }
    return true;
  }

  onError(err: H1Error): void {
    this.stopHeadTimer();
    const res = this.res;
    const body = this.req?.body;
    if (body !== null && body !== undefined && !body.readableEnded) body.destroy(new Error(err.reason));
    this.over = true;
    this.pending = null;
    if (res === null) {
      // A refused head: Envoy's local reply, counted and logged as a request (then the connection closes).
      const reply = new H1Response(this.sock, this, 1, false, false);
      this.res = reply;
      this.host.h1Refused(new RefusedRequest(this.sock), reply, err);
    } else if (res.headersSent) {
      // A response already under way cannot be followed by a reply: the connection just closes.
      this.sock.destroy();
    } else this.host.h1CodecError(this.sock, err);
  }

  // ---- BodySource ----
  bodyWanted(): void {
    this.bodyWanted_ = true;
    if (this.socketPaused || this.pending !== null) this.resume();
  }

  // ---- ResponseOwner ----
  responseEnded(res: H1Response): void {
    if (res !== this.res) return;
    this.res = null;
    if (!res.shouldKeepAlive || this.over) {
      // The last response: no more requests are read; the socket closes once the response is flushed.
      this.over = true;
      this.pending = null;
      this.sock.end();
      return;
    }
    if (this.awaitingHead) {
      this.req = null;
      if (this.draining) {
        this.over = true;
        this.sock.end();
        return;
      }
    } else this.bodyDropped = true;
    if (this.peerGone && this.awaitingHead && this.pending === null) {
      this.over = true;
      this.sock.end();
      return;
    }
    // A pipelined request waiting in `pending` is parsed on the next tick: its exchange must not start inside the
    // engine's end() of this one (which logs and counts it after that call returns).
    if (this.pending !== null) process.nextTick(resumeLater, this);
    else this.resume();
  }

  /** Parse on after a deferral. */
  resumeParsing(): void {
    this.resume();
  }

  // ---- the socket's events ----
  private handOver(req: H1Request, rest: Buffer): void {
    // The tunnel (or the h2c request served as a plain one) reads the socket from now on.
    this.over = true;
    this.stopHeadTimer();
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('timeout');
    this.sock.setTimeout(0);
    // A tunnel ends when the client ends its side (the connection no longer waits to answer a request).
    this.sock.once('end', endSocket);
    this.sock.pause();
    this.host.h1Tunnel(req, this.res!, rest);
  }

  private peerEnded(): void {
    this.peerGone = true;
    if (this.over || this.pending !== null) return;
    this.parser.finish();
    // A client that half-closes after its request still gets its response; an idle one is done.
    if (this.isIdle()) this.sock.end();
  }

  private socketClosed(): void {
    this.stopHeadTimer();
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    this.durationTimer = undefined;
    this.over = true;
    this.pending = null;
    const body = this.req?.body;
    if (body !== null && body !== undefined && !body.readableEnded) body.destroy(new Error('aborted'));
    const res = this.res;
    this.res = null;
    if (res !== null) res.closed();
    this.host.h1Closed(this);
  }

  /** The socket saw no traffic for idle_timeout: closed when no request is in flight (Envoy counts it). */
  /** common_http_protocol_options.idle_timeout fired (connection-lifetime.ts). */
  idle(): void {
    if (this.over || !this.isIdle()) return;
    this.host.lr.stats.cx_idle_timeout.value++;
    this.sock.destroy();
  }

  headersTimedOut(): void {
    this.headTimer = undefined;
    if (this.over || !this.awaitingHead) return;
    this.over = true;
    this.pending = null;
    this.host.h1HeadersTimeout(this.sock);
  }

  private stopHeadTimer(): void {
    if (this.headTimer !== undefined) {
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
  }
}

const EMPTY = Buffer.alloc(0);


/**
 * Whether the proxy answers `Expect: 100-continue` itself (Envoy's default). With proxy_100_continue the upstream's
 * 100 is passed on instead (the exchange calls the response's writeContinue() when it comes: Exchange.onContinue).
 */
function answersContinue(lr: ListenerRuntime): boolean {
  return !lr.proxy100Continue;
}
