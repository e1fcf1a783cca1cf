/**
 * How a downstream connection ends, as Envoy's connection manager ends it:
 * - drain (ConnectionManagerImpl::startDrainSequence): an HTTP/2 client first gets a shutdown notice (GOAWAY with the
 *   highest stream id, so nothing in flight is refused), and drain_timeout (default 5 s) later the final GOAWAY
 *   with the last stream actually received; the connection closes when its streams are done. HTTP/1.1 connections
 *   get `Connection: close` on their next response (the listener's job).
 * - common_http_protocol_options.idle_timeout (default 1 h, 0 disables): a connection with no request for that long
 *   is closed (HTTP/2: after a drain sequence), counted in downstream_cx_idle_timeout.
 */
import type { ServerHttp2Session } from 'node:http2';
import type { HttpConnectionManager } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import type { Socket } from 'node:net';
import type { Counter } from './stats.js';

/** Envoy's default drain_timeout. */
const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** Envoy's default downstream idle_timeout. */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** The shutdown notice's last stream id: 2^31 − 1 (RFC 9113 §6.8). */
const SHUTDOWN_NOTICE_STREAM_ID = 2 ** 31 - 1;

export function drainTimeoutMs(hcm: HttpConnectionManager): number {
  return hcm.drain_timeout !== undefined ? durationToMs(hcm.drain_timeout) : DEFAULT_DRAIN_TIMEOUT_MS;
}

/** The downstream connection idle timeout in ms (0: none). */
export function connectionIdleTimeoutMs(hcm: HttpConnectionManager): number {
  const d = hcm.common_http_protocol_options?.idle_timeout;
  return d !== undefined ? durationToMs(d) : DEFAULT_IDLE_TIMEOUT_MS;
}

const DRAINING = new WeakSet<ServerHttp2Session>();

/** Starts Envoy's drain sequence on an HTTP/2 session: the shutdown notice now, the final GOAWAY and close after
 * `drainMs`. */
export function drainSession(s: ServerHttp2Session, drainMs: number): void {
  if (DRAINING.has(s) || s.closed || s.destroyed) return;
  DRAINING.add(s);
  s.goaway(0, SHUTDOWN_NOTICE_STREAM_ID);
  const t = setTimeout(() => {
    if (!s.closed && !s.destroyed) s.close();
  }, drainMs);
  t.unref();
  s.once('close', () => clearTimeout(t));
}

/** An HTTP/2 session that sees no frame for `idleMs` is drained (counted in `counter`). A stream still open then has
 * been silent at least as long, so stream_idle_timeout (shorter by default) has normally ended it already. */
export function closeIdleSession(s: ServerHttp2Session, idleMs: number, drainMs: number, counter: Counter): void {
  if (idleMs <= 0) return;
  s.setTimeout(idleMs, () => {
    if (DRAINING.has(s)) return;
    counter.value++;
    drainSession(s, drainMs);
  });
}

/** A downstream connection that goes when asked (meshctl's HTTP/1.1 and HTTP/2 connections). */
export interface ClockedConnection {
  /** The socket's inactivity timer fired (common_http_protocol_options.idle_timeout). */
  idle(): void;
  /** max_connection_duration has passed. */
  durationReached(): void;
}

function durationReached(c: ClockedConnection): void {
  c.durationReached();
}

/**
 * A connection's two clocks from its connection manager: idle_timeout as the socket's own inactivity timer (re-armed
 * by every read and write; its 'timeout' event calls `idle`), and max_connection_duration as one unref'd timer from
 * accept (Envoy drains the connection then). Returns the duration timer, for the connection to clear when it closes.
 */
export function startConnectionClocks(sock: Socket, hcm: HttpConnectionManager, maxDurationMs: number, c: ClockedConnection): NodeJS.Timeout | undefined {
  sock.on('timeout', () => c.idle());
  const idleMs = connectionIdleTimeoutMs(hcm);
  if (idleMs > 0) sock.setTimeout(idleMs);
  if (maxDurationMs <= 0) return undefined;
  const t = setTimeout(durationReached, maxDurationMs, c);
  t.unref();
  return t;
}
