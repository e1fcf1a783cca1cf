/**
 * One downstream HTTP/2 connection on meshctl's own codec (src/http/h2): the connection manager's
 * http2_protocol_options as our SETTINGS, one request and one response object per stream handed to the engine
 * (CONNECT streams to the tunnel code), `Expect: 100-continue`, and how the connection ends as Envoy ends it
 * (connection-lifetime.ts): a drain is a shutdown-notice GOAWAY, then drain_timeout later the final GOAWAY with the
 * last stream received, the socket closed once the streams are done; common_http_protocol_options.idle_timeout
 * drains a connection without streams.
 *
 * The socket's listeners are made once per connection; nothing per request is a closure.
 */
import type { Socket } from 'node:net';
import type { HttpConnectionManager } from '../config/model.js';
import { H2ServerConnection, type H2ServerHandler, type H2ServerOptions } from '../http/h2/connection.js';
import { ErrorCode } from '../http/h2/frames.js';
import type { RequestPseudo } from '../http/h2/request-fields.js';
import type { H2Stream } from '../http/h2/stream.js';
import { writtenField } from '../config/node-meta.js';
import { drainTimeoutMs, startConnectionClocks, type ClockedConnection } from './connection-lifetime.js';
import type { ListenerRuntime } from './generation.js';
import { H2Request } from './h2-request.js';
import { H2Response } from './h2-response.js';

/** What the connection asks of its listener. */
export interface H2Host {
  readonly lr: ListenerRuntime;
  /** A request for the engine (CONNECT streams included: `req.tunnelIo` is set). */
  h2Request(req: H2Request, res: H2Response): void;
  /** The connection is over (the listener forgets it). */
  h2Closed(conn: H2Connection): void;
}

/** The shutdown notice's last stream id: 2^31 − 1 (RFC 9113 §6.8). */
const SHUTDOWN_NOTICE_STREAM_ID = 2 ** 31 - 1;

function finalGoaway(c: H2Connection): void {
  c.finalGoaway();
}

/** Envoy's defaults (api/envoy/config/core/v3/protocol.proto, Http2ProtocolOptions). */
const DEFAULT_MAX_CONCURRENT_STREAMS = 2147483647;
const DEFAULT_WINDOW = 268435456;
const DEFAULT_HPACK_TABLE = 4096;

/** Our SETTINGS from the connection manager's http2_protocol_options and header limits. */
export function h2ServerOptions(lr: ListenerRuntime): H2ServerOptions {
  const o = writtenField(lr.hcm as HttpConnectionManager, 'http2_protocol_options');
  const get = (k: string, d: number): number => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return d;
    const v = (o as Record<string, unknown>)[k];
    const n = typeof v === 'object' && v !== null && 'value' in v ? Number((v as { value: unknown }).value) : Number(v);
    return v === undefined || !Number.isFinite(n) ? d : n;
  };
  return {
    maxConcurrentStreams: get('max_concurrent_streams', DEFAULT_MAX_CONCURRENT_STREAMS),
    initialStreamWindow: get('initial_stream_window_size', DEFAULT_WINDOW),
    initialConnectionWindow: get('initial_connection_window_size', DEFAULT_WINDOW),
    hpackTableSize: get('hpack_table_size', DEFAULT_HPACK_TABLE),
    connectProtocol: lr.allowConnect,
    maxHeaderListBytes: lr.maxRequestHeadersBytes,
    // As on node's path: pseudo-headers count towards the limit, and never fewer than the four a request needs.
    maxHeaderCount: Math.max(4, lr.maxHeadersCount),
    streamErrorOnInvalidMessaging: streamErrorOnInvalidMessaging(lr.hcm, o),
    maxConsecutiveEmptyFrames: get('max_consecutive_inbound_frames_with_empty_payload', 1),
  };
}

/**
 * Whether a malformed request resets only its stream (Envoy's default: the connection is terminated). Envoy's order:
 * http2_protocol_options.override_stream_error_on_invalid_http_message, else the connection manager's
 * stream_error_on_invalid_http_message, else the deprecated http2_protocol_options.stream_error_on_invalid_http_messaging.
 */
function streamErrorOnInvalidMessaging(hcm: HttpConnectionManager, h2: unknown): boolean {
  const o = h2 !== null && typeof h2 === 'object' && !Array.isArray(h2) ? (h2 as Record<string, unknown>) : {};
  const bool = (v: unknown): boolean | undefined => {
    if (typeof v === 'boolean') return v;
    if (v !== null && typeof v === 'object' && 'value' in v) return (v as { value: unknown }).value === true;
    return undefined;
  };
  return bool(o.override_stream_error_on_invalid_http_message) ?? bool(writtenField(hcm, 'stream_error_on_invalid_http_message')) ?? bool(o.stream_error_on_invalid_http_messaging) ?? false;
}

export class H2Connection implements H2ServerHandler, ClockedConnection {
  readonly codec: H2ServerConnection;
  private draining = false;
  /** The final GOAWAY has gone: the socket closes when no stream is left. */
  private goingAway = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly sock: Socket,
    private readonly host: H2Host,
    first: Buffer | null,
  ) {
    const lr = host.lr;
    this.codec = new H2ServerConnection(sock, h2ServerOptions(lr), this);
    lr.stats.cx_http2_total.value++;
    sock.on('data', (b: Buffer) => this.codec.received(b));
    sock.on('drain', () => this.codec.drained());
    // A client that half-closes is done sending frames; its streams still get their responses.
    sock.on('end', () => this.peerEnded());
    sock.on('close', () => this.codec.close());
    sock.on('error', () => sock.destroy());
    // Past max_connection_duration, Envoy's drain sequence.
    this.durationTimer = startConnectionClocks(sock, lr.hcm, lr.maxConnectionDurationMs, this);
    if (first !== null) this.codec.received(first);
  }

  /** max_connection_duration has passed (counted in downstream_cx_max_duration_reached). */
  durationReached(): void {
    this.durationTimer = undefined;
    if (this.codec.closed) return;
    this.host.lr.stats.cx_max_duration_reached.value++;
    this.drain();
  }

  /** Envoy's drain sequence: the shutdown notice now, the final GOAWAY after drain_timeout (`ms`, default the
   * connection manager's). */
  drain(ms = drainTimeoutMs(this.host.lr.hcm)): void {
    if (this.draining || this.codec.closed) return;
    this.draining = true;
    this.codec.goaway(SHUTDOWN_NOTICE_STREAM_ID, ErrorCode.NO_ERROR);
    // The notice leaves now, not at the end of the turn: drain_timeout counts from it.
    this.codec.flush();
    this.drainTimer = setTimeout(finalGoaway, ms, this);
    this.drainTimer.unref();
  }

  /** The final GOAWAY: nothing after the last stream received is served; the socket closes when the rest are done. */
  finalGoaway(): void {
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    if (this.codec.closed || this.goingAway) return;
    this.goingAway = true;
    this.codec.goaway(this.codec.lastStreamId, ErrorCode.NO_ERROR);
    if (this.codec.activeStreams === 0) this.h2Idle();
  }

  private peerEnded(): void {
    if (this.codec.activeStreams === 0) this.sock.end();
  }

  /** idle_timeout: a connection with no stream open drains (Envoy counts it). */
  idle(): void {
    if (this.codec.closed || this.codec.activeStreams > 0 || this.draining) return;
    this.host.lr.stats.cx_idle_timeout.value++;
    this.drain();
  }

  // ---- H2ServerHandler ----
  h2Request(stream: H2Stream, f: string[], _count: number, pseudo: RequestPseudo, endStream: boolean): void {
    const req = new H2Request(this.codec, stream, f, pseudo, endStream, this.sock);
    const res = new H2Response(this.codec, stream, req);
    stream.owner = res;
    // Expect: 100-continue: without proxy_100_continue the proxy answers 100 itself (as node's server does); with it
    // the 100 waits for the upstream's (Exchange.onContinue).
    if (!endStream && !this.host.lr.proxy100Continue && typeof req.headers.expect === 'string' && req.headers.expect.toLowerCase() === '100-continue') {
      res.writeContinue();
    }
    this.host.h2Request(req, res);
    // Envoy's max_requests_per_connection on HTTP/2: the stream that reaches it starts the drain sequence.
    const max = this.host.lr.maxRequestsPerConnection;
    if (max > 0 && this.codec.accepted === max) {
      this.host.lr.stats.cx_max_requests_reached.value++;
      this.drain();
    }
  }

  h2Refused(_reason: string): void {
    // A stream reset by the codec never reaches the connection manager: Envoy counts it in http2.rx_messaging_error,
    // a stat meshctl does not model.
  }

  h2ConnectionError(): void {
    this.host.lr.stats.cx_protocol_error.value++;
  }

  /** Envoy closes a connection whose client resets streams as fast as it opens them (rapid reset, CVE-2023-44487):
   * counted in downstream_rq_too_many_premature_resets, a GOAWAY, and the socket closed. */
  h2PrematureResets(): void {
    if (this.codec.closed) return;
    this.host.lr.stats.rq_too_many_premature_resets.value++;
    this.codec.goaway(this.codec.lastStreamId, ErrorCode.NO_ERROR);
    this.codec.flush();
    this.sock.destroySoon();
  }

  h2Idle(): void {
    if (this.codec.activeStreams > 0) return;
    if (this.goingAway || !this.sock.readable) {
      this.codec.flush();
      this.sock.end();
    }
  }

  h2Closed(): void {
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    this.host.h2Closed(this);
  }
}
