/**
 * Connection pools to upstream hosts: one pool per host, keep-alive, HTTP/1.1 or HTTP/2 per cluster. Three
 * implementations sit behind one small interface so the faster can be chosen by measurement (bench/instructions.ts):
 * meshctl's own HTTP/1.1 client (`h1-pool.ts`, the default for HTTP/1.1 clusters), undici's Pool/H2CClient
 * (`undici-pool.ts`, loaded when first needed: HTTP/2 and ALPN clusters, and `--upstream-client undici`) and node's
 * own http.Agent (`--upstream-client node`).
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { UpstreamTlsOptions } from './upstream-tls.js';
import type { UpstreamProtocol } from './protocol-options.js';
import { copyResponseHeaders, type OutHeaders } from '../http/headers.js';
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
  /** Header values known to be valid field values (the downstream headers meshctl's HTTP/1.1 codec parsed): a
   * header of `headers` that is the very same string here is not checked again when the head is written. */
  readonly checkedHeaders?: Readonly<Record<string, string | string[] | undefined>> | null;
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
  if (opts.protocol !== 'http1') return undiciPool(opts);
  if (kind === 'meshctl') return new H1Pool(opts);
  if (opts.tls !== undefined) return undiciPool(opts);
  return kind === 'node' ? new NodeAgentPool(opts) : undiciPool(opts);
}

/**
 * undici is loaded the first time a pool needs it (an HTTP/2 or ALPN cluster, or `--upstream-client undici`): it is
 * 110 modules and two WebAssembly parsers, about 20 MB of resident memory, that a proxy of HTTP/1.1 clusters never
 * uses (issue 15's memory target). Until it has loaded, a pool holds its requests and sends them in order.
 */
type UndiciPoolModule = typeof import('./undici-pool.js');
let undiciModule: UndiciPoolModule | undefined;
let undiciLoading: Promise<UndiciPoolModule> | undefined;

function undiciPool(opts: PoolOptions): HostPool {
  return undiciModule !== undefined ? new undiciModule.UndiciPool(opts) : new DeferredPool(opts);
}

class DeferredPool implements HostPool {
  private real: HostPool | undefined;
  private queue: [UpstreamRequest, AttemptSink][] = [];
  private destroyed = false;
  private readonly loaded: Promise<void>;

  constructor(opts: PoolOptions) {
    undiciLoading ??= import('./undici-pool.js').then((m) => (undiciModule = m));
    this.loaded = undiciLoading.then(
      (m) => {
        if (this.destroyed) return this.fail('reset', 'connection pool destroyed');
        this.real = new m.UndiciPool(opts);
        for (const [req, sink] of this.queue.splice(0)) this.real.dispatch(req, sink);
      },
      (err: Error) => this.fail('connect-failure', `undici could not be loaded: ${err.message}`),
    );
  }

  private fail(kind: UpstreamErrorKind, detail: string): void {
    for (const [, sink] of this.queue.splice(0)) sink.onError(kind, detail);
  }

  dispatch(req: UpstreamRequest, sink: AttemptSink): void {
    if (this.real !== undefined) return this.real.dispatch(req, sink);
    if (this.destroyed) return sink.onError('reset', 'connection pool destroyed');
    this.queue.push([req, sink]);
  }

  /** Requests held until undici loads are sent, then the pool closes as any undici pool does. */
  async close(): Promise<void> {
    await this.loaded;
    await this.real?.close();
  }

  destroy(): void {
    this.destroyed = true;
    if (this.real !== undefined) this.real.destroy();
    else this.fail('reset', 'connection pool destroyed');
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
