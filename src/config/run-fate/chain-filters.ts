/**
 * The settings of each HTTP filter in meshctl run's filter chain (src/proxy/filters/) that run builds, by the
 * field names of the filter's typed_config. One list per filter, read by the filter (which refuses at start-up, with
 * its place in the config, any other setting it meets, nested ones included) and by the run-fate table (so
 * `validate --target run` names an unbuilt top-level setting as run does).
 */
export const LOCAL_RATELIMIT_BUILT = [
  'stat_prefix',
  'status',
  'token_bucket',
  'filter_enabled',
  'filter_enforced',
  'response_headers_to_add',
  'enable_x_ratelimit_headers',
] as const;

export const RBAC_BUILT = {
  filter: ['rules', 'shadow_rules', 'rules_stat_prefix', 'shadow_rules_stat_prefix'],
  rules: ['action', 'policies'],
  policy: ['permissions', 'principals'],
  permission: ['any', 'header', 'url_path', 'and_rules', 'or_rules', 'not_rule', 'destination_ip', 'destination_port', 'destination_port_range'],
  principal: ['any', 'header', 'url_path', 'direct_remote_ip', 'remote_ip', 'source_ip', 'and_ids', 'or_ids', 'not_id', 'authenticated'],
} as const;

export const FAULT_BUILT = ['delay', 'abort', 'upstream_cluster', 'headers', 'downstream_nodes', 'max_active_faults', 'disable_downstream_cluster_stats'] as const;

export const CORS_BUILT = [
  'allow_origin_string_match',
  'allow_methods',
  'allow_headers',
  'expose_headers',
  'max_age',
  'allow_credentials',
  'filter_enabled',
  'shadow_enabled',
  'forward_not_matching_preflights',
] as const;

export const HEALTH_CHECK_BUILT = ['pass_through_mode', 'headers', 'cache_time'] as const;

export const COMPRESSOR_BUILT = [
  'compressor_library',
  'response_direction_config',
  'content_length',
  'content_type',
  'disable_on_etag_header',
  'remove_accept_encoding_header',
  'runtime_enabled',
] as const;
