/**
 * The cluster manager: one UpstreamCluster per configured or discovered cluster, each with its HostSet, the shared
 * balancer, circuit breakers, outlier detection, active health checks and its discovery source (static endpoints,
 * STRICT_DNS / LOGICAL_DNS, the article's refresh service, xDS). The proxy asks for clusters by name and reports every
 * attempt back; everything that changes host health goes through the HostSet, so `/clusters`, the balancer and
 * `simulate` all see one state.
 */
import type { Bootstrap, Cluster } from '../config/model.js';
import type { Balancer, Host, HostInit, Random } from '../balancer/types.js';
import { HostSet, hostsFromCluster } from '../balancer/host-set.js';
import { createBalancer } from '../balancer/index.js';
import { CircuitBreaker, breakerLimits } from './circuit-breaker.js';
import { OutlierDetector, outlierSettings, type OutlierSettings } from './outlier-detector.js';
import { clusterTls, googleGrpcTlsOptions, upstreamTlsOptions, type UpstreamTlsOptions } from './upstream-tls.js';
import { HealthChecker } from './health-checker.js';
import { realTimers, type Timers } from '../time/timers.js';
import type { BreakerResource, ClusterManager, ClusterManagerOptions, UpstreamCluster, UpstreamOutcome } from './types.js';
import type { DiscoveryHandle } from '../discovery/types.js';
import { DnsDiscovery, dnsOptionsFor } from '../discovery/dns.js';
import { resolvesThroughDns } from '../config/dns-resolver-config.js';
import { RefreshServiceClient } from '../discovery/refresh-service.js';
import { refreshServiceCluster } from '../config/normalize.js';
import { startXds, xdsPlan, type XdsHost, type XdsSession } from '../discovery/xds.js';

interface ManagedClusterDeps {
  readonly opts: ClusterManagerOptions;
  readonly timers: Timers;
  /** The bootstrap in force (DNS cluster resolvers fall back to its dns_query nameservers). */
  readonly bootstrap: () => Bootstrap | undefined;
  readonly log: (line: string) => void;
  /** Options outlier detection takes beyond the schema (e.g. alwaysEjectOneHost). */
  readonly outlierOverrides?: Partial<OutlierSettings>;
}

/** Where a cluster came from: the static config, the article's refresh service, or the API (CDS). */
type ClusterOrigin = 'static' | 'refresh-service' | 'api';

export class ManagedCluster implements UpstreamCluster {
  readonly name: string;
  config: Cluster;
  readonly hosts: HostSet;
  balancer: Balancer;
  readonly breaker: CircuitBreaker;
  outlier: OutlierDetector | undefined;
  healthChecker: HealthChecker | undefined;
  discovery: DiscoveryHandle | undefined;
  /** Set while an external source (refresh service, EDS) owns the endpoint list. */
  externalEndpoints = false;
  /** Whether any attempt was ever made (Envoy health-checks at no_traffic_interval until then). */
  hadTraffic = false;
  origin: ClusterOrigin;
  /** The balancer's stream, kept across reconfigurations. */
  private readonly balancerRandom: Random;
  /** Health-check jitter and outlier enforcement draw here, apart from the balancer. */
  private readonly upstreamRandom: Random;
  private warm: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    cluster: Cluster,
    private readonly deps: ManagedClusterDeps,
    origin: ClusterOrigin = 'static',
  ) {
    this.name = cluster.name ?? '';
    this.config = cluster;
    this.origin = origin;
    this.hosts = new HostSet();
    this.breaker = new CircuitBreaker(breakerLimits(cluster));
    this.balancerRandom = deps.opts.random.balancer(this.name);
    this.upstreamRandom = deps.opts.random.upstream(this.name);
    this.balancer = createBalancer(cluster, this.hosts, this.balancerRandom);
    this.startSources();
    this.startHealth();
  }

  tryAcquire(resource: BreakerResource): boolean {
    return this.breaker.tryAcquire(resource);
  }

  release(resource: BreakerResource): void {
    this.breaker.release(resource);
  }

  onAttemptStart(host: Host): void {
    this.hadTraffic = true;
    host.activeRequests++;
  }

  onAttemptEnd(host: Host, outcome: UpstreamOutcome, _latencyMs: number): void {
    if (host.activeRequests > 0) host.activeRequests--;
    this.outlier?.onResult(host, outcome);
  }

  /** Resolves when discovery has answered once and every host has had its first health check. */
  ready(): Promise<void> {
    return this.warm;
  }

  /** Apply an endpoint list from discovery (addresses mapped, state of staying hosts kept). */
  setEndpoints(hosts: readonly HostInit[]): void {
    if (this.closed) return;
    const map = this.deps.opts.mapEndpoint;
    this.hosts.replace(
      map
        ? hosts.map((h) => ({ ...h, ...map(h.ip, h.port), ...(h.healthCheckAddress ? { healthCheckAddress: map(h.healthCheckAddress.ip, h.healthCheckAddress.port) } : {}) }))
        : hosts,
    );
  }

  /**
   * Hand the endpoint list to an external source (refresh service, EDS). Static endpoints stay until its first good
   * answer; the cluster's warm-up waits for the source's first attempt.
   */
  attachSource(handle: DiscoveryHandle | undefined): void {
    this.externalEndpoints = true;
    if (handle !== undefined) {
      const before = this.warm;
      this.warm = Promise.all([before, handle.ready]).then(() => undefined);
    }
  }

  /** The external source went away (reload): back to the cluster's own endpoints. */
  detachSource(): void {
    if (!this.externalEndpoints) return;
    this.externalEndpoints = false;
    this.discovery?.close();
    this.discovery = undefined;
    this.startSources();
  }

  /** A new definition of this cluster (reload, CDS update). Hosts that stay keep their health and counters. */
  reconfigure(cluster: Cluster): void {
    const before = this.config;
    this.config = cluster;
    this.breaker.setLimits(breakerLimits(cluster));
    if (sameJson(before, cluster)) return;
    this.balancer = createBalancer(cluster, this.hosts, this.balancerRandom);
    const sourceChanged =
      before.type !== cluster.type ||
      !sameJson(before.load_assignment, cluster.load_assignment) ||
      // Everything a DNS cluster's resolution reads (nameservers, transport, refresh rates, family, names).
      ((cluster.type === 'STRICT_DNS' || cluster.type === 'LOGICAL_DNS') &&
        !sameJson(dnsOptionsFor(before, this.deps.bootstrap(), this.deps.opts.dnsServers), dnsOptionsFor(cluster, this.deps.bootstrap(), this.deps.opts.dnsServers)));
    if (sourceChanged) {
      this.discovery?.close();
      this.discovery = undefined;
      this.startSources();
    }
    if (!sameJson(before.health_checks, cluster.health_checks)) {
      const old = this.healthChecker;
      const passing = new Set(this.hosts.hosts.filter((h) => !old?.isFailing(h)));
      old?.close();
      this.healthChecker = undefined;
      for (const h of this.hosts.hosts) this.hosts.setHealthFlag(h, 'active-hc', false);
      this.startHealth(passing);
    }
    if (!sameJson(before.outlier_detection, cluster.outlier_detection)) {
      if (cluster.outlier_detection === undefined) {
        this.outlier?.close();
        this.outlier = undefined;
        for (const h of this.hosts.hosts) this.hosts.setHealthFlag(h, 'outlier', false);
      } else if (this.outlier) {
        this.outlier.setSettings(outlierSettings(cluster.outlier_detection, this.deps.outlierOverrides));
      } else {
        this.startOutlier();
      }
    }
  }

  close(): void {
    this.closed = true;
    this.discovery?.close();
    this.healthChecker?.close();
    this.outlier?.close();
  }

  private startSources(): void {
    const c = this.config;
    if (resolvesThroughDns(c) && !this.externalEndpoints) {
      const dns = new DnsDiscovery(
        dnsOptionsFor(c, this.deps.bootstrap(), this.deps.opts.dnsServers),
        (hosts) => this.setEndpoints(hosts),
        { timers: this.deps.timers, clock: this.deps.opts.clock, random: this.upstreamRandom, log: this.deps.log },
        this.name,
      );
      this.discovery = dns;
      this.warm = dns.ready;
    } else if (c.type === 'EDS' || this.externalEndpoints) {
      // Endpoints arrive from xDS or the refresh service; until then the cluster is empty (Envoy: warming).
    } else {
      this.setEndpoints(hostsFromCluster(c));
    }
    if (this.outlier === undefined && c.outlier_detection !== undefined) this.startOutlier();
  }

  private startOutlier(): void {
    this.outlier = new OutlierDetector(this.hosts, outlierSettings(this.config.outlier_detection!, this.deps.outlierOverrides), {
      clock: this.deps.opts.clock,
      timers: this.deps.timers,
      random: this.upstreamRandom,
      log: this.deps.log,
      cluster: this.name,
    });
  }

  /** Health checks reach a TLS cluster's hosts over TLS too; unreadable TLS files leave them plain (and logged): the
   * proxy refuses such a cluster anyway. */
  private healthCheckTls(): UpstreamTlsOptions | undefined {
    const ctx = clusterTls(this.config);
    if (ctx === undefined) return undefined;
    try {
      return upstreamTlsOptions(ctx, this.deps.opts.baseDir ?? process.cwd());
    } catch (err) {
      this.deps.log(`meshctl: cluster ${this.name}: health checks without TLS: ${(err as Error).message}`);
      return undefined;
    }
  }

  private startHealth(assumeHealthy?: ReadonlySet<Host>): void {
    const checks = this.config.health_checks ?? [];
    if (checks.length === 0 || this.deps.opts.disableHealthChecks) return;
    const tls = this.healthCheckTls();
    this.healthChecker = new HealthChecker(this.hosts, checks, {
      ...(assumeHealthy ? { assumeHealthy } : {}),
      ...(tls !== undefined ? { tls } : {}),
      timers: this.deps.timers,
      random: this.upstreamRandom,
      hadTraffic: () => this.hadTraffic,
      cluster: this.name,
      log: this.deps.log,
      onCheck: (host, result) => {
        if (result === 'healthy' && !this.healthChecker?.isFailing(host)) this.outlier?.onActiveHealthCheckSuccess(host);
      },
    });
    const discoveryReady = this.warm;
    const hc = this.healthChecker;
    this.warm = discoveryReady.then(() => hc.ready());
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface XdsEntry {
  readonly key: string;
  handle?: XdsSession;
  starting: Promise<void>;
}

export interface ClusterManagerImplOptions extends ClusterManagerOptions {
  readonly outlierOverrides?: Partial<OutlierSettings>;
}

export class ClusterManagerImpl implements ClusterManager {
  private readonly map = new Map<string, ManagedCluster>();
  private readonly refresh = new Map<string, { key: string; client: RefreshServiceClient }>();
  private xds: XdsEntry | undefined;
  private bootstrap: Bootstrap | undefined;
  private readonly deps: ManagedClusterDeps;
  private closed = false;

  constructor(config: Bootstrap, private readonly opts: ClusterManagerImplOptions) {
    const log = opts.log ?? (() => undefined);
    this.deps = {
      opts,
      timers: opts.timers ?? realTimers,
      bootstrap: () => this.bootstrap,
      log,
      ...(opts.outlierOverrides ? { outlierOverrides: opts.outlierOverrides } : {}),
    };
    this.applyConfig(config);
  }

  get(name: string): ManagedCluster | undefined {
    return this.map.get(name);
  }

  clusters(): Iterable<ManagedCluster> {
    return this.map.values();
  }

  applyConfig(config: Bootstrap): void {
    this.bootstrap = config;
    const wanted = new Map<string, Cluster>();
    for (const c of config.static_resources?.clusters ?? []) {
      if (c.name && !wanted.has(c.name)) wanted.set(c.name, c);
    }
    for (const [name, mc] of this.map) {
      if (mc.origin === 'static' && !wanted.has(name)) this.removeCluster(name);
    }
    for (const [name, c] of wanted) {
      const mc = this.map.get(name);
      if (mc) {
        mc.origin = 'static';
        mc.reconfigure(c);
      } else {
        this.map.set(name, new ManagedCluster(c, this.deps, 'static'));
      }
    }
    this.syncRefreshServices(config);
    this.syncXds(config);
  }

  /** Start, restart or stop the xDS session `dynamic_resources` (and EDS clusters) ask for. */
  private syncXds(config: Bootstrap): void {
    const plan = xdsPlan(config);
    const key = plan ? JSON.stringify([plan, config.node ?? null]) : '';
    if ((this.xds?.key ?? '') === key) {
      this.xds?.handle?.setBootstrap(config);
      return;
    }
    this.xds?.handle?.close();
    this.xds = undefined;
    if (!plan) {
      for (const mc of [...this.map.values()]) if (mc.origin === 'api') this.removeCluster(mc.name);
      // What LDS/RDS delivered goes with the session.
      this.opts.xdsObserver?.attach(undefined);
      void this.opts.xdsObserver?.applyListeners({ listeners: [], routes: new Map() }).catch((err: Error) => this.deps.log(`xds: ${err.message}`));
      return;
    }
    const entry: XdsEntry = { key, starting: Promise.resolve() };
    this.xds = entry;
    const deps = { timers: this.deps.timers, clock: this.opts.clock, random: this.opts.random.stream('discovery/xds'), log: this.deps.log };
    entry.starting = startXds(config, plan, this.xdsHost(), this.opts.xdsObserver, deps).then(
      async (handle) => {
        if (this.xds !== entry || this.closed) {
          handle.close();
          return;
        }
        entry.handle = handle;
        await handle.ready;
      },
      (err: unknown) => this.deps.log(`xds: cannot start: ${(err as Error).message}`),
    );
  }

  private xdsHost(): XdsHost {
    return {
      applyApiClusters: (clusters) => {
        const names = new Set<string>();
        for (const c of clusters) {
          const existing = this.map.get(c.name!);
          if (existing && existing.origin !== 'api') {
            this.deps.log(`xds: cluster ${c.name} is defined statically; the CDS copy is ignored`);
            continue;
          }
          names.add(c.name!);
          this.upsert(c, 'api');
        }
        for (const mc of [...this.map.values()]) if (mc.origin === 'api' && !names.has(mc.name)) this.removeCluster(mc.name);
      },
      edsClusters: () => [...this.map.values()].filter((mc) => (mc.config.type ?? 'STATIC') === 'EDS' && !this.refresh.has(mc.name)),
      addressOf: (name) => this.map.get(name)?.hosts.hosts[0]?.address,
      googleGrpcTarget: (t) => ({
        address: mapTarget(t.targetUri, this.deps.opts.mapEndpoint),
        tls: t.ssl === undefined ? undefined : googleGrpcTlsOptions(t.ssl, this.deps.opts.baseDir ?? process.cwd()),
      }),
      tlsOf: (name) => {
        const mc = this.map.get(name);
        const ctx = mc === undefined ? undefined : clusterTls(mc.config);
        return ctx === undefined ? undefined : upstreamTlsOptions(ctx, this.deps.opts.baseDir ?? process.cwd());
      },
    };
  }

  /** The xDS session (versions, ACK/NACK counts, dynamic resources), once started. */
  xdsSession(): XdsSession | undefined {
    return this.xds?.handle;
  }

  /** The article's refresh services: one poller per service, feeding its cluster (created when not configured). */
  private syncRefreshServices(config: Bootstrap): void {
    const wanted = new Map<string, { key: string; svc: NonNullable<NonNullable<Bootstrap['static_resources']>['service_cluster_discovery_refresh_service']>[number] }>();
    for (const svc of config.static_resources?.service_cluster_discovery_refresh_service ?? []) {
      const cluster = refreshServiceCluster(svc);
      if (!cluster || !svc.service_url || wanted.has(cluster)) continue;
      wanted.set(cluster, { key: JSON.stringify(svc), svc });
    }
    for (const [cluster, entry] of this.refresh) {
      if (wanted.get(cluster)?.key === entry.key && this.map.has(cluster)) continue;
      entry.client.close();
      this.refresh.delete(cluster);
      const mc = this.map.get(cluster);
      if (mc && !wanted.has(cluster)) {
        if (mc.origin === 'refresh-service') this.removeCluster(cluster);
        else mc.detachSource();
      }
    }
    for (const [cluster, { key, svc }] of wanted) {
      if (this.refresh.has(cluster)) continue;
      const mc = this.map.get(cluster) ?? this.upsert({ name: cluster, type: 'EDS' }, 'refresh-service');
      const client = new RefreshServiceClient(svc, (hosts) => mc.setEndpoints(hosts), {
        timers: this.deps.timers,
        clock: this.opts.clock,
        random: this.opts.random.stream(`discovery/refresh/${cluster}`),
        log: this.deps.log,
      });
      mc.attachSource(client);
      this.refresh.set(cluster, { key, client });
    }
  }

  /** The refresh-service poller feeding a cluster, if any (stats, tests). */
  refreshClient(cluster: string): RefreshServiceClient | undefined {
    return this.refresh.get(cluster)?.client;
  }

  upsertCluster(cluster: Cluster): void {
    this.upsert(cluster, 'api');
  }

  /** Add or replace a cluster, recording where it came from. */
  upsert(cluster: Cluster, origin: ClusterOrigin): ManagedCluster {
    const name = cluster.name ?? '';
    const mc = this.map.get(name);
    if (mc) {
      mc.reconfigure(cluster);
      return mc;
    }
    const created = new ManagedCluster(cluster, this.deps, origin);
    this.map.set(name, created);
    return created;
  }

  removeCluster(name: string): void {
    const mc = this.map.get(name);
    if (!mc) return;
    mc.close();
    this.map.delete(name);
  }

  async ready(): Promise<void> {
    await this.xds?.starting;
    await Promise.all([...this.map.values()].map((c) => c.ready()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { client } of this.refresh.values()) client.close();
    this.refresh.clear();
    this.xds?.handle?.close();
    this.xds = undefined;
    for (const mc of this.map.values()) mc.close();
  }
}

/** The cluster manager `meshctl run` uses (see src/upstream/types.ts for the contract). */
export function createClusterManager(config: Bootstrap, opts: ClusterManagerImplOptions): ClusterManagerImpl {
  return new ClusterManagerImpl(config, opts);
}

/** A gRPC target `ip:port` or `ipv4:ip:port` through --map-endpoint; a name (`dns:///…`) is dialled as written. */
function mapTarget(target: string, map: ((ip: string, port: number) => { ip: string; port: number }) | undefined): string {
  const m = /^(?:ipv4:)?(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(target);
  if (map === undefined || m === null) return target;
  const to = map(m[1]!, Number(m[2]));
  return `${to.ip}:${to.port}`;
}
