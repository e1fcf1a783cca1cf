/**
 * TLS termination settings from a listener's DownstreamTlsContext: certificate chain and key (files, inline or
 * environment), TLS 1.2 minimum unless the config says otherwise, ALPN per codec, client certificates, and SNI
 * selection across filter chains.
 */
import tls from 'node:tls';
import type { Bootstrap, DataSource, FilterChain, HttpConnectionManager_CodecType, TlsContext, TlsParameters_TlsProtocol } from '../config/model.js';
import { readDataSource as readSource } from '../config/data-source.js';
import { UsageError } from '../config/usage-error.js';
import { clusterTls, upstreamTlsOptions } from '../upstream/upstream-tls.js';

export class TlsConfigError extends UsageError {
  override readonly name = 'TlsConfigError';
}

const VERSIONS: Partial<Record<TlsParameters_TlsProtocol, tls.SecureVersion>> = {
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

/** The article's dialect names (`certificate_key_file`, `certificate_chain_file`) when the model kept them unmodeled. */
function dialectFile(ctx: TlsContext, key: string): DataSource | undefined {
  const un = ctx.common_tls_context?.unmodeled?.[key];
  return typeof un === 'string' ? { filename: un } : undefined;
}

export function secureOptions(
  ctx: TlsContext,
  baseDir: string,
  codec: HttpConnectionManager_CodecType,
): tls.SecureContextOptions & { ALPNProtocols: string[]; requestCert: boolean } {
  const common = ctx.common_tls_context ?? {};
  const certs = common.tls_certificates ?? [];
  const cert: Buffer[] = [];
  const key: Buffer[] = [];
  for (const c of certs) {
    const ch = readSource(c.certificate_chain, baseDir, 'certificate chain');
    const k = readSource(c.private_key, baseDir, 'private key');
    if (ch !== undefined) cert.push(ch);
    if (k !== undefined) key.push(k);
  }
  if (cert.length === 0) {
    const ch = readSource(dialectFile(ctx, 'certificate_chain_file'), baseDir, 'certificate chain');
    const k = readSource(dialectFile(ctx, 'certificate_key_file'), baseDir, 'private key');
    if (ch !== undefined) cert.push(ch);
    if (k !== undefined) key.push(k);
  }
  if (cert.length === 0 || key.length === 0) throw new TlsConfigError('the TLS context has no certificate chain and private key');
  const params = common.tls_params;
  const minVersion = VERSIONS[params?.tls_minimum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.2';
  const maxVersion = VERSIONS[params?.tls_maximum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.3';
  const alpn =
    common.alpn_protocols && common.alpn_protocols.length > 0
      ? [...common.alpn_protocols]
      : codec === 'HTTP2'
        ? ['h2']
        : codec === 'HTTP1'
          ? ['http/1.1']
          : ['h2', 'http/1.1'];
  const ca = readSource(common.validation_context?.trusted_ca, baseDir, 'trusted CA');
  return {
    cert,
    key,
    minVersion,
    maxVersion,
    ...(params?.cipher_suites?.length ? { ciphers: params.cipher_suites.join(':') } : {}),
    ...(params?.ecdh_curves?.length ? { ecdhCurve: params.ecdh_curves.join(':') } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ALPNProtocols: alpn,
    requestCert: ctx.require_client_certificate === true,
  };
}

/** The chain's TLS context, if it terminates TLS. */
export function chainTls(fc: FilterChain): TlsContext | undefined {
  return fc.transport_socket?.typed_config;
}

/**
 * An SNICallback choosing a filter chain's certificate by `filter_chain_match.server_names` (exact, or `*.suffix`),
 * or undefined when no chain names servers.
 */
export function sniCallback(
  chains: readonly FilterChain[],
  baseDir: string,
  codec: HttpConnectionManager_CodecType,
): ((servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void) | undefined {
  const named: { names: string[]; ctx: tls.SecureContext }[] = [];
  for (const fc of chains) {
    const t = chainTls(fc);
    const names = fc.filter_chain_match?.server_names ?? [];
    if (t === undefined || names.length === 0) continue;
    named.push({ names: names.map((n) => n.toLowerCase()), ctx: tls.createSecureContext(secureOptions(t, baseDir, codec)) });
  }
  if (named.length === 0) return undefined;
  return (servername, cb) => {
    const sn = servername.toLowerCase();
    for (const n of named) if (n.names.includes(sn)) return cb(null, n.ctx);
    for (const n of named)
      for (const name of n.names) if (name.startsWith('*.') && sn.endsWith(name.slice(1)) && sn.length > name.length - 1) return cb(null, n.ctx);
    cb(null, undefined);
  };
}

/**
 * Build every TLS context of `config` (listener chains and clusters) without using them, so a reload whose key, chain
 * or CA files are unreadable or malformed is refused before anything of the running config changes.
 */
export function preflightTls(config: Bootstrap, baseDir: string): void {
  for (const l of config.static_resources?.listeners ?? []) {
    for (const fc of l.filter_chains ?? []) {
      const ctx = chainTls(fc);
      if (ctx === undefined) continue;
      try {
        tls.createSecureContext(secureOptions(ctx, baseDir, 'AUTO'));
      } catch (err) {
        throw new TlsConfigError(`listener ${l.name ?? ''}: ${(err as Error).message}`);
      }
    }
  }
  for (const c of config.static_resources?.clusters ?? []) {
    const ctx = clusterTls(c);
    if (ctx === undefined) continue;
    try {
      tls.createSecureContext(upstreamTlsOptions(ctx, baseDir));
    } catch (err) {
      throw new TlsConfigError(`cluster ${c.name ?? ''}: ${(err as Error).message}`);
    }
  }
}
