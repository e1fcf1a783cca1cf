/**
 * A stream's own clocks, as Envoy's connection manager keeps them (ConnectionManagerImpl::ActiveStream):
 * - stream_idle_timeout (default 5 min; a route's idle_timeout replaces it, 0 disables): no request or response
 *   activity for that long ends the stream — onIdleTimeout: 408 while the request is still arriving, 504 once it is
 *   whole, a reset once the response has begun; flag SI, counter downstream_rq_idle_timeout.
 * - max_stream_duration (refreshDurationTimeout): the connection manager's common_http_protocol_options one, replaced
 *   by the route's max_stream_duration.max_stream_duration (0 disables), or by the request's grpc-timeout when the
 *   route sets grpc_timeout_header_max (capped by it unless 0, less grpc_timeout_header_offset).
 *
 * Idle watching costs no timer per request: the watched streams sit in one intrusive list, activity stores a coarse
 * clock value in a field, and one unref'd interval walks the list. A stream fires no earlier than its timeout and at
 * most two ticks (a quarter of the shortest timeout seen) after it.
 */
import type { Duration, MaxStreamDuration, RouteAction } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import { parseGrpcTimeout } from './grpc.js';

/** Envoy's default stream_idle_timeout. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000;

/** A stream the idle sweeper watches. The fields are the sweeper's; `idleBytes` reads the downstream's byte count
 * (request body bytes arrive without the exchange seeing them), `idleFired` ends the stream. */
export interface IdleWatch {
  idleMs: number;
  idleMark: number;
  idleSeen: number;
  idlePrev: IdleWatch | null;
  idleNext: IdleWatch | null;
  idleLinked: boolean;
  idleBytes(): number;
  idleFired(): void;
}

/** The coarse clock activity is stamped with (ms, performance.now() as of the last tick). */
export let idleNow = 0;
let head: IdleWatch | null = null;
let tickMs = 0;
let ticker: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = (idleNow = performance.now());
  const slack = tickMs;
  for (let w = head; w !== null; ) {
    const next: IdleWatch | null = w.idleNext;
    // The byte count is first read here, not on the request path (at most a tick after the watch began).
    if (w.idleSeen < 0) w.idleSeen = w.idleBytes();
    else if (now - w.idleMark >= w.idleMs + slack) {
      const seen = w.idleBytes();
      if (seen !== w.idleSeen) {
        // Request bytes arrived since the last look: that is activity.
        w.idleSeen = seen;
        w.idleMark = now;
      } else {
        unwatchIdle(w);
        w.idleFired();
      }
    }
    w = next;
  }
}

/** Starts watching `w` for `ms` of inactivity (from now). */
export function watchIdle(w: IdleWatch, ms: number): void {
  const tick = Math.min(1000, Math.max(5, Math.floor(ms / 8)));
  if (ticker === undefined || tick < tickMs) {
    if (ticker !== undefined) clearInterval(ticker);
    tickMs = tick;
    ticker = setInterval(sweep, tick);
    ticker.unref();
    idleNow = performance.now();
  }
  w.idleMs = ms;
  // The coarse clock, up to a tick old: the sweeper allows a tick of slack, so a stream never fires early.
  w.idleMark = idleNow;
  w.idleSeen = -1;
  w.idlePrev = null;
  w.idleNext = head;
  if (head !== null) head.idlePrev = w;
  head = w;
  w.idleLinked = true;
}

export function unwatchIdle(w: IdleWatch): void {
  if (!w.idleLinked) return;
  w.idleLinked = false;
  if (w.idlePrev !== null) w.idlePrev.idleNext = w.idleNext;
  else head = w.idleNext;
  if (w.idleNext !== null) w.idleNext.idlePrev = w.idlePrev;
  w.idlePrev = w.idleNext = null;
}

/** How a route bounds a stream's duration (its max_stream_duration), compiled once. -1: the field is absent. */
export interface StreamDurationPolicy {
  /** max_stream_duration.max_stream_duration: -1 → the connection manager's; 0 → none. */
  readonly maxMs: number;
  /** grpc_timeout_header_max: -1 → grpc-timeout is not read; 0 → read, uncapped. */
  readonly headerMaxMs: number;
  readonly headerOffsetMs: number;
}

function optionalMs(d: Duration | undefined): number {
  return d === undefined ? -1 : durationToMs(d);
}

/** The route's policy, or null when it has no max_stream_duration (then only the connection manager's applies). */
export function compileStreamDuration(action: RouteAction | undefined): StreamDurationPolicy | null {
  const m: MaxStreamDuration | undefined = action?.max_stream_duration;
  if (m === undefined) return null;
  return {
    maxMs: optionalMs(m.max_stream_duration),
    headerMaxMs: optionalMs(m.grpc_timeout_header_max),
    headerOffsetMs: Math.max(0, optionalMs(m.grpc_timeout_header_offset)),
  };
}

/** The stream's duration limit in ms (0: none), from the route's policy, the connection manager's limit `hcmMs` and
 * the request's grpc-timeout header (Envoy's refreshDurationTimeout). */
export function streamDurationMs(policy: StreamDurationPolicy | null, hcmMs: number, grpcTimeout: string | string[] | undefined): number {
  const header = policy === null || policy.headerMaxMs < 0 ? undefined : parseGrpcTimeout(grpcTimeout);
  if (header === undefined) return policy !== null && policy.maxMs >= 0 ? policy.maxMs : hcmMs;
  let ms = header;
  if (policy!.headerMaxMs > 0 && (ms === 0 || ms > policy!.headerMaxMs)) ms = policy!.headerMaxMs;
  const offset = policy!.headerOffsetMs;
  if (offset > 0 && offset < ms) ms -= offset;
  return ms;
}
