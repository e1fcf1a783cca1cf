/**
 * Upgrades and CONNECT over HTTP/1.1: whether the connection manager and the route allow an upgrade type
 * (`upgrade_configs`), and the byte tunnel to the upstream host once they do. A WebSocket (or other) upgrade sends
 * the request upstream with its Upgrade and Connection headers, passes the upstream's answer back as it is, and
 * then copies bytes both ways; CONNECT opens a TCP connection to the host, answers 200, and copies bytes both ways.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { HttpConnectionManager, JsonValue, RouteAction } from '../config/model.js';
import type { OutHeaders } from '../http/headers.js';
import type { UpstreamErrorKind } from '../upstream/pool.js';
import type { UpstreamTlsOptions } from '../upstream/upstream-tls.js';

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

function raw(node: object | undefined, name: string): JsonValue | undefined {
  if (node === undefined) return undefined;
  return ((node as Record<string, unknown>)[name] as JsonValue | undefined) ?? (node as { unmodeled?: Record<string, JsonValue> }).unmodeled?.[name];
}

/**
 * Envoy's HttpConnectionManagerConfig::createUpgradeFilterChain: a route's upgrade_configs entry for the type
 * decides (disabled: refused; enabled: allowed); otherwise the connection manager's entry must exist and be enabled.
 */
export function upgradeAllowed(hcm: HttpConnectionManager, action: RouteAction | undefined, type: string): boolean {
  const t = type.toLowerCase();
  const route = upgradeEntries(raw(action, 'upgrade_configs'))?.get(t);
  if (route !== undefined) return route;
  return upgradeEntries(raw(hcm, 'upgrade_configs'))?.get(t) === true;
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
export function openTunnel(client: net.Socket, target: TunnelTarget, requestHead: string | null, early: Buffer, sink: TunnelSink): void {
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
  const start = (status: number, first: Buffer | null): void => {
    open = true;
    const local = up.localAddress ?? '';
    sink.tunnelOpened(status, local.includes(':') ? `[${local}]:${up.localPort}` : `${local}:${up.localPort}`);
    if (first !== null && first.length > 0) {
      bytes += first.length;
      client.write(first);
    }
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
      client.write('HTTP/1.1 200 OK\r\n\r\n');
      if (early.length > 0) up.write(early);
      return start(200, null);
    }
    up.write(requestHead);
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
      start(Number(m[1]), buf);
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
