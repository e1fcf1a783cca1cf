/**
 * What an `@type` that names no type of the copy is: a contrib extension (its .proto lives in Envoy's
 * api/contrib/ tree, which @grpc/grpc-js-xds does not ship, so meshctl cannot judge it), a type of Envoy's removed v2
 * API, a third-party extension (a custom build's, such as Istio's proxy), or simply unknown.
 */

/**
 * The extension families of Envoy's contrib tree (github.com/envoyproxy/envoy, api/contrib/envoy/extensions/), as the
 * path between `envoy.extensions.` and the version: those packages are Envoy's (a contrib build has them) but not in
 * the copy of the API meshctl ships.
 */
export const CONTRIB_FAMILIES: readonly string[] = [
  'bootstrap.hyperscan',
  'bootstrap.reverse_connection',
  'clusters.dns_srv',
  'clusters.reverse_connection',
  'compression.compressor.igzip',
  'compression.qatzip',
  'compression.qatzstd',
  'config',
  'dlb',
  'filters.common.workload_discovery',
  'filters.http.alpn',
  'filters.http.checksum',
  'filters.http.client_cert',
  'filters.http.dynamo',
  'filters.http.golang',
  'filters.http.istio_stats',
  'filters.http.language',
  'filters.http.mcp_sse_stateful_session',
  'filters.http.peak_ewma',
  'filters.http.peer_metadata',
  'filters.http.reverse_conn',
  'filters.http.squash',
  'filters.http.sxg',
  'filters.http.ws_local_ratelimit',
  'filters.listener.postgres_inspector',
  'filters.listener.reverse_connection',
  'filters.network.client_ssl_auth',
  'filters.network.generic_proxy',
  'filters.network.golang',
  'filters.network.kafka_broker',
  'filters.network.kafka_mesh',
  'filters.network.ldap_proxy',
  'filters.network.meta_protocol_proxy',
  'filters.network.metadata_exchange',
  'filters.network.mysql_proxy',
  'filters.network.peer_metadata',
  'filters.network.postgres_proxy',
  'filters.network.rocketmq_proxy',
  'filters.network.rust_echo',
  'filters.network.sip_proxy',
  'filters.network.smtp_proxy',
  'http.cluster_specifier.golang',
  'http.mcp_sse_stateful_session',
  'http.sse_stateful_session',
  'http.stateful_session.mcp_sse',
  'hyperscan',
  'load_balancing_policies.peak_ewma',
  'load_balancing_policies.per_worker_subset',
  'matching.input_matchers.hyperscan',
  'network.connection_balance.dlb',
  'network.connection_balance.random',
  'network.socket_interface.vcl',
  'private_key_providers.composite',
  'private_key_providers.cryptomb',
  'private_key_providers.kae',
  'private_key_providers.qat',
  'private_key_providers.sgx',
  'regex_engines.hyperscan',
  'reverse_connection',
  'reverse_tunnel_reporters',
  'router.cluster_specifier.golang',
  'stat_sinks.kafka',
  'stat_sinks.wasm_filter',
  'tap_sinks.udp_sink',
  'tracers.fluentd',
  'transport_sockets.istio_internal_upstream',
  'transport_sockets.ssl_handshaker',
  'upstreams.http.tcp.golang',
  'vcl',
  'xds',
];

/**
 * Types and fields Envoy's API gained after the copy meshctl ships (@grpc/grpc-js-xds 1.14's envoy-api), each with an
 * Envoy release whose API has it (Envoy's docs, api-v3/…): a config written for that Envoy names them, and Envoy
 * from that release loads it. The judge warns instead of refusing, and does not check their values. Found in the
 * corpus (fixtures/envoy-corpus/SOURCES.md); add an entry only with the release that documents it.
 */
export const NEWER_TYPES: ReadonlyMap<string, string> = new Map([
  // api-v3/config/core/v3/proxy_protocol.proto: per-host TLVs for the upstream PROXY protocol transport socket
  ['envoy.config.core.v3.PerHostConfig', '1.34'],
]);
export const NEWER_FIELDS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['envoy.config.core.v3.ProxyProtocolConfig', new Map([['added_tlvs', '1.34'], ['addedTlvs', '1.34']])],
]);

const VERSION = /^v\d+(?:alpha\d*|beta\d*)?$/;

export type UnknownTypeKind =
  /** An Envoy contrib extension: warned about, not judged. */
  | { readonly kind: 'contrib'; readonly family: string }
  /** A type of Envoy's v2 API, which Envoy no longer loads. */
  | { readonly kind: 'v2' }
  /** Outside Envoy's namespaces: a custom build's extension. */
  | { readonly kind: 'third-party' }
  | { readonly kind: 'unknown' };

/** What kind of type an unresolvable type name is. */
export function classifyUnknownType(name: string): UnknownTypeKind {
  const parts = name.split('.');
  if (parts[0] !== 'envoy' && parts[0] !== 'xds' && parts[0] !== 'udpa' && parts[0] !== 'google') return { kind: 'third-party' };
  if (parts[0] === 'envoy' && parts.some((p) => /^v2(?:alpha\d*|beta\d*)?$/.test(p))) return { kind: 'v2' };
  if (parts[0] === 'envoy' && parts[1] === 'extensions') {
    const at = parts.findIndex((p, i) => i > 1 && VERSION.test(p));
    const family = parts.slice(2, at < 0 ? parts.length - 1 : at).join('.');
    for (const c of CONTRIB_FAMILIES) if (family === c || family.startsWith(c + '.')) return { kind: 'contrib', family: c };
  }
  return { kind: 'unknown' };
}
