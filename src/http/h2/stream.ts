/**
 * One HTTP/2 stream of a server connection (RFC 9113 §5.1): its state, both flow-control windows, and the response
 * bytes waiting for the peer's window. The connection (connection.ts) drives it; whoever serves the request is its
 * owner and hears of body bytes, trailers, a reset and when it may write again.
 */
export interface H2StreamOwner {
  /** Request body bytes (padding removed). `end`: the last of them (END_STREAM). */
  streamData(chunk: Buffer, end: boolean): void;
  /** Request trailers (they end the stream). */
  streamTrailers(fields: string[], count: number): void;
  /** The stream is gone before both sides ended it: the peer's RST_STREAM (`code`), our reset, or the connection's
   * end. */
  streamReset(code: number): void;
  /** Response bytes queued earlier have gone out, the peer's window reopened or the socket drained: write on. */
  streamWritable(): void;
}

export class H2Stream {
  owner: H2StreamOwner | null = null;
  /** What the peer lets us send on this stream. */
  sendWindow: number;
  /** What we still let the peer send. */
  recvWindow: number;
  /** Body bytes the owner has consumed and we have not yet given back with WINDOW_UPDATE. */
  unacked = 0;
  /** The peer ended its side (END_STREAM seen). */
  remoteEnded = false;
  /** END_STREAM has been written (not just queued). */
  localEnded = false;
  /** The response's end is queued behind `out`. */
  endQueued = false;
  /** Response headers have been sent (a later HEADERS is trailers). */
  headersSent = false;
  closed = false;
  /** Request body bytes received, against the request's content-length (-1: none). */
  received = 0;
  contentLength = -1;
  /** Response data waiting for window, in order. */
  out: Buffer[] | null = null;
  outBytes = 0;
  /** Trailers to send once `out` has gone. */
  trailers: string[] | null = null;
  trailerCount = 0;
  /** A write was refused (returned false): the owner waits for streamWritable(). */
  wantsWritable = false;
  /** Listed in the connection's queue of streams with data waiting. */
  queued = false;
  /** When the stream opened (performance.now()): a reset soon after, before a response, is premature. */
  readonly openedAt = performance.now();

  constructor(
    readonly id: number,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }
}
