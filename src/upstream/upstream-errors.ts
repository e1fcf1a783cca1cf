/**
 * The kind of an upstream failure, from an undici error code or a socket's errno name, shared by every client of
 * pool.ts so that local replies, retries and stats do not depend on the client chosen; and the detail Envoy's
 * local reply and access log carry.
 */

export type UpstreamErrorKind = 'connect-failure' | 'connect-timeout' | 'reset' | 'termination' | 'protocol' | 'aborted';

/** The kind of failure behind an upstream error (undici codes and socket errno names). */
export function classifyError(err: Error & { code?: string }): UpstreamErrorKind {
  const code = err.code ?? '';
  // A failed TLS handshake (certificate not trusted, name mismatch, protocol alert) is a connection failure to Envoy.
  if (TLS_FAILURE.test(code)) return 'connect-failure';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-failure';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'termination';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_SESSION_ERROR':
      return 'reset';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || err.name === 'HTTPParserError')
        return 'protocol';
      return 'reset';
  }
}

const TLS_FAILURE = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|CERT_|EPROTO$)/;

export function errorDetail(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'delayed connect error: Connection refused';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timeout';
  return code || err.message;
}

