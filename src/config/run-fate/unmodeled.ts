/**
 * The fate of a field Envoy knows that meshctl's model does not read (the decoder keeps it verbatim in the node's
 * `unmodeled`, with an `unmodeled-field` note): `warned`, unless it guards access (refused: run would let through
 * what Envoy keeps out), or it holds extensions (each judged by extensions.ts). Keyed `ModelMessage.field`.
 */
import { ENFORCED, refused, warned, type FateEntry } from './fate.js';
import type { JsonValue } from '../json-value.js';
import { extensionFate, extensionId, type ExtensionKind } from './extensions.js';

export const UNMODELED_DEFAULT: FateEntry = warned('meshctl\'s model does not read this field');

const SOURCE_MATCH = refused('this filter chain would serve every client: meshctl run does not choose chains by source address or port');
const CLIENT_CERT = refused('meshctl run verifies the peer\'s certificate against trusted_ca only; this check would not be made');
const SDS = refused('meshctl run does not fetch secrets (SDS) or use certificate providers');

/**
 * Unmodeled fields the proxy reads from what the decoder kept verbatim (src/proxy/grpc.ts, tunnel.ts, tls.ts,
 * src/router/route.ts), until the model holds them.
 */
export const UNMODELED_ENFORCED: Readonly<Record<string, FateEntry>> = {
  'RouteAction.upgrade_configs': { ...ENFORCED, note: 'WebSocket upgrades and CONNECT (src/proxy/tunnel.ts)' },
  'HttpConnectionManager.upgrade_configs': { ...ENFORCED, note: 'WebSocket upgrades and CONNECT (src/proxy/tunnel.ts)' },
  'RouteMatch.connect_matcher': { ...ENFORCED, note: 'CONNECT requests (src/router/route.ts)' },
  // A DNS cluster's resolver as Envoy reads it (config/dns-resolver-config.ts, discovery/dns.ts).
  'Cluster.dns_resolution_config': ENFORCED,
  'Cluster.use_tcp_for_dns_lookups': ENFORCED,
  'Cluster.dns_failure_refresh_rate': ENFORCED,
  'Bootstrap.typed_dns_resolver_config': ENFORCED,
  'Bootstrap.dns_resolution_config': ENFORCED,
  'Bootstrap.use_tcp_for_dns_lookups': ENFORCED,
  // Downstream connection limits (src/proxy/h1-connection.ts, h2-connection.ts; not node's HTTP/2 path).
  'HttpProtocolOptions.max_requests_per_connection': { ...ENFORCED, note: 'HTTP/1.1: the response to the request that reaches it closes the connection; HTTP/2: the drain sequence starts' },
  'HttpProtocolOptions.max_connection_duration': { ...ENFORCED, note: 'the connection drains once it is this old (HTTP/1.1: closed when idle or after its response; HTTP/2: GOAWAYs)' },
  'GrpcService.google_grpc': {
    ...ENFORCED,
    note: 'the xDS stream dials target_uri (ip:port through --map-endpoint) over TLS with ssl_credentials; call_credentials and google_default are not sent (said at start)',
  },
  'Endpoint.HealthCheckConfig.address': { ...ENFORCED, note: 'active health checks go to this address (src/balancer/host-set.ts healthCheckOf)' },
  'Endpoint.HealthCheckConfig.disable_active_health_check': { ...ENFORCED, note: 'the cluster\'s health checkers leave the endpoint alone' },
  'HttpConnectionManager.proxy_100_continue': { ...ENFORCED, note: 'Expect: 100-continue forwarded and the upstream\'s 100 relayed (HTTP/1.1 clusters; undici\'s HTTP/2 client cannot send Expect, so the proxy answers 100 there)' },
  // The HCM's (an HTTP/1.1 client's chunked trailers kept) and, inside a cluster's HttpProtocolOptions extension,
  // the upstream codec's (request trailers sent to HTTP/1.1 hosts): src/proxy/generation.ts, src/upstream/protocol-options.ts.
  'Http1ProtocolOptions.enable_trailers': { ...ENFORCED, note: 'trailers kept by the HTTP/1.1 codec: request trailers to HTTP/1.1 hosts on a chunked body, a host\'s response trailers (cluster), response trailers in the last chunk to HTTP/1.1 clients (connection manager); not request trailers to HTTP/2 hosts (undici cannot send them)' },
  // meshctl's own HTTP/2 codec (src/http/h2, src/proxy/h2-connection.ts) sends these as its SETTINGS; with
  // `--downstream-h2 node` only allow_connect is read.
  'HttpConnectionManager.http2_protocol_options': {
    ...ENFORCED,
    note: 'max_concurrent_streams, initial_stream_window_size, initial_connection_window_size, hpack_table_size, allow_connect (extended CONNECT, src/proxy/tunnel.ts), max_consecutive_inbound_frames_with_empty_payload and override_stream_error_on_invalid_http_message / stream_error_on_invalid_http_messaging by meshctl\'s own HTTP/2 codec, which also closes a connection whose client resets streams prematurely (Envoy\'s rapid-reset guard) or leaves 4 MiB of answers unread; its other settings are not read; with --downstream-h2 node only allow_connect is',
  },
  'HttpConnectionManager.stream_error_on_invalid_http_message': warned('read for HTTP/2 only (meshctl\'s own codec: a malformed request resets only its stream); the HTTP/1.1 codec closes the connection after an invalid message whatever it says'),
  // The article's dialect names for the certificate files (src/proxy/tls.ts); not Envoy fields.
  'CommonTlsContext.certificate_chain_file': ENFORCED,
  'CommonTlsContext.certificate_key_file': ENFORCED,
};

/** Unmodeled fields that guard access. */
export const UNMODELED_REFUSED: Readonly<Record<string, FateEntry>> = {
  'FilterChainMatch.source_prefix_ranges': SOURCE_MATCH,
  'FilterChainMatch.direct_source_prefix_ranges': SOURCE_MATCH,
  'FilterChainMatch.source_type': SOURCE_MATCH,
  'FilterChainMatch.source_ports': SOURCE_MATCH,
  'Listener.filter_chain_matcher': refused('filter chains chosen by a matcher tree (which may match the client\'s address) are not supported: meshctl run would serve every client'),
  'CertificateValidationContext.match_typed_subject_alt_names': CLIENT_CERT,
  'CertificateValidationContext.verify_certificate_spki': CLIENT_CERT,
  'CertificateValidationContext.verify_certificate_hash': CLIENT_CERT,
  'CertificateValidationContext.crl': CLIENT_CERT,
  'CertificateValidationContext.only_verify_leaf_cert_crl': CLIENT_CERT,
  'CertificateValidationContext.max_verify_depth': CLIENT_CERT,
  'CertificateValidationContext.custom_validator_config': CLIENT_CERT,
  'CommonTlsContext.combined_validation_context': SDS,
  'CommonTlsContext.validation_context_sds_secret_config': SDS,
  'CommonTlsContext.validation_context_certificate_provider': SDS,
  'CommonTlsContext.validation_context_certificate_provider_instance': SDS,
  'CommonTlsContext.tls_certificate_sds_secret_configs': SDS,
  'CommonTlsContext.tls_certificate_provider_instance': SDS,
  'CommonTlsContext.tls_certificate_certificate_provider': SDS,
  'CommonTlsContext.tls_certificate_certificate_provider_instance': SDS,
  'RouteMatch.tls_context': refused('this route would match without the client certificate it requires'),
};

/** Unmodeled fields that hold extensions: each element is judged as its kind. */
export const UNMODELED_EXTENSIONS: Readonly<Record<string, ExtensionKind>> = {
  'Listener.listener_filters': 'listener-filter',
  'Listener.access_log': 'access-logger',
  'Cluster.cluster_type': 'cluster-type',
  'Cluster.typed_dns_resolver_config': 'dns-resolver',
  'RetryPolicy.retry_priority': 'retry-priority',
};

/**
 * The fate of an unmodeled field that holds no extensions: the one answer for run's check (check.ts) and for the
 * decoder's `unmodeled-field` note, which it leaves out where run does act on the field.
 */
export function unmodeledFate(message: string, field: string): FateEntry {
  const id = `${message}.${field}`;
  if (Object.hasOwn(UNMODELED_REFUSED, id)) return UNMODELED_REFUSED[id]!;
  if (Object.hasOwn(UNMODELED_ENFORCED, id)) return UNMODELED_ENFORCED[id]!;
  return UNMODELED_DEFAULT;
}

/**
 * Whether run acts on an unmodeled field's value: the field is enforced, or every extension it holds is one run
 * enforces (a retry_priority naming previous_priorities). The decoder's `unmodeled-field` note is for the rest.
 */
export function actedOnByRun(message: string, field: string, value: JsonValue): boolean {
  const id = `${message}.${field}`;
  if (unmodeledFate(message, field).fate === 'enforced') return true;
  const kind = Object.hasOwn(UNMODELED_EXTENSIONS, id) ? UNMODELED_EXTENSIONS[id] : undefined;
  if (kind === undefined) return false;
  const items = Array.isArray(value) ? value : [value];
  return (
    items.length > 0 &&
    items.every((item) => {
      const { name, type } = extensionId(item);
      return extensionFate(kind, type, name)?.fate === 'enforced';
    })
  );
}
