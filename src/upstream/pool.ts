/**
 * Connection pools to upstream hosts: one pool per host, keep-alive, HTTP/1.1 or HTTP/2 per cluster. Three
 * implementations sit behind one small interface so the faster can be chosen by measurement (bench/instructions.ts):
 * meshctl's own HTTP/1.1 client (`h1-pool.ts`, the default for HTTP/1.1 clusters), undici's Pool/H2CClient (HTTP/2
 * and ALPN clusters, and `--upstream-client undici`) and node's own http.Agent (`--upstream-client node`).
 */
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { Pool, H2CClient, type Dispatcher } from 'undici';
import type { UpstreamTlsOptions } from './upstream-tls.js';
import type { UpstreamProtocol } from './protocol-options.js';
import { copyResponseHeaders, responseHeadersFromRaw, trailersFrom, type OutHeaders } from '../http/headers.js';
import { classifyError, errorDetail, type UpstreamErrorKind } from './upstream-errors.js';
import { H1Pool } from './h1-pool.js';

export type { UpstreamErrorKind } from './upstream-errors.js';

/** Receives one upstream attempt's response. Methods return nothing; flow control goes through `pause`/`resume`. */
export interface AttemptSink {
  onStart(ctl: AttemptControl): void;
  /** `headers`: the response's headers, names lower-case, hop-by-hop ones already left out; a fresh object the
   * sink owns (it may add to it and pass it on to the downstream as is). */
  onHeaders(status: number, headers: OutHeaders): void;
  onData(chunk: Buffer): void;
  /** `trailers`: the response's trailers (gRPC's status travels in them), null when it had none. */
  onEnd(trailers: OutHeaders | null): void;
  onError(kind: UpstreamErrorKind, detail: string): void;
  /** The upstream answered `100 Continue` to a request sent with `Expect: 100-continue` (proxy_100_continue): the
   * sink relays it to its client. A client that cannot forward Expect (undici) calls it as soon as the request is
   * dispatched: the proxy then answers for the upstream, as it does without proxy_100_continue. */
  onContinue?(): void;
}

export interface AttemptControl {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** A Readable, or (a retry's body while the first attempt still reads the client) an async iterable. */
  body: Readable | Buffer | AsyncIterable<Buffer> | null;
  /** The downstream request's trailers, read once its body has ended (null: none, or not to be forwarded). Sent
   * upstream by the HTTP/1.1 client when the cluster enables trailers (pool option `enableTrailers`). */
  readonly trailers?: OutHeaders | null;
}

export interface PoolEvents {
  onConnect(): void;
  onDisconnect(): void;
  onConnectFail(timeout: boolean): void;
}

export interface HostPool {
  dispatch(req: UpstreamRequest, sink: AttemptSink): void;
  /** Let in-flight requests finish, then close. */
  close(): Promise<void>;
  destroy(): void;
}

export interface PoolOptions {
  ip: string;
  port: number;
  /** `alpn` comes only with `tls`. */
  protocol: UpstreamProtocol;
  connectTimeoutMs: number;
  maxConnections?: number;
  /** The cluster's UpstreamTlsContext as client options: TLS to every host of the pool. */
  tls?: UpstreamTlsOptions;
  /** The cluster's Http1ProtocolOptions.enable_trailers: request trailers are sent on a chunked HTTP/1.1 body. */
  enableTrailers?: boolean;
  events: PoolEvents;
}

/** `meshctl`: the project's own HTTP/1.1 client (h1-pool.ts); HTTP/2 and ALPN clusters always use undici. */
export type UpstreamClientKind = 'meshctl' | 'undici' | 'node';

export function createHostPool(kind: UpstreamClientKind, opts: PoolOptions): HostPool {
  if (opts.protocol !== 'http1') return new UndiciPool(opts);
  if (kind === 'meshctl') return new H1Pool(opts);
  if (opts.tls !== undefined) return new UndiciPool(opts);
  return kind === 'node' ? new NodeAgentPool(opts) : new UndiciPool(opts);
}

class UndiciPool implements HostPool {
  private readonly dispatcher: Dispatcher;
  constructor(opts: PoolOptions) {
    const origin = `${opts.tls ? 'https' : 'http'}://${opts.ip.includes(':') ? `[${opts.ip}]` : opts.ip}:${opts.port}`;
    const common = {
      connectTimeout: opts.connectTimeoutMs,
      // The route timeout governs; undici's own 300 s timers would only fire after it.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
    };
    const http2 = opts.protocol === 'http2';
    this.dispatcher =
      opts.tls !== undefined
        ? // TLS: undici offers h2 by ALPN only with allowH2; an HTTP/2 cluster gets one multiplexed connection per host.
          // ALPN (auto_config): h2 and http/1.1 offered, one request per connection at a time either way.
          new Pool(origin, {
            ...common,
            connect: { ...opts.tls, timeout: opts.connectTimeoutMs },
            allowH2: opts.protocol !== 'http1',
            connections: http2 ? 1 : (opts.maxConnections ?? null),
            pipelining: http2 ? 100 : 1,
          })
        : http2
          ? new H2CClient(origin, common)
          : new Pool(origin, { ...common, connections: opts.maxConnections ?? null, pipelining: 1 });
    const ev = opts.events;
    this.dispatcher.on('connect', () => ev.onConnect());
    this.dispatcher.on('disconnect', () => ev.onDisconnect());
    this.dispatcher.on('connectionError', (_o: unknown, _t: unknown, err: Error & { code?: string }) =>
      ev.onConnectFail(err.code === 'UND_ERR_CONNECT_TIMEOUT'),
    );
  }

  dispatch(req: UpstreamRequest, sink: AttemptSink): void {
    let headers = req.headers;
    if (headers.expect !== undefined) {
      // undici refuses Expect: the proxy answers 100 itself (the client's body then comes), as without
      // proxy_100_continue, and the header stays behind.
      headers = { ...headers };
      delete headers.expect;
      sink.onContinue?.();
    }
    this.dispatcher.dispatch(
      { method: req.method as Dispatcher.HttpMethod, path: req.path, headers: headers as Record<string, string>, body: req.body as Readable | Buffer | null },
      new UndiciHandler(sink),
    );
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
  destroy(): void {
    void this.dispatcher.destroy().catch(() => undefined);
  }
}

/**
 * undici's handler interface in its raw form (onConnect/onHeaders/onData/onComplete/onError). The controller form
 * (onRequestStart, onResponseStart, …) costs a wrapper handler, a controller object and a parse of every header into
 * an object that would then be copied again; here the raw header list becomes the downstream's header object in one
 * pass, and the handler itself is the attempt's control (abort, pause, resume).
 */
class UndiciHandler implements Dispatcher.DispatchHandler, AttemptControl {
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private paused = false;
  private aborted = false;
  constructor(private readonly sink: AttemptSink) {}

  // ---- AttemptControl ----
  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortFn?.(reason);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeFn?.();
  }

  // ---- undici ----
  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.sink.onStart(this);
  }
  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational responses are not forwarded (100-continue is handled per hop).
    if (status < 200) return true;
    this.resumeFn = resume;
    this.sink.onHeaders(status, responseHeadersFromRaw(raw));
    return !this.paused;
  }
  onData(chunk: Buffer): boolean {
    this.sink.onData(chunk);
    return !this.paused;
  }
  // Typed string[] by undici; at run time a raw Buffer list (HTTP/1.1) or node's header object (HTTP/2).
  onComplete(trailers: string[] | null): void {
    this.sink.onEnd(trailersFrom(trailers as unknown as Buffer[] | Record<string, string> | null));
  }
  onUpgrade(_status: number, _headers: unknown, socket: Duplex): void {
    // Never asked for (no request is sent with an upgrade); a stray one is refused.
    socket.destroy();
    this.sink.onError('protocol', 'unexpected upgrade');
  }
  onError(err: Error): void {
    this.sink.onError(classifyError(err), errorDetail(err));
  }
}

/** node's http.Agent with keep-alive, for comparison with undici (`--upstream-client node`). */
class NodeAgentPool implements HostPool {
  private readonly agent: http.Agent;
  constructor(private readonly opts: PoolOptions) {
    this.agent = new http.Agent({
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: opts.maxConnections ?? Infinity,
      scheduling: 'lifo',
    });
  }

  dispatch(req: UpstreamRequest, sink: AttemptSink): void {
    const ev = this.opts.events;
    let connected = false;
    let ended = false;
    const creq = http.request({
      host: this.opts.ip,
      port: this.opts.port,
      method: req.method,
      path: req.path,
      headers: req.headers as http.OutgoingHttpHeaders,
      agent: this.agent,
    });
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (kind: UpstreamErrorKind, detail: string): void => {
      if (ended) return;
      ended = true;
      if (connectTimer) clearTimeout(connectTimer);
      sink.onError(kind, detail);
    };
    let resStream: http.IncomingMessage | undefined;
    sink.onStart({
      abort: (reason) => {
        ended = true;
        creq.destroy(reason);
      },
      pause: () => resStream?.pause(),
      resume: () => resStream?.resume(),
    });
    creq.on('socket', (sock) => {
      if ((sock as { connecting?: boolean }).connecting) {
        connectTimer = setTimeout(() => {
          ev.onConnectFail(true);
          fail('connect-timeout', 'connection timeout');
          creq.destroy();
        }, this.opts.connectTimeoutMs);
        sock.once('connect', () => {
          connected = true;
          if (connectTimer) clearTimeout(connectTimer);
          ev.onConnect();
          sock.once('close', () => ev.onDisconnect());
        });
      } else connected = true;
    });
    creq.on('error', (err: Error & { code?: string }) => {
      let kind = classifyError(err);
      if (!connected && kind !== 'connect-timeout') {
        kind = 'connect-failure';
        ev.onConnectFail(false);
      }
      fail(kind, errorDetail(err));
    });
    creq.on('response', (res) => {
      resStream = res;
      sink.onHeaders(res.statusCode ?? 502, copyResponseHeaders(res.headers));
      res.on('data', (c: Buffer) => sink.onData(c));
      res.on('end', () => {
        if (ended) return;
        ended = true;
        sink.onEnd(res.rawTrailers.length > 0 ? copyResponseHeaders(res.trailers) : null);
      });
      res.on('error', (err) => fail(classifyError(err), errorDetail(err)));
      res.on('aborted', () => fail('reset', 'aborted'));
    });
    const body = req.body;
    if (body === null) creq.end();
    else if (Buffer.isBuffer(body)) creq.end(body);
    else if (typeof (body as Readable).pipe === 'function') (body as Readable).pipe(creq);
    else void pipeIterable(body, creq);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
  destroy(): void {
    this.agent.destroy();
  }
}

async function pipeIterable(src: AsyncIterable<Buffer>, dst: http.ClientRequest): Promise<void> {
  try {
    for await (const c of src) if (!dst.write(c)) await new Promise((r) => dst.once('drain', r));
    dst.end();
  } catch (err) {
    dst.destroy(err as Error);
  }
}
