/**
 * What happens to a request before any upstream is involved: path normalisation, routing (src/router's
 * routeRequest: route → cluster → hash), the HTTP filters (filters/chain.ts, only when the listener has some), then
 * the router's own answers: no route, TLS redirect, direct responses and redirects, the cluster lookup. Either the
 * request gets a local answer, or PREFLIGHT says where it goes.
 */
import type { Http2ServerRequest } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { RouteResult, routeRequest } from '../router/index.js';
import type { ProxyCluster } from './cluster-stats.js';
import { headerValue, peerAddress, type DownReq } from './downstream.js';
import type { Generation, ListenerRuntime } from './generation.js';
import { clientFacts } from './forwarded.js';
import * as reply from './local-reply.js';
import type { LocalReply } from './local-reply.js';
import { redirectAnswer, tlsRedirect, tlsRequirement, type RouteRuntime } from './route-runtime.js';
import type { FilterRun } from './filters/chain.js';

/** Where a request that passed preflight goes: the route, the weighted entry and hash (RouteResult), the cluster. */
class Preflight extends RouteResult<RouteRuntime> {
  cluster: ProxyCluster | undefined = undefined;
  authority = '';
  /** The :path after normalisation. */
  path = '';
}

/** Filled by every preflight() that returns null, and read right after: one object per process, none per request. */
export const PREFLIGHT = new Preflight();

/** The request headers the router's header matchers and hash policies read: set just before the (synchronous)
 * routeRequest call, so one lookup function serves every request instead of a closure per request. */
let matchHeaders: IncomingHttpHeaders = {};
let matchReq: DownReq | undefined;
const lookupHeader = (name: string): string | undefined => headerValue(matchHeaders, name);
/** The peer address, read only when a hash policy asks for it. */
const lookupPeer = (): string | undefined => (matchReq === undefined ? undefined : peerAddress(matchReq));
const EMPTY_HEADERS: IncomingHttpHeaders = {};
const EMPTY = Buffer.alloc(0);
const BAD_PATH: LocalReply = { status: 400, flag: 0, body: EMPTY, details: 'path_normalization_failed' };

/** require_tls answered; EXTERNAL_ONLY reads internal as the connection manager decides it (forwarded.ts), not as
 * the client claims. */
function requireTls(lr: ListenerRuntime, req: DownReq, need: 0 | 1 | 2, authority: string, path: string): LocalReply | null {
  if (need === 0) return null;
  const internal = need === 1 && clientFacts(lr.forwarded, req, lr.scheme, null).internal;
  return tlsRedirect(need, lr.scheme, internal, authority, path);
}

/** The request's local answer, or null when it goes upstream (then PREFLIGHT says where). `filters`: the request's
 * run through the listener's HTTP filters (undefined when it has none); it may answer filters/chain.ts PAUSED. */
export function preflight(gen: Generation, lr: ListenerRuntime, req: DownReq, filters: FilterRun | undefined): LocalReply | null {
  const headers = req.headers;
  const h2 = req.httpVersionMajor === 2;
  const authority = ((h2 ? (req as Http2ServerRequest).headers[':authority'] : headers.host) as string | undefined) ?? '';
  let path = req.url ?? '/';
  if (lr.normalizePath !== null) {
    const n = lr.normalizePath(path);
    // Envoy: 400 with an empty body (details path_normalization_failed).
    if (n === null) return BAD_PATH;
    if (n !== path) {
      path = n;
      // Envoy rewrites :path itself, so the access log shows the normalised path too.
      req.url = n;
    }
  }
  const method = req.method ?? 'GET';
  const p = PREFLIGHT;
  matchHeaders = headers;
  matchReq = req;
  routeRequest(lr.router, authority, path, method, lookupHeader, lookupPeer, gen.routeRandom, p);
  matchHeaders = EMPTY_HEADERS;
  matchReq = undefined;
  p.authority = authority;
  p.path = path;
  if (filters !== undefined) {
    const answer = filters.decode(p, method, path, authority);
    if (answer !== null) return answer;
  }
  return routerStage(gen, lr, req);
}

/** What Envoy's router filter answers itself, and the cluster lookup, for the request PREFLIGHT holds. */
export function routerStage(gen: Generation, lr: ListenerRuntime, req: DownReq): LocalReply | null {
  const p = PREFLIGHT;
  const route = p.route;
  const authority = p.authority;
  const path = p.path;
  const headers = req.headers;
  if (route === undefined) {
    // Envoy redirects to https before matching any route: a path no route takes is redirected too.
    const vh = lr.router.findVirtualHost(authority);
    const r = vh === undefined ? null : requireTls(lr, req, tlsRequirement(vh.config), authority, path);
    if (r !== null) return r;
    lr.stats.no_route.value++;
    return reply.noRoute();
  }
  const rt = route.ext;
  if (rt.requireTls !== 0) {
    const r = requireTls(lr, req, rt.requireTls, authority, path);
    if (r !== null) return r;
  }
  if (route.kind === 'direct_response') {
    lr.stats.rq_direct_response.value++;
    return rt.direct;
  }
  if (route.kind === 'redirect') {
    lr.stats.rq_redirect.value++;
    return redirectAnswer(route, lr.scheme, authority, path);
  }
  const name = p.clusterName;
  const cluster = name === undefined ? undefined : (gen.clusters.get(name) ?? gen.resolveCluster(name));
  if (cluster === undefined) {
    lr.stats.no_cluster.value++;
    return reply.noCluster(route.clusterNotFoundStatus);
  }
  p.cluster = cluster;
  return null;
}
