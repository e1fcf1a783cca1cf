/**
 * Envoy v3's field names for the messages meshctl writes, from Envoy's API protos (envoy/config/bootstrap/v3,
 * listener/v3, cluster/v3, endpoint/v3, route/v3, core/v3, extensions/...). No envoy binary is installable here, so
 * the convert tests check `--to envoy` output against these: every key must be a real Envoy field of the message
 * it sits in, and every `@type` one Envoy registers.
 */
type Shape = { [field: string]: string | null };

/** message → field → the message type of its value (null: a scalar, enum or opaque value not checked further). */
export const ENVOY_SHAPES: Record<string, Shape> = {
  Bootstrap: {
    node: 'Node', static_resources: 'StaticResources', dynamic_resources: null, admin: 'Admin',
    typed_dns_resolver_config: 'TypedExtensionConfig', stats_sinks: null, layered_runtime: null, overload_manager: null,
    cluster_manager: null, stats_config: null, watchdogs: null, tracing: null,
  },
  Node: { id: null, cluster: null, metadata: null, locality: null, user_agent_name: null },
  Admin: { address: 'Address', access_log_path: null, access_log: null, profile_path: null, socket_options: null },
  StaticResources: { listeners: 'Listener', clusters: 'Cluster', secrets: null },
  Listener: {
    name: null, address: 'Address', stat_prefix: null, filter_chains: 'FilterChain', default_filter_chain: 'FilterChain',
    listener_filters: null, per_connection_buffer_limit_bytes: null, traffic_direction: null, access_log: null,
  },
  FilterChain: { filter_chain_match: 'FilterChainMatch', filters: 'Filter', transport_socket: 'TransportSocket', name: null },
  FilterChainMatch: {
    destination_port: null, prefix_ranges: null, server_names: null, transport_protocol: null, application_protocols: null,
  },
  Filter: { name: null, typed_config: 'Any' },
  HttpConnectionManager: {
    codec_type: null, stat_prefix: null, rds: null, route_config: 'RouteConfiguration', http_filters: 'HttpFilter',
    use_remote_address: null, xff_num_trusted_hops: null, generate_request_id: null, stream_idle_timeout: null,
    request_timeout: null, request_headers_timeout: null, drain_timeout: null, server_name: null, normalize_path: null,
    merge_slashes: null, strip_any_host_port: null, always_set_request_id_in_response: null, access_log: null,
  },
  HttpFilter: { name: null, typed_config: 'Any', is_optional: null, disabled: null },
  RouteConfiguration: {
    name: null, virtual_hosts: 'VirtualHost', ignore_port_in_host_matching: null, request_headers_to_add: null,
    request_headers_to_remove: null, response_headers_to_add: null, response_headers_to_remove: null, validate_clusters: null,
  },
  VirtualHost: {
    name: null, domains: null, routes: 'Route', require_tls: null, request_headers_to_add: null, request_headers_to_remove: null,
    response_headers_to_add: null, response_headers_to_remove: null, retry_policy: null,
  },
  Route: {
    name: null, match: 'RouteMatch', route: 'RouteAction', redirect: null, direct_response: null, request_headers_to_add: null,
    request_headers_to_remove: null, response_headers_to_add: null, response_headers_to_remove: null,
    typed_per_filter_config: null, metadata: null, decorator: null,
  },
  RouteMatch: {
    prefix: null, path: null, safe_regex: null, path_separated_prefix: null, case_sensitive: null, headers: null,
    query_parameters: null, grpc: null,
  },
  RouteAction: {
    cluster: null, cluster_header: null, weighted_clusters: null, cluster_not_found_response_code: null, prefix_rewrite: null,
    regex_rewrite: null, host_rewrite_literal: null, auto_host_rewrite: null, timeout: null, idle_timeout: null,
    retry_policy: null, hash_policy: null,
  },
  Cluster: {
    name: null, type: null, connect_timeout: null, lb_policy: null, load_assignment: 'ClusterLoadAssignment',
    health_checks: null, circuit_breakers: null, outlier_detection: null, common_lb_config: null, ring_hash_lb_config: null,
    maglev_lb_config: null, least_request_lb_config: null, dns_refresh_rate: null, respect_dns_ttl: null,
    dns_lookup_family: null, dns_resolvers: 'Address', http2_protocol_options: null, typed_dns_resolver_config: 'TypedExtensionConfig', transport_socket: 'TransportSocket',
    eds_cluster_config: null, typed_extension_protocol_options: null, upstream_connection_options: null, cleanup_interval: null, alt_stat_name: null,
  },
  ClusterLoadAssignment: { cluster_name: null, endpoints: 'LocalityLbEndpoints', policy: null, named_endpoints: null },
  LocalityLbEndpoints: { locality: null, lb_endpoints: 'LbEndpoint', load_balancing_weight: null, priority: null },
  LbEndpoint: { endpoint: 'Endpoint', health_status: null, load_balancing_weight: null, metadata: null },
  Endpoint: { address: 'Address', health_check_config: null, hostname: null },
  Address: { socket_address: 'SocketAddress', pipe: null },
  SocketAddress: { protocol: null, address: null, port_value: null, named_port: null, resolver_name: null, ipv4_compat: null },
  TransportSocket: { name: null, typed_config: 'Any' },
  TypedExtensionConfig: { name: null, typed_config: 'Any' },
  DownstreamTlsContext: { common_tls_context: 'CommonTlsContext', require_client_certificate: null },
  UpstreamTlsContext: { common_tls_context: 'CommonTlsContext', sni: null },
  CommonTlsContext: { tls_params: null, tls_certificates: 'TlsCertificate', validation_context: null, alpn_protocols: null },
  TlsCertificate: { certificate_chain: 'DataSource', private_key: 'DataSource' },
  DataSource: { filename: null, inline_string: null, inline_bytes: null, environment_variable: null },
  CaresDnsResolverConfig: { resolvers: 'Address', use_resolvers_as_fallback: null, dns_resolver_options: null },
  Router: { dynamic_stats: null, suppress_envoy_headers: null },
};

/** The `@type`s meshctl writes, to the shape name of their body. */
export const ENVOY_ANY_TYPES: Record<string, string> = {
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': 'HttpConnectionManager',
  'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router': 'Router',
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': 'DownstreamTlsContext',
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': 'UpstreamTlsContext',
  'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig': 'CaresDnsResolverConfig',
  // kept verbatim from the input, not checked further
  'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions': '',
  'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': '',
};

/** Every place the value breaks Envoy's shape, as `path: problem` lines (empty = conforms). */
export function envoyShapeProblems(value: unknown, shape = 'Bootstrap', path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => envoyShapeProblems(v, shape, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [`${path}: expected a ${shape} message`];
  const obj = value as Record<string, unknown>;
  if (shape === 'Any') {
    const t = obj['@type'];
    if (typeof t !== 'string') return [`${path}: typed_config without @type`];
    const inner = ENVOY_ANY_TYPES[t];
    if (inner === undefined) return [`${path}: unknown @type ${t}`];
    if (inner === '') return [];
    const { ['@type']: _omit, ...rest } = obj;
    void _omit;
    return envoyShapeProblems(rest, inner, path);
  }
  const fields = ENVOY_SHAPES[shape];
  if (fields === undefined) return [`${path}: no shape ${shape}`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in fields)) {
      out.push(`${path}.${k}: not a field of Envoy's ${shape}`);
      continue;
    }
    const inner = fields[k];
    if (inner !== null && inner !== undefined) out.push(...envoyShapeProblems(v, inner, `${path}.${k}`));
  }
  return out;
}
