/**
 * A cluster's UpstreamTlsContext (`transport_socket` on the cluster) as node TLS client options, built once per
 * cluster and shared by the proxy's connection pools and the active health checker.
 *
 * Envoy's semantics, which differ from node's defaults:
 * - without a `validation_context` the upstream certificate is not verified at all;
 * - with one, the chain must verify against `trusted_ca`, and the name is checked only against
 *   `match_subject_alt_names` when that list is given (Envoy never compares the certificate with the SNI by itself):
 *   each entry is a StringMatcher (exact, prefix, suffix, contains, safe_regex; ignore_case), and the certificate
 *   passes when one of them matches one of its subject alternative names (type.matcher.v3.StringMatcher and
 *   CertificateValidationContext.match_subject_alt_names in Envoy's API reference);
 * - SNI is sent only when `sni` is set (never an IP address);
 * - TLS 1.2 is the minimum and TLS 1.3 the maximum unless `tls_params` says otherwise.
 */
import type { ConnectionOptions, PeerCertificate, SecureVersion } from 'node:tls';
import { readDataSource as read } from '../config/data-source.js';
import type { Cluster, DataSource, StringMatcher, TlsContext, TlsParameters_TlsProtocol } from '../config/model.js';
import { compileStringMatcher, type CompileProblem } from '../router/matchers.js';

/** ALPN is left to the client: undici offers http/1.1, and h2 too for a cluster with http2_protocol_options; health
 * checks offer http/1.1. */
export type UpstreamTlsOptions = ConnectionOptions;

const VERSIONS: Partial<Record<TlsParameters_TlsProtocol, SecureVersion>> = {
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

/** The names a certificate answers to: DNS, IP and URI subject alternative names. */
function altNames(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(', ')
    .map((s) => s.replace(/^(DNS|IP Address|URI):/, ''))
    .filter((s) => s !== '');
}

/** A StringMatcher as a message names it: `exact backend.internal`, `suffix .internal`. */
function describeMatcher(m: StringMatcher): string {
  const kind = m.exact !== undefined ? 'exact' : m.prefix !== undefined ? 'prefix' : m.suffix !== undefined ? 'suffix' : m.contains !== undefined ? 'contains' : 'safe_regex';
  const value = m.exact ?? m.prefix ?? m.suffix ?? m.contains ?? m.safe_regex?.regex ?? '';
  return `${kind} ${value}${m.ignore_case === true ? ' (ignore_case)' : ''}`;
}

/**
 * A google_grpc channel's ssl_credentials as TLS client options: gRPC's own TLS, which always verifies the server
 * (against root_certs, or the system's roots without them) and its name, and presents cert_chain/private_key.
 */
export function googleGrpcTlsOptions(ssl: { rootCerts?: DataSource; privateKey?: DataSource; certChain?: DataSource }, baseDir: string): UpstreamTlsOptions {
  const ca = read(ssl.rootCerts, baseDir, 'google_grpc root_certs');
  const key = read(ssl.privateKey, baseDir, 'google_grpc private_key');
  const cert = read(ssl.certChain, baseDir, 'google_grpc cert_chain');
  return { rejectUnauthorized: true, ...(ca !== undefined ? { ca } : {}), ...(key !== undefined ? { key } : {}), ...(cert !== undefined ? { cert } : {}) };
}

/** The cluster's TLS context, when it originates TLS to its hosts. */
export function clusterTls(cluster: Cluster): TlsContext | undefined {
  return cluster.transport_socket?.typed_config;
}

/** Client options for one cluster. */
export function upstreamTlsOptions(ctx: TlsContext, baseDir: string): UpstreamTlsOptions {
  const common = ctx.common_tls_context ?? {};
  const cert: Buffer[] = [];
  const key: Buffer[] = [];
  for (const c of common.tls_certificates ?? []) {
    const ch = read(c.certificate_chain, baseDir, 'client certificate chain');
    const k = read(c.private_key, baseDir, 'client private key');
    if (ch !== undefined) cert.push(ch);
    if (k !== undefined) key.push(k);
  }
  const vc = common.validation_context;
  const ca = read(vc?.trusted_ca, baseDir, 'trusted CA');
  const sans: readonly StringMatcher[] = vc?.match_subject_alt_names ?? [];
  // a matcher with a regex RE2 refuses never matches (validate reports the regex)
  const problems: CompileProblem[] = [];
  const matchers = sans.map((m) => compileStringMatcher(m, problems));
  const params = common.tls_params;
  const opts: UpstreamTlsOptions = {
    minVersion: VERSIONS[params?.tls_minimum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.2',
    maxVersion: VERSIONS[params?.tls_maximum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.3',
    ...(cert.length > 0 ? { cert } : {}),
    ...(key.length > 0 ? { key } : {}),
    ...(ctx.sni ? { servername: ctx.sni } : {}),
    ...(params?.cipher_suites?.length ? { ciphers: params.cipher_suites.join(':') } : {}),
    ...(params?.ecdh_curves?.length ? { ecdhCurve: params.ecdh_curves.join(':') } : {}),
    ...(ca !== undefined
      ? {
          ca,
          rejectUnauthorized: true,
          checkServerIdentity: (_host: string, peer: PeerCertificate): Error | undefined => {
            if (sans.length === 0) return undefined;
            const names = altNames(peer);
            return matchers.some((m) => names.some(m))
              ? undefined
              : // node's own code for a name mismatch, so the failure is classified like every other handshake failure.
                Object.assign(new Error(`certificate names ${names.join(', ') || '(none)'}; match_subject_alt_names expects ${sans.map(describeMatcher).join(', ')}`), {
                  code: 'ERR_TLS_CERT_ALTNAME_INVALID',
                });
          },
        }
      : { rejectUnauthorized: false }),
  };
  return opts;
}
