/**
 * One route compiled: its match as a test function, its target (one cluster, weighted clusters, a cluster header, a
 * redirect or a direct response) and every fact about it that does not depend on the request: the timeout (Envoy's
 * default 15 s), which retry policy applies, the status when the cluster does not exist. `meshctl run` hangs its own
 * per-route work (rewrites, header mutations, the compiled retry policy, the direct-response body) off `ext`, built
 * in the same pass.
 */
import type {
  DirectResponseAction,
  HashPolicy,
  RedirectAction,
  RetryPolicy,
  Route,
  RouteAction,
  RouteConfiguration,
  VirtualHost,
} from '../config/model.js';
import { durationToMs } from '../config/model.js';
import {
  type CompileProblem,
  type CompiledHeaderMatcher,
  type CompiledQueryMatcher,
  type HeaderLookup,
  compileHeaderMatcher,
  compileQueryMatcher,
  compileRegexMatcher,
  queryParam,
} from './matchers.js';
import type { ClusterIds } from './cluster-ids.js';

/** Envoy's route timeout when the route sets none (RouteAction.timeout). */
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

type RouteKind = 'cluster' | 'weighted_clusters' | 'cluster_header' | 'redirect' | 'direct_response';

interface WeightedTarget {
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

export interface CompiledVirtualHost<X = undefined> {
  readonly name: string;
  readonly index: number;
  readonly config: VirtualHost;
  readonly routes: readonly CompiledRoute<X>[];
}

/** One route, compiled. `X` is what the caller's RouteExtension adds (`undefined` when it adds nothing). */
export interface CompiledRoute<X = undefined> {
  /** `<vhost name>/<route name or index>`, unique within a listener. */
  readonly id: string;
  readonly name: string;
  readonly index: number;
  readonly vhost: CompiledVirtualHost<X>;
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
  /** What the caller's RouteExtension built for this route. */
  readonly ext: X;
}

/**
 * Work a caller adds to every route, once per compiled config (`run`: rewrites, header mutations, retry, the
 * direct-response body). Called with the route as compiled so far, before its `ext` is set, and the route
 * configuration it belongs to.
 */
export type RouteExtension<X> = (route: CompiledRoute<unknown>, routeConfig: RouteConfiguration | undefined) => X;

export function compileVirtualHost<X>(
  vh: VirtualHost,
  index: number,
  routeConfig: RouteConfiguration | undefined,
  problems: CompileProblem[],
  ids: ClusterIds,
  extend: RouteExtension<X> | undefined,
): CompiledVirtualHost<X> {
  const routes: CompiledRoute<X>[] = [];
  const compiled: CompiledVirtualHost<X> = { name: vh.name ?? `vhost-${index}`, index, config: vh, routes };
  (vh.routes ?? []).forEach((r, i) => {
    const c = compileRoute(r, i, compiled, problems, ids);
    if (c === undefined) return;
    if (extend !== undefined) (c as { ext: X }).ext = extend(c, routeConfig);
    routes.push(c);
  });
  return compiled;
}

const never = (): boolean => false;
const always = (): boolean => true;

function compileRoute<X>(r: Route, index: number, vh: CompiledVirtualHost<X>, problems: CompileProblem[], ids: ClusterIds): CompiledRoute<X> | undefined {
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
    pathTest = compileRegexMatcher(m.safe_regex.regex, m.safe_regex, problems);
    matchText = `regex ${m.safe_regex.regex}`;
  } else if (m.unmodeled?.connect_matcher !== undefined) {
    // connect_matcher: CONNECT requests only, whatever their authority-form target (tested below, by method).
    pathTest = always;
    matchText = 'connect_matcher';
  } else {
    problems.push({ message: 'route match has no path specifier (prefix, path, safe_regex, path_separated_prefix)', node: m, field: 'prefix' });
    pathTest = never;
    matchText = '(no path specifier)';
  }
  const headerMatchers: CompiledHeaderMatcher[] = (m.headers ?? []).map((h) => compileHeaderMatcher(h, problems));
  const queryMatchers: CompiledQueryMatcher[] = (m.query_parameters ?? []).map((q) => compileQueryMatcher(q, problems));
  const grpc = m.grpc !== undefined;
  const connect = matchText === 'connect_matcher';
  const test =
    headerMatchers.length === 0 && queryMatchers.length === 0 && !grpc && !connect
      ? (path: string) => pathTest(path)
      : (path: string, query: string, headers: HeaderLookup, authority: string, method: string): boolean => {
          if (connect ? method !== 'CONNECT' : !pathTest(path)) return false;
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
    timeoutMs: action?.timeout ? durationToMs(action.timeout) : DEFAULT_ROUTE_TIMEOUT_MS,
    clusterNotFoundStatus:
      action?.cluster_not_found_response_code === 'NOT_FOUND' ? 404 : action?.cluster_not_found_response_code === 'INTERNAL_SERVER_ERROR' ? 500 : 503,
    test,
    // Set by the caller's RouteExtension right after this (compileVirtualHost); a route without one keeps undefined.
    ext: undefined as X,
  };
}
