/**
 * The upstream request of one downstream request, built once and reused by every attempt: the :path after the
 * route's rewrites, and the headers (hop-by-hop headers dropped, Host rewritten, Envoy's x-forwarded-* and
 * x-request-id, the expected timeout, the route's header mutations).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { copyRequestHeaders, requestTrailersFrom, type OutHeaders } from '../http/headers.js';
import type { UpstreamRequest } from '../upstream/pool.js';
import { applyMutation, type HeaderMutation } from './header-mutation.js';
import { clientFacts } from './forwarded.js';
import type { DownReq } from './downstream.js';
import type { ListenerRuntime } from './generation.js';
import type { ProxyRoute, RequestHostRewrite } from './route-runtime.js';
import { newRequestId } from './request-id.js';

/** The :path sent upstream: prefix_rewrite or regex_rewrite applied (the query kept), always starting with `/`. */
export function upstreamPath(route: ProxyRoute, path: string): string {
  const rt = route.ext;
  let upath = path;
  if (rt.prefixRewrite !== null) upath = rt.prefixRewrite + path.slice(rt.matchedPrefixLength);
  else if (rt.regexRewrite !== null) {
    const q = path.indexOf('?');
    const p = q >= 0 ? path.slice(0, q) : path;
    upath = p.replace(rt.regexRewrite.re, rt.regexRewrite.sub) + (q >= 0 ? path.slice(q) : '');
  }
  return upath.charCodeAt(0) === 47 /* / */ ? upath : '/' + upath;
}

/**
 * The upstream request headers. `weightedIndex` is the weighted_clusters entry picked (-1 for none): its header
 * mutations and host rewrite replace the route's.
 */
export function upstreamHeaders(
  lr: ListenerRuntime,
  route: ProxyRoute,
  weightedIndex: number,
  req: DownReq,
  authority: string,
  path: string,
): OutHeaders {
  const headers: IncomingHttpHeaders = req.headers;
  const rt = route.ext;
  const out = copyRequestHeaders(headers);
  // proxy_100_continue: Expect goes upstream, so the upstream's 100 Continue can come back (Envoy's HCM).
  if (lr.proxy100Continue && headers.expect !== undefined) out.expect = headers.expect;
  const w = weightedIndex >= 0 && rt.weighted !== null ? rt.weighted[weightedIndex]! : rt;
  let host = w.hostRewrite;
  if (host === null && rt.requestHostRewrite !== null) host = requestHost(rt.requestHostRewrite, headers, path);
  out.host = host ?? authority;
  // Envoy's router keeps the Host it had before a rewrite in x-envoy-original-host (auto_host_rewrite: per attempt,
  // Exchange.attempt).
  if (host !== null) out['x-envoy-original-host'] = authority;
  if (rt.prefixRewrite !== null || rt.regexRewrite !== null) out['x-envoy-original-path'] = path;
  const client = clientFacts(lr.forwarded, req, lr.scheme, out);
  // Envoy's connection manager: a request without one gets an id; an edge request a new one (its own is not trusted).
  if (lr.generateRequestId && (headers['x-request-id'] === undefined || (client.edge && !lr.forwarded.preserveExternalRequestId))) {
    out['x-request-id'] = newRequestId();
  }
  if (rt.timeoutHeader !== null) out['x-envoy-expected-rq-timeout-ms'] = rt.timeoutHeader;
  if (w.requestMutation !== null) applyMutation(out, w.requestMutation);
  return out;
}

const QUERY_OR_FRAGMENT = /[?#]/;

/** Envoy's RouteEntryImplBase::finalizeRequestHeaders: host_rewrite_header takes the header's first value when it is
 * present and not empty; host_rewrite_path_regex substitutes over the path without its query (before any path
 * rewrite). Null: the Host stays. */
function requestHost(r: RequestHostRewrite, headers: IncomingHttpHeaders, path: string): string | null {
  if ('header' in r) {
    const v = headers[r.header];
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined || first === '' ? null : first;
  }
  const q = path.search(QUERY_OR_FRAGMENT);
  return (q >= 0 ? path.slice(0, q) : path).replace(r.re, r.sub);
}

/** The response header mutation of the route, or of the weighted_clusters entry picked. */
export function responseMutationOf(route: ProxyRoute, weightedIndex: number): HeaderMutation | null {
  const rt = route.ext;
  return weightedIndex >= 0 && rt.weighted !== null ? rt.weighted[weightedIndex]!.responseMutation : rt.responseMutation;
}

/**
 * One attempt's request as the connection pool reads it. `trailers` is read when the body has ended: the downstream
 * request's trailers (HTTP/2 trailers, or HTTP/1.1 chunked trailers where the connection manager enables them),
 * hop-by-hop fields left out.
 */
export class OutgoingRequest implements UpstreamRequest {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: OutHeaders,
    readonly body: Readable | Buffer | AsyncIterable<Buffer> | null,
    private readonly down: DownReq | null,
    readonly checkedHeaders: IncomingHttpHeaders | null = null,
  ) {}

  get trailers(): OutHeaders | null {
    return this.down === null ? null : requestTrailersFrom(this.down.trailers);
  }
}
