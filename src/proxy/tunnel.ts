/**
 * Upgrades and CONNECT: whether the connection manager and the route allow an upgrade type (`upgrade_configs`), and
 * the byte tunnel to the upstream host once they do. A WebSocket (or other) upgrade sends the request upstream with
 * its Upgrade and Connection headers, passes the upstream's answer back, and then copies bytes both ways; CONNECT
 * opens a TCP connection to the host, answers 200, and copies bytes both ways.
 *
 * Over HTTP/2 (RFC 8441 extended CONNECT: `:method CONNECT`, `:protocol websocket`), allowed when the connection
 * manager's `http2_protocol_options.allow_connect` is true (the listener then advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL), the stream is carried to an HTTP/1.1 upstream as Envoy translates it
 * (source/common/http/utility.cc transformUpgradeRequestFromH2toH1 / transformUpgradeResponseFromH1toH2): upstream
 * it is a GET with `Upgrade: <protocol>` and `Connection: upgrade`; the upstream's 101 comes back as `:status 200`
 * without the hop-by-hop Upgrade and Connection headers, and the stream's DATA frames carry the bytes both ways.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HttpConnectionManager, JsonValue, RouteAction } from '../config/model.js';
import type { OutHeaders } from '../http/headers.js';
import type { UpstreamErrorKind } from '../upstream/pool.js';
import type { UpstreamTlsOptions } from '../upstream/upstream-tls.js';
import { writtenField } from '../config/node-meta.js';

/** upgrade_configs entries as read from the config: the type (lower-case) and whether it is enabled. */
function upgradeEntries(v: JsonValue | undefined): Map<string, boolean> | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = new Map<string, boolean>();
  for (const e of v) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) continue;
    const type = e.upgrade_type ?? e.upgradeType;
    if (typeof type !== 'string') continue;
    const enabled = e.enabled;
    // `enabled` is a BoolValue: absent means true; written as {value: false} in some forms.
    const off = enabled === false || (enabled !== null && typeof enabled === 'object' && !Array.isArray(enabled) && enabled.value === false);
    out.set(type.toLowerCase(), !off);
  }
  return out;
}

/**
 * Envoy's HttpConnectionManagerConfig::createUpgradeFilterChain: a route's upgrade_configs entry for the type
 * decides (disabled: refused; enabled: allowed); otherwise the connection manager's entry must exist and be enabled.
 */
export function upgradeAllowed(hcm: HttpConnectionManager, action: RouteAction | undefined, type: string): boolean {
  const t = type.toLowerCase();
  const route = upgradeEntries(writtenField(action, 'upgrade_configs'))?.get(t);
  if (route !== undefined) return route;
  return upgradeEntries(writtenField(hcm, 'upgrade_configs'))?.get(t) === true;
}

/** The connection manager's http2_protocol_options.allow_connect: RFC 8441 extended CONNECT is accepted. */
export function h2AllowConnect(hcm: HttpConnectionManager): boolean {
  const opts = writtenField(hcm, 'http2_protocol_options');
  return opts !== null && typeof opts === 'object' && !Array.isArray(opts) && opts.allow_connect === true;
}

/** The downstream end of a tunnel: its bytes, and how it is told that the tunnel opened. */
interface TunnelClient {
  readonly io: Duplex;
  /** CONNECT: the upstream connected. */
  connected(): void;
  /** An upgrade: the upstream answered `status` with the head `head` (status line and headers, through the blank
   * line) followed by `rest`. Returns the status the client got. */
  answered(status: number, head: Buffer, rest: Buffer): number;
}

/** An HTTP/1.1 connection: the upstream's answer passes through byte for byte. */
export function socketClient(sock: net.Socket): TunnelClient {
  return {
    io: sock,
    connected: () => void sock.write('HTTP/1.1 200 OK\r\n\r\n'),
    answered(status, head, rest) {
      sock.write(head);
      if (rest.length > 0) sock.write(rest);
      return status;
    },
  };
}

/** Hop-by-hop headers of an HTTP/1.1 answer that HTTP/2 does not carry. */
const H1_ONLY = new Set(['connection', 'upgrade', 'keep-alive', 'transfer-encoding', 'proxy-connection']);

/** An HTTP/2 CONNECT stream's bytes and how its answer is sent: node's ServerHttp2Stream, or meshctl's own codec's
 * H2TunnelIo. */
type TunnelStream = Duplex & { respond(headers: Record<string, string | string[] | number>): void };

/** An HTTP/2 stream (CONNECT or extended CONNECT): answers are HEADERS frames, bytes are DATA frames. */
export function streamClient(stream: TunnelStream): TunnelClient {
  return {
    io: stream,
    connected: () => stream.respond({ ':status': 200 }),
    answered(status, head, rest) {
      const out: Record<string, string | string[]> = {};
      const lines = head.toString('latin1').split('\r\n').slice(1);
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim().toLowerCase();
        if (H1_ONLY.has(name)) continue;
        const value = line.slice(i + 1).trim();
        const prev = out[name];
        out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      // Envoy: a 101 Switching Protocols becomes 200 on HTTP/2 (RFC 8441 §5).
      const h2Status = status === 101 ? 200 : status;
      out[':status'] = String(h2Status);
      stream.respond(out);
      if (rest.length > 0) stream.write(rest);
      return h2Status;
    },
  };
}

/** What the tunnel reports to the exchange that owns the request. */
export interface TunnelSink {
  /** The upstream answered (an upgrade's status line) or connected (CONNECT: 200): bytes flow from now on.
   * `localAddress`: the upstream connection's local ip:port. */
  tunnelOpened(status: number, localAddress: string): void;
  /** No tunnel: the connection failed, or the upstream closed before answering. */
  tunnelFailed(kind: UpstreamErrorKind, detail: string): void;
  /** Either side closed an open tunnel; `bytes` went from the upstream to the client. */
  tunnelClosed(bytes: number): void;
}

interface TunnelTarget {
  ip: string;
  port: number;
  connectTimeoutMs: number;
  tls: UpstreamTlsOptions | undefined;
}

/** The request head written upstream for an upgrade (the Upgrade and Connection headers kept), or, with `upgrade`
 * null, for one plain request on a connection of its own. */
export function upgradeRequestHead(method: string, path: string, headers: OutHeaders, upgrade: string | null): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) head += `${k}: ${x}\r\n`;
    else head += `${k}: ${v}\r\n`;
  }
  return head + (upgrade === null ? 'connection: close\r\n\r\n' : `connection: upgrade\r\nupgrade: ${upgrade}\r\n\r\n`);
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Envoy's default limit on response headers (60 KiB) bounds how much is read looking for the upstream's head. */
const MAX_HEAD = 60 * 1024;

/**
 * Opens the tunnel. `requestHead` null: CONNECT (the client gets `HTTP/1.1 200` once the upstream connects);
 * otherwise an upgrade request, whose answer is passed back verbatim. `early`: bytes the client sent after its
 * request head.
 */
export function openTunnel(downstream: TunnelClient, target: TunnelTarget, requestHead: string | null, early: Buffer, sink: TunnelSink): void {
  const client = downstream.io;
  const up: net.Socket =
    target.tls !== undefined
      ? tls.connect({ ...(target.tls as tls.ConnectionOptions), host: target.ip, port: target.port })
      : net.connect({ host: target.ip, port: target.port });
  let open = false;
  let failed = false;
  let bytes = 0;
  const fail = (kind: UpstreamErrorKind, detail: string): void => {
    if (open || failed) return;
    failed = true;
    clearTimeout(timer);
    up.destroy();
    sink.tunnelFailed(kind, detail);
  };
  const timer = setTimeout(() => fail('connect-timeout', 'connection timeout'), target.connectTimeoutMs);
  up.setNoDelay(true);
  /** `answer`: an upgrade's head and the bytes after it; null for CONNECT. */
  const start = (status: number, answer: { head: Buffer; rest: Buffer } | null): void => {
    open = true;
    const local = up.localAddress ?? '';
    if (answer === null) downstream.connected();
    else {
      bytes += answer.head.length + answer.rest.length;
      status = downstream.answered(status, answer.head, answer.rest);
    }
    sink.tunnelOpened(status, local.includes(':') ? `[${local}]:${up.localPort}` : `${local}:${up.localPort}`);
    up.on('data', (d: Buffer) => (bytes += d.length));
    up.pipe(client);
    if (requestHead === null) client.pipe(up);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      client.destroy();
      up.destroy();
      sink.tunnelClosed(bytes);
    };
    up.on('close', close);
    client.on('close', close);
    client.on('error', close);
    up.on('error', close);
    client.resume();
  };
  up.once(target.tls !== undefined ? 'secureConnect' : 'connect', () => {
    clearTimeout(timer);
    if (client.destroyed) return fail('reset', 'downstream closed');
    if (requestHead === null) {
      if (early.length > 0) up.write(early);
      return start(200, null);
    }
    up.write(requestHead, 'latin1');
    if (early.length > 0) up.write(early);
    // The client's bytes flow at once (a request body may have to arrive before the upstream answers).
    client.pipe(up);
    client.resume();
    let buf: Buffer = Buffer.alloc(0);
    const onHead = (d: Buffer): void => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        if (buf.length > MAX_HEAD) fail('protocol', 'upstream response headers too large');
        return;
      }
      up.removeListener('data', onHead);
      up.removeListener('end', onEarlyEnd);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(end, 64)));
      if (m === null) return fail('protocol', 'malformed upstream response');
      start(Number(m[1]), { head: buf.subarray(0, end + HEAD_END.length), rest: buf.subarray(end + HEAD_END.length) });
    };
    const onEarlyEnd = (): void => fail('termination', 'connection termination');
    up.on('data', onHead);
    up.once('end', onEarlyEnd);
  });
  up.on('error', (err: Error & { code?: string }) => {
    if (open) return;
    fail(err.code === 'ECONNREFUSED' || !up.readyState.startsWith('open') ? 'connect-failure' : 'reset', err.code === 'ECONNREFUSED' ? 'delayed connect error: Connection refused' : (err.code ?? err.message));
  });
}
