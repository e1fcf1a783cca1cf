/**
 * The contracts of meshctl run's HTTP filter chain (Envoy's http_filters): what a compiled filter is, what it sees
 * of a request, and what it can answer. A filter's config is compiled once per config generation; per request the
 * chain calls `decode` in config order and `encodeHeaders` in reverse order, as Envoy's filter manager does
 * (docs: "HTTP filters", decoder and encoder filter chains).
 */
import type { Clock, Random } from '../../balancer/types.js';
import type { OutHeaders } from '../../http/headers.js';
import type { DownReq } from '../downstream.js';
import type { LocalReply } from '../local-reply.js';
import type { StatsStore } from '../stats.js';
import type { JsonObject } from '../../config/json-value.js';
import type { Route, VirtualHost } from '../../config/model.js';

/** What a filter is compiled with: the stats store, the connection manager's `http.<stat_prefix>.`, the injected
 * clock and random stream (so token buckets and fault percentages are exact in tests), the local node. */
export interface FilterEnv {
  readonly store: StatsStore;
  /** `http.<hcm stat_prefix>.` */
  readonly httpPrefix: string;
  readonly clock: Clock;
  readonly random: Random;
  /** True while the server fails its health checks (admin /healthcheck/fail). */
  readonly healthFailing: () => boolean;
  /** The connection manager's use_remote_address (RBAC remote_ip: the peer, else the last x-forwarded-for entry). */
  readonly useRemoteAddress: boolean;
  /** The bootstrap's node.cluster (the fault filter's downstream_nodes compare x-envoy-downstream-service-node). */
  readonly localCluster: string;
}

/** The request as filters read it. */
export interface FilterRequest {
  readonly req: DownReq;
  readonly method: string;
  /** :path, query included, after normalisation. */
  readonly path: string;
  readonly authority: string;
  /** The cluster the route chose (undefined: none yet, or no route). */
  readonly clusterName: string | undefined;
  /** A request header by lower-case name (pseudo-headers :method, :path, :authority, :scheme answered too). */
  header(name: string): string | undefined;
  /** The peer's address (the direct downstream). */
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  /** Set by the health_check filter: the request is a health check (the access log's not_health_check_filter). */
  healthCheck: boolean;
}

/** A decode that waits before going on (the fault filter's delay): after `ms`, `then()` decides. */
export interface DecodePause {
  readonly delayMs: number;
  /** Response flag bits the pause sets (DI). */
  readonly flag: number;
  then(): LocalReply | null;
}

/** What a filter's decode says: null (continue), a local reply (stop the chain), or a pause. */
export type DecodeResult = LocalReply | DecodePause | null;

/** A streaming body transform installed by encodeHeaders (the compressor): chunks in, chunks out, never the whole
 * body at once. */
export interface BodyEncoder {
  write(chunk: Buffer, emit: (out: Buffer) => void): void;
  /** The body is over: emit what is left, then call `done`. */
  end(emit: (out: Buffer) => void, done: () => void): void;
  /** The response is abandoned (client gone, upstream reset). */
  destroy(): void;
}

/** A compiled filter (one per http_filters entry, per listener, per config generation). `P` is its compiled
 * per-route config; `S` its per-request state (what decode saw that encode needs). */
export interface CompiledFilter<P = unknown, S = unknown> {
  /** The http_filters entry's name: the key of typed_per_filter_config. */
  readonly name: string;
  /** The filter's config for a request on a route with per-route config `perRoute` (undefined: none). */
  decode?(r: FilterRequest, perRoute: P | undefined, state: FilterState<S>): DecodeResult;
  /** Response headers on their way out (reverse order). `local`: a reply the proxy made itself. May install a body
   * encoder (at most one per response). */
  encodeHeaders?(r: FilterRequest, status: number, out: OutHeaders, local: boolean, perRoute: P | undefined, state: FilterState<S>): BodyEncoder | null;
  /** The request is over (answered, or abandoned): release what decode took (the fault filter's active count). */
  onDone?(state: FilterState<S>): void;
}

/** A filter's per-request slot (what its decode left for its encode). */
export interface FilterState<S> {
  value: S | undefined;
}

/** Where a config element is written (`file:line:column: `, or '' when the model came from no file). */
export type Where = string;

/** One HTTP filter type: its names, how its config and its per-route config compile. */
export interface FilterFactory<P = unknown> {
  /** Envoy's typed_config @type URLs (type.googleapis.com/…) of the filter. */
  readonly typeUrls: readonly string[];
  /** Its well-known names (the legacy name-only form). */
  readonly names: readonly string[];
  compile(name: string, config: JsonObject, at: Where, env: FilterEnv): CompiledFilter<P>;
  /** typed_per_filter_config values this filter reads (their @type); undefined: the filter has no per-route form. */
  readonly perRouteTypeUrls?: readonly string[];
  compilePerRoute?(config: JsonObject, at: Where, env: FilterEnv, filter: CompiledFilter<P>): P;
  /** A route's per-route config from fields outside typed_per_filter_config (the legacy route and virtual host
   * `cors`), used when no typed_per_filter_config applies. `at` places a field of a model node. */
  legacyPerRoute?(route: Route, vhost: VirtualHost, at: (node: object, field: string) => Where): P | undefined;
}
