/**
 * The shared router: `compileRouter(config)` turns every listener's route configuration into lookup tables once;
 * `routeRequest(router, …)` then takes a request to its route, cluster and hash (match → cluster → hash) with no
 * allocation beyond lower-casing a mixed-case Host and slicing off a query string. `meshctl simulate` and
 * `meshctl run` both route every request through `routeRequest`.
 */
import type { Bootstrap, HttpConnectionManager, Listener, RouteConfiguration } from '../config/model.js';
import { connectionManager, listenerName } from '../config/connection-manager.js';
import type { Random } from '../balancer/types.js';
import { combineHashes, xxHash64 } from '../balancer/xxhash64.js';
import { ClusterIds } from './cluster-ids.js';
import { DomainIndex, stripPort } from './domains.js';
import { type CompileProblem, type HeaderLookup, cookieValue, queryParam } from './matchers.js';
import { type CompiledRoute, type CompiledVirtualHost, type CompiledWeightedClusters, type RouteExtension, compileVirtualHost } from './route.js';

export type { HeaderLookup, CompileProblem } from './matchers.js';
export type { CompiledRoute, RouteExtension } from './route.js';

export class ListenerRouter<X = undefined> {
  readonly virtualHosts: readonly CompiledVirtualHost<X>[];
  private readonly domains = new DomainIndex<CompiledVirtualHost<X>>();
  private readonly ignorePort: boolean;

  constructor(
    readonly name: string,
    readonly listener: Listener,
    readonly routeConfig: RouteConfiguration | undefined,
    hcm: HttpConnectionManager | undefined,
    problems: CompileProblem[],
    readonly clusterIds: ClusterIds = new ClusterIds(),
    extend?: RouteExtension<X>,
  ) {
    this.ignorePort = routeConfig?.ignore_port_in_host_matching === true || hcm?.strip_any_host_port === true;
    const vhosts: CompiledVirtualHost<X>[] = [];
    (routeConfig?.virtual_hosts ?? []).forEach((vh, i) => {
      const compiled = compileVirtualHost(vh, i, routeConfig, problems, this.clusterIds, extend);
      vhosts.push(compiled);
      for (const d of vh.domains ?? []) this.domains.add(d, compiled);
    });
    this.domains.seal();
    for (const d of this.domains.duplicates) {
      problems.push({ message: `duplicate domain ${JSON.stringify(d)} (Envoy rejects this; the first virtual host keeps it)`, node: routeConfig!, field: 'virtual_hosts' });
    }
    this.virtualHosts = vhosts;
  }

  findVirtualHost(authority: string | undefined): CompiledVirtualHost<X> | undefined {
    return this.domains.find(this.ignorePort && authority !== undefined ? stripPort(authority) : authority);
  }

  /**
   * The first route of the matching virtual host that matches, or undefined (404 NR). `path` is the request's :path
   * (query included); `headers` looks up lower-case header names (`:authority`, `:path`, `:method` are answered from
   * the arguments).
   */
  match(authority: string, path: string, method: string, headers: HeaderLookup): CompiledRoute<X> | undefined {
    const vh = this.findVirtualHost(authority);
    if (vh === undefined) return undefined;
    const routes = vh.routes;
    if (routes.length === 0) return undefined;
    let bare = path;
    let query = '';
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c === 63 /* ? */ || c === 35 /* # */) {
        bare = path.slice(0, i);
        if (c === 63) {
          const hash = path.indexOf('#', i + 1);
          query = hash < 0 ? path.slice(i + 1) : path.slice(i + 1, hash);
        }
        break;
      }
    }
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.test(bare, query, headers, authority, method)) return r;
    }
    return undefined;
  }
}

export interface CompiledRouter<X = undefined> {
  readonly listeners: readonly ListenerRouter<X>[];
  /** Every cluster name any route uses, with its id (CompiledRoute.clusterId, RouteResult.clusterId). */
  readonly clusterIds: ClusterIds;
  listener(name: string): ListenerRouter<X> | undefined;
  /** The router of a listener of the compiled config; undefined for a listener without a connection manager. */
  of(listener: Listener): ListenerRouter<X> | undefined;
  /** Regexes that did not compile, duplicate domains, routes without an action: each such matcher never matches. */
  readonly problems: readonly CompileProblem[];
}

/**
 * Every listener with an HTTP connection manager gets a router; listeners without one are left out. `extend` adds
 * the caller's own work to every route in the same pass (see RouteExtension).
 */
export function compileRouter<X = undefined>(config: Bootstrap, extend?: RouteExtension<X>): CompiledRouter<X> {
  const problems: CompileProblem[] = [];
  const listeners: ListenerRouter<X>[] = [];
  const clusterIds = new ClusterIds();
  // Ids for every defined cluster first, so they follow the config's cluster order.
  for (const c of config.static_resources?.clusters ?? []) if (c.name !== undefined) clusterIds.intern(c.name);
  (config.static_resources?.listeners ?? []).forEach((l, i) => {
    const hcm = connectionManager(l);
    if (!hcm) return;
    listeners.push(new ListenerRouter(listenerName(l, i), l, hcm.route_config, hcm, problems, clusterIds, extend));
  });
  const byName = new Map(listeners.map((l) => [l.name, l]));
  const byListener = new Map(listeners.map((l) => [l.listener, l]));
  return { listeners, clusterIds, listener: (name) => byName.get(name), of: (l) => byListener.get(l), problems };
}

/** A router for one route configuration alone (tests, RDS). */
export function compileRouteConfiguration(rc: RouteConfiguration, name = rc.name ?? 'routes'): { router: ListenerRouter; problems: CompileProblem[] } {
  const problems: CompileProblem[] = [];
  return { router: new ListenerRouter(name, { name }, rc, undefined, problems), problems };
}

/** The downstream peer's address, asked for only by a hash policy on the source IP. */
type SourceIpLookup = () => string | undefined;

/**
 * Where one request goes. `routeRequest` fills it in; a caller keeps one and reuses it for every request (routing a
 * request allocates nothing).
 */
export class RouteResult<X = undefined> {
  /** The matched route; undefined: no route (404 NR). */
  route: CompiledRoute<X> | undefined = undefined;
  /**
   * The chosen cluster's name: the route's cluster, the weighted pick, or the cluster_header value. Undefined for a
   * redirect or direct response, a missing cluster header, or weights summing to 0.
   */
  clusterName: string | undefined = undefined;
  /** Its id in the router's ClusterIds; -1 when none was chosen or no route names it (a cluster_header value). */
  clusterId = -1;
  /** Which weighted_clusters entry was picked (its index), else -1. */
  weightedIndex = -1;
  /** The route's hash_policy result, for RING_HASH / MAGLEV; undefined when it has none or none yields a value. */
  hash: bigint | undefined = undefined;
}

/**
 * Routes one request: the first matching route, then its cluster (the named one, the `cluster_header` value, or a
 * weighted pick: Envoy takes v % Σweights over [0,w1), [w1,w1+w2), … with v random, or the header_name header when
 * it holds a uint64), then the route's hash. `path` is the :path, query included. Returns `out.route`.
 */
export function routeRequest<X>(
  router: ListenerRouter<X>,
  authority: string,
  path: string,
  method: string,
  headers: HeaderLookup,
  sourceIp: SourceIpLookup | undefined,
  random: Random,
  out: RouteResult<X>,
): CompiledRoute<X> | undefined {
  const route = router.match(authority, path, method, headers);
  out.route = route;
  out.clusterName = undefined;
  out.clusterId = -1;
  out.weightedIndex = -1;
  out.hash = undefined;
  if (route === undefined) return undefined;
  if (route.kind === 'cluster') {
    out.clusterName = route.cluster;
    out.clusterId = route.clusterId;
  } else if (route.weighted !== undefined) {
    const w = route.weighted;
    if (w.total > 0) {
      const v = weightedValue(w, random, headers);
      const upper = w.upper;
      let i = 0;
      while (i < upper.length - 1 && v >= upper[i]!) i++;
      out.weightedIndex = i;
      out.clusterName = w.clusters[i]!.name;
      out.clusterId = w.ids[i]!;
    }
  } else if (route.kind === 'cluster_header' && route.clusterHeader !== undefined) {
    const name = headers(route.clusterHeader);
    if (name !== undefined) {
      out.clusterName = name;
      out.clusterId = router.clusterIds.get(name);
    }
  }
  if (out.clusterName !== undefined && route.hashPolicies !== undefined) out.hash = routeHash(route, headers, path, sourceIp);
  return route;
}

function weightedValue(w: CompiledWeightedClusters, random: Random, headers: HeaderLookup): number {
  const hv = w.headerName !== undefined ? headers(w.headerName) : undefined;
  if (hv !== undefined && /^\d{1,20}$/.test(hv) && BigInt(hv) <= 0xffffffffffffffffn) return Number(BigInt(hv) % BigInt(w.total));
  return w.total <= 0x100000 ? random.nextU32() % w.total : Math.floor(random.next() * w.total);
}

/**
 * The request hash from the route's hash_policy (Envoy's `HashPolicyImpl::generateHash`): each policy that yields a
 * value combines into the hash as rotl64(h, 1) ^ xxHash64(value); a terminal policy stops once a hash exists.
 */
function routeHash<X>(route: CompiledRoute<X>, headers: HeaderLookup, path: string, sourceIp: SourceIpLookup | undefined): bigint | undefined {
  let hash: bigint | undefined;
  for (const p of route.hashPolicies!) {
    let value: string | undefined;
    if (p.header?.header_name) value = headers(p.header.header_name.toLowerCase());
    else if (p.cookie?.name) value = cookieValue(headers('cookie'), p.cookie.name);
    else if (p.connection_properties?.source_ip) value = sourceIp?.();
    else if (p.query_parameter?.name) {
      const q = path.indexOf('?');
      if (q >= 0) {
        const h = path.indexOf('#', q);
        value = queryParam(h < 0 ? path.slice(q + 1) : path.slice(q + 1, h), p.query_parameter.name);
      }
    }
    if (value !== undefined) {
      const next = xxHash64(value);
      hash = hash === undefined ? next : combineHashes(hash, next);
    }
    if (p.terminal && hash !== undefined) break;
  }
  return hash;
}
