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
import { handleRequest, type DownReq, type DownRes } from './exchange.js';
import type { Generation, ListenerRuntime } from './generation.js';
import { chainTls, secureOptions, sniCallback } from './tls.js';

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
  return `${ip}|${port}|${lr.hcm.codec_type ?? 'AUTO'}|${tlsCtx}`;
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
  private readonly isTls: boolean;

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
        if (this.closing) (res as http.ServerResponse).shouldKeepAlive = false;
        this.countInFlight(req.socket, res);
      }
      handleRequest(c.gen, c.lr, req, res);
    };
    const serverTimeouts = (s: http.Server): void => {
      s.keepAliveTimeout = 300_000;
      s.headersTimeout = 60_000;
      s.requestTimeout = 0;
    };
    if (tlsChain !== undefined) {
      const opts = secureOptions(chainTls(tlsChain)!, baseDir, codec);
      const sni = sniCallback(chains, baseDir, codec);
      const tlsOpts = { ...opts, ...(sni ? { SNICallback: sni } : {}) };
      if (codec === 'HTTP1') {
        const s = https.createServer(tlsOpts, onRequest);
        serverTimeouts(s);
        this.h1 = s;
        this.net = s;
        s.on('connection', (sock: net.Socket) => this.track(sock, false));
        s.on('secureConnection', (tls: net.Socket) => this.trackRequestSocket(tls));
      } else {
        const s = http2.createSecureServer({ ...tlsOpts, allowHTTP1: codec !== 'HTTP2' }, onRequest);
        this.h2 = s;
        this.net = s;
        s.on('connection', (sock: net.Socket) => this.track(sock, false));
        s.on('secureConnection', (tls: net.Socket) => this.trackRequestSocket(tls));
      }
    } else if (codec === 'HTTP1') {
      const s = http.createServer(onRequest);
      serverTimeouts(s);
      this.h1 = s;
      this.net = s;
      s.on('connection', (sock: net.Socket) => this.track(sock, true));
    } else if (codec === 'HTTP2') {
      const s = http2.createServer({}, onRequest);
      this.h2 = s;
      this.net = s;
      s.on('connection', (sock: net.Socket) => {
        this.h2Sockets.add(sock);
        this.track(sock, false);
      });
    } else {
      // AUTO on cleartext: HTTP/2 when the first bytes are the connection preface, else HTTP/1.1 (Envoy's rule).
      const h1 = http.createServer(onRequest);
      serverTimeouts(h1);
      const h2 = http2.createServer({}, onRequest);
      this.h1 = h1;
      this.h2 = h2;
      this.net = net.createServer((sock) => {
        this.track(sock, false);
        this.sniff(sock, h1, h2);
      });
    }
    if (this.h2 !== undefined) {
      this.h2.on('session', (s: http2.ServerHttp2Session) => {
        this.sessions.add(s);
        this.current.lr.stats.cx_http2_total.value++;
        s.once('close', () => this.sessions.delete(s));
        if (this.closing) s.close();
      });
    }
    if (this.h1 !== undefined && this.h1 !== this.net) {
      // Requests on a sniffed HTTP/1.1 connection.
      this.h1.on('connection', () => this.current.lr.stats.cx_http1_total.value++);
    }
  }

  private trackRequestSocket(sock: net.Socket): void {
    this.requestSockets.add(sock);
    sock.once('close', () => {
      this.requestSockets.delete(sock);
      this.inFlight.delete(sock);
    });
  }

  private countInFlight(sock: net.Socket, res: DownRes): void {
    this.inFlight.set(sock, (this.inFlight.get(sock) ?? 0) + 1);
    res.once('close', () => {
      const n = (this.inFlight.get(sock) ?? 1) - 1;
      if (n > 0) this.inFlight.set(sock, n);
      else {
        this.inFlight.delete(sock);
        if (this.closing) sock.end();
      }
    });
  }

  /** During a drain: end every connection with no request in flight (HTTP/2 sessions get GOAWAY instead). */
  private endIdle(): void {
    for (const sock of this.requestSockets) {
      if (this.inFlight.has(sock) || this.h2Sockets.has(sock) || (sock as { alpnProtocol?: string | false }).alpnProtocol === 'h2') continue;
      sock.end();
    }
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
    sock.once('close', () => {
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
    for (const s of this.sessions) s.close();
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
