/**
 * Connection pools to upstream hosts: one pool per host, keep-alive, HTTP/1.1 or HTTP/2 per cluster. Two
 * implementations sit behind one small interface so the faster can be chosen by measurement (bench/proxy.ts):
 * undici's Pool/H2CClient (default) and node's own http.Agent.
 */
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { Pool, H2CClient, type Dispatcher } from 'undici';
import type { UpstreamTlsOptions } from './upstream-tls.js';
import type { UpstreamProtocol } from './protocol-options.js';
import { copyResponseHeaders, responseHeadersFromRaw, trailersFrom, type OutHeaders } from '../http/headers.js';

export type UpstreamErrorKind = 'connect-failure' | 'connect-timeout' | 'reset' | 'termination' | 'protocol' | 'aborted';

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
}

export interface AttemptControl {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable | Buffer | null;
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

interface PoolOptions {
  ip: string;
  port: number;
  /** `alpn` comes only with `tls`. */
  protocol: UpstreamProtocol;
  connectTimeoutMs: number;
  maxConnections?: number;
  /** The cluster's UpstreamTlsContext as client options: TLS to every host of the pool. */
  tls?: UpstreamTlsOptions;
  events: PoolEvents;
}

export type UpstreamClientKind = 'undici' | 'node';

export function createHostPool(kind: UpstreamClientKind, opts: PoolOptions): HostPool {
  if (opts.protocol !== 'http1' || opts.tls !== undefined) return new UndiciPool(opts);
  return kind === 'node' ? new NodeAgentPool(opts) : new UndiciPool(opts);
}

/** The kind of failure behind an upstream error (undici codes and socket errno names). */
function classifyError(err: Error & { code?: string }): UpstreamErrorKind {
  const code = err.code ?? '';
  // A failed TLS handshake (certificate not trusted, name mismatch, protocol alert) is a connection failure to Envoy.
  if (TLS_FAILURE.test(code)) return 'connect-failure';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-failure';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'termination';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_SESSION_ERROR':
      return 'reset';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || err.name === 'HTTPParserError')
        return 'protocol';
      return 'reset';
  }
}

const TLS_FAILURE = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|CERT_|EPROTO$)/;

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
    this.dispatcher.dispatch(
      { method: req.method as Dispatcher.HttpMethod, path: req.path, headers: req.headers as Record<string, string>, body: req.body },
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

function errorDetail(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'delayed connect error: Connection refused';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timeout';
  return code || err.message;
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
    if (req.body === null) creq.end();
    else if (Buffer.isBuffer(req.body)) creq.end(req.body);
    else req.body.pipe(creq);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
  destroy(): void {
    this.agent.destroy();
  }
}
