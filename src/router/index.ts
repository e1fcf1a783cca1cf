/**
 * The shared router: `compileRouter(config)` turns every listener's route configuration into lookup tables once;
 * `ListenerRouter.match(authority, path, method, headers)` then finds the virtual host and the first matching route
 * with no per-request allocation beyond lower-casing a mixed-case Host and slicing off a query string.
 * `meshctl simulate` and `meshctl run` both route through this module.
 */
import type {
  Bootstrap,
  DirectResponseAction,
  HashPolicy,
  HttpConnectionManager,
  Listener,
  RedirectAction,
  RetryPolicy,
  Route,
  RouteAction,
  RouteConfiguration,
  VirtualHost,
} from '../config/model.js';
import { durationToMs } from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import type { Random } from '../balancer/types.js';
import { combineHashes, xxHash64 } from '../balancer/xxhash64.js';
import { DomainIndex, stripPort } from './domains.js';
import {
  type CompileProblem,
  type CompiledHeaderMatcher,
  type CompiledQueryMatcher,
  type HeaderLookup,
  compileHeaderMatcher,
  compileQueryMatcher,
  cookieValue,
  queryParam,
} from './matchers.js';
import { compileRe2 } from './regex.js';

export type { HeaderLookup, CompileProblem } from './matchers.js';
export { compileRe2 } from './regex.js';
export { DomainIndex, stripPort } from './domains.js';

export type RouteKind = 'cluster' | 'weighted_clusters' | 'cluster_header' | 'redirect' | 'direct_response';

export interface WeightedTarget {
  readonly name: string;
  readonly weight: number;
}

export interface CompiledWeightedClusters {
  readonly clusters: readonly WeightedTarget[];
  /** Cluster ids (ClusterIds) of `clusters`, same order. */
  readonly ids: readonly number[];
  /** Upper bounds of each cluster's interval [prev, upper) over [0, total). */
  readonly upper: readonly number[];
  /** Σ weights (total_weight is ignored, as Envoy ≥ 1.24 does). */
  readonly total: number;
  /** header_name: a request header holding the value to pick with (a uint64), instead of a random draw. */
  readonly headerName: string | undefined;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly index: number;
  readonly config: VirtualHost;
  readonly routes: readonly CompiledRoute[];
}

/** One route, compiled. The fields are the route's decision; `action` keeps rewrites, timeouts, retries, hashing. */
export interface CompiledRoute {
  /** `<vhost name>/<route name or index>`, unique within a listener. */
  readonly id: string;
  readonly name: string;
  readonly index: number;
  readonly vhost: CompiledVirtualHost;
  readonly config: Route;
  /** A short description of the match (`prefix /api`, `path /x`, `regex ^…$` …) for reports. */
  readonly matchText: string;
  readonly kind: RouteKind;
  readonly cluster: string | undefined;
  /** The id of `cluster` in the router's cluster-name table (-1 when the route does not name one cluster). */
  readonly clusterId: number;
  readonly clusterHeader: string | undefined;
  readonly weighted: CompiledWeightedClusters | undefined;
  readonly action: RouteAction | undefined;
  readonly redirect: RedirectAction | undefined;
  readonly directResponse: DirectResponseAction | undefined;
  /** The route's hash policies, or undefined when none (RING_HASH/MAGLEV then hash randomly). */
  readonly hashPolicies: readonly HashPolicy[] | undefined;
  /** The route's retry policy, else the virtual host's (a route policy replaces the vhost one). */
  readonly retryPolicy: RetryPolicy | undefined;
  /** Route timeout in ms (default 15000; 0 disables). */
  readonly timeoutMs: number;
  /** Status when the named cluster does not exist: 503 by default. */
  readonly clusterNotFoundStatus: number;
  /** Whether a request matches this route (path already stripped of query/fragment). @internal */
  readonly test: (path: string, query: string, headers: HeaderLookup, authority: string, method: string) => boolean;
}

/**
 * Small integer ids for the cluster names routes use, so a caller can keep its balancers in an array indexed by id
 * and skip a string-keyed lookup per request. Names are interned once here.
 */
export class ClusterIds {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  /** The id of `name`, assigning the next one if new. */
  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(Object.keys({ [name]: 0 })[0]!);
    }
    return id;
  }
  /** The id of `name`, or -1 when no route names it. */
  get(name: string): number {
    return this.ids.get(name) ?? -1;
  }
}

export class ListenerRouter {
  readonly virtualHosts: readonly CompiledVirtualHost[];
  private readonly domains = new DomainIndex<CompiledVirtualHost>();
  private readonly ignorePort: boolean;

  constructor(
    readonly name: string,
    readonly listener: Listener,
    readonly routeConfig: RouteConfiguration | undefined,
    hcm: HttpConnectionManager | undefined,
    problems: CompileProblem[],
    readonly clusterIds: ClusterIds = new ClusterIds(),
  ) {
    this.ignorePort = routeConfig?.ignore_port_in_host_matching === true || hcm?.strip_any_host_port === true;
    const vhosts: CompiledVirtualHost[] = [];
    (routeConfig?.virtual_hosts ?? []).forEach((vh, i) => {
      const compiled = compileVirtualHost(vh, i, problems, this.clusterIds);
      vhosts.push(compiled);
      for (const d of vh.domains ?? []) this.domains.add(d, compiled);
    });
    this.domains.seal();
    for (const d of this.domains.duplicates) {
      problems.push({ message: `duplicate domain ${JSON.stringify(d)} (Envoy rejects this; the first virtual host keeps it)`, node: routeConfig!, field: 'virtual_hosts' });
    }
    this.virtualHosts = vhosts;
  }

  /** The listener's port, when it has a socket address. */
  get port(): number | undefined {
    return this.listener.address?.socket_address?.port_value;
  }

  findVirtualHost(authority: string | undefined): CompiledVirtualHost | undefined {
    return this.domains.find(this.ignorePort && authority !== undefined ? stripPort(authority) : authority);
  }

  /**
   * The first route of the matching virtual host that matches, or undefined (404 NR). `path` is the request's :path
   * (query included); `headers` looks up lower-case header names (`:authority`, `:path`, `:method` are answered from
   * the arguments).
   */
  match(authority: string, path: string, method: string, headers: HeaderLookup): CompiledRoute | undefined {
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

export interface CompiledRouter {
  readonly listeners: readonly ListenerRouter[];
  /** Every cluster name any route uses, with its id (CompiledRoute.clusterId, selectClusterId). */
  readonly clusterIds: ClusterIds;
  listener(name: string): ListenerRouter | undefined;
  /** Regexes that did not compile, duplicate domains, routes without an action: each such matcher never matches. */
  readonly problems: readonly CompileProblem[];
}

/** Every listener with an HTTP connection manager gets a router; listeners without one are left out. */
export function compileRouter(config: Bootstrap): CompiledRouter {
  const problems: CompileProblem[] = [];
  const listeners: ListenerRouter[] = [];
  const clusterIds = new ClusterIds();
  // Ids for every defined cluster first, so they follow the config's cluster order.
  for (const c of config.static_resources?.clusters ?? []) if (c.name !== undefined) clusterIds.intern(c.name);
  (config.static_resources?.listeners ?? []).forEach((l, i) => {
    const hcm = connectionManager(l);
    if (!hcm) return;
    listeners.push(new ListenerRouter(l.name ?? `listener-${i}`, l, hcm.route_config, hcm, problems, clusterIds));
  });
  const byName = new Map(listeners.map((l) => [l.name, l]));
  return { listeners, clusterIds, listener: (name) => byName.get(name), problems };
}

/** A router for one route configuration alone (tests, RDS). */
export function compileRouteConfiguration(rc: RouteConfiguration, name = rc.name ?? 'routes'): { router: ListenerRouter; problems: CompileProblem[] } {
  const problems: CompileProblem[] = [];
  return { router: new ListenerRouter(name, { name }, rc, undefined, problems), problems };
}

function compileVirtualHost(vh: VirtualHost, index: number, problems: CompileProblem[], ids: ClusterIds): CompiledVirtualHost {
  const routes: CompiledRoute[] = [];
  const compiled: CompiledVirtualHost = { name: vh.name ?? `vhost-${index}`, index, config: vh, routes };
  routeIds.set(compiled, ids);
  (vh.routes ?? []).forEach((r, i) => {
    const c = compileRoute(r, i, compiled, problems, ids);
    if (c) routes.push(c);
  });
  return compiled;
}

const never = (): boolean => false;

function compileRoute(r: Route, index: number, vh: CompiledVirtualHost, problems: CompileProblem[], ids: ClusterIds): CompiledRoute | undefined {
  const m = r.match ?? {};
  const caseSensitive = m.case_sensitive !== false;
  let pathTest: (path: string) => boolean;
  let matchText: string;
  if (m.prefix !== undefined) {
    const p = caseSensitive ? m.prefix : m.prefix.toLowerCase();
    pathTest = p === '/' || p === '' ? (path) => path.startsWith(p) : caseSensitive ? (path) => path.startsWith(p) : (path) => path.toLowerCase().startsWith(p);
    matchText = `prefix ${m.prefix}`;
  } else if (m.path !== undefined) {
    const p = caseSensitive ? m.path : m.path.toLowerCase();
    pathTest = caseSensitive ? (path) => path === p : (path) => path.toLowerCase() === p;
    matchText = `path ${m.path}`;
  } else if (m.path_separated_prefix !== undefined) {
    const p = caseSensitive ? m.path_separated_prefix : m.path_separated_prefix.toLowerCase();
    const test = (path: string): boolean => path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47);
    pathTest = caseSensitive ? test : (path) => test(path.toLowerCase());
    matchText = `path_separated_prefix ${m.path_separated_prefix}`;
  } else if (m.safe_regex?.regex !== undefined) {
    const re = compileRe2(m.safe_regex.regex);
    if (re.ok) {
      const regex = re.regex;
      pathTest = (path) => regex.test(path);
    } else {
      problems.push({ message: `invalid regex ${JSON.stringify(m.safe_regex.regex)}: ${re.message}`, node: m.safe_regex, field: 'regex' });
      pathTest = never;
    }
    matchText = `regex ${m.safe_regex.regex}`;
  } else {
    problems.push({ message: 'route match has no path specifier (prefix, path, safe_regex, path_separated_prefix)', node: m, field: 'prefix' });
    pathTest = never;
    matchText = '(no path specifier)';
  }
  const headerMatchers: CompiledHeaderMatcher[] = (m.headers ?? []).map((h) => compileHeaderMatcher(h, problems));
  const queryMatchers: CompiledQueryMatcher[] = (m.query_parameters ?? []).map((q) => compileQueryMatcher(q, problems));
  const grpc = m.grpc !== undefined;
  const test =
    headerMatchers.length === 0 && queryMatchers.length === 0 && !grpc
      ? (path: string) => pathTest(path)
      : (path: string, query: string, headers: HeaderLookup, authority: string, method: string): boolean => {
          if (!pathTest(path)) return false;
          for (let i = 0; i < headerMatchers.length; i++) {
            const hm = headerMatchers[i]!;
            const v = hm.name === ':authority' ? authority : hm.name === ':method' ? method : hm.name === ':path' ? headers(':path') ?? path : headers(hm.name);
            if (!hm.test(v)) return false;
          }
          for (let i = 0; i < queryMatchers.length; i++) {
            const qm = queryMatchers[i]!;
            if (!qm.test(query === '' ? undefined : queryParam(query, qm.name))) return false;
          }
          if (grpc && !(headers('content-type') ?? '').startsWith('application/grpc')) return false;
          return true;
        };
  if (headerMatchers.length > 0) matchText += ` +${headerMatchers.length} header${headerMatchers.length > 1 ? 's' : ''}`;
  if (queryMatchers.length > 0) matchText += ` +${queryMatchers.length} query`;

  const action = r.route;
  let kind: RouteKind;
  let weighted: CompiledWeightedClusters | undefined;
  if (action) {
    if (action.weighted_clusters) {
      kind = 'weighted_clusters';
      const clusters = (action.weighted_clusters.clusters ?? []).map((c) => ({ name: c.name ?? '', weight: c.weight ?? 0 }));
      const upper: number[] = [];
      let total = 0;
      for (const c of clusters) upper.push((total += c.weight));
      if (total <= 0) problems.push({ message: 'Sum of weights in the weighted_cluster must be greater than 0.', node: action.weighted_clusters, field: 'clusters' });
      weighted = { clusters, ids: clusters.map((c) => ids.intern(c.name)), upper, total, headerName: action.weighted_clusters.header_name?.toLowerCase() };
    } else if (action.cluster_header !== undefined) kind = 'cluster_header';
    else kind = 'cluster';
  } else if (r.redirect) kind = 'redirect';
  else if (r.direct_response) kind = 'direct_response';
  else {
    problems.push({ message: 'route has no action (route, redirect or direct_response)', node: r, field: 'route' });
    return undefined;
  }
  const name = r.name ?? String(index);
  return {
    id: `${vh.name}/${name}`,
    name,
    index,
    vhost: vh,
    config: r,
    matchText,
    kind,
    cluster: kind === 'cluster' ? action?.cluster : undefined,
    clusterId: kind === 'cluster' && action?.cluster !== undefined ? ids.intern(action.cluster) : -1,
    clusterHeader: action?.cluster_header?.toLowerCase(),
    weighted,
    action,
    redirect: r.redirect,
    directResponse: r.direct_response,
    hashPolicies: action?.hash_policy && action.hash_policy.length > 0 ? action.hash_policy : undefined,
    retryPolicy: action?.retry_policy ?? vh.config.retry_policy,
    timeoutMs: action?.timeout ? durationToMs(action.timeout) : 15000,
    clusterNotFoundStatus:
      action?.cluster_not_found_response_code === 'NOT_FOUND' ? 404 : action?.cluster_not_found_response_code === 'INTERNAL_SERVER_ERROR' ? 500 : 503,
    test,
  };
}

/**
 * The cluster a matched route sends to: the named cluster, the `cluster_header` value, or a weighted pick (Envoy:
 * v % Σweights over [0,w1), [w1,w1+w2), … with v random, or the header_name header when it holds a uint64).
 * Undefined for redirect / direct_response, a missing cluster header, or weights summing to 0.
 */
export function selectCluster(route: CompiledRoute, random: Random, headers?: HeaderLookup): string | undefined {
  if (route.kind === 'cluster') return route.cluster;
  const w = route.weighted;
  if (w !== undefined) {
    if (w.total <= 0) return undefined;
    const v = weightedValue(w, random, headers);
    const upper = w.upper;
    for (let i = 0; i < upper.length; i++) if (v < upper[i]!) return w.clusters[i]!.name;
    return w.clusters[w.clusters.length - 1]!.name;
  }
  if (route.kind === 'cluster_header') return headers && route.clusterHeader ? headers(route.clusterHeader) : undefined;
  return undefined;
}

/**
 * Like selectCluster, but returns the cluster's id (see ClusterIds): no string handling on the hot path. -1 when no
 * cluster is chosen; a cluster_header naming a cluster no route names gives -1 too (use selectCluster for the name).
 */
export function selectClusterId(route: CompiledRoute, random: Random, headers?: HeaderLookup): number {
  if (route.kind === 'cluster') return route.clusterId;
  const w = route.weighted;
  if (w !== undefined) {
    if (w.total <= 0) return -1;
    const v = weightedValue(w, random, headers);
    const upper = w.upper;
    for (let i = 0; i < upper.length; i++) if (v < upper[i]!) return w.ids[i]!;
    return w.ids[w.ids.length - 1]!;
  }
  if (route.kind === 'cluster_header' && headers && route.clusterHeader) {
    const name = headers(route.clusterHeader);
    return name === undefined ? -1 : clusterIdsOf(route).get(name);
  }
  return -1;
}

function weightedValue(w: CompiledWeightedClusters, random: Random, headers: HeaderLookup | undefined): number {
  const hv = w.headerName !== undefined && headers ? headers(w.headerName) : undefined;
  if (hv !== undefined && /^\d{1,20}$/.test(hv) && BigInt(hv) <= 0xffffffffffffffffn) return Number(BigInt(hv) % BigInt(w.total));
  return w.total <= 0x100000 ? random.nextU32() % w.total : Math.floor(random.next() * w.total);
}

const routeIds = new WeakMap<CompiledVirtualHost, ClusterIds>();
function clusterIdsOf(route: CompiledRoute): ClusterIds {
  return routeIds.get(route.vhost) ?? new ClusterIds();
}

/** Connection facts a hash policy may use. */
export interface HashInputs {
  readonly sourceIp?: string;
  /** The request :path (query included), for query_parameter policies. */
  readonly path?: string;
}

/**
 * The request hash from the route's hash_policy (Envoy's `HashPolicyImpl::generateHash`): each policy that yields a
 * value combines into the hash as rotl64(h, 1) ^ xxHash64(value); a terminal policy stops once a hash exists.
 * Undefined when the route has no policy or none yields a value.
 */
export function routeHash(route: CompiledRoute, headers: HeaderLookup, inputs: HashInputs = {}): bigint | undefined {
  const policies = route.hashPolicies;
  if (policies === undefined) return undefined;
  let hash: bigint | undefined;
  for (const p of policies) {
    let value: string | undefined;
    if (p.header?.header_name) value = headers(p.header.header_name.toLowerCase());
    else if (p.cookie?.name) value = cookieValue(headers('cookie'), p.cookie.name);
    else if (p.connection_properties?.source_ip) value = inputs.sourceIp;
    else if (p.query_parameter?.name && inputs.path !== undefined) {
      const q = inputs.path.indexOf('?');
      if (q >= 0) {
        const h = inputs.path.indexOf('#', q);
        value = queryParam(h < 0 ? inputs.path.slice(q + 1) : inputs.path.slice(q + 1, h), p.query_parameter.name);
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
