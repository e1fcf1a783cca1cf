/**
 * A listener's stats in the proxy's store: its connection manager's `http.<stat_prefix>.*` and the listener's own
 * `listener.<address>.*`. The cells are created once per config generation (the store keeps them by name, so a
 * reload keeps counting where it was); the data path bumps their values.
 */
import { type Counter, type Histogram, type StatsStore } from './stats.js';

export class HttpStats {
  readonly rq_total: Counter;
  readonly rq_active: Counter;
  readonly rq_completed: Counter;
  /** Index 1..5 = downstream_rq_1xx..5xx. */
  readonly rq_xx: readonly Counter[];
  readonly no_route: Counter;
  readonly no_cluster: Counter;
  readonly rq_direct_response: Counter;
  readonly rq_redirect: Counter;
  readonly cx_total: Counter;
  readonly cx_active: Counter;
  readonly cx_http1_total: Counter;
  readonly cx_http2_total: Counter;
  readonly rq_time: Histogram;
  /** Requests answered 408 because their headers did not arrive within request_headers_timeout. */
  readonly rq_header_timeout: Counter;
  /** Requests answered 408 because the whole request did not arrive within request_timeout. */
  readonly rq_timeout: Counter;
  /** Streams ended by stream_idle_timeout or a route's idle_timeout. */
  readonly rq_idle_timeout: Counter;
  /** Connections closed by common_http_protocol_options.idle_timeout. */
  readonly cx_idle_timeout: Counter;
  /** Connections closed for a protocol error (431 too many / too large headers, 400 malformed). */
  readonly cx_protocol_error: Counter;
  /** HTTP/2 connections closed because their client reset most streams before any response (rapid reset). */
  readonly rq_too_many_premature_resets: Counter;
  /** Connections drained by max_requests_per_connection, and by max_connection_duration. */
  readonly cx_max_requests_reached: Counter;
  readonly cx_max_duration_reached: Counter;

  /** @param hp `http.<stat prefix>.` */
  constructor(s: StatsStore, hp: string) {
    this.rq_total = s.counter(hp + 'downstream_rq_total');
    this.rq_active = s.gauge(hp + 'downstream_rq_active');
    this.rq_completed = s.counter(hp + 'downstream_rq_completed');
    this.rq_xx = [0, 1, 2, 3, 4, 5].map((i) => s.counter(`${hp}downstream_rq_${i}xx`));
    this.no_route = s.counter(hp + 'no_route');
    this.no_cluster = s.counter(hp + 'no_cluster');
    this.rq_direct_response = s.counter(hp + 'rq_direct_response');
    this.rq_redirect = s.counter(hp + 'rq_redirect');
    this.cx_total = s.counter(hp + 'downstream_cx_total');
    this.cx_active = s.gauge(hp + 'downstream_cx_active');
    this.cx_http1_total = s.counter(hp + 'downstream_cx_http1_total');
    this.cx_http2_total = s.counter(hp + 'downstream_cx_http2_total');
    this.rq_time = s.histogram(hp + 'downstream_rq_time');
    this.rq_header_timeout = s.counter(hp + 'downstream_rq_header_timeout');
    this.rq_timeout = s.counter(hp + 'downstream_rq_timeout');
    this.rq_idle_timeout = s.counter(hp + 'downstream_rq_idle_timeout');
    this.cx_protocol_error = s.counter(hp + 'downstream_cx_protocol_error');
    this.rq_too_many_premature_resets = s.counter(hp + 'downstream_rq_too_many_premature_resets');
    this.cx_max_requests_reached = s.counter(hp + 'downstream_cx_max_requests_reached');
    this.cx_max_duration_reached = s.counter(hp + 'downstream_cx_max_duration_reached');
    this.cx_idle_timeout = s.counter(hp + 'downstream_cx_idle_timeout');
  }

  /** A request the exchange answered (with `status`; 0 when nothing was sent) after `ms`. */
  requestDone(status: number, ms: number): void {
    this.rq_active.value--;
    this.rq_completed.value++;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) this.rq_xx[cls]!.value++;
    this.rq_time.record(ms);
  }
}

export class ListenerStats {
  readonly cx_total: Counter;
  readonly cx_active: Counter;
  readonly cx_destroy: Counter;

  /** @param lp `listener.<address>.` */
  constructor(s: StatsStore, lp: string) {
    this.cx_total = s.counter(lp + 'downstream_cx_total');
    this.cx_active = s.gauge(lp + 'downstream_cx_active');
    this.cx_destroy = s.counter(lp + 'downstream_cx_destroy');
  }
}
