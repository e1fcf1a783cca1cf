/**
 * One pass over the model that every rule shares: the listeners, connection managers, route configurations,
 * virtual hosts, routes and clusters with their parents, and name → node maps. Built once per file so that each
 * rule is a linear scan plus map look-ups (no pairwise comparisons).
 */
import type {
  Bootstrap,
  Cluster,
  DiscoveryRefreshService,
  FilterChain,
  HttpConnectionManager,
  Listener,
  Route,
  RouteConfiguration,
  TlsContext,
  VirtualHost,
} from '../config/model.js';
import { chainConnectionManagers } from '../config/connection-manager.js';
import type { Duration } from '../config/duration.js';
import { type DialectNote, META, type NodeMeta } from '../config/node-meta.js';
import type { ClusterRef, EnvoyClusterUse } from '../config/envoy-api/cluster-refs.js';
import { isDurationShape } from './util/walk.js';

interface HcmEntry {
  readonly listener: Listener;
  readonly chain: FilterChain;
  readonly hcm: HttpConnectionManager;
}

interface RouteConfigEntry {
  readonly rc: RouteConfiguration;
  readonly hcm: HttpConnectionManager;
  readonly listener: Listener;
  readonly chain: FilterChain;
}

interface VirtualHostEntry {
  readonly vh: VirtualHost;
  readonly rc: RouteConfiguration;
  readonly hcm: HttpConnectionManager;
}

interface RouteEntry {
  readonly route: Route;
  readonly vh: VirtualHost;
  readonly rc: RouteConfiguration;
  readonly index: number;
}

/** A TLS context and where it sits, for the file checks. */
interface TlsEntry {
  readonly tls: TlsContext;
  readonly where: string;
}

/** A Duration value and the field of the node that holds it. */
interface DurationEntry {
  readonly node: Record<string, unknown>;
  readonly field: string;
  readonly value: Duration;
}

export interface ConfigIndex {
  readonly listeners: readonly Listener[];
  readonly hcms: readonly HcmEntry[];
  readonly routeConfigs: readonly RouteConfigEntry[];
  readonly virtualHosts: readonly VirtualHostEntry[];
  readonly routes: readonly RouteEntry[];
  readonly clusters: readonly Cluster[];
  /** The first cluster of each name. */
  readonly clustersByName: ReadonlyMap<string, Cluster>;
  /** Route configurations defined inline, by name (first of each). */
  readonly routeConfigsByName: ReadonlyMap<string, RouteConfiguration>;
  readonly refreshServices: readonly DiscoveryRefreshService[];
  readonly tlsContexts: readonly TlsEntry[];
  /** Every Duration anywhere in the model. */
  readonly durations: readonly DurationEntry[];
  /** Every dialect note anywhere in the model, in walk order. */
  readonly dialectNotes: readonly DialectNote[];
  /** Cluster names mentioned in data meshctl does not model (a tcp_proxy's `cluster`, …), so they count as used. */
  readonly unmodeledClusterRefs: ReadonlySet<string>;
  /**
   * Envoy-shaped input: every place it names a cluster where Envoy takes a cluster name, from Envoy's judge
   * (src/config/envoy-api/cluster-refs.ts). Empty for meshctl's own shapes.
   */
  readonly envoyClusterRefs: readonly ClusterRef[];
  /** Set when something in the config picks a cluster at run time (a `cluster_header`, a Lua filter, …): what. */
  readonly clustersChosenAtRunTime: string | undefined;
}

/** `cluster` / `cluster_name` strings, and `name`s inside `clusters` lists, anywhere in verbatim JSON. */
function collectClusterRefs(v: unknown, out: Set<string>, inClusters = false): void {
  if (Array.isArray(v)) {
    for (const x of v) collectClusterRefs(x, out, inClusters);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'string' && (k === 'cluster' || k === 'cluster_name' || (inClusters && k === 'name'))) out.add(x);
    else collectClusterRefs(x, out, k === 'clusters');
  }
}

/** One recursive pass over every node (recursion depth is the model's nesting, about twenty). */
function walkModel(root: object, durations: DurationEntry[], notes: DialectNote[], refs: Set<string>): void {
  const visit = (node: Record<string, unknown>): void => {
    const meta = (node as { [META]?: NodeMeta })[META];
    if (meta?.dialect !== undefined) for (const n of meta.dialect) notes.push(n);
    for (const key in node) {
      const v = node[key];
      if (key === 'unmodeled') {
        collectClusterRefs(v, refs);
        continue;
      }
      if (typeof v !== 'object' || v === null) continue;
      if (Array.isArray(v)) {
        for (const x of v) if (typeof x === 'object' && x !== null) visit(x as Record<string, unknown>);
      } else if (isDurationShape(v)) durations.push({ node, field: key, value: v });
      else visit(v as Record<string, unknown>);
    }
  };
  visit(root as Record<string, unknown>);
}

export function buildIndex(config: Bootstrap, envoy?: EnvoyClusterUse): ConfigIndex {
  const sr = config.static_resources;
  const listeners = sr?.listeners ?? [];
  const clusters = sr?.clusters ?? [];
  const hcms: HcmEntry[] = [];
  const routeConfigs: RouteConfigEntry[] = [];
  const virtualHosts: VirtualHostEntry[] = [];
  const routes: RouteEntry[] = [];
  const tlsContexts: TlsEntry[] = [];
  const clustersByName = new Map<string, Cluster>();
  const routeConfigsByName = new Map<string, RouteConfiguration>();

  for (const listener of listeners) {
    for (const chain of listener.filter_chains ?? []) {
      if (chain.transport_socket?.typed_config !== undefined) {
        tlsContexts.push({ tls: chain.transport_socket.typed_config, where: `listener \`${listener.name ?? ''}\`` });
      }
      for (const hcm of chainConnectionManagers(chain)) {
        hcms.push({ listener, chain, hcm });
        if (hcm.transport_socket?.typed_config !== undefined) {
          tlsContexts.push({ tls: hcm.transport_socket.typed_config, where: `listener \`${listener.name ?? ''}\`` });
        }
        const rc = hcm.route_config;
        if (rc === undefined) continue;
        routeConfigs.push({ rc, hcm, listener, chain });
        if (rc.name !== undefined && rc.name !== '' && !routeConfigsByName.has(rc.name)) routeConfigsByName.set(rc.name, rc);
        for (const vh of rc.virtual_hosts ?? []) {
          virtualHosts.push({ vh, rc, hcm });
          const rs = vh.routes ?? [];
          for (let i = 0; i < rs.length; i++) routes.push({ route: rs[i]!, vh, rc, index: i });
        }
      }
    }
  }
  for (const c of clusters) {
    if (c.name !== undefined && !clustersByName.has(c.name)) clustersByName.set(c.name, c);
    if (c.transport_socket?.typed_config !== undefined) {
      tlsContexts.push({ tls: c.transport_socket.typed_config, where: `cluster \`${c.name ?? ''}\`` });
    }
  }
  if (config.tls_context !== undefined) tlsContexts.push({ tls: config.tls_context, where: 'the top-level tls_context' });

  const durations: DurationEntry[] = [];
  const dialectNotes: DialectNote[] = [];
  const unmodeledClusterRefs = new Set<string>();
  walkModel(config, durations, dialectNotes, unmodeledClusterRefs);

  return {
    durations,
    dialectNotes,
    unmodeledClusterRefs,
    envoyClusterRefs: envoy?.refs ?? [],
    clustersChosenAtRunTime: envoy?.chosenAtRunTime,
    listeners,
    hcms,
    routeConfigs,
    virtualHosts,
    routes,
    clusters,
    clustersByName,
    routeConfigsByName,
    refreshServices: sr?.service_cluster_discovery_refresh_service ?? [],
    tlsContexts,
  };
}
