/**
 * Wires xDS into `meshctl run`. `xdsPlan` reads which session a bootstrap asks for (dynamic_resources lds_config /
 * cds_config / ads_config, EDS clusters' eds_config, connection managers' `rds`), and `startXds` runs it: REST-JSON,
 * state-of-the-world gRPC or delta gRPC, the transport imported only then (gRPC pulls in grpc-js and Envoy's
 * descriptors, which a config without gRPC xDS never loads).
 *
 * The controller here applies what the session accepts, with Envoy's warming rules
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/operations/dynamic_configuration and the
 * listener manager's "warming" docs):
 * - a cluster from CDS that takes its endpoints from EDS is *warming* until its load assignment has arrived; until
 *   then the previous version of that cluster (if any) keeps serving, and a new one takes no traffic;
 * - a listener from LDS whose connection manager takes its routes from RDS is warming until that route
 *   configuration has arrived; a warming update leaves the old listener serving, a new warming listener is not bound;
 * - the config source's `initial_fetch_timeout` (default 15 s, 0 = wait for ever) ends a wait: the resource becomes
 *   active as it is (a cluster without endpoints, a listener whose routes answer 404);
 * - start-up (cluster manager warm-up, before any listener binds) waits for the first answer of each type, and for
 *   the resources warming then.
 * Accepted clusters go to the cluster manager (XdsHost); accepted listeners and route configurations go to the proxy
 * (XdsObserver), which may refuse them (the update is then NACKed).
 */
import type { ConnectionOptions } from 'node:tls';
import type { ApiConfigSource, Bootstrap, Cluster, ClusterLoadAssignment, ConfigSource, DataSource, GrpcService, Listener, RouteConfiguration } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import type { HostInit } from '../balancer/types.js';
import type { TimerHandle } from '../time/timers.js';
import type { DiscoveryDeps, DiscoveryHandle } from './types.js';
import { hostsFromAssignment } from './envoy-json.js';
import type { ResourceMap, XdsResource, XdsSink, XdsState } from './xds-core.js';
import { KIND_SERVICE, type XdsKind } from '../config/envoy-api/xds-protocol.js';

/** What the controller needs from the cluster manager. */
export interface XdsHost {
  /** The full set of active CDS clusters: add/replace these as API clusters, remove API clusters not in it. */
  applyApiClusters(clusters: readonly Cluster[]): void;
  /** Every EDS cluster now (static or from CDS). */
  edsClusters(): { config: Cluster; setEndpoints(hosts: readonly HostInit[]): void }[];
  /** `ip:port` of a static cluster's first host (the control plane), after --map-endpoint. */
  addressOf(cluster: string): string | undefined;
  /** The cluster's TLS client options when its transport socket originates TLS (the control plane over TLS). */
  tlsOf(cluster: string): ConnectionOptions | undefined;
  /** A google_grpc target as the stream dials it (an `ip:port` target after --map-endpoint), with its TLS options. */
  googleGrpcTarget(t: GoogleGrpcTarget): { address: string; tls: ConnectionOptions | undefined };
}

/** The listeners and route configurations xDS has made active. */
export interface DynamicListeners {
  /** Active LDS listeners, in name order. */
  readonly listeners: readonly XdsResource<Listener>[];
  /** Accepted RDS route configurations by name (for static and dynamic listeners alike). */
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
}

/** What /config_dump shows of xDS: Envoy's dynamic sections. */
export interface XdsDump {
  readonly clusters: { readonly version: string; readonly active: readonly XdsResource<Cluster>[]; readonly warming: readonly XdsResource<Cluster>[] };
  readonly listeners: { readonly version: string; readonly entries: readonly { name: string; active?: XdsResource<Listener>; warming?: XdsResource<Listener> }[] };
  readonly routes: readonly XdsResource<RouteConfiguration>[];
}

/** Envoy's xDS statistics: `cluster_manager.cds.*`, `listener_manager.lds.*`, `control_plane.connected_state`. */
export interface XdsStats {
  readonly counters: Record<string, number>;
  readonly gauges: Record<string, number>;
}

/** What the proxy reads of a running session. */
export interface XdsView {
  dump(): XdsDump;
  stats(): XdsStats;
}

/** The proxy's side: it serves the dynamic listeners and routes, and shows them in /config_dump and /stats. */
export interface XdsObserver {
  /** The active listeners or route configurations changed; a rejection refuses the update (NACK). */
  applyListeners(d: DynamicListeners): Promise<void>;
  /** Where the dynamic resources and the xDS statistics are read from (a session started; undefined: it ended). */
  attach(view: XdsView | undefined): void;
}

export interface XdsPlan {
  readonly transport: 'rest' | 'grpc' | 'delta';
  /** Over the aggregated stream (ADS), or each type on its own service. */
  readonly aggregated: boolean;
  readonly source: ApiConfigSource;
  /** The types fetched, in Envoy's order (CDS, EDS, LDS, RDS). */
  readonly kinds: readonly XdsKind[];
  /** Where the stream goes: a cluster of the bootstrap (envoy_grpc, REST's cluster_names), or a gRPC target of its
   * own (google_grpc: Envoy's Google gRPC client dials `target_uri` itself). */
  readonly control: { readonly cluster: string } | { readonly google: GoogleGrpcTarget };
  /** The initial fetch timeout (ms, 0 = none) of each type's config source. */
  readonly initialFetchMs: Readonly<Partial<Record<XdsKind, number>>>;
}

/** A GrpcService's google_grpc: the target and its channel's TLS (ssl_credentials), as Envoy's GoogleGrpc has them. */
export interface GoogleGrpcTarget {
  readonly targetUri: string;
  readonly ssl: { readonly rootCerts?: DataSource; readonly privateKey?: DataSource; readonly certChain?: DataSource } | undefined;
  /** What the channel would send that meshctl does not (call_credentials, google_default): said once at start. */
  readonly notSent: readonly string[];
}

/** The google_grpc of a GrpcService (kept verbatim by the decoder: meshctl's model holds envoy_grpc only). */
function googleGrpcOf(g: GrpcService | undefined): GoogleGrpcTarget | undefined {
  type Raw = { target_uri?: unknown; channel_credentials?: { ssl_credentials?: Record<string, DataSource | undefined>; google_default?: unknown }; call_credentials?: unknown[] };
  const raw = (g as { unmodeled?: { google_grpc?: Raw } } | undefined)?.unmodeled?.google_grpc;
  if (raw === undefined || typeof raw.target_uri !== 'string' || raw.target_uri === '') return undefined;
  const ssl = raw.channel_credentials?.ssl_credentials;
  const notSent = [
    ...(raw.call_credentials?.length ? ['call_credentials'] : []),
    ...(raw.channel_credentials?.google_default !== undefined ? ['channel_credentials.google_default'] : []),
  ];
  return {
    targetUri: raw.target_uri,
    ssl: ssl === undefined ? undefined : { rootCerts: ssl.root_certs, privateKey: ssl.private_key, certChain: ssl.cert_chain },
    notSent,
  };
}

/** Envoy's ConfigSource.initial_fetch_timeout default. */
const DEFAULT_INITIAL_FETCH_MS = 15_000;

function initialFetchMs(cs: ConfigSource | undefined): number {
  return cs?.initial_fetch_timeout !== undefined ? durationToMs(cs.initial_fetch_timeout) : DEFAULT_INITIAL_FETCH_MS;
}

/** The `rds` of a listener's connection manager, when its routes come from a config source. */
function rdsOf(l: Listener): { name: string; source: ConfigSource } | undefined {
  const rds = connectionManager(l)?.rds;
  const source = rds?.config_source;
  if (!rds?.route_config_name || source === undefined || (source.ads === undefined && source.api_config_source === undefined)) return undefined;
  return { name: rds.route_config_name, source };
}

/** Which xDS session a bootstrap asks for, or undefined for none. */
export function xdsPlan(config: Bootstrap): XdsPlan | undefined {
  const dr = config.dynamic_resources;
  const edsSources = (config.static_resources?.clusters ?? []).filter((c) => c.type === 'EDS').map((c) => c.eds_cluster_config?.eds_config);
  const rdsSources = (config.static_resources?.listeners ?? []).map(rdsOf).filter((r) => r !== undefined).map((r) => r.source);
  const sources: { kind: XdsKind; cs: ConfigSource | undefined }[] = [
    { kind: 'CDS', cs: dr?.cds_config },
    ...edsSources.map((cs) => ({ kind: 'EDS' as const, cs })),
    { kind: 'LDS', cs: dr?.lds_config },
    ...rdsSources.map((cs) => ({ kind: 'RDS' as const, cs })),
  ];
  // One session: the aggregated one when anything names it, else the first API config source.
  const first = sources.find((s) => s.cs !== undefined && (s.cs.ads !== undefined || s.cs.api_config_source !== undefined))?.cs;
  if (first === undefined) return undefined;
  const source = first.ads !== undefined ? dr?.ads_config : first.api_config_source;
  if (source === undefined) return undefined;
  const transport = source.api_type === 'REST' ? 'rest' : source.api_type === 'DELTA_GRPC' || source.api_type === 'AGGREGATED_DELTA_GRPC' ? 'delta' : 'grpc';
  const controlCluster = transport === 'rest' ? source.cluster_names?.[0] : source.grpc_services?.[0]?.envoy_grpc?.cluster_name;
  const google = transport === 'rest' || controlCluster ? undefined : googleGrpcOf(source.grpc_services?.[0]);
  const control = controlCluster ? { cluster: controlCluster } : google !== undefined ? { google } : undefined;
  if (control === undefined) return undefined;
  const kinds: XdsKind[] = [];
  // EDS follows CDS (its clusters name what to subscribe to), RDS follows LDS; the rest only when configured.
  if (dr?.cds_config !== undefined) kinds.push('CDS');
  if (dr?.cds_config !== undefined || edsSources.length > 0) kinds.push('EDS');
  if (dr?.lds_config !== undefined) kinds.push('LDS');
  if (dr?.lds_config !== undefined || rdsSources.length > 0) kinds.push('RDS');
  return {
    transport,
    aggregated: first.ads !== undefined || source.api_type === 'AGGREGATED_GRPC' || source.api_type === 'AGGREGATED_DELTA_GRPC',
    source,
    kinds,
    control,
    initialFetchMs: { CDS: initialFetchMs(dr?.cds_config), LDS: initialFetchMs(dr?.lds_config), EDS: DEFAULT_INITIAL_FETCH_MS, RDS: DEFAULT_INITIAL_FETCH_MS },
  };
}

/** An EDS cluster's subscription name: eds_cluster_config.service_name, else the cluster name. */
function edsServiceName(c: Cluster): string {
  return c.eds_cluster_config?.service_name || c.name || '';
}

export interface XdsSession extends DiscoveryHandle {
  readonly state: XdsState;
  /** The file was reloaded with the same session: static listeners and EDS clusters may name other resources. */
  setBootstrap(config: Bootstrap): void;
}

/** The transports: each sends what the state says, and asks again when a subscription changed. */
export interface XdsTransport extends DiscoveryHandle {
  resubscribe(): void;
  /** A stream is up (gRPC: it has answered) or the last poll succeeded (REST). */
  connected(): boolean;
}

export async function startXds(config: Bootstrap, plan: XdsPlan, host: XdsHost, observer: XdsObserver | undefined, deps: DiscoveryDeps): Promise<XdsSession> {
  const { XdsState } = await import('./xds-core.js');
  const controller = new XdsController(config, plan, host, observer, deps);
  const node = { id: config.node?.id || 'meshctl', cluster: config.node?.cluster || 'meshctl', user_agent_name: 'meshctl' };
  const state = new XdsState(node, controller, deps.log);
  controller.state = state;
  observer?.attach({ dump: () => controller.dump(), stats: () => controller.stats() });
  const c = plan.control;
  const { address, tls } = 'cluster' in c ? { address: host.addressOf(c.cluster), tls: host.tlsOf(c.cluster) } : host.googleGrpcTarget(c.google);
  if ('google' in c && c.google.notSent.length > 0) deps.log?.(`xds: google_grpc ${c.google.notSent.join(' and ')} are not sent: the control plane sees a client without them`);
  let transport: XdsTransport;
  if (address === undefined) {
    deps.log?.(`xds: control-plane cluster "${'cluster' in c ? c.cluster : c.google.targetUri}" has no host; xDS is off`);
    transport = { ready: Promise.resolve(), close: () => undefined, resubscribe: () => undefined, connected: () => false };
  } else if (plan.transport === 'rest') {
    const { XdsRestClient } = await import('./xds-rest.js');
    const refresh = plan.source.refresh_delay !== undefined ? durationToMs(plan.source.refresh_delay) : 1000;
    const timeout = plan.source.request_timeout !== undefined ? durationToMs(plan.source.request_timeout) : 1000;
    transport = new XdsRestClient(
      state,
      { baseUrl: `${tls === undefined ? 'http' : 'https'}://${address}`, ...(tls !== undefined ? { tls } : {}), refreshMs: refresh > 0 ? refresh : 1000, requestTimeoutMs: timeout > 0 ? timeout : 1000, kinds: plan.kinds },
      deps,
    );
  } else {
    const { XdsGrpcClient } = await import('./xds-grpc.js');
    const delta = plan.transport === 'delta';
    const secure = tls !== undefined ? { tls } : {};
    if (plan.aggregated) transport = new XdsGrpcClient(state, { address, kinds: plan.kinds, delta, ...secure }, deps);
    else {
      // One stream per type, each on its own service.
      const clients = plan.kinds.map((kind) => new XdsGrpcClient(state, { address, kinds: [kind], delta, methods: KIND_SERVICE[kind], ...secure }, deps));
      transport = {
        ready: Promise.all(clients.map((c) => c.ready)).then(() => undefined),
        close: () => clients.forEach((c) => c.close()),
        resubscribe: () => clients.forEach((c) => c.resubscribe()),
        connected: () => clients.every((c) => c.connected()),
      };
    }
  }
  controller.transport = transport;
  return {
    state,
    // Ready when every type has answered (or failed, or timed out) and nothing warms: the controller knows.
    ready: controller.ready,
    close() {
      controller.close();
      transport.close();
    },
    setBootstrap(c) {
      controller.setBootstrap(c);
      transport.resubscribe();
    },
  };
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Applies accepted resources with the warming rules (see the file comment). */
class XdsController implements XdsSink {
  state!: XdsState;
  transport: XdsTransport | undefined;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private clusters: ResourceMap<'CDS'> = new Map();
  private active = new Map<string, XdsResource<Cluster>>();
  private assignments = new Map<string, ClusterLoadAssignment>();
  /** The assignment each EDS cluster (by its config object) was last given: an unchanged one is not applied again. */
  private applied = new WeakMap<Cluster, ClusterLoadAssignment>();
  private listeners: ResourceMap<'LDS'> = new Map();
  private activeListeners = new Map<string, XdsResource<Listener>>();
  private routes: ResourceMap<'RDS'> = new Map();
  /** Warming resources whose initial fetch timeout has passed (`kind/name/version`). */
  private readonly expired = new Set<string>();
  private readonly warmingTimers = new Map<string, TimerHandle>();
  private readonly answered = new Set<XdsKind>();
  private readonly startTimers: TimerHandle[] = [];
  private closed = false;
  /** Listener pushes run one at a time (each binds sockets). */
  private pushing: Promise<void> = Promise.resolve();

  constructor(
    private bootstrap: Bootstrap,
    private readonly plan: XdsPlan,
    private readonly host: XdsHost,
    private readonly observer: XdsObserver | undefined,
    private readonly deps: DiscoveryDeps,
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    // Start-up waits for each type's first answer at most its initial fetch timeout.
    for (const kind of plan.kinds) {
      const ms = plan.initialFetchMs[kind] ?? DEFAULT_INITIAL_FETCH_MS;
      if (ms > 0) {
        this.startTimers.push(
          deps.timers.setTimeout(() => {
            if (!this.answered.has(kind)) deps.log?.(`xds: no ${kind} answer within the initial fetch timeout (${ms} ms); starting without it`);
            this.answered.add(kind);
            this.checkReady();
          }, ms),
        );
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const t of [...this.startTimers, ...this.warmingTimers.values()]) this.deps.timers.clearTimeout(t);
    this.warmingTimers.clear();
    this.resolveReady();
  }

  setBootstrap(config: Bootstrap): void {
    this.bootstrap = config;
    // A static listener may now name a route configuration already here: the proxy composes it anew.
    void this.pushListeners(this.activeListeners).catch((err: Error) => this.deps.log?.(`xds: ${err.message}`));
  }

  // ---------------------------------------------------------------- XdsSink

  names(kind: 'EDS' | 'RDS'): string[] {
    const out = new Set<string>();
    if (kind === 'EDS') {
      for (const c of this.host.edsClusters()) out.add(edsServiceName(c.config));
      for (const r of this.clusters.values()) if (r.value.type === 'EDS') out.add(edsServiceName(r.value));
    } else {
      for (const l of this.bootstrap.static_resources?.listeners ?? []) {
        const rds = rdsOf(l);
        if (rds) out.add(rds.name);
      }
      for (const r of [...this.listeners.values(), ...this.activeListeners.values()]) {
        const rds = rdsOf(r.value);
        if (rds) out.add(rds.name);
      }
    }
    return [...out].sort();
  }

  async apply<K extends XdsKind>(kind: K, resources: ResourceMap<K>): Promise<void> {
    if (kind === 'CDS') {
      this.clusters = resources as ResourceMap<'CDS'>;
      this.activateClusters();
    } else if (kind === 'EDS') {
      this.assignments = new Map([...(resources as ResourceMap<'EDS'>).values()].map((r) => [r.name, r.value]));
      this.activateClusters();
    } else if (kind === 'LDS') {
      const before = this.listeners;
      this.listeners = resources as ResourceMap<'LDS'>;
      try {
        await this.activateListeners();
      } catch (err) {
        this.listeners = before;
        throw err;
      }
    } else {
      const before = this.routes;
      this.routes = resources as ResourceMap<'RDS'>;
      try {
        await this.activateListeners(true);
      } catch (err) {
        this.routes = before;
        throw err;
      }
    }
    // A new cluster or listener may need endpoints or routes: subscribe now, not at the next response.
    queueMicrotask(() => this.transport?.resubscribe());
    this.checkReady();
  }

  /** A type had its first answer, or its first fetch failed (which ends the start-up wait, as in Envoy). */
  responded(kind: XdsKind): void {
    this.answered.add(kind);
    this.checkReady();
  }

  // ---------------------------------------------------------------- clusters

  private clusterReady(r: XdsResource<Cluster>): boolean {
    if ((r.value.type ?? 'STATIC') !== 'EDS') return true;
    if (this.assignments.has(edsServiceName(r.value))) return true;
    return this.warm('CDS', r, initialFetchMs(r.value.eds_cluster_config?.eds_config));
  }

  private activateClusters(): void {
    const next = new Map<string, XdsResource<Cluster>>();
    for (const [name, r] of this.clusters) {
      if (this.clusterReady(r)) next.set(name, r);
      else {
        const old = this.active.get(name);
        if (old !== undefined) next.set(name, old);
      }
    }
    if (!sameList([...next.values()], [...this.active.values()])) {
      this.host.applyApiClusters([...next.values()].map((r) => r.value));
      this.active = next;
    }
    // Endpoints for every EDS cluster (static or API) whose assignment is here; HostSet.replace keeps hosts that stay.
    for (const c of this.host.edsClusters()) {
      const cla = this.assignments.get(edsServiceName(c.config));
      if (cla === undefined || this.applied.get(c.config) === cla) continue;
      this.applied.set(c.config, cla);
      c.setEndpoints(hostsFromAssignment(cla));
    }
  }

  // ---------------------------------------------------------------- listeners

  private listenerReady(r: XdsResource<Listener>): boolean {
    const rds = rdsOf(r.value);
    if (rds === undefined || this.routes.has(rds.name)) return true;
    return this.warm('LDS', r, initialFetchMs(rds.source));
  }

  /** Recompute the active listeners; push them (and the routes) to the proxy when something changed. */
  private async activateListeners(routesChanged = false): Promise<void> {
    const next = new Map<string, XdsResource<Listener>>();
    for (const [name, r] of [...this.listeners].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (this.listenerReady(r)) next.set(name, r);
      else {
        const old = this.activeListeners.get(name);
        if (old !== undefined) next.set(name, old);
      }
    }
    if (!routesChanged && sameList([...next.values()], [...this.activeListeners.values()])) return;
    await this.pushListeners(next);
  }

  private pushListeners(next: Map<string, XdsResource<Listener>>): Promise<void> {
    const run = this.pushing.then(async () => {
      if (this.closed) return;
      const routes = new Map([...this.routes.values()].map((r) => [r.name, r.value]));
      await this.observer?.applyListeners({ listeners: [...next.values()], routes });
      this.activeListeners = next;
    });
    this.pushing = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- warming

  /** Whether a warming resource's wait is over; starts its clock on first sight. */
  private warm(kind: 'CDS' | 'LDS', r: XdsResource<unknown>, ms: number): boolean {
    const key = `${kind}/${r.name}/${r.version}`;
    if (this.expired.has(key)) return true;
    if (ms > 0 && !this.warmingTimers.has(key) && !this.closed) {
      this.warmingTimers.set(
        key,
        this.deps.timers.setTimeout(() => {
          this.warmingTimers.delete(key);
          this.expired.add(key);
          this.deps.log?.(`xds: ${kind === 'CDS' ? 'cluster' : 'listener'} ${r.name} still warming after ${ms} ms (initial_fetch_timeout); activating it as it is`);
          if (kind === 'CDS') this.activateClusters();
          else void this.activateListeners().catch((err: Error) => this.deps.log?.(`xds: listener ${r.name}: ${err.message}`));
          this.checkReady();
        }, ms),
      );
    }
    return false;
  }

  private warming(): { clusters: XdsResource<Cluster>[]; listeners: XdsResource<Listener>[] } {
    return {
      clusters: [...this.clusters.values()].filter((r) => this.active.get(r.name) !== r),
      listeners: [...this.listeners.values()].filter((r) => this.activeListeners.get(r.name) !== r),
    };
  }

  // ---------------------------------------------------------------- readiness

  private checkReady(): void {
    for (const kind of this.plan.kinds) {
      if (this.answered.has(kind)) continue;
      if ((kind === 'EDS' || kind === 'RDS') && this.names(kind).length === 0) continue;
      return;
    }
    const w = this.warming();
    if (w.clusters.length > 0 || w.listeners.length > 0) return;
    this.resolveReady();
  }

  stats(): XdsStats {
    const counters: Record<string, number> = {};
    const put = (prefix: string, kind: XdsKind): void => {
      if (!this.plan.kinds.includes(kind)) return;
      for (const [k, v] of Object.entries(this.state.stats(kind))) counters[`${prefix}.${k}`] = v;
    };
    put('cluster_manager.cds', 'CDS');
    put('listener_manager.lds', 'LDS');
    const w = this.warming();
    return {
      counters,
      gauges: {
        'control_plane.connected_state': this.transport?.connected() === true ? 1 : 0,
        'cluster_manager.warming_clusters': w.clusters.length,
        'listener_manager.total_listeners_warming': w.listeners.length,
      },
    };
  }

  dump(): XdsDump {
    const w = this.warming();
    const names = [...new Set([...this.activeListeners.keys(), ...w.listeners.map((l) => l.name)])].sort();
    return {
      clusters: { version: this.state.version('CDS'), active: [...this.active.values()], warming: w.clusters },
      listeners: {
        version: this.state.version('LDS'),
        entries: names.map((name) => {
          const active = this.activeListeners.get(name);
          const warming = w.listeners.find((l) => l.name === name);
          return { name, ...(active ? { active } : {}), ...(warming ? { warming } : {}) };
        }),
      },
      routes: [...this.routes.values()],
    };
  }
}
