/**
 * A config generation: everything the request path needs, built once per loaded config. A reload builds a new
 * generation and swaps it in; requests already running finish on the generation they started on. Upstream pools
 * and stats outlive generations (keyed by cluster and host), so a reload keeps warm connections and counters.
 */
import { durationToMs, parseDuration, type Bootstrap, type Duration, type HttpConnectionManager, type Listener } from '../config/model.js';
import { connectionManager, listenerName } from '../config/connection-manager.js';
import type { Random } from '../balancer/types.js';
import type { ClusterManager, UpstreamCluster } from '../upstream/types.js';
import type { UpstreamClientKind } from '../upstream/pool.js';
import { DataSourceError } from '../config/data-source.js';
import { ListenerRouter, type CompiledRouter } from '../router/index.js';
import type { UpstreamFailureMode } from './local-reply.js';
import type { RouteRuntime } from './route-runtime.js';
import { statSafe, type StatsStore } from './stats.js';
import { HttpStats, ListenerStats } from './listener-stats.js';
import { createProxyCluster, type ProxyCluster } from './cluster-stats.js';
import { compilePathNormalizer, type PathNormalizer } from './normalize-path.js';
import type { FilterChain } from './filters/chain.js';
import type { AccessLogs, ListenerAccessLogs } from './access-log-config.js';
import { h2AllowConnect } from './tunnel.js';
import { forwardedConfig, type ForwardedConfig } from './forwarded.js';
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS } from './stream-timeouts.js';
import { DEFAULT_BUFFER_LIMIT_BYTES } from './request-body.js';
import { writtenField } from '../config/node-meta.js';
import type { JsonValue } from '../config/json-value.js';

/** Envoy's defaults: HttpProtocolOptions.max_headers_count 100, HCM max_request_headers_kb 60. */
const DEFAULT_MAX_HEADERS_COUNT = 100;
const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;

export interface ListenerRuntime {
  readonly name: string;
  readonly index: number;
  readonly listener: Listener;
  readonly hcm: HttpConnectionManager;
  readonly router: ListenerRouter<RouteRuntime>;
  readonly scheme: 'http' | 'https';
  readonly serverName: string;
  readonly generateRequestId: boolean;
  /** use_remote_address, xff_num_trusted_hops, skip_xff_append (forwarded.ts). */
  readonly forwarded: ForwardedConfig;
  /** stream_idle_timeout in ms (default 5 min; 0 = off); a route's idle_timeout replaces it. */
  readonly streamIdleTimeoutMs: number;
  /** common_http_protocol_options.max_stream_duration in ms; 0 = none (Envoy's default). */
  readonly maxStreamDurationMs: number;
  /** http_protocol_options.accept_http_10: HTTP/1.0 requests are served (Envoy's default: 426). */
  readonly acceptHttp10: boolean;
  /** http_protocol_options.default_host_for_http_10: the Host of an HTTP/1.0 request without one ('' for none). */
  readonly defaultHostForHttp10: string;
  /** The listener's per_connection_buffer_limit_bytes: how much request body is kept for a retry. */
  readonly bufferLimitBytes: number;
  /** The HTTP filters before the router (filters/chain.ts); null when there are none, and the request path skips them. */
  readonly filters: FilterChain | null;
  /** Most request headers accepted (HTTP/1.1: more → 431; HTTP/2: the stream is reset). */
  readonly maxHeadersCount: number;
  /** Most bytes of request headers accepted (node's maxHeaderSize; more → 431). */
  readonly maxRequestHeadersBytes: number;
  /** HCM request_timeout in ms (the whole request must arrive within it); 0 = off (Envoy's default). */
  readonly requestTimeoutMs: number;
  /** http2_protocol_options.allow_connect: HTTP/2 extended CONNECT (RFC 8441) is advertised and accepted. */
  readonly allowConnect: boolean;
  /** HCM proxy_100_continue: `Expect: 100-continue` goes upstream and the upstream's 100 comes back (Envoy's
   * default: the proxy answers 100 itself and strips the header). */
  readonly proxy100Continue: boolean;
  /** HCM http_protocol_options.enable_trailers: an HTTP/1.1 client's chunked trailers are kept (Envoy's HTTP/1
   * codec drops them by default). HTTP/2 requests' trailers are always kept. */
  readonly h1Trailers: boolean;
  /** HCM always_set_request_id_in_response: every response carries the request's x-request-id. */
  readonly alwaysSetRequestId: boolean;
  /** common_http_protocol_options.max_requests_per_connection; 0 = no limit (Envoy's default). */
  readonly maxRequestsPerConnection: number;
  /** common_http_protocol_options.max_connection_duration in ms; 0 = none (Envoy's default). */
  readonly maxConnectionDurationMs: number;
  /** HCM request_headers_timeout in ms; 0 = off (Envoy's default). */
  readonly requestHeadersTimeoutMs: number;
  /** normalize_path / merge_slashes compiled; null when both are off. */
  readonly normalizePath: PathNormalizer | null;
  readonly stats: HttpStats;
  readonly listenerStats: ListenerStats;
  /** The config's access logs of this listener: per request (its connection manager's), per connection (its own). */
  readonly requestLogs: AccessLogs | null;
  readonly connectionLogs: AccessLogs | null;
}

export interface Generation {
  readonly id: number;
  readonly config: Bootstrap;
  readonly clusters: ReadonlyMap<string, ProxyCluster>;
  /** A cluster added after this generation was built (CDS, discovery), or undefined. */
  resolveCluster(name: string): ProxyCluster | undefined;
  /** Weighted-cluster picks: the process's one stream, across generations. */
  readonly routeRandom: Random;
  /** Retry back-off jitter. */
  readonly retryRandom: Random;
  readonly listeners: readonly ListenerRuntime[];
  readonly healthFailing: () => boolean;
  readonly upstreamFailureMode: UpstreamFailureMode;
  readonly accessLog: ((line: string) => void) | null;
  /** Called once per finished request (status, upstream host, ms): the dashboard's feed. */
  observer: ((status: number, host: string, ms: number) => void) | null;
  inflight: number;
  onIdle: (() => void) | undefined;
}

export interface GenerationDeps {
  readonly id: number;
  readonly config: Bootstrap;
  readonly baseDir: string;
  readonly clusterManager: ClusterManager;
  /** The config's routes, compiled with the proxy's RouteRuntime (before anything else changes: it can refuse). */
  readonly router: CompiledRouter<RouteRuntime>;
  readonly routeRandom: Random;
  readonly retryRandom: Random;
  readonly store: StatsStore;
  readonly client: UpstreamClientKind;
  readonly upstreamFailureMode: UpstreamFailureMode;
  readonly accessLog: ((line: string) => void) | null;
  /** The config's Envoy access logs (access-log-config.ts compileAccessLogs), by listener. */
  readonly accessLogs: ReadonlyMap<Listener, ListenerAccessLogs>;
  /** Append x-forwarded-for even when use_remote_address is unset (the variant; Envoy appends only with it). */
  readonly forceXff: boolean;
  /** With normalize_path: 400 for a path whose `..` climbs above the root (Envoy clamps it at the root). */
  readonly rejectPathAboveRoot?: boolean;
  /** Cluster runtimes of the previous generation, reused when compatible. */
  readonly previous: ReadonlyMap<string, ProxyCluster> | undefined;
  readonly healthFailing: () => boolean;
  readonly lookupCluster: (name: string) => UpstreamCluster | undefined;
  /** Each listener's compiled HTTP filter chain (compiled before anything changes: it can refuse). */
  readonly filterChains: ReadonlyMap<Listener, FilterChain | null>;
}

/** The connection manager's stat prefix (`http.<prefix>.`): its own, else the listener's, else its name. */
export function httpStatPrefix(l: Listener, index: number): string {
  const hcm = connectionManager(l) ?? {};
  return statSafe(hcm.stat_prefix || l.stat_prefix || l.name || `listener_${index}`);
}

function msOf(d: Duration | undefined): number {
  return d === undefined ? 0 : durationToMs(d);
}

function listenerAddressKey(l: Listener): string {
  const sa = l.address?.socket_address;
  return `${sa?.address ?? '0.0.0.0'}_${sa?.port_value ?? 0}`;
}

export function buildGeneration(d: GenerationDeps): { gen: Generation; retired: ProxyCluster[] } {
  const listeners: ListenerRuntime[] = [];
  const ls = d.config.static_resources?.listeners ?? [];
  ls.forEach((l, index) => {
    const hcm = connectionManager(l) ?? {};
    const tls = l.filter_chains?.some((fc) => fc.transport_socket?.typed_config !== undefined) ?? false;
    const statPrefix = httpStatPrefix(l, index);
    listeners.push({
      name: listenerName(l, index),
      index,
      listener: l,
      hcm,
      // A listener without a connection manager answers every request 404 (no route).
      router: d.router.of(l) ?? new ListenerRouter<RouteRuntime>(listenerName(l, index), l, undefined, undefined, [], d.router.clusterIds),
      scheme: tls ? 'https' : 'http',
      serverName: hcm.server_name || 'envoy',
      generateRequestId: hcm.generate_request_id ?? true,
      forwarded: forwardedConfig(hcm, d.forceXff),
      streamIdleTimeoutMs: hcm.stream_idle_timeout !== undefined ? durationToMs(hcm.stream_idle_timeout) : DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      maxStreamDurationMs: msOf(hcm.common_http_protocol_options?.max_stream_duration),
      acceptHttp10: hcm.http_protocol_options?.accept_http_10 === true,
      defaultHostForHttp10: hcm.http_protocol_options?.default_host_for_http_10 ?? '',
      bufferLimitBytes: l.per_connection_buffer_limit_bytes ?? DEFAULT_BUFFER_LIMIT_BYTES,
      filters: d.filterChains.get(l) ?? null,
      maxHeadersCount: hcm.common_http_protocol_options?.max_headers_count ?? DEFAULT_MAX_HEADERS_COUNT,
      maxRequestHeadersBytes: (hcm.max_request_headers_kb ?? DEFAULT_MAX_REQUEST_HEADERS_KB) * 1024,
      requestHeadersTimeoutMs: hcm.request_headers_timeout !== undefined ? durationToMs(hcm.request_headers_timeout) : 0,
      requestTimeoutMs: hcm.request_timeout !== undefined ? durationToMs(hcm.request_timeout) : 0,
      maxRequestsPerConnection: maxRequestsPerConnection(hcm),
      maxConnectionDurationMs: durationField(writtenField(hcm.common_http_protocol_options, 'max_connection_duration')),
      alwaysSetRequestId: hcm.always_set_request_id_in_response === true,
      proxy100Continue: writtenField(hcm, 'proxy_100_continue') === true,
      h1Trailers: writtenField(hcm.http_protocol_options, 'enable_trailers') === true,
      allowConnect: h2AllowConnect(hcm),
      normalizePath: compilePathNormalizer({
        normalize: hcm.normalize_path === true,
        mergeSlashes: hcm.merge_slashes === true,
        rejectAboveRoot: d.rejectPathAboveRoot === true,
      }),
      stats: new HttpStats(d.store, `http.${statPrefix}.`),
      listenerStats: new ListenerStats(d.store, `listener.${statSafe(listenerAddressKey(l))}.`),
      requestLogs: d.accessLogs.get(l)?.requests ?? null,
      connectionLogs: d.accessLogs.get(l)?.connections ?? null,
    });
  });

  const clusters = new Map<string, ProxyCluster>();
  const retired: ProxyCluster[] = [];
  for (const uc of d.clusterManager.clusters()) {
    const prev = d.previous?.get(uc.name);
    if (prev !== undefined && prev.compatible(uc.config)) {
      prev.upstream = uc;
      clusters.set(uc.name, prev);
    } else {
      if (prev !== undefined) retired.push(prev);
      clusters.set(uc.name, createProxyCluster(uc.name, uc, d.store, d.client, d.baseDir));
    }
  }
  for (const [name, prev] of d.previous ?? []) if (!clusters.has(name)) retired.push(prev);

  const gen: Generation = {
    id: d.id,
    config: d.config,
    clusters,
    routeRandom: d.routeRandom,
    retryRandom: d.retryRandom,
    resolveCluster(name) {
      const uc = d.lookupCluster(name);
      if (uc === undefined) return undefined;
      let rt: ProxyCluster;
      try {
        rt = createProxyCluster(name, uc, d.store, d.client, d.baseDir);
      } catch (err) {
        // A cluster from discovery whose TLS files cannot be read has no usable hosts (Envoy: transport socket not
        // ready); its requests get the no-cluster answer instead of plaintext to a TLS port.
        if (err instanceof DataSourceError) return undefined;
        throw err;
      }
      clusters.set(name, rt);
      return rt;
    },
    listeners,
    healthFailing: d.healthFailing,
    upstreamFailureMode: d.upstreamFailureMode,
    accessLog: d.accessLog,
    observer: null,
    inflight: 0,
    onIdle: undefined,
  };
  return { gen, retired };
}

/** common_http_protocol_options.max_requests_per_connection (kept verbatim by the decoder); 0 for none. */
function maxRequestsPerConnection(hcm: HttpConnectionManager): number {
  const v = writtenField(hcm.common_http_protocol_options, 'max_requests_per_connection');
  const n = typeof v === 'object' && v !== null && !Array.isArray(v) && 'value' in v ? Number(v.value) : Number(v ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** A Duration kept verbatim (`"30s"` or `{seconds, nanos}`) in ms; 0 when absent or not positive. */
function durationField(v: JsonValue | undefined): number {
  let d: Duration | undefined;
  if (typeof v === 'string') d = parseDuration(v);
  else if (typeof v === 'object' && v !== null && !Array.isArray(v)) d = { seconds: Number(v.seconds ?? 0), nanos: Number(v.nanos ?? 0) };
  const ms = d === undefined ? 0 : durationToMs(d);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
