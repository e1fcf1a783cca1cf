/**
 * A config generation: everything the request path needs, built once per loaded config. A reload builds a new
 * generation and swaps it in; requests already running finish on the generation they started on. Upstream pools
 * and stats outlive generations (keyed by cluster and host), so a reload keeps warm connections and counters.
 */
import {
  durationToMs,
  type Bootstrap,
  type Cluster,
  type HttpConnectionManager,
  type Listener,
  type RouteConfiguration,
  type VirtualHost,
} from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import type { Host, Random } from '../balancer/types.js';
import type { ClusterManager, UpstreamCluster } from '../upstream/types.js';
import type { UpstreamFailureMode } from './local-reply.js';
import { RouteCompiler } from './route-runtime.js';
import type { ListenerRouter, RouterFactory } from './routing.js';
import { statSafe, type Counter, type Histogram, type StatsStore } from './stats.js';
import { createHostPool, type HostPool, type UpstreamClientKind } from '../upstream/pool.js';
import { clusterTls, upstreamTlsOptions, type UpstreamTlsOptions } from '../upstream/upstream-tls.js';
import { DataSourceError } from '../config/data-source.js';
import { compilePathNormalizer, type PathNormalizer } from './normalize-path.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export interface HttpStats {
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
  /** Connections closed for a protocol error (431 too many / too large headers, 400 malformed). */
  readonly cx_protocol_error: Counter;
}

/** Envoy's defaults: HttpProtocolOptions.max_headers_count 100, HCM max_request_headers_kb 60. */
export const DEFAULT_MAX_HEADERS_COUNT = 100;
export const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;

export interface ListenerStats {
  readonly cx_total: Counter;
  readonly cx_active: Counter;
  readonly cx_destroy: Counter;
}

export interface ListenerRuntime {
  readonly name: string;
  readonly index: number;
  readonly listener: Listener;
  readonly hcm: HttpConnectionManager;
  readonly router: ListenerRouter;
  readonly scheme: 'http' | 'https';
  readonly serverName: string;
  readonly generateRequestId: boolean;
  readonly appendXff: boolean;
  /** The :path the HTTP health_check filter answers itself, or null when the chain has no such filter. */
  readonly healthCheckPath: string | null;
  /** Most request headers accepted (HTTP/1.1: more → 431; HTTP/2: the stream is reset). */
  readonly maxHeadersCount: number;
  /** Most bytes of request headers accepted (node's maxHeaderSize; more → 431). */
  readonly maxRequestHeadersBytes: number;
  /** HCM request_headers_timeout in ms; 0 = off (Envoy's default). */
  readonly requestHeadersTimeoutMs: number;
  /** normalize_path / merge_slashes compiled; null when both are off. */
  readonly normalizePath: PathNormalizer | null;
  readonly stats: HttpStats;
  readonly listenerStats: ListenerStats;
}

export interface ClusterStats {
  readonly rq_total: Counter;
  readonly rq_active: Counter;
  readonly rq_completed: Counter;
  readonly rq_xx: readonly Counter[];
  readonly rq_pending_overflow: Counter;
  readonly rq_retry: Counter;
  readonly rq_retry_success: Counter;
  readonly rq_retry_overflow: Counter;
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
}

/** Per-host counters for /clusters. */
export interface HostCounters {
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_total: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
}

export interface HostEntry {
  readonly pool: HostPool;
  readonly counters: HostCounters;
}

export class ClusterRuntime {
  readonly stats: ClusterStats;
  private readonly codes = new Map<number, Counter>();
  readonly pools = new Map<string, HostEntry>();
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number | undefined;
  /** TLS client options from the cluster's transport_socket, read once (files included) per cluster. */
  readonly tls: UpstreamTlsOptions | undefined;
  private readonly tlsKey: string;

  constructor(
    readonly name: string,
    public upstream: UpstreamCluster,
    private readonly store: StatsStore,
    private readonly client: UpstreamClientKind,
    baseDir: string,
  ) {
    const cfg = upstream.config;
    this.http2 = cfg.http2_protocol_options !== undefined;
    const tlsCtx = clusterTls(cfg);
    this.tlsKey = tlsCtx === undefined ? '' : JSON.stringify(tlsCtx);
    this.tls = tlsCtx === undefined ? undefined : upstreamTlsOptions(tlsCtx, baseDir);
    this.connectTimeoutMs = cfg.connect_timeout !== undefined ? durationToMs(cfg.connect_timeout) : DEFAULT_CONNECT_TIMEOUT_MS;
    const th = cfg.circuit_breakers?.thresholds?.find((t) => (t.priority ?? 'DEFAULT') === 'DEFAULT');
    this.maxConnections = th?.max_connections;
    const p = `cluster.${statSafe(name)}.`;
    const c = (n: string): Counter => store.counter(p + n);
    this.stats = {
      rq_total: c('upstream_rq_total'),
      rq_active: store.gauge(p + 'upstream_rq_active'),
      rq_completed: c('upstream_rq_completed'),
      rq_xx: [0, 1, 2, 3, 4, 5].map((i) => c(`upstream_rq_${i}xx`)),
      rq_pending_overflow: c('upstream_rq_pending_overflow'),
      rq_retry: c('upstream_rq_retry'),
      rq_retry_success: c('upstream_rq_retry_success'),
      rq_retry_overflow: c('upstream_rq_retry_overflow'),
      rq_retry_limit_exceeded: c('upstream_rq_retry_limit_exceeded'),
      rq_retry_backoff_exponential: c('upstream_rq_retry_backoff_exponential'),
      rq_timeout: c('upstream_rq_timeout'),
      rq_per_try_timeout: c('upstream_rq_per_try_timeout'),
      rq_rx_reset: c('upstream_rq_rx_reset'),
      cx_total: c('upstream_cx_total'),
      cx_active: store.gauge(p + 'upstream_cx_active'),
      cx_connect_fail: c('upstream_cx_connect_fail'),
      cx_connect_timeout: c('upstream_cx_connect_timeout'),
      cx_none_healthy: c('upstream_cx_none_healthy'),
      rq_time: store.histogram(p + 'upstream_rq_time'),
    };
    store.gaugeFn(p + 'membership_total', () => this.upstream.hosts.hosts.length);
    store.gaugeFn(p + 'membership_healthy', () => this.upstream.hosts.hosts.filter((h) => h.health === 'healthy').length);
    store.gaugeFn(p + 'membership_degraded', () => this.upstream.hosts.hosts.filter((h) => h.health === 'degraded').length);
  }

  /** Same transport settings: pools can be kept across a reload. */
  compatible(cfg: Cluster): boolean {
    const timeout = cfg.connect_timeout !== undefined ? durationToMs(cfg.connect_timeout) : DEFAULT_CONNECT_TIMEOUT_MS;
    const tlsCtx = clusterTls(cfg);
    return (
      (cfg.http2_protocol_options !== undefined) === this.http2 &&
      timeout === this.connectTimeoutMs &&
      (tlsCtx === undefined ? '' : JSON.stringify(tlsCtx)) === this.tlsKey
    );
  }

  codeCounter(status: number): Counter {
    let c = this.codes.get(status);
    if (c === undefined) {
      c = this.store.counter(`cluster.${statSafe(this.name)}.upstream_rq_${status}`);
      this.codes.set(status, c);
    }
    return c;
  }

  entryFor(host: Host): HostEntry {
    let entry = this.pools.get(host.address);
    if (entry === undefined) {
      const s = this.stats;
      const hc: HostCounters = { cx_active: 0, cx_connect_fail: 0, cx_total: 0, rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0 };
      const pool = createHostPool(this.client, {
        ip: host.ip,
        port: host.port,
        http2: this.http2,
        connectTimeoutMs: this.connectTimeoutMs,
        maxConnections: this.maxConnections,
        ...(this.tls !== undefined ? { tls: this.tls } : {}),
        events: {
          onConnect: () => {
            s.cx_total.value++;
            s.cx_active.value++;
            hc.cx_total++;
            hc.cx_active++;
          },
          onDisconnect: () => {
            s.cx_active.value--;
            hc.cx_active--;
          },
          onConnectFail: (timeout) => {
            s.cx_connect_fail.value++;
            hc.cx_connect_fail++;
            if (timeout) s.cx_connect_timeout.value++;
          },
        },
      });
      entry = { pool, counters: hc };
      this.pools.set(host.address, entry);
    }
    return entry;
  }

  /** Close pools of hosts that left the cluster (in-flight requests on them finish first). */
  prunePools(): void {
    const live = new Set(this.upstream.hosts.hosts.map((h) => h.address));
    for (const [addr, entry] of this.pools) {
      if (!live.has(addr)) {
        this.pools.delete(addr);
        void entry.pool.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.close().catch(() => undefined)));
  }
}

export interface Generation {
  readonly id: number;
  readonly config: Bootstrap;
  readonly routes: RouteCompiler;
  readonly clusters: ReadonlyMap<string, ClusterRuntime>;
  /** A cluster added after this generation was built (CDS, discovery), or undefined. */
  resolveCluster(name: string): ClusterRuntime | undefined;
  /** Retry back-off jitter. */
  readonly retryRandom: Random;
  readonly listeners: readonly ListenerRuntime[];
  readonly healthFailing: () => boolean;
  readonly upstreamFailureMode: UpstreamFailureMode;
  readonly accessLog: ((line: string) => void) | null;
  /** Called once per finished request (status, upstream host, ms): the dashboard's feed. */
  observer: ((status: number, host: string, ms: number) => void) | null;
  inflight: number;
  onIdle: (() => void) | undefined;
}

export interface GenerationDeps {
  readonly id: number;
  readonly config: Bootstrap;
  readonly baseDir: string;
  readonly clusterManager: ClusterManager;
  readonly routerFactory: RouterFactory;
  readonly retryRandom: Random;
  readonly store: StatsStore;
  readonly client: UpstreamClientKind;
  readonly upstreamFailureMode: UpstreamFailureMode;
  readonly accessLog: ((line: string) => void) | null;
  /** Append x-forwarded-for even when use_remote_address is unset (the variant; Envoy appends only with it). */
  readonly forceXff: boolean;
  /** With normalize_path: 400 for a path whose `..` climbs above the root (Envoy clamps it at the root). */
  readonly rejectPathAboveRoot?: boolean;
  /** Cluster runtimes of the previous generation, reused when compatible. */
  readonly previous: ReadonlyMap<string, ClusterRuntime> | undefined;
  readonly healthFailing: () => boolean;
  readonly lookupCluster: (name: string) => UpstreamCluster | undefined;
}

export function listenerAddressKey(l: Listener): string {
  const sa = l.address?.socket_address;
  return `${sa?.address ?? '0.0.0.0'}_${sa?.port_value ?? 0}`;
}

export function buildGeneration(d: GenerationDeps): { gen: Generation; retired: ClusterRuntime[] } {
  const vhostToRc = new WeakMap<VirtualHost, RouteConfiguration>();
  const listeners: ListenerRuntime[] = [];
  const ls = d.config.static_resources?.listeners ?? [];
  ls.forEach((l, index) => {
    const hcm = connectionManager(l) ?? {};
    for (const vh of hcm.route_config?.virtual_hosts ?? []) vhostToRc.set(vh, hcm.route_config!);
    const tls = l.filter_chains?.some((fc) => fc.transport_socket?.typed_config !== undefined) ?? false;
    const statPrefix = statSafe(hcm.stat_prefix || l.stat_prefix || l.name || `listener_${index}`);
    const hp = `http.${statPrefix}.`;
    const lp = `listener.${statSafe(listenerAddressKey(l))}.`;
    const s = d.store;
    listeners.push({
      name: l.name ?? `listener_${index}`,
      index,
      listener: l,
      hcm,
      router: d.routerFactory(hcm, index),
      scheme: tls ? 'https' : 'http',
      serverName: hcm.server_name || 'envoy',
      generateRequestId: hcm.generate_request_id ?? true,
      appendXff: hcm.use_remote_address === true || d.forceXff,
      healthCheckPath: healthCheckPathOf(hcm),
      maxHeadersCount: hcm.common_http_protocol_options?.max_headers_count ?? DEFAULT_MAX_HEADERS_COUNT,
      maxRequestHeadersBytes: (hcm.max_request_headers_kb ?? DEFAULT_MAX_REQUEST_HEADERS_KB) * 1024,
      requestHeadersTimeoutMs: hcm.request_headers_timeout !== undefined ? durationToMs(hcm.request_headers_timeout) : 0,
      normalizePath: compilePathNormalizer({
        normalize: hcm.normalize_path === true,
        mergeSlashes: hcm.merge_slashes === true,
        rejectAboveRoot: d.rejectPathAboveRoot === true,
      }),
      stats: {
        rq_total: s.counter(hp + 'downstream_rq_total'),
        rq_active: s.gauge(hp + 'downstream_rq_active'),
        rq_completed: s.counter(hp + 'downstream_rq_completed'),
        rq_xx: [0, 1, 2, 3, 4, 5].map((i) => s.counter(`${hp}downstream_rq_${i}xx`)),
        no_route: s.counter(hp + 'no_route'),
        no_cluster: s.counter(hp + 'no_cluster'),
        rq_direct_response: s.counter(hp + 'rq_direct_response'),
        rq_redirect: s.counter(hp + 'rq_redirect'),
        cx_total: s.counter(hp + 'downstream_cx_total'),
        cx_active: s.gauge(hp + 'downstream_cx_active'),
        cx_http1_total: s.counter(hp + 'downstream_cx_http1_total'),
        cx_http2_total: s.counter(hp + 'downstream_cx_http2_total'),
        rq_time: s.histogram(hp + 'downstream_rq_time'),
        rq_header_timeout: s.counter(hp + 'downstream_rq_header_timeout'),
        cx_protocol_error: s.counter(hp + 'downstream_cx_protocol_error'),
      },
      listenerStats: {
        cx_total: s.counter(lp + 'downstream_cx_total'),
        cx_active: s.gauge(lp + 'downstream_cx_active'),
        cx_destroy: s.counter(lp + 'downstream_cx_destroy'),
      },
    });
  });

  const clusters = new Map<string, ClusterRuntime>();
  const retired: ClusterRuntime[] = [];
  for (const uc of d.clusterManager.clusters()) {
    const prev = d.previous?.get(uc.name);
    if (prev !== undefined && prev.compatible(uc.config)) {
      prev.upstream = uc;
      clusters.set(uc.name, prev);
    } else {
      if (prev !== undefined) retired.push(prev);
      clusters.set(uc.name, new ClusterRuntime(uc.name, uc, d.store, d.client, d.baseDir));
    }
  }
  for (const [name, prev] of d.previous ?? []) if (!clusters.has(name)) retired.push(prev);

  const gen: Generation = {
    id: d.id,
    config: d.config,
    routes: new RouteCompiler(d.baseDir, (vh) => vhostToRc.get(vh)),
    clusters,
    resolveCluster(name) {
      const uc = d.lookupCluster(name);
      if (uc === undefined) return undefined;
      let rt: ClusterRuntime;
      try {
        rt = new ClusterRuntime(name, uc, d.store, d.client, d.baseDir);
      } catch (err) {
        // A cluster from discovery whose TLS files cannot be read has no usable hosts (Envoy: transport socket not
        // ready); its requests get the no-cluster answer instead of plaintext to a TLS port.
        if (err instanceof DataSourceError) return undefined;
        throw err;
      }
      clusters.set(name, rt);
      return rt;
    },
    retryRandom: d.retryRandom,
    listeners,
    healthFailing: d.healthFailing,
    upstreamFailureMode: d.upstreamFailureMode,
    accessLog: d.accessLog,
    observer: null,
    inflight: 0,
    onIdle: undefined,
  };
  return { gen, retired };
}

/** Envoy's HTTP health_check filter (non pass-through): the exact :path it answers. */
function healthCheckPathOf(hcm: HttpConnectionManager): string | null {
  for (const f of hcm.http_filters ?? []) {
    if (f.name !== 'envoy.filters.http.health_check' && f.name !== 'envoy.health_check') continue;
    const tc = f.typed_config as { pass_through_mode?: boolean; headers?: { name?: string; exact_match?: string; string_match?: { exact?: string } }[] } | undefined;
    if (tc?.pass_through_mode === true) continue;
    for (const h of tc?.headers ?? []) {
      if (h.name === ':path') return h.string_match?.exact ?? h.exact_match ?? null;
    }
  }
  return null;
}
