/**
 * Everything about a route that does not depend on the request, computed once per route per config generation:
 * rewrites, header mutations, timeout, retry policy, direct response and redirect. The request path reads these
 * prebuilt fields; `null` means "nothing to do".
 */
import { readDataSource } from '../config/data-source.js';
import {
  durationToMs,
  type ClusterWeight,
  type DataSource,
  type RedirectAction,
  type Route,
  type RouteConfiguration,
  type VirtualHost,
} from '../config/model.js';
import { compileMutation, type HeaderMutation } from './header-mutation.js';
import { compileRetry, type CompiledRetry } from './retry.js';
import { compileRe2Rewrite } from '../regex/re2.js';

export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

export interface RouteRuntime {
  readonly requestMutation: HeaderMutation | null;
  readonly responseMutation: HeaderMutation | null;
  /** Length of the matched prefix (or exact path) to swap for `prefixRewrite`. */
  readonly prefixRewrite: string | null;
  readonly matchedPrefixLength: number;
  readonly regexRewrite: { re: RegExp; sub: string } | null;
  readonly hostRewrite: string | null;
  /** 0 = no route timeout. */
  readonly timeoutMs: number;
  readonly timeoutHeader: string;
  readonly retry: CompiledRetry | null;
  readonly clusterNotFoundStatus: number;
  readonly direct: { status: number; body: Buffer } | null;
  readonly redirect: RedirectAction | null;
}

export interface WeightedRuntime {
  readonly requestMutation: HeaderMutation | null;
  readonly responseMutation: HeaderMutation | null;
  readonly hostRewrite: string | null;
}

export class RouteCompiler {
  private readonly routes = new WeakMap<Route, RouteRuntime>();
  private readonly weighted = new WeakMap<ClusterWeight, WeightedRuntime>();

  constructor(
    private readonly baseDir: string,
    private readonly routeConfigOf: (vhost: VirtualHost) => RouteConfiguration | undefined,
  ) {}

  route(route: Route, vhost: VirtualHost): RouteRuntime {
    let rt = this.routes.get(route);
    if (rt === undefined) {
      rt = this.compile(route, vhost);
      this.routes.set(route, rt);
    }
    return rt;
  }

  weightedCluster(route: Route, vhost: VirtualHost, cw: ClusterWeight): WeightedRuntime {
    let w = this.weighted.get(cw);
    if (w === undefined) {
      const rc = this.routeConfigOf(vhost);
      w = {
        requestMutation: compileMutation([
          { add: cw.request_headers_to_add, remove: cw.request_headers_to_remove },
          { add: route.request_headers_to_add, remove: route.request_headers_to_remove },
          { add: vhost.request_headers_to_add, remove: vhost.request_headers_to_remove },
          { add: rc?.request_headers_to_add, remove: rc?.request_headers_to_remove },
        ]),
        responseMutation: compileMutation([
          { add: cw.response_headers_to_add, remove: cw.response_headers_to_remove },
          { add: route.response_headers_to_add, remove: route.response_headers_to_remove },
          { add: vhost.response_headers_to_add, remove: vhost.response_headers_to_remove },
          { add: rc?.response_headers_to_add, remove: rc?.response_headers_to_remove },
        ]),
        hostRewrite: cw.host_rewrite_literal || route.route?.host_rewrite_literal || null,
      };
      this.weighted.set(cw, w);
    }
    return w;
  }

  private compile(route: Route, vhost: VirtualHost): RouteRuntime {
    const rc = this.routeConfigOf(vhost);
    const action = route.route;
    const timeoutMs = action?.timeout !== undefined ? durationToMs(action.timeout) : DEFAULT_ROUTE_TIMEOUT_MS;
    const m = route.match;
    const matched = m?.prefix ?? m?.path ?? m?.path_separated_prefix ?? '';
    let regexRewrite: RouteRuntime['regexRewrite'] = null;
    if (action?.regex_rewrite?.pattern?.regex !== undefined) {
      regexRewrite = compileRe2Rewrite(action.regex_rewrite.pattern.regex, action.regex_rewrite.substitution ?? '') ?? null;
    }
    return {
      requestMutation: compileMutation([
        { add: route.request_headers_to_add, remove: route.request_headers_to_remove },
        { add: vhost.request_headers_to_add, remove: vhost.request_headers_to_remove },
        { add: rc?.request_headers_to_add, remove: rc?.request_headers_to_remove },
      ]),
      responseMutation: compileMutation([
        { add: route.response_headers_to_add, remove: route.response_headers_to_remove },
        { add: vhost.response_headers_to_add, remove: vhost.response_headers_to_remove },
        { add: rc?.response_headers_to_add, remove: rc?.response_headers_to_remove },
      ]),
      prefixRewrite: action?.prefix_rewrite !== undefined && action.prefix_rewrite !== '' ? action.prefix_rewrite : null,
      matchedPrefixLength: matched.length,
      regexRewrite,
      hostRewrite: action?.host_rewrite_literal || null,
      timeoutMs,
      timeoutHeader: String(timeoutMs),
      // A route's retry policy replaces the virtual host's.
      retry: compileRetry(action?.retry_policy ?? vhost.retry_policy),
      clusterNotFoundStatus:
        action?.cluster_not_found_response_code === 'NOT_FOUND'
          ? 404
          : action?.cluster_not_found_response_code === 'INTERNAL_SERVER_ERROR'
            ? 500
            : 503,
      direct: route.direct_response
        ? { status: route.direct_response.status ?? 200, body: this.dataSource(route.direct_response.body) }
        : null,
      redirect: route.redirect ?? null,
    };
  }

  private dataSource(ds: DataSource | undefined): Buffer {
    return readDataSource(ds, this.baseDir, 'direct response body') ?? Buffer.alloc(0);
  }
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** The Location and status of a redirect route for one request. */
export function redirectTarget(
  r: RedirectAction,
  scheme: string,
  authority: string,
  path: string,
  matchedPrefixLength: number,
): { status: number; location: string } {
  const newScheme = r.https_redirect ? 'https' : r.scheme_redirect || scheme;
  let host = r.host_redirect || authority;
  const portSep = host.lastIndexOf(':');
  const hasPort = portSep > host.lastIndexOf(']');
  if (r.port_redirect) host = (hasPort ? host.slice(0, portSep) : host) + ':' + r.port_redirect;
  else if (newScheme !== scheme && hasPort) host = host.slice(0, portSep);
  const q = path.indexOf('?');
  let p = q >= 0 ? path.slice(0, q) : path;
  let query = q >= 0 ? path.slice(q) : '';
  if (r.path_redirect) {
    const pq = r.path_redirect.indexOf('?');
    if (pq >= 0) {
      query = r.path_redirect.slice(pq);
      p = r.path_redirect.slice(0, pq);
    } else p = r.path_redirect;
  } else if (r.prefix_rewrite !== undefined && r.prefix_rewrite !== '') p = r.prefix_rewrite + p.slice(matchedPrefixLength);
  if (r.strip_query) query = '';
  return { status: REDIRECT_CODES[r.response_code ?? 'MOVED_PERMANENTLY'] ?? 301, location: `${newScheme}://${host}${p}${query}` };
}

