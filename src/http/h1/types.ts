/**
 * meshctl's own HTTP/1.1 codec (issue 15): the contract between the parser (`parser.ts`), the proxy's downstream
 * server connection and the upstream client. One parser per connection, fed Buffers as they arrive; it never
 * allocates per byte and hands body bytes on as subarrays of the Buffer it was given (no copies).
 *
 * Strictness follows Envoy's HTTP/1.1 codec and nginx in their default (strict) modes; every refusal carries the
 * status Envoy answers with and Envoy's response-code-details string (`http1.*`), so local replies and access logs
 * say what Envoy would say.
 */

/** A parsed message head. Request fields are '' / 0 on a response and the other way round. */
export interface H1Head {
  /** Request method as sent (methods are case-sensitive tokens). '' on a response. */
  method: string;
  /** The request-target as sent (origin-form, absolute-form, authority-form for CONNECT, or '*'). '' on a response. */
  target: string;
  /** Response status code; 0 on a request. */
  status: number;
  /** Response reason phrase; '' on a request. */
  reason: string;
  /** The minor version of HTTP/1.x: 0 or 1. */
  versionMinor: number;
  /** Header fields in order, as written: [name, value, name, value, ...]; names keep their case, values are trimmed
   * of leading and trailing whitespace. */
  rawHeaders: string[];
  /** The Content-Length, or -1 when there is none (or the body is chunked). */
  contentLength: number;
  /** Transfer-Encoding ends in `chunked`. */
  chunked: boolean;
  /** The connection persists after this message (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
   * `Connection: keep-alive`). */
  keepAlive: boolean;
  /** A request with `Connection: upgrade` and an `Upgrade` header, or a CONNECT: after its head the parser stops and
   * the bytes that follow belong to the tunnel. */
  upgrade: boolean;
  /** `Expect: 100-continue` (case-insensitive) on a request. */
  expectContinue: boolean;
}

/** Why a message was refused: the status to answer with (downstream) and Envoy's details string. */
export interface H1Error {
  /** 400, 413 (body over a limit), 431 (head over a limit), 501 (transfer-coding not understood). */
  readonly status: number;
  /** Envoy's response code details, e.g. `http1.codec_error`, `http1.headers_too_large`,
   * `http1.content_length_and_chunked_not_allowed`, `http1.invalid_characters`. */
  readonly details: string;
  /** A human-readable reason (for logs and tests). */
  readonly reason: string;
}

export interface H1Limits {
  /** The most bytes a head may have (request line or status line, headers, final CRLF). Envoy:
   * max_request_headers_kb (default 60 KiB); over it → 431. */
  readonly maxHeadBytes: number;
  /** The most header fields (Envoy: common_http_protocol_options.max_headers_count, default 100); over it → 431. */
  readonly maxHeaders: number;
}

/**
 * What the parser calls. A method returning `true` pauses the parser right after that event: `execute` returns the
 * number of bytes consumed so far and the caller keeps the rest (for pipelined requests while a response is pending,
 * for flow control, or, after the head of an upgrade/CONNECT, for the tunnel).
 *
 * Details of the parser (parser.ts) the callers rely on:
 * - A message without body (no framing on a request, 204/304, an answer to HEAD, Content-Length: 0) gets onHead
 *   then onComplete in the same execute; a pause asked by that onHead takes effect after onComplete. Likewise a
 *   pause asked by the onBody that ends a Content-Length body takes effect after onComplete: the message is whole,
 *   and a caller given "all bytes consumed" would otherwise never see its end.
 * - An upgrade or CONNECT request, or a 101 response, or a 2xx response after connectForNextResponse(), gets onHead
 *   only (no onComplete, head.upgrade true): execute returns the offset just past the head, later calls return 0
 *   until reset().
 * - Interim responses (1xx but 101) get onHead only, then the final response follows.
 * - After onError, execute returns -1 and calls nothing. finish() at EOF completes a body read until close, and
 *   calls onError (400 http1.codec_error) for a message cut short.
 * - A message that does not keep the connection (keepAlive false) does not stop the parser: the caller stops
 *   feeding it.
 */
export interface H1Handler {
  /** A complete head. `head` is a fresh object the handler owns. Return true to pause. */
  onHead(head: H1Head): boolean | void;
  /** Body bytes (already de-chunked): a subarray of the Buffer passed to execute, valid until execute returns unless
   * copied. Return true to pause. */
  onBody(chunk: Buffer): boolean | void;
  /** The message ended. `trailers`: trailer fields of a chunked body as [name, value, ...] (names as written, values
   * trimmed), or null when there were none. Return true to pause (the parser is then positioned at the next
   * message). */
  onComplete(trailers: string[] | null): boolean | void;
  /** The input is malformed; the parser stops for good. */
  onError(err: H1Error): void;
}

/** Parser mode. */
export type H1Kind = 'request' | 'response';
