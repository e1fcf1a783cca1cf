/**
 * The refusals of the HTTP/1.1 parser, with the status Envoy answers and its response-code-details strings (Envoy:
 * source/common/http/http1/codec_impl.cc, Http1ResponseCodeDetailValues; docs: "Response code details", http1.*).
 * On a response (the upstream side) the status is only informative: the caller answers 502/503 downstream.
 */
import type { H1Error } from './types.js';

/** Thrown inside the parser and caught once in `execute`; never escapes to callers. */
export class H1Refusal {
  constructor(readonly error: H1Error) {}
}

function refuse(status: number, details: string, reason: string): H1Refusal {
  return new H1Refusal({ status, details, reason });
}

/** Malformed framing or syntax: Envoy's generic `http1.codec_error` (400). */
export const codecError = (reason: string): H1Refusal => refuse(400, 'http1.codec_error', reason);

/** A control character (other than HTAB) or DEL in a header value (Envoy's onHeaderValue check, 400). */
export const invalidCharacters = (reason: string): H1Refusal => refuse(400, 'http1.invalid_characters', reason);

/** A request-target of no form the method admits (Envoy's codec_impl.cc handlePath). */
export const invalidUrl = (reason: string): H1Refusal => refuse(400, 'http1.invalid_url', reason);

export const headersTooLarge = (limit: number): H1Refusal =>
  refuse(431, 'http1.headers_too_large', `head larger than ${limit} bytes`);

export const tooManyHeaders = (limit: number): H1Refusal =>
  refuse(431, 'http1.too_many_headers', `more than ${limit} header fields`);

/** Both framings at once: a smuggling vector, refused (RFC 9112 §6.3 item 3; Envoy without allow_chunked_length). */
export const contentLengthAndChunked = (): H1Refusal =>
  refuse(400, 'http1.content_length_and_chunked_not_allowed', 'both Content-Length and Transfer-Encoding');

/** Envoy answers 501 to any Transfer-Encoding other than exactly `chunked`, and to any on CONNECT (RFC 9112 §6.1:
 * a server refuses transfer-codings it does not understand). */
export const invalidTransferEncoding = (reason: string): H1Refusal =>
  refuse(501, 'http1.invalid_transfer_encoding', reason);

/** Framing fields on a response that cannot have a body: Envoy's client codec refuses Transfer-Encoding on a 1xx or
 * 204, and a Content-Length other than 0 (codec_impl.cc, ClientConnectionImpl::onHeadersCompleteBase). */
export const transferEncodingNotAllowed = (): H1Refusal =>
  refuse(400, 'http1.transfer_encoding_not_allowed', 'Transfer-Encoding on a 1xx or 204 response');
export const contentLengthNotAllowed = (): H1Refusal =>
  refuse(400, 'http1.content_length_not_allowed', 'non-zero Content-Length on a 1xx or 204 response');

/** A CONNECT request with a non-zero Content-Length (RFC 9110 §9.3.6: a CONNECT body has no defined semantics). */
export const bodyDisallowed = (): H1Refusal => refuse(400, 'http1.body_disallowed', 'CONNECT with a body');
