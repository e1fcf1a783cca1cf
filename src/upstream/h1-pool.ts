/**
 * meshctl's own HTTP/1.1 upstream client (issue 15): a pool of keep-alive connections to one host over net or tls
 * sockets, one request at a time on each (no pipelining, as Envoy's HTTP/1.1 pool), the response read by meshctl's
 * HTTP/1.1 parser (src/http/h1/parser.ts) straight into the attempt's sink.
 *
 * What it does that undici would not: request trailers (chunked trailer fields, Envoy's `enable_trailers` on the
 * cluster's Http1ProtocolOptions), and `Expect: 100-continue` forwarded with the upstream's 100 relayed
 * (`proxy_100_continue`). Error kinds follow the undici path's classification (pool.ts), so local replies, retries
 * and stats do not depend on the client chosen.
 *
 * A connection is reused only when both its request and its response completed and the response allowed it. A
 * connection the host closed while idle is dropped when its FIN arrives; the race that remains (the host closes as
 * a request is written) ends the attempt as a connection termination before any response byte, which Envoy answers
 * 503 UC and retries under retry_on `reset` (Envoy's docs, "x-envoy-retry-on"); the exchange does the same.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { H1Parser } from '../http/h1/parser.js';
import type { H1Error, H1Handler, H1Head, H1Limits } from '../http/h1/types.js';
import { headersFromRawStrings, type OutHeaders } from '../http/headers.js';
import type { AttemptControl, AttemptSink, HostPool, PoolOptions, UpstreamErrorKind, UpstreamRequest } from './pool.js';
import { CHUNK_END, chunkHeader } from '../http/h1/serialize.js';
import { Framing, upstreamLastChunk, upstreamRequestHead } from './h1-request-head.js';
import { classifyError, errorDetail } from './upstream-errors.js';

/** Envoy's defaults for what an upstream response head may hold: max_response_headers_kb 60 KiB and
 * common_http_protocol_options.max_headers_count 100. */
const RESPONSE_LIMITS: H1Limits = { maxHeadBytes: 60 * 1024, maxHeaders: 100 };

/** A connection idle through this many sweeps of SWEEP_MS is closed: 60 to 70 s idle (the undici pool's
 * keepAliveTimeout here was 60 s). One sweeper per pool instead of a timer re-armed on every request. */
const SWEEP_MS = 10_000;
const IDLE_SWEEPS = 6;

export class H1Pool implements HostPool {
  /** Connections with nothing to do, most recently used last (taken from the end: LIFO keeps few connections warm). */
  private readonly idle: H1Conn[] = [];
  /** Requests waiting for a connection when maxConnections are busy. */
  private readonly pending: H1Attempt[] = [];
  private pendingHead = 0;
  /** Connections open or opening. */
  private count = 0;
  /** Every connection not yet closed, busy or idle, so destroy() reaches them all. */
  readonly live = new Set<H1Conn>();
  private readonly max: number;
  private closing = false;
  private sweeper: NodeJS.Timeout | undefined;
  private closeWaiters: (() => void)[] = [];

  constructor(readonly opts: PoolOptions) {
    this.max = opts.maxConnections ?? Infinity;
  }

  dispatch(req: UpstreamRequest, sink: AttemptSink): void {
    const a = new H1Attempt(req, sink);
    sink.onStart(a);
    if (a.aborted) return;
    if (this.closing) {
      a.fail('termination', 'pool closed');
      return;
    }
    let conn = this.idle.pop();
    // A connection destroyed since it went idle (its host's FIN came) leaves the list only when its socket closes.
    while (conn !== undefined && conn.dead) conn = this.idle.pop();
    if (conn !== undefined) conn.assign(a);
    else if (this.count < this.max) this.open(a);
    else this.pending.push(a);
  }

  private open(a: H1Attempt): void {
    this.count++;
    new H1Conn(this).assign(a);
  }

  /** A connection is free again: the next waiting request, or the idle list. */
  released(conn: H1Conn): void {
    const next = this.nextPending();
    if (next !== undefined) return conn.assign(next);
    if (this.closing) return conn.destroy();
    conn.idleSweeps = 0;
    this.idle.push(conn);
    if (this.sweeper === undefined) this.sweeper = setInterval(sweep, SWEEP_MS, this).unref();
  }

  /** Closes connections idle too long; stops when none is left idle. */
  sweep(): void {
    const idle = this.idle;
    for (let i = idle.length - 1; i >= 0; i--) {
      const c = idle[i]!;
      if (++c.idleSweeps >= IDLE_SWEEPS) c.destroy();
    }
    if (idle.length === 0) this.stopSweeper();
  }

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** A connection closed (for any reason): out of the idle list, and its place given to a waiting request. */
  gone(conn: H1Conn): void {
    this.count--;
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.nextPending();
    if (next !== undefined) this.open(next);
    if (this.count === 0 && this.closing) for (const w of this.closeWaiters.splice(0)) w();
  }

  private nextPending(): H1Attempt | undefined {
    while (this.pendingHead < this.pending.length) {
      const a = this.pending[this.pendingHead]!;
      this.pending[this.pendingHead++] = undefined as unknown as H1Attempt;
      if (this.pendingHead === this.pending.length) {
        this.pending.length = 0;
        this.pendingHead = 0;
      }
      if (!a.aborted) return a;
    }
    return undefined;
  }

  close(): Promise<void> {
    this.closing = true;
    this.stopSweeper();
    for (const c of this.idle.splice(0)) c.destroy();
    if (this.count === 0) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  destroy(): void {
    this.closing = true;
    this.stopSweeper();
    for (let a = this.nextPending(); a !== undefined; a = this.nextPending()) a.fail('termination', 'pool destroyed');
    for (const c of this.idle.splice(0)) c.destroy();
    for (const c of this.live) c.destroy();
  }
}

/**
 * One request's attempt: the control the sink holds (abort, pause, resume). It outlives its connection's hold on
 * it, so a late abort (after the response ended, or after the connection went on to another request) touches
 * nothing.
 */
class H1Attempt implements AttemptControl {
  conn: H1Conn | null = null;
  aborted = false;
  paused = false;
  constructor(
    readonly req: UpstreamRequest,
    readonly sink: AttemptSink,
  ) {}

  abort(_reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    const c = this.conn;
    this.conn = null;
    // A connection in the middle of a message cannot carry another: it goes.
    if (c !== null) c.abandon();
  }
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.conn?.pauseReading();
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn?.resumeReading();
  }
  /** Ends the attempt with an error (it is then no one's). */
  fail(kind: UpstreamErrorKind, detail: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.conn = null;
    this.sink.onError(kind, detail);
  }
}

class H1Conn implements H1Handler {
  private readonly socket: net.Socket;
  private readonly parser: H1Parser;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private current: H1Attempt | null = null;
  private requestDone = false;
  private responseDone = false;
  private keepAlive = false;
  /** The response's body runs to the close of the connection (no Content-Length, not chunked). */
  private untilClose = false;
  /** Bytes the parser left when it paused (flow control), fed to it again on resume. */
  private held: Buffer | null = null;
  /** The request body being streamed (a Readable or an async iterable), detached when the request ends. */
  private body: Readable | null = null;
  private chunked = false;
  dead = false;
  /** Sweeps this connection has sat idle through (H1Pool.sweep). */
  idleSweeps = 0;
  /** The connect timeout fired (and was counted): the close that follows is not another connect failure. */
  private timedOut = false;
  /** The response is complete; the parser has paused on it and the connection is settled once execute returns. */
  private complete = false;
  lastError: (Error & { code?: string }) | null = null;

  constructor(private readonly pool: H1Pool) {
    const o = pool.opts;
    pool.live.add(this);
    this.parser = new H1Parser('response', RESPONSE_LIMITS, this);
    if (o.tls !== undefined) {
      // ALPN offers only http/1.1: this pool serves explicit HTTP/1.1 clusters (ALPN auto_config stays with undici).
      this.socket = tls.connect({ ...o.tls, host: o.ip, port: o.port, ALPNProtocols: ['http/1.1'] });
      this.socket.once('secureConnect', onConnected);
    } else {
      this.socket = net.connect({ host: o.ip, port: o.port });
      this.socket.once('connect', onConnected);
    }
    (this.socket as TaggedSocket)[CONN] = this;
    this.socket.setNoDelay(true);
    this.socket.on('data', onSocketData);
    this.socket.on('end', onSocketEnd);
    this.socket.on('error', onSocketError);
    this.socket.on('close', onSocketClose);
    this.socket.on('drain', onSocketDrain);
    this.connectTimer = setTimeout(connectTimedOut, o.connectTimeoutMs, this);
  }

  // ---- connection life ----
  connectedNow(): void {
    this.connected = true;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.pool.opts.events.onConnect();
  }

  connectTimeout(): void {
    this.connectTimer = undefined;
    if (this.connected || this.dead) return;
    this.timedOut = true;
    this.pool.opts.events.onConnectFail(true);
    const a = this.current;
    this.current = null;
    this.destroy();
    a?.fail('connect-timeout', 'connection timeout');
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.detachBody();
    this.socket.destroy();
  }

  /** The attempt gave up (abort) while its exchange was under way: a connection mid-message cannot carry another. */
  abandon(): void {
    this.current = null;
    this.destroy();
  }

  /** The socket closed: whatever was in flight ends with the kind of failure the undici path would report. */
  closed(): void {
    const err = this.lastError;
    this.dead = true;
    clearTimeout(this.connectTimer);
    this.detachBody();
    this.pool.live.delete(this);
    const ev = this.pool.opts.events;
    const a = this.current;
    this.current = null;
    if (this.connected) ev.onDisconnect();
    else if (!this.timedOut) ev.onConnectFail(false);
    this.pool.gone(this);
    if (a === null || a.aborted) return;
    if (!this.connected) return a.fail(err === null ? 'connect-failure' : classifyConnectError(err), err === null ? 'connection closed' : errorDetail(err));
    // Before or after response bytes alike: a close is Envoy's connection termination (UC), a socket error what the
    // undici path makes of it. Nothing of the response on a connection that had served before is most likely the
    // keep-alive race (the host closed it as the request went out): Envoy answers it 503 UC too, and its router
    // retries it under retry_on `reset` (envoyproxy/envoy issue #1979); so does the exchange (retry.ts).
    a.fail(err === null ? 'termination' : classifyError(err), err === null ? 'connection termination' : errorDetail(err));
  }

  // ---- a request ----
  assign(a: H1Attempt): void {
    if (a.aborted) return this.pool.released(this);
    this.current = a;
    a.conn = this;
    // The last attempt may have paused reading as its response ended (a slow client): its resume never comes here.
    if (this.socket.isPaused()) this.socket.resume();
    this.requestDone = false;
    this.responseDone = false;
    this.complete = false;
    this.untilClose = false;
    this.keepAlive = false;
    this.held = null;
    const req = a.req;
    const headers = req.headers;
    const body = req.body;
    const hasLength = headers['content-length'] !== undefined;
    let framing: Framing = Framing.None;
    let extraLength = -1;
    // Request trailers go only where Envoy's HTTP/1 codec sends them: enable_trailers on the cluster's
    // Http1ProtocolOptions, and a chunked body (no Content-Length).
    const trailersWanted = this.pool.opts.enableTrailers === true && !hasLength;
    if (body === null) {
      // A request without a body: the length a method with one would carry is said (as node and undici do).
      if (!hasLength && METHODS_WITH_BODY.has(req.method)) extraLength = 0;
      if (hasLength) framing = Framing.Length;
    } else if (hasLength) framing = Framing.Length;
    else if (Buffer.isBuffer(body) && !(trailersWanted && (req.trailers ?? null) !== null)) {
      framing = Framing.Length;
      extraLength = body.length;
    } else framing = Framing.Chunked;
    const head = upstreamRequestHead(req.method, req.path, headers, framing, extraLength, req.checkedHeaders ?? null);
    if (head === null) {
      this.current = null;
      a.conn = null;
      this.pool.released(this);
      return a.fail('protocol', 'invalid request header');
    }
    this.chunked = framing === Framing.Chunked;
    if (req.method === 'HEAD') this.parser.noBodyForNextResponse();
    const sock = this.socket;
    // latin1: header values are the bytes the client sent, read as latin1 by the parser; utf8 would turn each byte
    // over 0x7f (obs-text) into two. Envoy forwards them as they came.
    if (body === null) {
      sock.write(head, 'latin1');
      this.requestDone = true;
    } else if (Buffer.isBuffer(body)) {
      sock.cork();
      sock.write(head, 'latin1');
      if (this.chunked) {
        if (body.length > 0) {
          sock.write(chunkHeader(body.length));
          sock.write(body);
          sock.write(CHUNK_END);
        }
        const end = upstreamLastChunk(trailersWanted ? (req.trailers ?? null) : null);
        sock.write(end ?? '0\r\n\r\n', 'latin1');
      } else sock.write(body);
      sock.uncork();
      this.requestDone = true;
    } else {
      sock.write(head, 'latin1');
      this.streamBody(body as Readable | AsyncIterable<Buffer>);
    }
  }

  private streamBody(src: Readable | AsyncIterable<Buffer>): void {
    if (typeof (src as Readable).on === 'function' && typeof (src as Readable).pause === 'function') {
      const r = src as Readable;
      this.body = r;
      (r as TaggedReadable)[CONN] = this;
      r.on('data', onBodyData);
      r.once('end', onBodyEnd);
      r.once('error', onBodyError);
      if (r.readableEnded) this.bodyEnded();
    } else void this.pumpIterable(src as AsyncIterable<Buffer>, this.current!);
  }

  /** A retry's body while its first attempt still reads the client (RetryBody's generator). */
  private async pumpIterable(src: AsyncIterable<Buffer>, a: H1Attempt): Promise<void> {
    try {
      for await (const c of src) {
        if (this.current !== a) return;
        if (!this.writeBody(c)) await new Promise<void>((r) => this.socket.once('drain', r));
      }
      if (this.current === a) this.bodyEnded();
    } catch {
      if (this.current === a) this.abandonWith('reset', 'request body error');
    }
  }

  /** Writes body bytes; false when the socket's buffer is full. */
  writeBody(c: Buffer): boolean {
    if (c.length === 0) return true;
    if (!this.chunked) return this.socket.write(c);
    const s = this.socket;
    s.cork();
    s.write(chunkHeader(c.length));
    s.write(c);
    const ok = s.write(CHUNK_END);
    s.uncork();
    return ok;
  }

  bodyData(c: Buffer): void {
    if (!this.writeBody(c)) this.body?.pause();
  }

  drained(): void {
    this.body?.resume();
  }

  bodyEnded(): void {
    const a = this.current;
    this.detachBody();
    if (a === null) return;
    if (this.chunked) {
      const t = this.pool.opts.enableTrailers === true ? (a.req.trailers ?? null) : null;
      const end = upstreamLastChunk(t);
      if (end === null) return this.abandonWith('protocol', 'invalid request trailer');
      this.socket.write(end, 'latin1');
    }
    this.requestDone = true;
  }

  bodyFailed(): void {
    if (this.current !== null) this.abandonWith('reset', 'request body error');
  }

  private detachBody(): void {
    const r = this.body;
    if (r === null) return;
    this.body = null;
    (r as TaggedReadable)[CONN] = undefined;
    r.off('data', onBodyData);
    r.off('end', onBodyEnd);
    r.off('error', onBodyError);
  }

  private abandonWith(kind: UpstreamErrorKind, detail: string): void {
    const a = this.current;
    this.current = null;
    this.destroy();
    a?.fail(kind, detail);
  }

  // ---- the response ----
  data(buf: Buffer): void {
    const a = this.current;
    if (a === null) {
      // Bytes on an idle connection (nothing was asked): it cannot be trusted with a request.
      this.destroy();
      return;
    }
    this.feed(buf);
  }

  private feed(buf: Buffer): void {
    const n = this.parser.execute(buf);
    if (n < 0 || this.dead) return;
    if (this.complete) {
      this.complete = false;
      // Bytes after a complete response that nothing asked for: the connection cannot be trusted with another.
      if (n < buf.length) return this.destroy();
      return this.settle();
    }
    if (n < buf.length && this.current !== null) {
      // Paused by flow control: the rest waits for resume().
      this.held = buf.subarray(n);
      this.socket.pause();
    }
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    const h = this.held;
    if (h !== null) {
      this.held = null;
      this.feed(h);
      if (this.held !== null || this.dead) return;
    }
    this.socket.resume();
  }

  ended(): void {
    // FIN from the host. An idle connection is done for at once (no request may take it before its close event). A
    // response read until close completes here; anything else in flight is cut short (the close that follows
    // reports it).
    if (this.current === null) return this.destroy();
    if (this.untilClose && !this.responseDone) {
      this.parser.finish();
      this.complete = false;
    }
  }

  onHead(head: H1Head): boolean {
    const a = this.current;
    if (a === null) return true;
    const status = head.status;
    if (status < 200) {
      // Interim responses: the final one follows on the same message (the parser expects it).
      if (status === 101) {
        this.abandonWith('protocol', 'unexpected upgrade');
        return true;
      }
      if (status === 100) a.sink.onContinue?.();
      return false;
    }
    this.keepAlive = head.keepAlive;
    this.untilClose = head.contentLength < 0 && !head.chunked && a.req.method !== 'HEAD' && status !== 204 && status !== 304;
    a.sink.onHeaders(status, headersFromRawStrings(head.rawHeaders));
    // Not a pause here even if the sink paused: the parser completes a body-less response only when onHead lets it
    // go on. Pausing takes effect on the socket and at the next body chunk.
    return this.current !== a;
  }

  onBody(chunk: Buffer): boolean {
    const a = this.current;
    if (a === null) return true;
    a.sink.onData(chunk);
    return a.paused || this.current !== a;
  }

  onComplete(trailers: string[] | null): boolean {
    const a = this.current;
    if (a === null) return true;
    this.responseDone = true;
    this.complete = true;
    this.current = null;
    a.conn = null;
    // Envoy's HTTP/1 codec drops the trailers of a response too unless the cluster's HTTP/1 options enable_trailers.
    const keep = trailers !== null && trailers.length > 0 && this.pool.opts.enableTrailers === true;
    a.sink.onEnd(keep ? headersFromRawStrings(trailers) : null);
    return true;
  }

  onError(err: H1Error): void {
    const a = this.current;
    this.current = null;
    this.destroy();
    a?.fail('protocol', err.details);
  }

  /** The response is complete: back to the pool when the request was too and both sides keep the connection;
   * closed otherwise (a host that answered before the whole request arrived: Envoy resets that stream). */
  private settle(): void {
    if (this.dead) return;
    if (!this.keepAlive || !this.requestDone) return this.destroy();
    this.parser.reset();
    this.pool.released(this);
  }
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** An error before the connection was up: a failure to connect (refused, unreachable, TLS handshake). */
function classifyConnectError(err: Error & { code?: string }): UpstreamErrorKind {
  const k = classifyError(err);
  return k === 'connect-timeout' ? k : 'connect-failure';
}

// Socket and body listeners shared by every connection: the connection is found through a symbol (no closures).
const CONN = Symbol('meshctl.h1conn');
type TaggedSocket = net.Socket & { [CONN]?: H1Conn };
type TaggedReadable = Readable & { [CONN]?: H1Conn };

function onConnected(this: TaggedSocket): void {
  this[CONN]?.connectedNow();
}
function connectTimedOut(c: H1Conn): void {
  c.connectTimeout();
}
function onSocketData(this: TaggedSocket, buf: Buffer): void {
  this[CONN]?.data(buf);
}
function onSocketEnd(this: TaggedSocket): void {
  this[CONN]?.ended();
}
function onSocketError(this: TaggedSocket, err: Error): void {
  const c = this[CONN];
  if (c !== undefined) c.lastError = err;
}
function onSocketClose(this: TaggedSocket): void {
  const c = this[CONN];
  this[CONN] = undefined;
  c?.closed();
}
function onSocketDrain(this: TaggedSocket): void {
  this[CONN]?.drained();
}
function sweep(p: H1Pool): void {
  p.sweep();
}
function onBodyData(this: TaggedReadable, c: Buffer): void {
  this[CONN]?.bodyData(c);
}
function onBodyEnd(this: TaggedReadable): void {
  this[CONN]?.bodyEnded();
}
function onBodyError(this: TaggedReadable): void {
  this[CONN]?.bodyFailed();
}
