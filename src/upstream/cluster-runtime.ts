/**
 * One cluster as the proxy's data path uses it: the cluster manager's UpstreamCluster (hosts, balancer, breakers)
 * plus a connection pool per host, built with the cluster's transport settings (HTTP/2, connect timeout, TLS read
 * once). A reload keeps a cluster's runtime, and so its warm connections, while those settings stay the same.
 * `S` is what the owner counts for the cluster (the proxy's `cluster.<name>.*` stats): the runtime carries it and
 * reports every connection of its pools to it.
 */
import { durationToMs, type Cluster } from '../config/model.js';
import type { Host } from '../balancer/types.js';
import type { UpstreamCluster } from './types.js';
import { createHostPool, type HostPool, type PoolEvents, type UpstreamClientKind } from './pool.js';
import { clusterTls, upstreamTlsOptions, type UpstreamTlsOptions } from './upstream-tls.js';
import { upstreamProtocol, upstreamTrailers, type UpstreamProtocol } from './protocol-options.js';
import { HostLatency } from './host-latency.js';

/** Envoy's connect_timeout default. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Per-host counters for /clusters. */
export interface HostCounters {
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_total: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
  /** Each ended attempt's latency (live /topology page only: not an Envoy stat, see host-latency.ts). */
  readonly latency: HostLatency;
}

export interface HostEntry {
  readonly pool: HostPool;
  readonly counters: HostCounters;
}

function connectTimeoutMs(cfg: Cluster): number {
  return cfg.connect_timeout !== undefined ? durationToMs(cfg.connect_timeout) : DEFAULT_CONNECT_TIMEOUT_MS;
}

function tlsKey(cfg: Cluster): string {
  const ctx = clusterTls(cfg);
  return ctx === undefined ? '' : JSON.stringify(ctx);
}

export class ClusterRuntime<S extends PoolEvents> {
  readonly pools = new Map<string, HostEntry>();
  readonly stats: S;
  readonly protocol: UpstreamProtocol;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number | undefined;
  /** Http1ProtocolOptions.enable_trailers of the cluster: request trailers go to its HTTP/1.1 hosts. */
  readonly enableTrailers: boolean;
  /** TLS client options from the cluster's transport_socket, read once (files included) per cluster. */
  readonly tls: UpstreamTlsOptions | undefined;
  private readonly tlsKey: string;

  /**
   * @param makeStats called once the TLS files have been read, so a cluster refused for them leaves no stats behind
   * @throws DataSourceError when the cluster's TLS files cannot be read
   */
  constructor(
    readonly name: string,
    public upstream: UpstreamCluster,
    private readonly client: UpstreamClientKind,
    baseDir: string,
    makeStats: () => S,
  ) {
    const cfg = upstream.config;
    const tlsCtx = clusterTls(cfg);
    this.protocol = upstreamProtocol(cfg, tlsCtx !== undefined);
    this.tlsKey = tlsKey(cfg);
    this.tls = tlsCtx === undefined ? undefined : upstreamTlsOptions(tlsCtx, baseDir);
    this.connectTimeoutMs = connectTimeoutMs(cfg);
    const th = cfg.circuit_breakers?.thresholds?.find((t) => (t.priority ?? 'DEFAULT') === 'DEFAULT');
    this.maxConnections = th?.max_connections;
    this.enableTrailers = upstreamTrailers(cfg);
    this.stats = makeStats();
  }

  /** Same transport settings: pools can be kept across a reload. */
  compatible(cfg: Cluster): boolean {
    return upstreamProtocol(cfg, clusterTls(cfg) !== undefined) === this.protocol && connectTimeoutMs(cfg) === this.connectTimeoutMs && tlsKey(cfg) === this.tlsKey &&
      upstreamTrailers(cfg) === this.enableTrailers;
  }

  entryFor(host: Host): HostEntry {
    let entry = this.pools.get(host.address);
    if (entry === undefined) {
      const ev = this.stats;
      const hc: HostCounters = { cx_active: 0, cx_connect_fail: 0, cx_total: 0, rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0, latency: new HostLatency() };
      const pool = createHostPool(this.client, {
        ip: host.ip,
        port: host.port,
        protocol: this.protocol,
        connectTimeoutMs: this.connectTimeoutMs,
        maxConnections: this.maxConnections,
        enableTrailers: this.enableTrailers,
        ...(this.tls !== undefined ? { tls: this.tls } : {}),
        events: {
          onConnect: () => {
            ev.onConnect();
            hc.cx_total++;
            hc.cx_active++;
          },
          onDisconnect: () => {
            ev.onDisconnect();
            hc.cx_active--;
          },
          onConnectFail: (timeout) => {
            ev.onConnectFail(timeout);
            hc.cx_connect_fail++;
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
