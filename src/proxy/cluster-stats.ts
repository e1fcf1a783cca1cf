/**
 * A cluster's `cluster.<name>.upstream_*` stats in the proxy's store, and the cluster runtime the
 * exchange uses: src/upstream's ClusterRuntime carrying these stats. The cells are created once per cluster (the
 * store keeps them by name, so a reload keeps counting where it was); the data path bumps their values.
 */
import type { UpstreamCluster } from '../upstream/types.js';
import { ClusterRuntime } from '../upstream/cluster-runtime.js';
import type { PoolEvents, UpstreamClientKind } from '../upstream/pool.js';
import { statSafe, type Counter, type Histogram, type StatsStore } from './stats.js';

/** The stats cells of one cluster; its pools' connection events land here too (PoolEvents). */
export class ClusterStats implements PoolEvents {
  readonly rq_total: Counter;
  readonly rq_active: Counter;
  readonly rq_completed: Counter;
  /** Index 1..5 = upstream_rq_1xx..5xx. */
  readonly rq_xx: readonly Counter[];
  readonly rq_pending_overflow: Counter;
  readonly rq_retry: Counter;
  readonly rq_retry_success: Counter;
  readonly rq_retry_overflow: Counter;
  /** Retries given up because the request body outgrew the buffer limit. */
  readonly rq_retry_or_shadow_abandoned: Counter;
  readonly rq_retry_limit_exceeded: Counter;
  readonly rq_retry_backoff_exponential: Counter;
  readonly rq_timeout: Counter;
  readonly rq_per_try_timeout: Counter;
  readonly rq_rx_reset: Counter;
  readonly cx_total: Counter;
  readonly cx_active: Counter;
  readonly cx_connect_fail: Counter;
  readonly cx_connect_timeout: Counter;
  readonly cx_none_healthy: Counter;
  readonly rq_time: Histogram;
  private readonly codes = new Map<number, Counter>();
  private readonly prefix: string;

  constructor(
    private readonly store: StatsStore,
    name: string,
  ) {
    const p = (this.prefix = `cluster.${statSafe(name)}.`);
    const c = (n: string): Counter => store.counter(p + n);
    this.rq_total = c('upstream_rq_total');
    this.rq_active = store.gauge(p + 'upstream_rq_active');
    this.rq_completed = c('upstream_rq_completed');
    this.rq_xx = [0, 1, 2, 3, 4, 5].map((i) => c(`upstream_rq_${i}xx`));
    this.rq_pending_overflow = c('upstream_rq_pending_overflow');
    this.rq_retry = c('upstream_rq_retry');
    this.rq_retry_success = c('upstream_rq_retry_success');
    this.rq_retry_overflow = c('upstream_rq_retry_overflow');
    this.rq_retry_or_shadow_abandoned = c('upstream_rq_retry_or_shadow_abandoned');
    this.rq_retry_limit_exceeded = c('upstream_rq_retry_limit_exceeded');
    this.rq_retry_backoff_exponential = c('upstream_rq_retry_backoff_exponential');
    this.rq_timeout = c('upstream_rq_timeout');
    this.rq_per_try_timeout = c('upstream_rq_per_try_timeout');
    this.rq_rx_reset = c('upstream_rq_rx_reset');
    this.cx_total = c('upstream_cx_total');
    this.cx_active = store.gauge(p + 'upstream_cx_active');
    this.cx_connect_fail = c('upstream_cx_connect_fail');
    this.cx_connect_timeout = c('upstream_cx_connect_timeout');
    this.cx_none_healthy = c('upstream_cx_none_healthy');
    this.rq_time = store.histogram(p + 'upstream_rq_time');
  }

  onConnect(): void {
    this.cx_total.value++;
    this.cx_active.value++;
  }

  onDisconnect(): void {
    this.cx_active.value--;
  }

  onConnectFail(timeout: boolean): void {
    this.cx_connect_fail.value++;
    if (timeout) this.cx_connect_timeout.value++;
  }

  /** A request routed to the cluster was answered (with `status`; 0 when nothing was sent) after `ms`. */
  requestDone(status: number, ms: number): void {
    this.rq_active.value--;
    this.rq_completed.value++;
    if (status > 0) {
      const cls = (status / 100) | 0;
      if (cls >= 1 && cls <= 5) this.rq_xx[cls]!.value++;
      this.codeCounter(status).value++;
    }
    this.rq_time.record(ms);
  }

  /** upstream_rq_<status>, made on its first use. */
  private codeCounter(status: number): Counter {
    let c = this.codes.get(status);
    if (c === undefined) {
      c = this.store.counter(`${this.prefix}upstream_rq_${status}`);
      this.codes.set(status, c);
    }
    return c;
  }
}

export type ProxyCluster = ClusterRuntime<ClusterStats>;

/**
 * A cluster's runtime with its stats (membership_* come from the cluster manager: src/upstream/stats.ts). Throws
 * DataSourceError when the cluster's TLS files cannot be read.
 */
export function createProxyCluster(name: string, upstream: UpstreamCluster, store: StatsStore, client: UpstreamClientKind, baseDir: string): ProxyCluster {
  // Envoy names a cluster's stats (and its access-log name) by alt_stat_name when one is given: its observability name.
  return new ClusterRuntime(name, upstream, client, baseDir, () => new ClusterStats(store, upstream.config.alt_stat_name || name));
}
