/**
 * The fate of a field Envoy knows that meshctl's model does not read (the decoder keeps it verbatim in the node's
 * `unmodeled`, with an `unmodeled-field` note): `warned`, unless it guards access (refused: run would let through
 * what Envoy keeps out), or it holds extensions (each judged by extensions.ts). Keyed `ModelMessage.field`.
 */
import { refused, warned, type FateEntry } from './fate.js';
import type { ExtensionKind } from './extensions.js';

export const UNMODELED_DEFAULT: FateEntry = warned('meshctl\'s model does not read this field');

const SOURCE_MATCH = refused('this filter chain would serve every client: meshctl run does not choose chains by source address or port');
const CLIENT_CERT = refused('meshctl run verifies the peer\'s certificate against trusted_ca only; this check would not be made');
const SDS = refused('meshctl run does not fetch secrets (SDS) or use certificate providers');

/** Unmodeled fields that guard access. */
export const UNMODELED_REFUSED: Readonly<Record<string, FateEntry>> = {
  'FilterChainMatch.source_prefix_ranges': SOURCE_MATCH,
  'FilterChainMatch.direct_source_prefix_ranges': SOURCE_MATCH,
  'FilterChainMatch.source_type': SOURCE_MATCH,
  'FilterChainMatch.source_ports': SOURCE_MATCH,
  'CertificateValidationContext.match_typed_subject_alt_names': CLIENT_CERT,
  // Envoy's form (StringMatchers) does not fit the model's list of names: kept verbatim, not checked.
  'CertificateValidationContext.match_subject_alt_names': CLIENT_CERT,
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

/** An HttpFilter's own flags, read with its extension (check.ts), not reported apart. */
export const UNMODELED_READ_WITH_FILTER: ReadonlySet<string> = new Set(['HttpFilter.is_optional', 'HttpFilter.disabled']);
