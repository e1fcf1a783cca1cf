/**
 * undici's Pool and H2CClient behind the HostPool interface: HTTP/2 and ALPN (auto_config) clusters, and every
 * cluster under `--upstream-client undici`. Loaded only when a pool needs it (pool.ts).
 */
import type { Duplex, Readable } from 'node:stream';
import { Pool, H2CClient, type Dispatcher } from 'undici';
import { responseHeadersFromRaw, trailersFrom } from '../http/headers.js';
import { classifyError, errorDetail } from './upstream-errors.js';
import type { AttemptControl, AttemptSink, HostPool, PoolOptions, UpstreamRequest } from './pool.js';

export class UndiciPool implements HostPool {
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
