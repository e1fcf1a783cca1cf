/**
 * Where Envoy's API takes a cluster name, by message and field (found in the .proto files: the string fields whose
 * value names a cluster of the cluster manager). The judge records every such value it reads, anywhere in the input
 * — routes, mirror policies, gRPC and HTTP services inside filters, tracers, stats sinks, xDS sources — so the
 * reference rules see the clusters a config uses exactly as Envoy would look them up.
 */
import type { SourceFile, Span } from '../source.js';

/**
 * When Envoy looks the cluster up:
 *  - `load`: while loading the config; a missing cluster refuses the config (route validation with
 *    `validate_clusters`, a gRPC client's `Unknown gRPC client cluster`, a tracer's or stats sink's static-cluster
 *    check, `local cluster … must be defined`, an xDS source's backing cluster);
 *  - `runtime`: when traffic needs it; a missing cluster fails those requests or connections (a TCP proxy's
 *    `downstream_cx_no_route`, an HTTP service's call);
 *  - `none`: the name only selects (a fault filter's `upstream_cluster` match); it need not exist.
 */
export type ClusterLookup = 'load' | 'runtime' | 'none';

/** `<message full name>.<field>` → when Envoy looks the named cluster up. */
export const CLUSTER_NAME_FIELDS: Readonly<Record<string, ClusterLookup>> = {
  'envoy.config.route.v3.RouteAction.cluster': 'load',
  'envoy.config.route.v3.WeightedCluster.ClusterWeight.name': 'load',
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy.cluster': 'load',
  'envoy.config.core.v3.GrpcService.EnvoyGrpc.cluster_name': 'load',
  'envoy.config.core.v3.ApiConfigSource.cluster_names': 'load',
  'envoy.config.bootstrap.v3.ClusterManager.local_cluster_name': 'load',
  'envoy.config.trace.v3.ZipkinConfig.collector_cluster': 'load',
  'envoy.config.trace.v3.DatadogConfig.collector_cluster': 'load',
  'envoy.config.trace.v3.LightstepConfig.collector_cluster': 'load',
  'envoy.config.metrics.v3.StatsdSink.tcp_cluster_name': 'load',
  'envoy.config.core.v3.HttpUri.cluster': 'runtime',
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.cluster': 'runtime',
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight.name': 'runtime',
  'envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig.cluster': 'runtime',
  'envoy.extensions.filters.udp.udp_proxy.v3.Route.cluster': 'runtime',
  'envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.cluster': 'runtime',
  'envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.RequestMirrorPolicy.cluster': 'runtime',
  'envoy.extensions.filters.network.thrift_proxy.v3.RouteAction.cluster': 'runtime',
  'envoy.extensions.filters.network.thrift_proxy.v3.WeightedCluster.ClusterWeight.name': 'runtime',
  'envoy.extensions.filters.network.dubbo_proxy.v3.RouteAction.cluster': 'runtime',
  'envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig.cluster': 'runtime',
  'envoy.extensions.clusters.aggregate.v3.ClusterConfig.clusters': 'runtime',
  'envoy.extensions.filters.http.gcp_authn.v3.GcpAuthnFilterConfig.cluster': 'runtime',
  'envoy.extensions.router.cluster_specifiers.lua.v3.LuaConfig.default_cluster': 'runtime',
  'envoy.extensions.filters.http.fault.v3.HTTPFault.upstream_cluster': 'none',
};

/**
 * Fields and extensions that choose a cluster at run time (from a header, a plugin, the TLS SNI, or code that can
 * call any cluster): with one of them in a config, any cluster may be used.
 */
export const RUNTIME_CLUSTER_FIELDS: ReadonlySet<string> = new Set([
  'envoy.config.route.v3.RouteAction.cluster_header',
  'envoy.config.route.v3.RouteAction.cluster_specifier_plugin',
  'envoy.config.route.v3.RouteAction.inline_cluster_specifier_plugin',
  'envoy.config.route.v3.WeightedCluster.ClusterWeight.cluster_header',
  'envoy.extensions.filters.network.thrift_proxy.v3.RouteAction.cluster_header',
]);
export const RUNTIME_CLUSTER_TYPES: ReadonlySet<string> = new Set([
  'envoy.extensions.filters.http.lua.v3.Lua',
  'envoy.extensions.filters.http.lua.v3.LuaPerRoute',
  'envoy.extensions.filters.http.wasm.v3.Wasm',
  'envoy.extensions.filters.network.wasm.v3.Wasm',
  'envoy.extensions.filters.network.sni_cluster.v3.SniCluster',
]);

/** One place the input names a cluster. */
export class ClusterRef {
  declare readonly name: string;
  /** `<message full name>.<field>` (a key of CLUSTER_NAME_FIELDS), or `unjudged` for a name found in a payload meshctl cannot judge. */
  declare readonly via: string;
  declare readonly lookup: ClusterLookup;
  private declare readonly src: SourceFile;
  private declare readonly start: number;
  private declare readonly end: number;

  constructor(name: string, via: string, lookup: ClusterLookup, src: SourceFile, start: number, end: number) {
    this.name = name;
    this.via = via;
    this.lookup = lookup;
    this.src = src;
    this.start = start;
    this.end = end;
  }

  /** Where the name is written (built when asked: most references are never reported). */
  get span(): Span {
    return this.src.span(this.start, this.end);
  }
}

/** What the judge learned about a file's use of clusters, for the reference rules. */
export interface EnvoyClusterUse {
  readonly refs: readonly ClusterRef[];
  /** Set when something in the config can pick any cluster at run time: what, in words. */
  readonly chosenAtRunTime: string | undefined;
}
