/**
 * The proxy engine behind `meshctl run`: `startProxy(config, opts)` binds every listener of the config, starts the
 * admin server, and returns a handle to reload or close it. Usable from tests without the CLI.
 */
import type { Bootstrap, HttpConnectionManager_CodecType, Listener } from '../config/model.js';
import type { Random } from '../balancer/types.js';
import { connectionManager } from '../config/connection-manager.js';
import { compileFilterChain, type FilterChain } from './filters/chain.js';
import type { ClusterManager, ClusterManagerOptions } from '../upstream/types.js';
import { compileRouter, type CompiledRouter } from '../router/index.js';
import { startAdmin, startMetricsServer, type AdminPage, type AdminServer, type ClusterStatus } from './admin.js';
import { buildGeneration, httpStatPrefix, type Generation } from './generation.js';
import type { ProxyCluster } from './cluster-stats.js';
import { ListenerServer, bindingKey, type BoundAddress } from './listener-server.js';
import type { UpstreamFailureMode } from './local-reply.js';
import { routeRuntime, type RouteRuntime } from './route-runtime.js';
import { StatsStore, proxySnapshot, type StatsSnapshot } from './stats.js';
import type { UpstreamClientKind } from '../upstream/pool.js';
import type { DownstreamH2Kind } from './listener-server.js';
import { preflightTls } from './tls.js';
import { preflightListeners } from './listener-support.js';
import { compileAccessLogs, type ListenerAccessLogs } from './access-log-config.js';
import { closeAccessLogSinks } from './access-log.js';
import { RandomStreams } from '../balancer/random.js';
import type { DynamicListeners, XdsView } from '../discovery/xds.js';
import { composeConfig, listenerShape } from './dynamic-listeners.js';
import { envoyHealthFlags } from '../upstream/health-flags.js';

export type { StatsSnapshot } from './stats.js';
export type { ClusterStatus } from './admin.js';
export type { UpstreamFailureMode } from './local-reply.js';
export type { UpstreamClientKind } from '../upstream/pool.js';
export { DEFAULT_DOWNSTREAM_H2, type DownstreamH2Kind } from './listener-server.js';

export interface ProxyOptions {
  /** Directory that relative file names in the config (certificates, direct-response bodies) resolve against. */
  readonly baseDir?: string;
  /** How long listeners wait for clusters to warm up (DNS, discovery, first health checks); default 15 s. */
  readonly warmupTimeoutMs?: number;
  /** How long a listener that a reload or LDS removed keeps serving its open connections (`--drain-time`); 30 s. */
  readonly listenerDrainMs?: number;
  /** Rewrites endpoint addresses (`--map-endpoint`). */
  readonly mapEndpoint?: (ip: string, port: number) => { ip: string; port: number };
  /** Binds every listener to this address instead of the config's (`--listen-address`). */
  readonly listenAddress?: string;
  /** Added to every non-zero listener port (`--listen-port-offset`), for privileged ports such as the article's 80. */
  readonly listenPortOffset?: number;
  /** Admin address override; `false` runs without an admin server (workers). Default: the config's admin address,
   * else 127.0.0.1:9901. */
  readonly admin?: { address: string; port: number } | false;
  readonly upstreamClient?: UpstreamClientKind;
  /** Who serves downstream HTTP/2 (`--downstream-h2`): meshctl's own codec or node's http2 (DEFAULT_DOWNSTREAM_H2). */
  readonly downstreamH2?: DownstreamH2Kind;
  /** `envoy` (default): connect failures and resets answer 503 (UF/UR/UC); `502`: the variant. */
  readonly upstreamFailureMode?: UpstreamFailureMode;
  /** Append x-forwarded-for even without use_remote_address (Envoy appends only with it). */
  readonly forceXff?: boolean;
  /** With HCM normalize_path: answer 400 to a path whose `..` climbs above the root (Envoy clamps it at the root). */
  readonly rejectPathAboveRoot?: boolean;
  /** One JSON line per request; null/undefined = no access log. */
  readonly accessLog?: ((line: string) => void) | null;
  /** Diagnostics and lifecycle messages. */
  readonly log?: (line: string) => void;
  readonly clusterManagerFactory?: (config: Bootstrap, opts: ClusterManagerOptions) => ClusterManager | Promise<ClusterManager>;
  /** Seeds every random stream (weighted clusters, each cluster's balancer, retry back-off) as `simulate --seed`
   * seeds its own, so the same config and seed pick the same hosts; default: entropy. */
  readonly seed?: number;
  /** Overrides DNS nameservers for discovery (tests). */
  readonly dnsServers?: readonly string[];
  /** With --workers the admin server runs in the primary and asks the workers for their numbers. */
  readonly adminProviders?: {
    stats(): Promise<StatsSnapshot>;
    clusters(): Promise<ClusterStatus[]>;
  };
  /** Pages the application adds to the admin server (run's /topology). */
  readonly adminPages?: readonly AdminPage[];
}

export interface ListenerInfo {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** `https` when the listener terminates TLS. */
  readonly scheme: 'http' | 'https';
  readonly codec: HttpConnectionManager_CodecType;
}

export interface RunningProxy {
  readonly listeners: readonly ListenerInfo[];
  readonly admin: { address: string; port: number } | undefined;
  /** Swap to a new (already validated) config; requests in flight finish on the old one. */
  reload(config: Bootstrap): Promise<void>;
  /** Stop accepting, let in-flight requests finish for up to `drainTimeoutMs`, then close everything. */
  close(drainTimeoutMs?: number): Promise<void>;
  stats(): StatsSnapshot;
  clusterStatuses(): ClusterStatus[];
  config(): Bootstrap;
  /** Subscribe to finished requests (dashboard). */
  observe(fn: ((status: number, host: string, ms: number) => void) | null): void;
  readonly state: 'LIVE' | 'DRAINING';
  /** What POST /healthcheck/fail and /healthcheck/ok set (the health_check filter then answers 503 / 200). */
  setHealthFailing(failing: boolean): void;
}

export async function startProxy(config: Bootstrap, opts: ProxyOptions = {}): Promise<RunningProxy> {
  const proxy = new Proxy(opts);
  await proxy.start(config);
  return proxy;
}

/** A config checked before anything changes: its compiled routes, access logs and HTTP filter chains. */
interface Preflighted {
  readonly router: CompiledRouter<RouteRuntime>;
  readonly accessLogs: ReadonlyMap<Listener, ListenerAccessLogs>;
  readonly filterChains: ReadonlyMap<Listener, FilterChain | null>;
}

class Proxy implements RunningProxy {
  private readonly store = new StatsStore();
  private cm!: ClusterManager;
  private gen!: Generation;
  private readonly random: RandomStreams;
  /** The HTTP filters' draws (fault percentages, filter_enabled fractions): one stream across generations. */
  private readonly filterRandom: Random;
  private servers: ListenerServer[] = [];
  private adminServer: AdminServer | undefined;
  private metricsServer: AdminServer | undefined;
  private genId = 0;
  private healthFailing = false;
  private observer: ((status: number, host: string, ms: number) => void) | null = null;
  private readonly oldGens = new Set<Generation>();
  /** The config file's own content (what /config_dump shows as static); the generation serves it composed with xDS. */
  private fileConfig!: Bootstrap;
  /** Listeners and route configurations from LDS/RDS, and where /config_dump reads xDS state. */
  private dynamic: DynamicListeners | undefined;
  private xds: XdsView | undefined;
  private started = false;
  /** Config swaps (reloads, xDS updates) run one at a time. */
  private swapping: Promise<void> = Promise.resolve();
  state: 'LIVE' | 'DRAINING' = 'LIVE';
  private readonly startedAt = Date.now();

  constructor(private readonly opts: ProxyOptions) {
    this.random = new RandomStreams(opts.seed);
    this.filterRandom = this.random.stream('http-filters');
  }

  get listeners(): ListenerInfo[] {
    return this.servers.map((s) => {
      const lr = s.current.lr;
      return { name: lr.name, ...s.address(), scheme: lr.scheme, codec: lr.hcm.codec_type ?? 'AUTO' };
    });
  }

  get admin(): { address: string; port: number } | undefined {
    return this.adminServer ? { address: this.adminServer.address, port: this.adminServer.port } : undefined;
  }

  async start(config: Bootstrap): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    const cmOpts: ClusterManagerOptions = {
      random: this.random,
      clock: { now: () => performance.now() },
      ...(this.opts.mapEndpoint ? { mapEndpoint: this.opts.mapEndpoint } : {}),
      ...(this.opts.dnsServers ? { dnsServers: this.opts.dnsServers } : {}),
      baseDir: this.opts.baseDir ?? process.cwd(),
      log,
      xdsObserver: {
        applyListeners: (d) => this.applyDynamic(d),
        attach: (view) => {
          this.xds = view;
        },
      },
    };
    this.fileConfig = config;
    // Every TLS context is built once up front, as on reload: a malformed key or CA refuses to start instead of failing
    // the first handshake.
    const { router, accessLogs, filterChains } = this.preflight(config);
    this.cm = await (this.opts.clusterManagerFactory ?? defaultClusterManager)(config, cmOpts);
    // Envoy warms clusters (first DNS answer, first discovery fetch, first health check) before its listeners take
    // traffic, bounded by the initial fetch timeout (15 s), so a DNS cluster does not answer 503 for its first requests.
    await warmUp(this.cm, this.opts.warmupTimeoutMs ?? 15_000, log);
    // Listeners and routes xDS delivered while warming are served from the start.
    const effective = composeConfig(config, this.dynamic);
    const checked = effective === config ? { router, accessLogs, filterChains } : this.preflight(effective);
    this.gen = this.build(effective, checked.router, checked.accessLogs, checked.filterChains, undefined);
    this.started = true;
    try {
      for (const lr of this.gen.listeners) {
        const { ip, port } = this.listenAddr(lr.listener.address?.socket_address?.address, lr.listener.address?.socket_address?.port_value);
        const s = new ListenerServer(this.gen, lr, ip, port, this.opts.baseDir ?? process.cwd(), this.opts.downstreamH2);
        await s.listen();
        this.servers.push(s);
      }
      await this.startAdmin(config);
    } catch (err) {
      await this.close(0);
      throw err;
    }
  }

  private listenAddr(ip: string | undefined, port: number | undefined): { ip: string; port: number } {
    const p = port ?? 0;
    return {
      ip: this.opts.listenAddress ?? (ip || '0.0.0.0'),
      port: p === 0 ? 0 : p + (this.opts.listenPortOffset ?? 0),
    };
  }

  /** The config's routes with the proxy's RouteRuntime; throws (DataSourceError) on a body file it cannot read. */
  private compileRoutes(config: Bootstrap): CompiledRouter<RouteRuntime> {
    return compileRouter(config, routeRuntime(this.opts.baseDir ?? process.cwd()));
  }

  /** Each listener's HTTP filter chain; throws ConfigRefusedError for a filter setting run cannot enforce. */
  private compileFilters(config: Bootstrap, router: CompiledRouter<RouteRuntime>): Map<Listener, FilterChain | null> {
    return compileFilterChains(config, router, this.store, this.filterRandom, () => this.healthFailing);
  }

  private build(
    config: Bootstrap,
    router: CompiledRouter<RouteRuntime>,
    accessLogs: ReadonlyMap<Listener, ListenerAccessLogs>,
    filterChains: ReadonlyMap<Listener, FilterChain | null>,
    previous: ReadonlyMap<string, ProxyCluster> | undefined,
  ): Generation {
    const { gen, retired } = buildGeneration({
      id: ++this.genId,
      config,
      baseDir: this.opts.baseDir ?? process.cwd(),
      clusterManager: this.cm,
      router,
      routeRandom: this.random.route,
      retryRandom: this.random.retry,
      store: this.store,
      client: this.opts.upstreamClient ?? 'meshctl',
      upstreamFailureMode: this.opts.upstreamFailureMode ?? 'envoy',
      accessLog: this.opts.accessLog ?? null,
      accessLogs,
      forceXff: this.opts.forceXff ?? false,
      rejectPathAboveRoot: this.opts.rejectPathAboveRoot ?? false,
      previous,
      healthFailing: () => this.healthFailing,
      lookupCluster: (name) => this.cm.get(name),
      filterChains,
    });
    gen.observer = this.observer;
    for (const c of retired) void this.closeWhenIdle(c);
    return gen;
  }

  /** A cluster whose transport changed (or that left the config) closes once nothing runs on the old generation. */
  private async closeWhenIdle(c: ProxyCluster): Promise<void> {
    await Promise.all([...this.oldGens].map((g) => waitIdle(g, 60_000)));
    await c.close();
  }

  private async startAdmin(config: Bootstrap): Promise<void> {
    if (this.opts.admin === false) return;
    const sa = config.admin?.address?.socket_address;
    const host = this.opts.admin?.address ?? (sa?.address || '127.0.0.1');
    const port = this.opts.admin?.port ?? sa?.port_value ?? 9901;
    const metricsPath = config.http_server?.prometheus?.metrics_path;
    const providers = {
      stats: this.opts.adminProviders?.stats ?? (async () => this.stats()),
      clusters: this.opts.adminProviders?.clusters ?? (async () => this.clusterStatuses()),
      config: () => this.fileConfig,
      xds: () => this.xds?.dump(),
      state: () => this.state,
      setHealthFailing: (f: boolean) => {
        this.healthFailing = f;
      },
      healthFailing: () => this.healthFailing,
      startedAt: this.startedAt,
      ...(this.opts.adminPages !== undefined ? { pages: this.opts.adminPages } : {}),
    };
    this.adminServer = await startAdmin(host, port, providers, metricsPath ? [metricsPath] : []);
    const ms = config.http_server?.address?.socket_address;
    if (ms !== undefined && metricsPath) {
      this.metricsServer = await startMetricsServer(ms.address || '127.0.0.1', ms.port_value ?? 0, providers, metricsPath);
    }
  }

  /** Everything that can refuse a config before anything changes; returns its compiled routes. */
  private preflight(config: Bootstrap): Preflighted {
    preflightListeners(config);
    preflightTls(config, this.opts.baseDir ?? process.cwd());
    const router = this.compileRoutes(config);
    return { router, accessLogs: compileAccessLogs(config, this.opts.baseDir ?? process.cwd()), filterChains: this.compileFilters(config, router) };
  }


  /** Run swaps one after another; a failed one leaves the running config as it was. */
  private serialize(fn: () => Promise<void>): Promise<void> {
    const run = this.swapping.then(fn);
    this.swapping = run.catch(() => undefined);
    return run;
  }

  async reload(config: Bootstrap): Promise<void> {
    await this.serialize(async () => {
      const effective = composeConfig(config, this.dynamic);
      // What can fail on the new config's files fails here, while the running config is still untouched.
      const checked = this.preflight(effective);
      this.fileConfig = config;
      this.cm.applyConfig(config);
      await this.swap(effective, checked);
    });
  }

  /** LDS/RDS changed what is active: serve it (a refusal here becomes the update's NACK). */
  private async applyDynamic(d: DynamicListeners): Promise<void> {
    if (!this.started) {
      this.preflight(composeConfig(this.fileConfig, d));
      this.dynamic = d;
      return;
    }
    await this.serialize(async () => {
      try {
        const effective = composeConfig(this.fileConfig, d);
        await this.swap(effective, this.preflight(effective));
      } catch (err) {
        throw new Error(`cannot serve the update: ${(err as Error).message}`);
      }
      this.dynamic = d;
    });
  }

  private async swap(config: Bootstrap, { router, accessLogs, filterChains }: Preflighted): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    const old = this.gen;
    const gen = this.build(config, router, accessLogs, filterChains, old.clusters);
    this.oldGens.add(old);
    void waitIdle(old, 300_000).then(() => this.oldGens.delete(old));
    // Listeners that keep address, codec and TLS swap in place; others are rebound.
    const keep = new Map<string, ListenerServer>();
    for (const s of this.servers) keep.set(s.key, s);
    const next: ListenerServer[] = [];
    const toClose: ListenerServer[] = [];
    for (const lr of gen.listeners) {
      const { ip, port } = this.listenAddr(lr.listener.address?.socket_address?.address, lr.listener.address?.socket_address?.port_value);
      const key = bindingKey(lr, ip, port);
      const existing = keep.get(key);
      if (existing !== undefined) {
        keep.delete(key);
        const changed = listenerShape(existing.current.lr.listener) !== listenerShape(lr.listener);
        existing.current = { gen, lr };
        // A listener update (not a route update): open connections are asked to go (idle ones closed, HTTP/2
        // GOAWAY) and come back to the new listener; requests in flight finish (Envoy drains the old listener).
        if (changed) existing.drainConnections();
        next.push(existing);
      } else {
        // Same address, different codec/TLS: free the port first.
        for (const [k, s] of keep) {
          if (k.startsWith(`${ip}|${port}|`) && port !== 0) {
            keep.delete(k);
            await s.close(0);
          }
        }
        const s = new ListenerServer(gen, lr, ip, port, this.opts.baseDir ?? process.cwd(), this.opts.downstreamH2);
        await s.listen();
        next.push(s);
      }
    }
    for (const s of keep.values()) toClose.push(s);
    this.servers = next;
    this.gen = gen;
    for (const c of gen.clusters.values()) c.prunePools();
    for (const s of toClose) void s.close(this.opts.listenerDrainMs ?? 30_000);
    log(`meshctl: config generation ${gen.id} active (${gen.listeners.length} listener(s), ${gen.clusters.size} cluster(s))`);
  }

  async close(drainTimeoutMs = 0): Promise<void> {
    this.state = 'DRAINING';
    const deadline = Date.now() + drainTimeoutMs;
    await Promise.all(this.servers.map((s) => s.close(drainTimeoutMs)));
    if (this.gen !== undefined) await waitIdle(this.gen, Math.max(0, deadline - Date.now()));
    await Promise.all([...this.oldGens].map((g) => waitIdle(g, Math.max(0, deadline - Date.now()))));
    if (this.gen !== undefined) await Promise.all([...this.gen.clusters.values()].map((c) => c.close()));
    await this.cm?.close();
    await this.adminServer?.close();
    await this.metricsServer?.close();
    await closeAccessLogSinks();
  }

  stats(): StatsSnapshot {
    const snap = proxySnapshot(this.store, this.cm);
    const xds = this.xds?.stats();
    if (xds !== undefined) {
      Object.assign(snap.counters, xds.counters);
      Object.assign(snap.gauges, xds.gauges);
      // With --workers each process runs its own session: these say "connected", "warming", not amounts to add.
      snap.stateGauges.push(...Object.keys(xds.gauges));
    }
    return snap;
  }

  setHealthFailing(failing: boolean): void {
    this.healthFailing = failing;
  }

  config(): Bootstrap {
    return this.fileConfig;
  }

  observe(fn: ((status: number, host: string, ms: number) => void) | null): void {
    this.observer = fn;
    this.gen.observer = fn;
  }

  clusterStatuses(): ClusterStatus[] {
    const out: ClusterStatus[] = [];
    for (const uc of this.cm.clusters()) {
      const rt = this.gen.clusters.get(uc.name);
      const th = uc.config.circuit_breakers?.thresholds?.find((t) => (t.priority ?? 'DEFAULT') === 'DEFAULT');
      out.push({
        name: uc.name,
        observability_name: uc.config.alt_stat_name || uc.name,
        thresholds: {
          max_connections: th?.max_connections ?? 1024,
          max_pending_requests: th?.max_pending_requests ?? 1024,
          max_requests: th?.max_requests ?? 1024,
          max_retries: th?.max_retries ?? 3,
        },
        added_via_api: !(this.gen.config.static_resources?.clusters ?? []).some((c) => c.name === uc.name),
        hosts: uc.hosts.hosts.map((h) => {
          const c = rt?.pools.get(h.address)?.counters;
          return {
            address: h.address,
            weight: h.weight,
            priority: h.priority,
            health: envoyHealthFlags(h),
            ...(h.hostname ? { hostname: h.hostname } : {}),
            cx_active: c?.cx_active ?? 0,
            cx_connect_fail: c?.cx_connect_fail ?? 0,
            cx_total: c?.cx_total ?? 0,
            rq_active: h.activeRequests,
            rq_error: c?.rq_error ?? 0,
            rq_success: c?.rq_success ?? 0,
            rq_timeout: c?.rq_timeout ?? 0,
            rq_total: c?.rq_total ?? 0,
            ...(c !== undefined ? { latency: c.latency.snapshot() } : {}),
          };
        }),
      });
    }
    return out;
  }
}

async function defaultClusterManager(config: Bootstrap, opts: ClusterManagerOptions): Promise<ClusterManager> {
  const m = await import('../upstream/cluster-manager.js');
  return m.createClusterManager(config, opts);
}

async function waitIdle(gen: Generation, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (gen.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

export type { BoundAddress };

/** Waits for the cluster manager's warm-up, at most `timeoutMs`; a cluster still warming then starts as it is. */
async function warmUp(cm: ClusterManager, timeoutMs: number, log: (line: string) => void): Promise<void> {
  if (cm.ready === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
    timer.unref();
  });
  const done = await Promise.race([cm.ready().then(() => false), timedOut]);
  clearTimeout(timer);
  if (done) log(`meshctl: clusters still warming after ${timeoutMs} ms; starting listeners anyway`);
}

/** Each listener's HTTP filter chain (null: none but the router), keyed by the config's listener. */
function compileFilterChains(
  config: Bootstrap,
  router: CompiledRouter<RouteRuntime>,
  store: StatsStore,
  random: Random,
  healthFailing: () => boolean,
): Map<Listener, FilterChain | null> {
  const out = new Map<Listener, FilterChain | null>();
  const clock = { now: () => performance.now() };
  (config.static_resources?.listeners ?? []).forEach((l, index) => {
    const hcm = connectionManager(l);
    const lrouter = router.of(l);
    if (hcm === undefined || lrouter === undefined) return;
    out.set(
      l,
      compileFilterChain(hcm, lrouter, {
        store,
        httpPrefix: `http.${httpStatPrefix(l, index)}.`,
        clock,
        random,
        healthFailing,
        useRemoteAddress: hcm.use_remote_address === true,
        localCluster: config.node?.cluster ?? '',
      }),
    );
  });
  return out;
}

/**
 * What the workers would refuse, checked once in the primary of `run --workers N` before it forks them (a worker that
 * refuses its config exits, and the primary would wait for it): listeners run cannot serve, the HTTP filter chains.
 * @throws UsageError, or ConfigRefusedError for a filter setting run cannot enforce (exit 1).
 */
export function checkServable(config: Bootstrap, baseDir: string): void {
  preflightListeners(config);
  const router = compileRouter(config, routeRuntime(baseDir));
  compileFilterChains(config, router, new StatsStore(), new RandomStreams(0).stream('check'), () => false);
}
