/**
 * One bound listener: its socket, its codec (HTTP/1.1, HTTP/2 prior knowledge, AUTO with preface detection on
 * cleartext or ALPN under TLS) and TLS termination. The request handler reads `current` on every request, so a reload
 * swaps routing and clusters without rebinding; a changed codec or TLS setting rebinds.
 */
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type * as http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HttpConnectionManager_CodecType } from '../config/model.js';
import type { H1Error } from '../http/h1/types.js';
import type { DownReq, DownRes } from './downstream.js';
import { closeIdleSession, connectionIdleTimeoutMs, drainSession, drainTimeoutMs } from './connection-lifetime.js';
import { handleH2Tunnel, handleRequest, handleTunnel, rejectRequest } from './exchange.js';
import type { Generation, ListenerRuntime } from './generation.js';
import { H1Connection, type H1Host } from './h1-connection.js';
import { H2Connection, type H2Host } from './h2-connection.js';
import type { H2Request } from './h2-request.js';
import type { H2Response } from './h2-response.js';
import type { H1Request, RefusedRequest } from './h1-request.js';
import type { H1Response } from './h1-response.js';
import { chainTls, secureOptions, sniCallback } from './tls.js';
import { connectionLog } from './access-log-config.js';

export interface BoundAddress {
  readonly address: string;
  readonly port: number;
}

export interface ListenerBinding {
  current: { gen: Generation; lr: ListenerRuntime };
}

/** Fingerprint of what needs a rebind when it changes. */
export function bindingKey(lr: ListenerRuntime, ip: string, port: number): string {
  const tlsCtx = lr.listener.filter_chains?.map((fc) => JSON.stringify(chainTls(fc) ?? null)).join('|') ?? '';
  // The header limits are fixed when a connection's parser / an HTTP/2 server is built.
  return `${ip}|${port}|${lr.hcm.codec_type ?? 'AUTO'}|${lr.maxHeadersCount}|${lr.maxRequestHeadersBytes}|${lr.allowConnect}|${tlsCtx}`;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * HTTP/1.1 is served by meshctl's own codec (h1-connection.ts) on every path: cleartext HTTP1, AUTO when the first
 * bytes are not the HTTP/2 preface, TLS with ALPN http/1.1 or none. HTTP/2 likewise by meshctl's own codec
 * (h2-connection.ts) on the sockets of HTTP2 listeners, of AUTO ones that sent the preface, and of TLS ones that chose
 * `h2` by ALPN; or, with `--downstream-h2 node`, by node's: an http2 server used as a session factory, handed the
 * same sockets.
 */
/** Who serves downstream HTTP/2: meshctl's own codec (src/http/h2, h2-connection.ts) or node's http2 server. */
export type DownstreamH2Kind = 'meshctl' | 'node';
/** The default of `meshctl run --downstream-h2` and of ProxyOptions.downstreamH2. */
export const DEFAULT_DOWNSTREAM_H2: DownstreamH2Kind = 'meshctl';

export class ListenerServer implements ListenerBinding, H1Host, H2Host {
  current: { gen: Generation; lr: ListenerRuntime };
  private readonly net: net.Server;
  private h2: http2.Http2Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** The HTTP/1.1 connections (a drain asks each to go). */
  private readonly connections = new Set<H1Connection>();
  /** HTTP/2 connections on meshctl's own codec. */
  private readonly h2Connections = new Set<H2Connection>();
  readonly key: string;
  private closing = false;

  constructor(
    gen: Generation,
    lr: ListenerRuntime,
    private readonly ip: string,
    private readonly port: number,
    baseDir: string,
    private readonly h2Kind: DownstreamH2Kind = DEFAULT_DOWNSTREAM_H2,
  ) {
    this.current = { gen, lr };
    this.key = bindingKey(lr, ip, port);
    const codec: HttpConnectionManager_CodecType = lr.hcm.codec_type ?? 'AUTO';
    const chains = lr.listener.filter_chains ?? [];
    const tlsChain = chains.find((fc) => chainTls(fc) !== undefined && !(fc.filter_chain_match?.server_names?.length)) ??
      chains.find((fc) => chainTls(fc) !== undefined);
    const onH2Request = (req: DownReq, res: DownRes): void => {
      const c = this.current;
      handleRequest(c.gen, c.lr, req, res);
    };
    // HTTP/2: node resets a stream whose header list has more entries (Envoy resets it too; pseudo-headers count).
    // allow_connect: SETTINGS_ENABLE_CONNECT_PROTOCOL advertised (RFC 8441), so clients may send extended CONNECT.
    const h2Options = { maxHeaderListPairs: Math.max(4, lr.maxHeadersCount), ...(lr.allowConnect ? { settings: { enableConnectProtocol: true } } : {}) };
    if (codec !== 'HTTP1' && h2Kind === 'node') {
      this.h2 = nodeHttp2().createServer(h2Options, onH2Request);
      // Expect: 100-continue on HTTP/2. Without proxy_100_continue the proxy answers 100 itself, as node would; with
      // it the 100 waits for the upstream's (Exchange.onContinue). Read per request: a reload may change the setting.
      this.h2.on('checkContinue', (req: DownReq, res: DownRes) => {
        if (!this.current.lr.proxy100Continue) res.writeContinue();
        onH2Request(req, res);
      });
    }
    if (tlsChain !== undefined) {
      const opts = secureOptions(chainTls(tlsChain)!, baseDir, codec);
      const sni = sniCallback(chains, baseDir, codec);
      // allowHalfOpen: a client that half-closes after its request still gets the response (node's http server too).
      const s = tls.createServer({ ...opts, ...(sni ? { SNICallback: sni } : {}), allowHalfOpen: true });
      this.net = s;
      s.on('connection', (sock: net.Socket) => this.track(sock));
      s.on('secureConnection', (t: tls.TLSSocket) => this.onSecureConnection(t, codec));
      s.on('tlsClientError', (_err: Error, t: tls.TLSSocket) => t.destroy());
    } else if (codec === 'HTTP2' && h2Kind === 'meshctl') {
      this.net = net.createServer({ allowHalfOpen: true }, (sock) => {
        this.track(sock);
        this.openH2(sock, null);
      });
    } else if (codec === 'HTTP2') {
      const s = this.h2!;
      this.net = s;
      s.on('connection', (sock: net.Socket) => this.track(sock));
    } else {
      // HTTP1, or AUTO: HTTP/2 when the first bytes are the connection preface, else HTTP/1.1 (Envoy's rule).
      this.net = net.createServer({ allowHalfOpen: true }, (sock) => {
        this.track(sock);
        if (codec === 'HTTP1') this.openH1(sock, null);
        else this.sniff(sock);
      });
    }
    if (this.h2 !== undefined) {
      // HTTP/2 CONNECT streams (node answers them 405 unless someone listens): tunnels per upgrade_configs.
      this.h2.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        const c = this.current;
        handleH2Tunnel(c.gen, c.lr, req, res);
      });
      this.h2.on('session', (s: http2.ServerHttp2Session) => {
        this.sessions.add(s);
        const hcm = this.current.lr.hcm;
        closeIdleSession(s, connectionIdleTimeoutMs(hcm), drainTimeoutMs(hcm), this.current.lr.stats.cx_idle_timeout);
        this.current.lr.stats.cx_http2_total.value++;
        s.once('close', () => this.sessions.delete(s));
        if (this.closing) s.close();
      });
    }
  }

  /** A TLS connection after its handshake: ALPN `h2` to node's HTTP/2, else HTTP/1.1 when the codec allows it. */
  private onSecureConnection(t: tls.TLSSocket, codec: HttpConnectionManager_CodecType): void {
    if (t.alpnProtocol === 'h2' && codec !== 'HTTP1') return this.openH2(t, null);
    // An HTTP2-only listener has nothing to say to a client that did not negotiate h2.
    if (codec === 'HTTP2') return void t.destroy();
    this.openH1(t, null);
  }

  private openH1(sock: net.Socket, first: Buffer | null): void {
    this.current.lr.stats.cx_http1_total.value++;
    this.connections.add(new H1Connection(sock, this, first));
  }

  private openH2(sock: net.Socket, first: Buffer | null): void {
    if (this.h2Kind === 'meshctl') {
      const conn = new H2Connection(sock, this, first);
      this.h2Connections.add(conn);
      if (this.closing) conn.drain(drainTimeoutMs(this.current.lr.hcm));
      return;
    }
    if (first !== null) {
      // Paused before unshift so the bytes stay buffered: the HTTP/2 session reads `readableLength` on its next tick.
      sock.pause();
      sock.unshift(first);
    }
    // The http2 server does not listen itself: a half-closing client ends the socket as a listening one would.
    sock.once('end', () => sock.end());
    this.h2!.emit('connection', sock as Duplex);
  }

  // ---- H1Host ----
  get lr(): ListenerRuntime {
    return this.current.lr;
  }

  h1Request(req: H1Request, res: H1Response): void {
    const c = this.current;
    // Envoy's HTTP/1.1 codec refuses HTTP/1.0 unless http_protocol_options.accept_http_10 (details low_version).
    if (req.httpVersionMinor === 0) {
      if (!c.lr.acceptHttp10) {
        res.shouldKeepAlive = false;
        return rejectRequest(c.gen, c.lr, req, res, 426, 'Upgrade Required');
      }
      if (req.headers.host === undefined && c.lr.defaultHostForHttp10 !== '') req.headers.host = c.lr.defaultHostForHttp10;
    }
    handleRequest(c.gen, c.lr, req, res);
  }

  /**
   * An upgrade request or a CONNECT: the connection has stopped reading and hands over the socket. Its response
   * carries any local reply (then the connection closes); otherwise the exchange tunnels the socket.
   * `Upgrade: h2c` is not an upgrade Envoy performs (its HTTP/1.1 codec drops the h2c upgrade headers): a request
   * without a body is served as a plain request, and the connection closed after it; one with a body is passed to the
   * upstream whole on a connection of its own (see handleTunnel).
   */
  h1Tunnel(req: H1Request, res: H1Response, rest: Buffer): void {
    const c = this.current;
    if (req.method !== 'CONNECT' && String(req.headers.upgrade).toLowerCase() === 'h2c' && !req.declaresBody) {
      return handleRequest(c.gen, c.lr, req, res);
    }
    handleTunnel(c.gen, c.lr, req, res, rest);
  }

  /** Envoy's local reply to a request head its HTTP/1.1 codec refuses: the status text as body, flag DPE, the codec's
   * details, the connection closed; counted and logged as a request. */
  h1Refused(req: RefusedRequest, res: H1Response, err: H1Error): void {
    const sock = req.socket;
    if (!sock.writable) return void sock.destroy();
    const c = this.current;
    rejectRequest(c.gen, c.lr, req, res, err.status, STATUS_CODES[err.status] ?? '', null, err.details);
    // The rest of the bad input is not read; a client that never closes is cut off.
    setTimeout(() => sock.destroy(), 2000).unref();
  }

  /** A malformed body while its request is in flight: the status text written straight to the socket, then closed. */
  h1CodecError(sock: net.Socket, err: H1Error): void {
    if (!sock.writable) return void sock.destroy();
    this.writeRawReply(sock, err.status, STATUS_CODES[err.status] ?? '');
    // end(), not destroy(): under TLS a destroy right after the write drops the reply before it is encrypted.
    sock.end();
    setTimeout(() => sock.destroy(), 2000).unref();
  }

  /** HCM request_headers_timeout: Envoy answers 408 with an empty body and closes the connection. */
  h1HeadersTimeout(sock: net.Socket): void {
    this.current.lr.stats.rq_header_timeout.value++;
    if (sock.writable) this.writeRawReply(sock, 408, '');
    sock.end();
    // A client that never reads or closes is cut off after a grace period.
    setTimeout(() => sock.destroy(), 5000).unref();
  }

  // ---- H2Host ----
  h2Request(req: H2Request, res: H2Response): void {
    const c = this.current;
    if (req.tunnelIo !== null) return handleH2Tunnel(c.gen, c.lr, req, res);
    handleRequest(c.gen, c.lr, req, res);
  }

  h2Closed(conn: H2Connection): void {
    this.h2Connections.delete(conn);
  }

  h1Draining(): boolean {
    return this.closing;
  }

  h1Closed(conn: H1Connection): void {
    this.connections.delete(conn);
  }

  /** A local reply written straight to the socket (no request object exists), counted as a request, then closed. */
  private writeRawReply(sock: net.Socket, status: number, body: string): void {
    const { lr } = this.current;
    lr.stats.rq_total.value++;
    lr.stats.rq_completed.value++;
    lr.stats.rq_xx[(status / 100) | 0]!.value++;
    if (status !== 408) lr.stats.cx_protocol_error.value++;
    sock.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        (body ? 'content-type: text/plain\r\n' : '') +
        `date: ${new Date().toUTCString()}\r\nserver: ${lr.serverName}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  /** During a drain: end every HTTP/1.1 connection with no request in flight (HTTP/2 sessions get GOAWAY instead). */
  private endIdle(): void {
    for (const conn of this.connections) if (conn.isIdle()) conn.sock.end();
  }

  /** The listener was updated in place: open connections are asked to go (idle HTTP/1.1 ones closed, busy ones after
   * their response, HTTP/2 sessions sent GOAWAY) so that they come back to the new listener. */
  drainConnections(): void {
    for (const conn of this.connections) conn.drain();
    for (const s of this.sessions) s.close();
    for (const c of this.h2Connections) c.finalGoaway();
  }

  private track(sock: net.Socket): void {
    const { lr } = this.current;
    lr.listenerStats.cx_total.value++;
    lr.listenerStats.cx_active.value++;
    lr.stats.cx_total.value++;
    lr.stats.cx_active.value++;
    sock.setNoDelay(true);
    this.sockets.add(sock);
    const connectionLogs = lr.connectionLogs;
    const logLine = connectionLogs !== null ? connectionLog(sock) : undefined;
    sock.once('close', () => {
      if (logLine !== undefined) logLine.closed(connectionLogs!);
      this.sockets.delete(sock);
      lr.listenerStats.cx_active.value--;
      lr.listenerStats.cx_destroy.value++;
      lr.stats.cx_active.value--;
    });
  }

  private sniff(sock: net.Socket): void {
    let buf: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
      const n = Math.min(buf.length, H2_PREFACE.length);
      const isH2 = buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buf.length < H2_PREFACE.length) return; // need more bytes to decide
      sock.removeListener('data', onData);
      sock.removeListener('end', onEnd);
      if (isH2) this.openH2(sock, buf);
      else this.openH1(sock, buf);
    };
    const onEnd = (): void => void sock.end();
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('error', () => sock.destroy());
  }

  listen(): Promise<BoundAddress> {
    return new Promise((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      this.net.once('error', onErr);
      this.net.listen({ host: this.ip, port: this.port, exclusive: false }, () => {
        this.net.removeListener('error', onErr);
        const a = this.net.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  address(): BoundAddress {
    const a = this.net.address() as net.AddressInfo;
    return { address: a.address, port: a.port };
  }

  /** Stop accepting; close idle keep-alive connections and ask HTTP/2 clients to go away. Returns when every
   * connection has closed, or after `timeoutMs` (then the rest are destroyed). */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((r) => this.net.close(() => r()));
    this.endIdle();
    // HTTP/2: Envoy's drain sequence (shutdown notice, final GOAWAY after drain_timeout).
    for (const s of this.sessions) drainSession(s, drainTimeoutMs(this.current.lr.hcm));
    for (const c of this.h2Connections) c.drain(drainTimeoutMs(this.current.lr.hcm));
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      this.endIdle();
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.sockets) s.destroy();
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}

/** node's http2, loaded only for `--downstream-h2 node`: meshctl's own codec serves HTTP/2 otherwise, and a proxy
 * that never needs node's HTTP/2 machinery does not carry it (memory, start-up). */
function nodeHttp2(): typeof http2 {
  return createRequire(import.meta.url)('node:http2') as typeof http2;
}
