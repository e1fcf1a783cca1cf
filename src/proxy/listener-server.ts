/**
 * One bound listener: its socket, its codec (HTTP/1.1, HTTP/2 prior knowledge, AUTO with preface detection on
 * cleartext or ALPN under TLS) and TLS termination. The request handler reads `current` on every request, so a reload
 * swaps routing and clusters without rebinding; a changed codec or TLS setting rebinds.
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpConnectionManager_CodecType } from '../config/model.js';
import type { DownReq, DownRes } from './downstream.js';
import { closeIdleSession, connectionIdleTimeoutMs, drainSession, drainTimeoutMs } from './connection-lifetime.js';
import { handleH2Tunnel, handleRequest, handleTunnel, rejectRequest } from './exchange.js';
import { hasBody } from './downstream.js';
import type { Generation, ListenerRuntime } from './generation.js';
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
  // The header limits are fixed when a server is built (node reads them per connection / per HTTP/2 session).
  return `${ip}|${port}|${lr.hcm.codec_type ?? 'AUTO'}|${lr.maxHeadersCount}|${lr.maxRequestHeadersBytes}|${lr.allowConnect}|${tlsCtx}`;
}

/** A request-headers clock on one HTTP/1.1 connection. `deadline` 0: no byte of a request seen yet (an idle
 * connection is idle_timeout's business, not this one's), so the timer only polls bytesRead in steps. */
interface HeaderClock {
  timer: NodeJS.Timeout | undefined;
  mark: number;
  deadline: number;
}

/** Envoy's local replies to an HTTP/1.1 codec error, keyed by node's error code: the status text as body. */
function codecErrorReply(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export class ListenerServer implements ListenerBinding {
  current: { gen: Generation; lr: ListenerRuntime };
  private readonly net: net.Server;
  private h1: http.Server | undefined;
  private h2: http2.Http2Server | http2.Http2SecureServer | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Sockets HTTP/1.1 requests arrive on (the TLS socket under TLS), and how many requests each has in flight:
   * node's closeIdleConnections() only sees connections of a server that listens itself, not the sniffed AUTO ones
   * or HTTP/1.1 on an HTTP/2 server, so a drain tracks idleness here. */
  private readonly requestSockets = new Set<net.Socket>();
  private readonly inFlight = new Map<net.Socket, number>();
  private readonly h2Sockets = new WeakSet<object>();
  readonly key: string;
  private closing = false;
  /** Connections that a listener update asked to go (undefined until the first update: no cost before). */
  private draining: WeakSet<net.Socket> | undefined;
  private readonly isTls: boolean;
  private readonly headerClocks = new Map<net.Socket, HeaderClock>();
  /** Sockets already given a codec-error reply. */
  private readonly answered = new WeakSet<net.Socket>();

  constructor(
    gen: Generation,
    lr: ListenerRuntime,
    private readonly ip: string,
    private readonly port: number,
    baseDir: string,
  ) {
    this.current = { gen, lr };
    this.key = bindingKey(lr, ip, port);
    const codec: HttpConnectionManager_CodecType = lr.hcm.codec_type ?? 'AUTO';
    const chains = lr.listener.filter_chains ?? [];
    const tlsChain = chains.find((fc) => chainTls(fc) !== undefined && !(fc.filter_chain_match?.server_names?.length)) ??
      chains.find((fc) => chainTls(fc) !== undefined);
    this.isTls = tlsChain !== undefined;
    const onRequest = (req: DownReq, res: DownRes): void => {
      const c = this.current;
      if (req.httpVersionMajor === 1) {
        const sock = req.socket;
        if (this.headerClocks.size > 0) this.stopHeaderClock(sock);
        if (this.closing || this.draining?.has(sock) === true) (res as http.ServerResponse).shouldKeepAlive = false;
        this.inFlight.set(sock, (this.inFlight.get(sock) ?? 0) + 1);
        // node keeps at most maxHeadersCount (set to the limit + 1) pairs, so one more than the limit means over it.
        if (req.rawHeaders.length > c.lr.maxHeadersCount * 2) {
          return rejectRequest(c.gen, c.lr, req, res, 431, 'Request Header Fields Too Large', this.responseClosed);
        }
        // Envoy's HTTP/1.1 codec refuses HTTP/1.0 unless http_protocol_options.accept_http_10 (details low_version).
        if (req.httpVersionMinor === 0) {
          if (!c.lr.acceptHttp10) return rejectRequest(c.gen, c.lr, req, res, 426, 'Upgrade Required', this.responseClosed);
          if (req.headers.host === undefined && c.lr.defaultHostForHttp10 !== '') req.headers.host = c.lr.defaultHostForHttp10;
        }
        return handleRequest(c.gen, c.lr, req, res, this.responseClosed);
      }
      handleRequest(c.gen, c.lr, req, res);
    };
    const h1Options = { maxHeaderSize: lr.maxRequestHeadersBytes };
    const serverTimeouts = (s: http.Server): void => {
      // common_http_protocol_options.idle_timeout: node closes a keep-alive connection idle that long; the server's
      // 'timeout' (a listener replaces node's destroy) counts it.
      s.keepAliveTimeout = connectionIdleTimeoutMs(lr.hcm);
      s.on('timeout', (sock: net.Socket) => {
        this.current.lr.stats.cx_idle_timeout.value++;
        sock.destroy();
      });
      s.headersTimeout = 60_000;
      s.requestTimeout = 0;
      this.h1Limits(s);
    };
    // HTTP/2: node resets a stream whose header list has more entries (Envoy resets it too; pseudo-headers count).
    // allow_connect: SETTINGS_ENABLE_CONNECT_PROTOCOL advertised (RFC 8441), so clients may send extended CONNECT.
    const h2Options = { maxHeaderListPairs: Math.max(4, lr.maxHeadersCount), ...(lr.allowConnect ? { settings: { enableConnectProtocol: true } } : {}) };
    if (tlsChain !== undefined) {
      const opts = secureOptions(chainTls(tlsChain)!, baseDir, codec);
      const sni = sniCallback(chains, baseDir, codec);
      const tlsOpts = { ...opts, ...(sni ? { SNICallback: sni } : {}) };
      if (codec === 'HTTP1') {
        const s = https.createServer({ ...tlsOpts, ...h1Options }, onRequest);
        serverTimeouts(s);
        this.h1 = s;
        this.net = s;
        s.on('connection', (sock: net.Socket) => this.track(sock, false));
        s.on('secureConnection', (tls: net.Socket) => this.onSecureConnection(tls));
      } else {
        const s = http2.createSecureServer({ ...tlsOpts, ...h2Options, allowHTTP1: codec !== 'HTTP2' }, onRequest);
        // The HTTP/1.1 fallback reads these from the server object, as an http.Server would.
        this.h1Limits(s as unknown as http.Server);
        this.h2 = s;
        this.net = s;
        s.on('connection', (sock: net.Socket) => this.track(sock, false));
        s.on('secureConnection', (tls: net.Socket) => this.onSecureConnection(tls));
      }
    } else if (codec === 'HTTP1') {
      const s = http.createServer(h1Options, onRequest);
      serverTimeouts(s);
      this.h1 = s;
      this.net = s;
      s.on('connection', (sock: net.Socket) => {
        this.track(sock, true);
        this.startHeaderClock(sock, false);
      });
    } else if (codec === 'HTTP2') {
      const s = http2.createServer(h2Options, onRequest);
      this.h2 = s;
      this.net = s;
      s.on('connection', (sock: net.Socket) => {
        this.h2Sockets.add(sock);
        this.track(sock, false);
      });
    } else {
      // AUTO on cleartext: HTTP/2 when the first bytes are the connection preface, else HTTP/1.1 (Envoy's rule).
      const h1 = http.createServer(h1Options, onRequest);
      serverTimeouts(h1);
      const h2 = http2.createServer(h2Options, onRequest);
      this.h1 = h1;
      this.h2 = h2;
      this.net = net.createServer((sock) => {
        this.track(sock, false);
        this.sniff(sock, h1, h2);
      });
    }
    if (this.h2 !== undefined) {
      // HTTP/2 CONNECT streams (node answers them 405 unless someone listens): tunnels per upgrade_configs.
      this.h2.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        if (req.httpVersionMajor !== 2) return;
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
    // Expect: 100-continue. Without proxy_100_continue the proxy answers 100 itself, as node would; with it the 100
    // waits for the upstream's (Exchange.onContinue). Read per request: a reload may change the setting.
    const onCheckContinue = (req: DownReq, res: DownRes): void => {
      if (!this.current.lr.proxy100Continue) res.writeContinue();
      onRequest(req, res);
    };
    this.h1?.on('checkContinue', onCheckContinue);
    this.h2?.on('checkContinue', onCheckContinue);
    // Upgrades and CONNECT on HTTP/1.1 connections (node hands them over with the raw socket).
    const tunnelled = this.h1 ?? (codec !== 'HTTP2' ? this.h2 : undefined);
    if (tunnelled !== undefined) {
      // An HTTP/2 server with an HTTP/1.1 fallback emits 'connect' for both: HTTP/2 streams are handled below.
      const onTunnel = (req: http.IncomingMessage, sock: Duplex, head: Buffer): void => {
        if (req.httpVersionMajor !== 2) this.onTunnel(req, sock as net.Socket, head);
      };
      tunnelled.on('upgrade', onTunnel);
      tunnelled.on('connect', onTunnel);
    }
    if (this.h1 !== undefined && this.h1 !== this.net) {
      // Requests on a sniffed HTTP/1.1 connection.
      this.h1.on('connection', () => this.current.lr.stats.cx_http1_total.value++);
    }
  }

  /**
   * An upgrade request or a CONNECT: node has detached its parser and hands over the socket. A response bound to the
   * socket carries any local reply (then the connection closes); otherwise the exchange tunnels the socket.
   * `Upgrade: h2c` is not an upgrade Envoy performs (its HTTP/1.1 codec drops the h2c upgrade headers): a request
   * without a body is served as a plain request, and the connection closed after it; one with a body (node has
   * already ended the request object) is passed to the upstream whole on a connection of its own (see handleTunnel).
   */
  private onTunnel(req: http.IncomingMessage, sock: net.Socket, head: Buffer): void {
    this.stopHeaderClock(sock);
    // Bytes that arrive before the tunnel opens must wait for it (node left the socket without a reader).
    sock.pause();
    sock.on('error', () => sock.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(sock);
    res.once('finish', () => sock.end());
    const c = this.current;
    if (req.method !== 'CONNECT' && String(req.headers.upgrade).toLowerCase() === 'h2c' && !hasBody(req)) {
      return handleRequest(c.gen, c.lr, req, res);
    }
    handleTunnel(c.gen, c.lr, req, res, head);
  }

  /** maxHeadersCount one above the limit, so a request over it is seen (node drops the extra pairs silently);
   * codec errors answered as Envoy answers them, and counted. */
  private h1Limits(s: http.Server): void {
    s.maxHeadersCount = this.current.lr.maxHeadersCount + 1;
    (s as { maxHeaderSize?: number }).maxHeaderSize = this.current.lr.maxRequestHeadersBytes;
    s.on('clientError', (err: NodeJS.ErrnoException, sock: Duplex) => this.onClientError(err, sock as net.Socket));
  }

  private onClientError(err: NodeJS.ErrnoException, sock: net.Socket): void {
    // node reports the rest of the bad input again while the reply flushes: a destroy now would drop the reply.
    if (this.answered.has(sock)) return;
    this.stopHeaderClock(sock);
    if (err.code === 'ECONNRESET' || !sock.writable) {
      sock.destroy();
      return;
    }
    const pending = (sock as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (pending === undefined || pending === null || !pending.headersSent) {
      const [status, body] = codecErrorReply(err.code);
      this.answered.add(sock);
      this.writeRawReply(sock, status, body);
      // end(), not destroy(): under TLS a destroy right after the write drops the reply before it is encrypted.
      sock.end();
      setTimeout(() => sock.destroy(), 2000).unref();
      return;
    }
    sock.destroy();
  }

  /** A local reply written straight to the socket (no request object exists), counted as a request, then closed. */
  private writeRawReply(sock: net.Socket, status: number, body: string): void {
    const { lr } = this.current;
    lr.stats.rq_total.value++;
    lr.stats.rq_completed.value++;
    lr.stats.rq_xx[(status / 100) | 0]!.value++;
    if (status !== 408) lr.stats.cx_protocol_error.value++;
    sock.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        (body ? 'content-type: text/plain\r\n' : '') +
        `date: ${new Date().toUTCString()}\r\nserver: ${lr.serverName}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  private onSecureConnection(tls: net.Socket): void {
    this.trackRequestSocket(tls);
    if ((tls as { alpnProtocol?: string | false }).alpnProtocol !== 'h2') this.startHeaderClock(tls, false);
  }

  /**
   * HCM request_headers_timeout on an HTTP/1.1 connection with no request in flight. node's own headersTimeout is
   * checked only every connectionsCheckingInterval and only on servers that listen() themselves (not the sniffed
   * AUTO sockets), so the proxy keeps its own clock. `begun`: bytes of a request are known to have arrived.
   */
  private startHeaderClock(sock: net.Socket, begun: boolean): void {
    const ms = this.current.lr.requestHeadersTimeoutMs;
    if (ms <= 0 || sock.destroyed) return;
    let clock = this.headerClocks.get(sock);
    if (clock === undefined) {
      clock = { timer: undefined, mark: 0, deadline: 0 };
      this.headerClocks.set(sock, clock);
      sock.once('close', () => this.stopHeaderClock(sock));
    } else if (clock.timer !== undefined) clearTimeout(clock.timer);
    const c = clock;
    c.mark = sock.bytesRead;
    c.deadline = begun ? Date.now() + ms : 0;
    // Until a byte arrives, poll in quarter steps: the 408 then comes at most a quarter late, never early.
    const step = Math.max(10, Math.ceil(ms / 4));
    const check = (): void => {
      c.timer = undefined;
      if (sock.destroyed) return this.stopHeaderClock(sock);
      const now = Date.now();
      if (c.deadline === 0) {
        if (sock.bytesRead === c.mark) {
          c.timer = setTimeout(check, step);
          return;
        }
        c.deadline = now + ms;
      }
      if (now < c.deadline) {
        c.timer = setTimeout(check, c.deadline - now);
        return;
      }
      this.stopHeaderClock(sock);
      this.current.lr.stats.rq_header_timeout.value++;
      // Envoy: 408 with an empty body, and the connection closed (the request never completed).
      this.answered.add(sock);
      this.writeRawReply(sock, 408, '');
      sock.end();
      // A client that never reads or closes is cut off after a grace period.
      setTimeout(() => sock.destroy(), 5000).unref();
    };
    c.timer = setTimeout(check, begun ? ms : step);
  }

  private stopHeaderClock(sock: net.Socket): void {
    const c = this.headerClocks.get(sock);
    if (c === undefined) return;
    if (c.timer !== undefined) clearTimeout(c.timer);
    this.headerClocks.delete(sock);
  }

  private trackRequestSocket(sock: net.Socket): void {
    this.requestSockets.add(sock);
    sock.once('close', () => {
      this.requestSockets.delete(sock);
      this.inFlight.delete(sock);
    });
  }

  /** An HTTP/1.1 response closed (the exchange calls this from its own 'close' handler, so no listener closure is
   * made per request): one request fewer in flight on its connection. */
  private readonly responseClosed = (sock: net.Socket): void => {
    const n = (this.inFlight.get(sock) ?? 1) - 1;
    if (n > 0) this.inFlight.set(sock, n);
    else {
      this.inFlight.delete(sock);
      if (this.closing || this.draining?.has(sock) === true) sock.end();
      // Keep-alive: the next request's headers are on the clock again.
      else if (this.current.lr.requestHeadersTimeoutMs > 0) this.startHeaderClock(sock, false);
    }
  };

  /** During a drain: end every connection with no request in flight (HTTP/2 sessions get GOAWAY instead). */
  private endIdle(): void {
    for (const sock of this.requestSockets) {
      if (this.inFlight.has(sock) || this.h2Sockets.has(sock) || (sock as { alpnProtocol?: string | false }).alpnProtocol === 'h2') continue;
      sock.end();
    }
  }

  /** The listener was updated in place: open connections are asked to go (idle HTTP/1.1 ones closed, HTTP/2 sessions
   * sent GOAWAY) so that they come back to the new listener; requests in flight finish. */
  drainConnections(): void {
    // Busy HTTP/1.1 connections end after their response.
    this.draining ??= new WeakSet();
    for (const sock of this.requestSockets) if (this.inFlight.has(sock)) this.draining.add(sock);
    this.h1?.closeIdleConnections();
    this.endIdle();
    for (const s of this.sessions) s.close();
  }

  private track(sock: net.Socket, h1: boolean): void {
    if (!this.isTls) this.trackRequestSocket(sock);
    const { lr } = this.current;
    lr.listenerStats.cx_total.value++;
    lr.listenerStats.cx_active.value++;
    lr.stats.cx_total.value++;
    lr.stats.cx_active.value++;
    if (h1) lr.stats.cx_http1_total.value++;
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

  private sniff(sock: net.Socket, h1: http.Server, h2: http2.Http2Server): void {
    let buf: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
      const n = Math.min(buf.length, H2_PREFACE.length);
      const isH2 = buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buf.length < H2_PREFACE.length) return; // need more bytes to decide
      sock.removeListener('data', onData);
      // Paused before unshift so the bytes stay buffered: the HTTP/2 session reads `readableLength` on its next
      // tick; the HTTP/1.1 server's 'data' listener takes them when resumed.
      sock.pause();
      sock.unshift(buf);
      if (isH2) {
        this.h2Sockets.add(sock);
        h2.emit('connection', sock as Duplex);
      }
      else {
        h1.emit('connection', sock as Duplex);
        this.startHeaderClock(sock, true);
        sock.resume();
      }
    };
    sock.on('data', onData);
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
    this.h1?.closeIdleConnections();
    this.endIdle();
    // HTTP/2: Envoy's drain sequence (shutdown notice, final GOAWAY after drain_timeout).
    for (const s of this.sessions) drainSession(s, drainTimeoutMs(this.current.lr.hcm));
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      this.h1?.closeIdleConnections();
      this.endIdle();
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.sockets) s.destroy();
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}
