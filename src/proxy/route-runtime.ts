/**
 * What `meshctl run` adds to each compiled route (src/router's CompiledRoute, as its `ext`): rewrites, header
 * mutations, the compiled retry policy, the direct-response body. Built with the router, once per config
 * generation; the request path reads these prebuilt fields, where `null` means "nothing to do". The route's timeout,
 * which retry policy applies and the cluster-not-found status are the router's (CompiledRoute).
 */
import { readDataSource } from '../config/data-source.js';
import { durationToMs, type ClusterWeight, type RouteConfiguration, type VirtualHost } from '../config/model.js';
import type { CompiledRoute, RouteExtension } from '../router/index.js';
import { compileMutation, type HeaderMutation } from './header-mutation.js';
import type { LocalReply } from './local-reply.js';
import { compileRetry, type CompiledRetry } from './retry.js';
import { compileRe2Rewrite } from '../regex/re2.js';
import { compileGrpcTimeout, type GrpcTimeoutPolicy } from './grpc.js';
import { compileStreamDuration, type StreamDurationPolicy } from './stream-timeouts.js';

const EMPTY = Buffer.alloc(0);

export interface RouteRuntime {
  readonly requestMutation: HeaderMutation | null;
  readonly responseMutation: HeaderMutation | null;
  readonly prefixRewrite: string | null;
  /** Length of the matched prefix (or exact path) that `prefixRewrite` replaces. */
  readonly matchedPrefixLength: number;
  readonly regexRewrite: { re: RegExp; sub: string } | null;
  /** host_rewrite_literal (a weighted_clusters entry's replaces it). */
  readonly hostRewrite: string | null;
  /** host_rewrite_header or host_rewrite_path_regex: the Host is computed from the request; null: neither. */
  readonly requestHostRewrite: RequestHostRewrite | null;
  /** auto_host_rewrite: each attempt's Host is the chosen host's hostname (when it has one). */
  readonly autoHostRewrite: boolean;
  /** The route timeout in ms (0: none). The router's, except that a route with max_stream_duration has none (Envoy's
   * router uses "the new timeouts" then: FilterUtility::finalTimeout sets no global timeout). */
  readonly timeoutMs: number;
  /** x-envoy-expected-rq-timeout-ms: the route's timeout as text; null when it has none. */
  readonly timeoutHeader: string | null;
  /** idle_timeout in ms, replacing the connection manager's stream_idle_timeout (0 disables); -1 when not set. */
  readonly idleTimeoutMs: number;
  /** max_stream_duration, compiled; null when the route has none. */
  readonly streamDuration: StreamDurationPolicy | null;
  readonly retry: CompiledRetry | null;
  /** How a gRPC request's grpc-timeout header bounds it (max_grpc_timeout, max_stream_duration); null: it does not. */
  readonly grpcTimeout: GrpcTimeoutPolicy | null;
  /** The virtual host's require_tls: 0 NONE, 1 EXTERNAL_ONLY, 2 ALL. */
  readonly requireTls: 0 | 1 | 2;
  /** A direct_response route's answer, built once. */
  readonly direct: LocalReply | null;
  /** Per weighted_clusters entry (RouteResult.weightedIndex): its headers and host rewrite over the route's. */
  readonly weighted: readonly WeightedRuntime[] | null;
}

/** A Host computed from the request: a header's value (host_rewrite_header), or the path with a regex substitution
 * (host_rewrite_path_regex). */
export type RequestHostRewrite = { readonly header: string } | { readonly re: RegExp; readonly sub: string };

export interface WeightedRuntime {
  readonly requestMutation: HeaderMutation | null;
  readonly responseMutation: HeaderMutation | null;
  readonly hostRewrite: string | null;
}

/** A route as the proxy runs it. */
export type ProxyRoute = CompiledRoute<RouteRuntime>;

/**
 * The proxy's RouteExtension. Relative direct-response body files resolve against `baseDir`; one that cannot be read
 * throws DataSourceError, so a config with it is refused when it is loaded (as Envoy refuses it), not on a request.
 */
export function routeRuntime(baseDir: string): RouteExtension<RouteRuntime> {
  return (r, rc) => compileRouteRuntime(r, rc, baseDir);
}

function compileRouteRuntime(r: CompiledRoute<unknown>, rc: RouteConfiguration | undefined, baseDir: string): RouteRuntime {
  const route = r.config;
  const vhost = r.vhost.config;
  const action = r.action;
  const m = route.match;
  const matched = m?.prefix ?? m?.path ?? m?.path_separated_prefix ?? '';
  let regexRewrite: RouteRuntime['regexRewrite'] = null;
  if (action?.regex_rewrite?.pattern?.regex !== undefined) {
    regexRewrite = compileRe2Rewrite(action.regex_rewrite.pattern.regex, action.regex_rewrite.substitution ?? '') ?? null;
  }
  // Header mutations apply weighted cluster → route → virtual host → route configuration (Envoy's default order).
  const outer = [
    { add: route.request_headers_to_add, remove: route.request_headers_to_remove },
    { add: vhost.request_headers_to_add, remove: vhost.request_headers_to_remove },
    { add: rc?.request_headers_to_add, remove: rc?.request_headers_to_remove },
  ];
  const outerResponse = [
    { add: route.response_headers_to_add, remove: route.response_headers_to_remove },
    { add: vhost.response_headers_to_add, remove: vhost.response_headers_to_remove },
    { add: rc?.response_headers_to_add, remove: rc?.response_headers_to_remove },
  ];
  const hostRewrite = action?.host_rewrite_literal || null;
  const entries = r.kind === 'weighted_clusters' ? (action?.weighted_clusters?.clusters ?? []) : undefined;
  const responseMutation = compileMutation(outerResponse);
  let requestHostRewrite: RequestHostRewrite | null = null;
  if (action?.host_rewrite_header) requestHostRewrite = { header: action.host_rewrite_header.toLowerCase() };
  else if (action?.host_rewrite_path_regex?.pattern?.regex !== undefined) {
    requestHostRewrite = compileRe2Rewrite(action.host_rewrite_path_regex.pattern.regex, action.host_rewrite_path_regex.substitution ?? '') ?? null;
  }
  const streamDuration = compileStreamDuration(action);
  const timeoutMs = streamDuration !== null ? 0 : r.timeoutMs;
  return {
    requestMutation: compileMutation(outer),
    responseMutation,
    prefixRewrite: action?.prefix_rewrite !== undefined && action.prefix_rewrite !== '' ? action.prefix_rewrite : null,
    matchedPrefixLength: matched.length,
    regexRewrite,
    hostRewrite,
    requestHostRewrite,
    autoHostRewrite: action?.auto_host_rewrite === true,
    timeoutMs,
    timeoutHeader: timeoutMs > 0 ? String(timeoutMs) : null,
    idleTimeoutMs: action?.idle_timeout !== undefined ? durationToMs(action.idle_timeout) : -1,
    streamDuration,
    retry: compileRetry(r.retryPolicy),
    grpcTimeout: compileGrpcTimeout(action),
    requireTls: tlsRequirement(vhost),
    direct:
      r.kind === 'direct_response' && route.direct_response
        ? {
            status: route.direct_response.status ?? 200,
            flag: 0,
            body: readDataSource(route.direct_response.body, baseDir, 'direct response body') ?? Buffer.alloc(0),
            responseMutation,
            details: 'direct_response',
          }
      : null,
    weighted:
      entries === undefined
        ? null
        : entries.map((cw: ClusterWeight) => ({
            requestMutation: compileMutation([{ add: cw.request_headers_to_add, remove: cw.request_headers_to_remove }, ...outer]),
            responseMutation: compileMutation([{ add: cw.response_headers_to_add, remove: cw.response_headers_to_remove }, ...outerResponse]),
            hostRewrite: cw.host_rewrite_literal || hostRewrite,
          })),
  };
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** A virtual host's require_tls: 0 NONE, 1 EXTERNAL_ONLY, 2 ALL. */
export function tlsRequirement(vhost: VirtualHost): 0 | 1 | 2 {
  return vhost.require_tls === 'ALL' ? 2 : vhost.require_tls === 'EXTERNAL_ONLY' ? 1 : 0;
}

/**
 * A virtual host's require_tls (`need`, tlsRequirement), answered (Envoy's VirtualHostImpl: the SSL redirect comes
 * before any route is matched): a plain-HTTP request, or with EXTERNAL_ONLY an external one, gets 301 to the same
 * host and path over https. Null when the request may pass.
 */
export function tlsRedirect(need: 0 | 1 | 2, scheme: string, internal: boolean, authority: string, path: string): LocalReply | null {
  if (need === 0 || scheme === 'https' || (need === 1 && internal)) return null;
  return { status: 301, flag: 0, body: EMPTY, headers: { location: `https://${authority}${path}` } };
}

/** A redirect route's answer to one request. */
export function redirectAnswer(route: ProxyRoute, scheme: string, authority: string, path: string): LocalReply {
  const r = route.redirect!;
  const matchedPrefixLength = route.ext.matchedPrefixLength;
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
  return {
    status: REDIRECT_CODES[r.response_code ?? 'MOVED_PERMANENTLY'] ?? 301,
    flag: 0,
    body: EMPTY,
    headers: { location: `${newScheme}://${host}${p}${query}` },
    responseMutation: route.ext.responseMutation,
    details: 'direct_response',
  };
}

