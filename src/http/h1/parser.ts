/**
 * meshctl's HTTP/1.1 parser: one per connection, fed Buffers as they arrive, in any split. See types.ts for the
 * contract. Strict as Envoy's default codec (and nginx): every refusal carries Envoy's status and details.
 *
 * Line endings: CRLF only. A bare LF (a line ending without CR) is refused with 400 http1.codec_error, as llhttp in
 * node 20 does by default (llhttp 9: "Missing expected CR after header value", "Expected CRLF after version"; only
 * its `lenient_optional_cr_before_lf` flag accepts them). A bare CR inside a line is refused too (RFC 9112 §2.2).
 * Empty lines (CR or LF bytes) before a start line are skipped, as llhttp does and RFC 9112 §2.2 allows.
 *
 * Buffers: a head, a trailer section or a chunk-size line is parsed where it lies in the Buffer given to `execute`;
 * only when one spans Buffers are its bytes copied into `acc` (grown by doubling, bounded by the limits), so a
 * head fed byte by byte costs amortised O(n). Body bytes are handed on as subarrays, never copied.
 */
import { CHUNK_EXT, CR, HEX, LF, TOKEN } from './chars.js';
import {
  H1Refusal,
  codecError,
  contentLengthNotAllowed,
  headersTooLarge,
  tooManyHeaders,
  transferEncodingNotAllowed,
} from './errors.js';
import { parseFields, parseHead } from './head.js';
import type { H1Handler, H1Head, H1Kind, H1Limits } from './types.js';

const START = 0; // between messages: skipping empty lines
const HEAD = 1;
const BODY_LENGTH = 2;
const BODY_CLOSE = 3; // a response without framing: its body runs to the end of the connection
const CHUNK_LINE = 4;
const CHUNK_DATA = 5;
const CHUNK_DATA_CR = 6;
const CHUNK_DATA_LF = 7;
const TRAILERS = 8;
const TUNNEL = 9; // after an upgrade or CONNECT head: input belongs to the tunnel until reset()
const DEAD = 10; // after an error

/** The most bytes a chunk-size line may have, extensions included. Extensions are tolerated (any field-value
 * characters after `;`, RFC 9112 §7.1.1) but not interpreted, so a sender cannot make us buffer a long one. */
export const MAX_CHUNK_LINE = 4096;

const HTTP_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
/** The most bytes of split-block buffer a parser keeps between messages. */
const KEEP_ACC = 16 * 1024;

export class H1Parser {
  private state = START;
  /** Bytes of a head, trailer section or chunk line that began in an earlier Buffer. */
  private acc: Buffer = EMPTY;
  private accLen = 0;
  /** Where the scan for the block's end resumes (start of its first incomplete line), in the scanned buffer. */
  private scanLine = 0;
  /** Complete non-empty lines of the block scanned so far. */
  private scanLines = 0;
  /** Body bytes still to come (Content-Length or current chunk). */
  private remaining = 0;
  private noBodyNext = false;
  private connectNext = false;

  constructor(
    private readonly kind: H1Kind,
    private readonly limits: H1Limits,
    private readonly handler: H1Handler,
  ) {}

  /** Feeds bytes; returns how many were consumed, or -1 after calling onError. */
  execute(buf: Buffer): number {
    if (this.state === DEAD) return -1;
    if (this.state === TUNNEL) return 0;
    try {
      return this.run(buf);
    } catch (e) {
      if (!(e instanceof H1Refusal)) throw e;
      this.state = DEAD;
      this.accLen = 0;
      this.handler.onError(e.error);
      return -1;
    }
  }

  /** The connection ended (EOF from the peer). Completes a body read until close; refuses a cut-off message. */
  finish(): void {
    const s = this.state;
    if (s === BODY_CLOSE) {
      this.state = START;
      this.noBodyNext = this.connectNext = false;
      this.handler.onComplete(null);
    } else if (s !== START && s !== TUNNEL && s !== DEAD) {
      this.state = DEAD;
      this.accLen = 0;
      this.handler.onError(codecError('connection closed before the message ended').error);
    }
  }

  /** The next response answers a HEAD request: it has no body whatever its framing fields say. */
  noBodyForNextResponse(): void {
    this.noBodyNext = true;
  }

  /** The next response answers CONNECT: a 2xx makes the connection a tunnel (head.upgrade, and the parser stops
   * after the head), as Envoy's client codec enters upgrade mode for a CONNECT response (codec_impl.cc). */
  connectForNextResponse(): void {
    this.connectNext = true;
  }

  /** Back to the start of a message (a new connection, or after a tunnel ended). */
  reset(): void {
    this.state = START;
    this.accLen = 0;
    this.noBodyNext = false;
    this.connectNext = false;
  }

  private run(buf: Buffer): number {
    const end = buf.length;
    let off = 0;
    while (off < end) {
      switch (this.state) {
        case START: {
          let c = buf[off];
          while (c === CR || c === LF) {
            if (++off === end) return end;
            c = buf[off];
          }
          this.beginBlock(HEAD);
          break;
        }
        case HEAD: {
          const next = this.takeBlock(buf, off, end, false);
          if (next < 0) return end;
          off = next;
          const head = parseHead(this.kind, this.blk, this.blkStart, this.blkEnd, this.limits.maxHeaders);
          if (this.afterHead(head)) return off;
          break;
        }
        case BODY_LENGTH: {
          const n = Math.min(this.remaining, end - off);
          const chunk = buf.subarray(off, off + n);
          off += n;
          this.remaining -= n;
          // A pause asked with the last body bytes takes effect after onComplete: the message is whole.
          const pause = this.handler.onBody(chunk) === true;
          if ((this.remaining === 0 && this.complete(null)) || pause) return off;
          break;
        }
        case BODY_CLOSE:
          this.handler.onBody(off === 0 ? buf : buf.subarray(off));
          return end;
        case CHUNK_LINE: {
          const next = this.takeBlock(buf, off, end, true);
          if (next < 0) return end;
          off = next;
          this.chunkLine(this.blk, this.blkStart, this.blkEnd);
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, end - off);
          const chunk = buf.subarray(off, off + n);
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = CHUNK_DATA_CR;
          if (this.handler.onBody(chunk) === true) return off;
          break;
        }
        case CHUNK_DATA_CR:
          if (buf[off++] !== CR) throw codecError('chunk data longer than its size');
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (buf[off++] !== LF) throw codecError('no CRLF after chunk data');
          this.beginBlock(CHUNK_LINE);
          break;
        case TRAILERS: {
          const next = this.takeBlock(buf, off, end, false);
          if (next < 0) return end;
          off = next;
          let trailers: string[] | null = null;
          if (this.blkEnd - this.blkStart > 2) {
            trailers = [];
            parseFields(this.blk, this.blkStart, this.blkEnd, trailers, this.limits.maxHeaders);
          }
          if (this.complete(trailers)) return off;
          break;
        }
        default: // TUNNEL or DEAD
          return off;
      }
    }
    return off;
  }

  /** Sets up the body after a head; true when execute must return now (pause, or the stream became a tunnel). */
  private afterHead(head: H1Head): boolean {
    const h = this.handler;
    if (this.kind === 'request') {
      if (head.upgrade) {
        this.state = TUNNEL;
        h.onHead(head);
        return true;
      }
      if (head.chunked) this.beginBlock(CHUNK_LINE);
      else if (head.contentLength > 0) this.startLength(head.contentLength);
      else return this.headAndComplete(head);
      return h.onHead(head) === true;
    }
    const status = head.status;
    if (status < 200 || status === 204) {
      if (head.chunked) throw transferEncodingNotAllowed();
      if (head.contentLength > 0) throw contentLengthNotAllowed();
    }
    if (status < 200) {
      if (status === 101) {
        this.state = TUNNEL;
        h.onHead(head);
        return true;
      }
      // An interim response: the final one follows (RFC 9110 §15.2).
      this.state = START;
      return h.onHead(head) === true;
    }
    if (this.connectNext && status < 300) {
      this.connectNext = false;
      head.upgrade = true;
      this.state = TUNNEL;
      h.onHead(head);
      return true;
    }
    if (this.noBodyNext || status === 204 || status === 304) return this.headAndComplete(head);
    if (head.chunked) this.beginBlock(CHUNK_LINE);
    else if (head.contentLength > 0) this.startLength(head.contentLength);
    else if (head.contentLength === 0) return this.headAndComplete(head);
    else {
      // No framing: the body runs to the close (RFC 9112 §6.3 item 8), so the connection cannot persist.
      head.keepAlive = false;
      this.state = BODY_CLOSE;
    }
    return h.onHead(head) === true;
  }

  /** A message without body: a pause asked by onHead takes effect after onComplete (the message is whole, and a
   * caller that got every byte consumed would otherwise never see the completion). */
  private headAndComplete(head: H1Head): boolean {
    this.state = START;
    const pause = this.handler.onHead(head) === true;
    return this.complete(null) || pause;
  }

  private startLength(n: number): void {
    this.state = BODY_LENGTH;
    this.remaining = n;
  }

  /** The message ended; true when the handler paused. */
  private complete(trailers: string[] | null): boolean {
    this.state = START;
    if (this.kind === 'response') this.noBodyNext = this.connectNext = false;
    return this.handler.onComplete(trailers) === true;
  }

  /** chunk-size [ chunk-ext ] CRLF, in b[s, e) with e past the LF. */
  private chunkLine(b: Buffer, s: number, e: number): void {
    let i = s;
    let size = 0;
    for (let d = HEX[b[i]]; d !== 255; d = HEX[b[++i]]) {
      size = size * 16 + d;
      if (size > Number.MAX_SAFE_INTEGER) throw codecError('chunk size too large');
    }
    if (i === s) throw codecError('bad chunk size');
    if (b[i] === 0x3b /* ; */) {
      const crAt = e - 2;
      for (i++; i < crAt; i++) if (CHUNK_EXT[b[i]] !== 1) throw codecError('invalid character in chunk extension');
    }
    if (i !== e - 2) throw codecError('bad chunk size line');
    if (size === 0) this.beginBlock(TRAILERS);
    else {
      this.state = CHUNK_DATA;
      this.remaining = size;
    }
  }

  // --- finding a block's end across Buffers ---

  /** Where the block found by takeBlock lies. */
  private blk: Buffer = this.acc;
  private blkStart = 0;
  private blkEnd = 0;

  private beginBlock(state: number): void {
    this.state = state;
    this.accLen = 0;
    // A connection that once sent a large split head does not keep its buffer for good.
    if (this.acc.length > KEEP_ACC) this.acc = EMPTY;
    this.scanLines = 0;
    this.scanLine = -1; // set from the offset by takeBlock
  }

  /**
   * Finds the end of the current block (a head or trailer section: up to its empty line; `single`: one chunk line)
   * starting at buf[off]. Returns the offset in buf just past it, with blk/blkStart/blkEnd set, or -1 when buf
   * ended first (its bytes are then kept in acc).
   */
  private takeBlock(buf: Buffer, off: number, end: number, single: boolean): number {
    const limit = single ? MAX_CHUNK_LINE : this.limits.maxHeadBytes;
    if (this.accLen === 0) {
      if (this.scanLine < 0) this.scanLine = off;
      const found = this.scan(buf, off, end, single, limit);
      if (found >= 0) {
        this.blk = buf;
        this.blkStart = off;
        this.blkEnd = found;
        return found;
      }
      this.keep(buf, off, end);
      this.scanLine -= off;
      return -1;
    }
    const had = this.accLen;
    // Take no more than the limit can still admit, so a large body behind a split head is not copied.
    const take = Math.min(end - off, limit + 1 - had);
    this.keep(buf, off, off + take);
    const found = this.scan(this.acc, 0, this.accLen, single, limit);
    if (found < 0) return -1; // take was all of buf, else the scan would have refused the size
    this.blk = this.acc;
    this.blkStart = 0;
    this.blkEnd = found;
    this.accLen = 0;
    return off + (found - had);
  }

  /** Appends buf[from, to) to acc. */
  private keep(buf: Buffer, from: number, to: number): void {
    const need = this.accLen + (to - from);
    if (need > this.acc.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.acc.length * 2, 256));
      this.acc.copy(grown, 0, 0, this.accLen);
      this.acc = grown;
    }
    buf.copy(this.acc, this.accLen, from, to);
    this.accLen = need;
  }

  /** Scans b from this.scanLine (a block starting at `base`, valid bytes up to `end`) for the block's end. */
  private scan(b: Buffer, base: number, end: number, single: boolean, limit: number): number {
    let line = this.scanLine;
    if (!single) {
      // The empty line right away: a trailer section without fields (or its CR came in the last piece).
      let found = -1;
      if (line + 1 < end && b[line] === CR && b[line + 1] === LF) found = line + 2;
      else {
        // Otherwise the block ends at its first CRLF CRLF: one native search for the whole block. Its lines are
        // checked when it is read (head.ts refuses a bare LF or CR there).
        const at = b.indexOf(CRLFCRLF, line - 2 > base ? line - 2 : base);
        if (at >= 0 && at + 4 <= end) found = at + 4;
      }
      if (found >= 0) {
        if (found - base > limit) throw headersTooLarge(limit);
        return found;
      }
    }
    // Not whole yet: check its complete lines now, so that a bare LF, too many fields or noise is refused at once
    // rather than when the limit is reached.
    for (;;) {
      const lf = b.indexOf(LF, line);
      if (lf < 0 || lf >= end) break;
      if (lf === line || b[lf - 1] !== CR) throw codecError('bare LF line ending');
      if (b[line] === CR && lf - 1 !== line) throw codecError('bare CR at the start of a line');
      if (lf + 1 - base > limit) throw single ? codecError('chunk line too long') : headersTooLarge(limit);
      if (single) return lf + 1;
      if (lf - 1 === line) return lf + 1; // the empty line
      // The head's start line is not a field; a trailer section has none.
      if (++this.scanLines > this.limits.maxHeaders + (this.state === HEAD ? 1 : 0)) {
        throw tooManyHeaders(this.limits.maxHeaders);
      }
      line = lf + 1;
    }
    this.scanLine = line;
    if (end - base > limit) throw single ? codecError('chunk line too long') : headersTooLarge(limit);
    if (this.state === HEAD) this.checkStartPrefix(b, base, end);
    return -1;
  }

  /** While the head is incomplete, refuse what can never become one (a TLS hello, binary noise) now rather
   * than after maxHeadBytes, as llhttp refuses a bad method byte at once. */
  private checkStartPrefix(b: Buffer, base: number, end: number): void {
    if (this.kind === 'request') {
      for (let i = base; i < end; i++) {
        const c = b[i];
        if (c === 0x20) return;
        if (TOKEN[c] !== 1) throw codecError('bad method');
      }
      return;
    }
    const n = Math.min(end - base, HTTP_PREFIX.length);
    for (let i = 0; i < n; i++) {
      if (b[base + i] !== HTTP_PREFIX[i]) throw codecError(i < 5 ? 'bad status line' : 'bad HTTP version');
    }
  }
}
