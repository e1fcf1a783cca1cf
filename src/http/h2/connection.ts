/**
 * meshctl's own HTTP/2 server connection (RFC 9113) over a socket (net or TLS): the preface, SETTINGS both ways,
 * frames read incrementally, HEADERS + CONTINUATION decoded with HPACK (hpack.ts) and checked (request-fields.ts),
 * DATA with flow control both ways, PING, RST_STREAM, GOAWAY, PRIORITY ignored, padding removed.
 *
 * Everything written in one turn of the event loop is laid into one FrameWriter and leaves in one socket write once
 * the turn's I/O callbacks have run (setImmediate): a response's HEADERS, DATA and END_STREAM together, and the
 * responses of every upstream that answered in that turn. Flushing on the next tick instead (one write per upstream
 * event) served 15.6k req/s against 18.1–19.4k here (h2load -c8 -m4, runs alternated): the write system calls are
 * most of the proxy's time. Nothing per frame is a closure.
 *
 * Error handling follows nghttp2 (Envoy's HTTP/2 codec): a malformed request is a stream error (RST_STREAM
 * PROTOCOL_ERROR); a header list over the limits is reset with INTERNAL_ERROR (Envoy's codec refuses the header in a
 * callback, which nghttp2 turns into that reset); framing, HPACK and connection flow-control violations are connection
 * errors (GOAWAY with the code, then the socket closes).
 */
import type { Socket } from 'node:net';
import { HpackDecoder, HpackEncoder, HpackError } from './hpack.js';
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  ErrorCode,
  FRAME_HEADER,
  Flag,
  FrameType,
  FrameWriter,
  MAX_WINDOW,
  PREFACE,
  Setting,
} from './frames.js';
import { checkRequestFields, checkTrailerFields, type RequestPseudo } from './request-fields.js';
import { H2Stream } from './stream.js';

export interface H2ServerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window. */
  initialStreamWindow: number;
  /** The connection's receive window (raised from 65535 with a WINDOW_UPDATE after our SETTINGS). */
  initialConnectionWindow: number;
  /** SETTINGS_HEADER_TABLE_SIZE: the HPACK table the peer may use towards us. */
  hpackTableSize: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441). */
  connectProtocol: boolean;
  /** A request's header list: bytes (RFC 9113 §6.5.2 accounting) and fields (pseudo-headers counted). */
  maxHeaderListBytes: number;
  maxHeaderCount: number;
  /** A malformed request resets only its stream; otherwise (Envoy's default) the connection is terminated too. */
  streamErrorOnInvalidMessaging: boolean;
  /** max_consecutive_inbound_frames_with_empty_payload (Envoy's default 1): more empty DATA, HEADERS or CONTINUATION
   * frames in a row than this (none ending anything) end the connection, as Envoy's inbound_empty_frames_flood. */
  maxConsecutiveEmptyFrames: number;
}

/** What the connection asks of the code serving it. */
export interface H2ServerHandler {
  /** A request's header section, checked. The handler sets `stream.owner`. `f`: name, value, ... (`count` fields). */
  h2Request(stream: H2Stream, f: string[], count: number, pseudo: RequestPseudo, endStream: boolean): void;
  /** A request refused by the codec (malformed, or over the header limits): the stream has been reset. */
  h2Refused(reason: string): void;
  /** A connection error (GOAWAY with an error code; the socket closes). */
  h2ConnectionError(code: number, reason: string): void;
  /** The connection is over (socket closed); every open stream has been told. */
  h2Closed(): void;
  /** Too many of the client's streams were reset by it before any response (rapid reset): the connection ends. */
  h2PrematureResets(): void;
  /** The last stream closed while the connection is going away, or the peer sent GOAWAY: nothing in flight. */
  h2Idle(): void;
}

const enum Phase {
  PREFACE,
  SETTINGS,
  FRAMES,
  CLOSED,
}

/** Queued output above this many bytes counts as a full socket: writers are told to wait. */
const OUTPUT_HIGH = 256 * 1024;
/** Output left unread by a peer that keeps sending frames we must answer: past this, the connection goes. */
const OUTBOUND_CONTROL_BYTES = 4 * 1024 * 1024;
/** A header block (HEADERS + CONTINUATION) is refused past this size, whatever the list limit. */
const MAX_HEADER_BLOCK = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Envoy's rapid-reset guard (ConnectionManagerImpl::maybeDrainDueToPrematureResets, runtime defaults): a stream the
 * client resets within PREMATURE_RESET_MS of opening it, before any response, is premature; once at least half of
 * PREMATURE_RESET_STREAMS streams (or, past that many, half of all closed streams) were, the connection is closed.
 */
const PREMATURE_RESET_MS = 1000;
const PREMATURE_RESET_STREAMS = 500;

function flushConnection(c: H2ServerConnection): void {
  c.flush();
}

export class H2ServerConnection {
  private phase = Phase.PREFACE;
  private rest: Buffer | null = null;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private readonly writer = new FrameWriter();
  private flushScheduled = false;
  private socketBlocked = false;
  /** Streams told to wait (wantsWritable): looked for only when some are. */
  private waitingWriters = 0;
  readonly streams = new Map<number, H2Stream>();
  /** Streams with response data waiting for window, in arrival order. */
  private waiting: H2Stream[] = [];
  /** The highest client stream id seen (GOAWAY's last-stream-id). */
  lastStreamId = 0;
  /** Streams accepted over the connection's life (max_requests_per_connection). */
  accepted = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private sendWindow = DEFAULT_WINDOW;
  private recvWindow: number;
  private connUnacked = 0;
  private readonly pseudo: RequestPseudo = { method: '', path: '', authority: '', scheme: '', protocol: '', contentLength: -1 };
  /** A header block being assembled (HEADERS without END_HEADERS, then CONTINUATION). */
  private blockStream = 0;
  private blockFlags = 0;
  private blockParts: Buffer[] | null = null;
  private blockBytes = 0;
  /** GOAWAY sent: streams above this id are not served. */
  private goawayLast = MAX_WINDOW;
  private goawaySent = false;
  private peerGoaway = false;
  private settingsAcked = false;
  /** Empty DATA/HEADERS/CONTINUATION frames in a row (the flood guard). */
  private emptyFrames = 0;
  /** Streams closed, and those the client reset prematurely (the rapid-reset guard). */
  private closedStreams = 0;
  private prematureResets = 0;

  constructor(
    readonly sock: Socket,
    private readonly opts: H2ServerOptions,
    private readonly handler: H2ServerHandler,
  ) {
    // Until the peer acknowledges our SETTINGS it may still use the default table size.
    this.decoder = new HpackDecoder(Math.max(4096, opts.hpackTableSize));
    this.recvWindow = opts.initialConnectionWindow;
    const ids: number[] = [Setting.MAX_CONCURRENT_STREAMS, Setting.INITIAL_WINDOW_SIZE, Setting.ENABLE_PUSH];
    const values: number[] = [opts.maxConcurrentStreams, opts.initialStreamWindow, 0];
    if (opts.hpackTableSize !== 4096) {
      ids.push(Setting.HEADER_TABLE_SIZE);
      values.push(opts.hpackTableSize);
    }
    if (opts.connectProtocol) {
      ids.push(Setting.ENABLE_CONNECT_PROTOCOL);
      values.push(1);
    }
    this.writer.settings(ids, values);
    if (opts.initialConnectionWindow > DEFAULT_WINDOW) {
      this.writer.u32(FrameType.WINDOW_UPDATE, 0, opts.initialConnectionWindow - DEFAULT_WINDOW);
    }
    this.schedule();
  }

  get closed(): boolean {
    return this.phase === Phase.CLOSED;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  // ---- input ----

  /** Bytes from the socket. */
  received(buf: Buffer): void {
    if (this.phase === Phase.CLOSED) return;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, buf]);
      this.rest = null;
    }
    let at = 0;
    if (this.phase === Phase.PREFACE) {
      const n = Math.min(buf.length, PREFACE.length);
      if (buf.compare(PREFACE, 0, n, 0, n) !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'bad preface');
      if (buf.length < PREFACE.length) {
        this.rest = buf;
        return;
      }
      at = PREFACE.length;
      this.phase = Phase.SETTINGS;
    }
    const end = buf.length;
    while (end - at >= FRAME_HEADER) {
      const len = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      // We never raise SETTINGS_MAX_FRAME_SIZE: 16384 is the most a peer may send.
      if (len > DEFAULT_MAX_FRAME) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'frame too large');
      if (end - at < FRAME_HEADER + len) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const p = at + FRAME_HEADER;
      at = p + len;
      this.frame(type, flags, id, buf, p, at);
      if ((this.phase as Phase) === Phase.CLOSED) return;
    }
    if (at < end) this.rest = buf.subarray(at);
  }

  private frame(type: number, flags: number, id: number, buf: Buffer, p: number, end: number): void {
    const len = end - p;
    if (this.phase === Phase.SETTINGS) {
      // RFC 9113 §3.4: the client's preface continues with a SETTINGS frame.
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'no SETTINGS after preface');
      this.phase = Phase.FRAMES;
    }
    if (this.blockParts !== null && (type !== FrameType.CONTINUATION || id !== this.blockStream)) {
      return this.fail(ErrorCode.PROTOCOL_ERROR, 'expected CONTINUATION');
    }
    // Envoy's inbound_empty_frames_flood: frames with nothing in them that end nothing (no END_STREAM on DATA, no
    // END_HEADERS on a header block fragment) cost work and carry none; a run of them ends the connection.
    if (type === FrameType.DATA || type === FrameType.HEADERS || type === FrameType.CONTINUATION) {
      const ends = type === FrameType.DATA ? (flags & Flag.END_STREAM) !== 0 : (flags & Flag.END_HEADERS) !== 0;
      if (len === 0 && !ends) {
        if (++this.emptyFrames > this.opts.maxConsecutiveEmptyFrames) return this.fail(ErrorCode.PROTOCOL_ERROR, 'too many consecutive empty frames');
      } else this.emptyFrames = 0;
    }
    switch (type) {
      case FrameType.DATA:
        return this.data(flags, id, buf, p, end);
      case FrameType.HEADERS:
        return this.headers(flags, id, buf, p, end);
      case FrameType.PRIORITY:
        if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (len !== 5) return this.resetId(id, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM:
        return this.rstStream(id, len === 4 ? buf.readUInt32BE(p) : -1);
      case FrameType.SETTINGS:
        return this.settings(flags, id, buf, p, end);
      case FrameType.PUSH_PROMISE:
        return this.fail(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      case FrameType.PING:
        if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
        if (len !== 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'PING size');
        if ((flags & Flag.ACK) === 0) {
          this.writer.frame(FrameType.PING, Flag.ACK, 0, buf, p, end);
          this.controlQueued();
        }
        return;
      case FrameType.GOAWAY:
        if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
        if (len < 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY size');
        this.peerGoaway = true;
        if (this.streams.size === 0) this.handler.h2Idle();
        return;
      case FrameType.WINDOW_UPDATE:
        if (len !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
        return this.windowUpdate(id, buf.readUInt32BE(p) & 0x7fffffff);
      case FrameType.CONTINUATION:
        if (this.blockParts === null) return this.fail(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION without HEADERS');
        return this.blockFragment(flags, buf.subarray(p, end));
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  private data(flags: number, id: number, buf: Buffer, p: number, end: number): void {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const len = end - p;
    this.recvWindow -= len;
    if (this.recvWindow < 0) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    const s = this.streams.get(id);
    if (s === undefined || s.remoteEnded) {
      // A stream never opened is a connection error; one closed (or reset by us) has its frame dropped.
      if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA on an idle stream');
      this.giveBack(null, len);
      if (s !== undefined) this.reset(s, ErrorCode.STREAM_CLOSED);
      return;
    }
    s.recvWindow -= len;
    if (s.recvWindow < 0) {
      this.giveBack(null, len);
      return this.reset(s, ErrorCode.FLOW_CONTROL_ERROR);
    }
    let from = p;
    let to = end;
    if ((flags & Flag.PADDED) !== 0) {
      if (len < 1) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA padding');
      const pad = buf[p]!;
      if (pad >= len) return this.fail(ErrorCode.PROTOCOL_ERROR, 'DATA padding');
      from = p + 1;
      to = end - pad;
      // Padding and its length octet are consumed at once: only the payload waits for its reader.
      this.giveBack(s, len - (to - from));
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const n = to - from;
    s.received += n;
    if (s.contentLength >= 0 && (s.received > s.contentLength || (endStream && s.received !== s.contentLength))) {
      // RFC 9113 §8.1.1: a content-length that the DATA frames contradict makes the request malformed.
      this.giveBack(null, n);
      return this.malformed(s, s.id, 'content-length mismatch');
    }
    if (endStream) s.remoteEnded = true;
    if (n === 0 && !endStream) return;
    const owner = s.owner;
    if (owner !== null) owner.streamData(n === 0 ? EMPTY : buf.subarray(from, to), endStream);
    else this.giveBack(s, n);
    if (endStream) this.maybeClose(s);
  }

  private headers(flags: number, id: number, buf: Buffer, p: number, end: number): void {
    if (id === 0 || (id & 1) === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS on a bad stream id');
    let from = p;
    let to = end;
    if ((flags & Flag.PADDED) !== 0) {
      if (to - from < 1) return this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS padding');
      const pad = buf[from]!;
      from++;
      if (pad > to - from) return this.fail(ErrorCode.PROTOCOL_ERROR, 'HEADERS padding');
      to -= pad;
    }
    if ((flags & Flag.PRIORITY) !== 0) {
      if (to - from < 5) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS priority');
      from += 5;
    }
    this.blockStream = id;
    this.blockFlags = flags;
    this.blockBytes = 0;
    this.blockParts = [];
    this.blockFragment(flags, buf.subarray(from, to));
  }

  private blockFragment(flags: number, part: Buffer): void {
    this.blockBytes += part.length;
    if (this.blockBytes > Math.max(MAX_HEADER_BLOCK, 2 * this.opts.maxHeaderListBytes)) {
      return this.fail(ErrorCode.ENHANCE_YOUR_CALM, 'header block too large');
    }
    this.blockParts!.push(part);
    if ((flags & Flag.END_HEADERS) === 0) return;
    const parts = this.blockParts!;
    this.blockParts = null;
    // A block that arrived in one frame is decoded in place; one split over CONTINUATION frames is joined.
    const block = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.blockBytes);
    this.headerBlock(this.blockStream, (this.blockFlags & Flag.END_STREAM) !== 0, block);
  }

  private headerBlock(id: number, endStream: boolean, block: Buffer): void {
    const f: string[] = [];
    let count: number;
    try {
      count = this.decoder.decode(block, f, this.opts.maxHeaderListBytes);
    } catch (e) {
      if (e instanceof HpackError) return this.fail(ErrorCode.COMPRESSION_ERROR, 'HPACK');
      throw e;
    }
    const existing = this.streams.get(id);
    if (existing !== undefined) return this.trailers(existing, f, count, endStream);
    if (id <= this.lastStreamId) {
      // A stream already closed (or reset by us): its late trailers are dropped; anything else is an error.
      if (endStream) return;
      return this.fail(ErrorCode.STREAM_CLOSED, 'HEADERS on a closed stream');
    }
    this.lastStreamId = id;
    if (this.goawaySent && id > this.goawayLast) return;
    const s = new H2Stream(id, this.peerInitialWindow, this.opts.initialStreamWindow);
    if (this.streams.size >= this.opts.maxConcurrentStreams) {
      this.writeReset(id, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (count < 0 || count > this.opts.maxHeaderCount) {
      this.handler.h2Refused('header list too large');
      return this.writeReset(id, ErrorCode.INTERNAL_ERROR);
    }
    const pseudo = this.pseudo;
    const bad = checkRequestFields(f, count, this.opts.connectProtocol, pseudo);
    if (bad !== null) {
      return this.malformed(null, id, bad);
    }
    if (endStream && pseudo.contentLength > 0) return this.malformed(null, id, 'content-length mismatch');
    s.contentLength = pseudo.contentLength;
    s.remoteEnded = endStream;
    this.streams.set(id, s);
    this.accepted++;
    this.handler.h2Request(s, f, count, pseudo, endStream);
  }

  private trailers(s: H2Stream, f: string[], count: number, endStream: boolean): void {
    if (s.remoteEnded) return this.reset(s, ErrorCode.STREAM_CLOSED);
    // RFC 9113 §8.1: a second HEADERS is trailers and must end the stream.
    const bad = !endStream ? 'trailers without END_STREAM' : count < 0 ? 'trailers too large' : checkTrailerFields(f, count);
    if (bad !== null || (s.contentLength >= 0 && s.received !== s.contentLength)) {
      return this.malformed(s, s.id, bad ?? 'content-length mismatch');
    }
    s.remoteEnded = true;
    s.owner?.streamTrailers(f, count);
    this.maybeClose(s);
  }

  private rstStream(id: number, code: number): void {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (code < 0) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM size');
    if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const s = this.streams.get(id);
    if (s === undefined) return;
    if (!s.headersSent && performance.now() - s.openedAt <= PREMATURE_RESET_MS) this.prematureResets++;
    this.drop(s);
    s.owner?.streamReset(code);
    const limit = PREMATURE_RESET_STREAMS;
    if (this.prematureResets * 2 >= (this.closedStreams < limit ? limit : this.closedStreams)) this.handler.h2PrematureResets();
  }

  private settings(flags: number, id: number, buf: Buffer, p: number, end: number): void {
    if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (end !== p) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with payload');
      if (!this.settingsAcked) {
        this.settingsAcked = true;
        this.decoder.setMaxTableSize(this.opts.hpackTableSize);
      }
      return;
    }
    if ((end - p) % 6 !== 0) return this.fail(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS size');
    for (let at = p; at < end; at += 6) {
      const key = buf.readUInt16BE(at);
      const value = buf.readUInt32BE(at + 2);
      switch (key) {
        case Setting.HEADER_TABLE_SIZE:
          this.encoder.setPeerMaxTableSize(value);
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) return this.fail(ErrorCode.PROTOCOL_ERROR, 'ENABLE_PUSH');
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'INITIAL_WINDOW_SIZE');
          // RFC 9113 §6.9.2: the change applies to every open stream's send window.
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'window overflow');
          }
          if (delta > 0) this.sendWaiting();
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME || value > 16777215) return this.fail(ErrorCode.PROTOCOL_ERROR, 'MAX_FRAME_SIZE');
          this.peerMaxFrame = value;
          break;
        default:
          // MAX_CONCURRENT_STREAMS (we push nothing), MAX_HEADER_LIST_SIZE (advisory), unknown ids: nothing to do.
          break;
      }
    }
    this.writer.frame(FrameType.SETTINGS, Flag.ACK, 0, null);
    this.controlQueued();
  }

  /**
   * A frame the peer's own frames made us queue (PING and SETTINGS acknowledgements, RST_STREAM). A peer that sends
   * them without reading the answers would grow our output without end: past OUTBOUND_CONTROL_BYTES left unread in
   * the socket, the connection is terminated (Envoy's max_outbound_control_frames guard, ENHANCE_YOUR_CALM).
   */
  private controlQueued(): void {
    if (this.socketBlocked && this.sock.writableLength + this.writer.queued > OUTBOUND_CONTROL_BYTES) {
      this.fail(ErrorCode.ENHANCE_YOUR_CALM, 'outbound frame flood');
      this.sock.destroy();
      return;
    }
    this.schedule();
  }

  private windowUpdate(id: number, inc: number): void {
    if (id === 0) {
      if (inc === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.sendWindow += inc;
      if (this.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, 'connection window overflow');
      this.sendWaiting();
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
      return;
    }
    if (inc === 0) return this.reset(s, ErrorCode.PROTOCOL_ERROR);
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) return this.reset(s, ErrorCode.FLOW_CONTROL_ERROR);
    if (s.outBytes > 0) {
      this.sendQueued(s);
      this.tellWritable(s);
    }
  }

  // ---- receive flow control ----

  /** The owner has consumed `n` body bytes of `s` (null: bytes nobody reads): the window is given back once half of it
   * is used, as nghttp2 does. */
  giveBack(s: H2Stream | null, n: number): void {
    if (n <= 0 || this.phase === Phase.CLOSED) return;
    this.connUnacked += n;
    if (this.connUnacked >= this.opts.initialConnectionWindow >>> 1) {
      this.writer.u32(FrameType.WINDOW_UPDATE, 0, this.connUnacked);
      this.recvWindow += this.connUnacked;
      this.connUnacked = 0;
      this.schedule();
    }
    if (s === null || s.remoteEnded || s.closed) return;
    s.unacked += n;
    if (s.unacked >= this.opts.initialStreamWindow >>> 1) {
      this.writer.u32(FrameType.WINDOW_UPDATE, s.id, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
      this.schedule();
    }
  }

  // ---- output ----

  /** Whether a stream may take more response data now (its queue empty, the socket not backed up). */
  writable(s: H2Stream): boolean {
    return s.outBytes === 0 && !this.socketBlocked && this.writer.queued < OUTPUT_HIGH;
  }

  /** The response's header section (`f`: name, value, ...; `:status` first). */
  sendHeaders(s: H2Stream, f: readonly string[], count: number, endStream: boolean): void {
    if (s.closed || s.localEnded) return;
    s.headersSent = true;
    this.headerFrames(s.id, this.encoder.encode(f, count), endStream);
    if (endStream) this.localEnd(s);
    this.schedule();
  }

  /** Response body bytes; `end` ends the stream after them. Returns false when the caller should wait for
   * streamWritable() (the peer's window or the socket is full); the bytes are kept either way. */
  sendData(s: H2Stream, chunk: Buffer, end: boolean): boolean {
    if (s.closed || s.localEnded || s.endQueued) return true;
    if (s.outBytes > 0) {
      if (chunk.length > 0) {
        s.out!.push(chunk);
        s.outBytes += chunk.length;
      }
      if (end) s.endQueued = true;
    } else {
      const sent = this.dataFrames(s, chunk, 0, end);
      if (sent < chunk.length) {
        this.enqueue(s, chunk.subarray(sent));
        if (end) s.endQueued = true;
      } else if (end) this.localEnd(s);
    }
    this.schedule();
    if (this.writable(s)) return true;
    if (!s.wantsWritable) {
      s.wantsWritable = true;
      this.waitingWriters++;
    }
    return false;
  }

  /** Trailers end the stream, after any data still waiting for window. */
  sendTrailers(s: H2Stream, f: string[], count: number): void {
    if (s.closed || s.localEnded || s.endQueued) return;
    if (s.outBytes > 0) {
      s.trailers = f;
      s.trailerCount = count;
      s.endQueued = true;
      return;
    }
    this.headerFrames(s.id, this.encoder.encode(f, count), true);
    this.localEnd(s);
    this.schedule();
  }

  /**
   * A malformed request (RFC 9113 §8.1.1): RST_STREAM PROTOCOL_ERROR, as nghttp2 sends it; then, unless stream errors
   * are allowed (stream_error_on_invalid_http_messaging), the whole connection is terminated, Envoy's default.
   */
  private malformed(s: H2Stream | null, id: number, why: string): void {
    this.handler.h2Refused(why);
    if (s !== null) this.reset(s, ErrorCode.PROTOCOL_ERROR);
    else this.writeReset(id, ErrorCode.PROTOCOL_ERROR);
    if (!this.opts.streamErrorOnInvalidMessaging) this.fail(ErrorCode.PROTOCOL_ERROR, why);
  }

  /** Our RST_STREAM: the stream is dropped (its owner is not told; it asked). */
  reset(s: H2Stream, code: number): void {
    if (s.closed) return;
    this.drop(s);
    this.writeReset(s.id, code);
    const owner = s.owner;
    s.owner = null;
    owner?.streamReset(code);
  }

  /** GOAWAY: `last` is the highest stream id that will still be served. */
  goaway(last: number, code: number): void {
    if (this.phase === Phase.CLOSED) return;
    this.goawaySent = true;
    this.goawayLast = last;
    this.writer.goaway(last, code);
    this.schedule();
  }

  /** A connection error: GOAWAY with `code`, then the socket is closed once the frame is out. */
  fail(code: number, why: string): void {
    if (this.phase === Phase.CLOSED) return;
    this.handler.h2ConnectionError(code, why);
    this.writer.goaway(this.lastStreamId, code);
    this.flush();
    this.close();
    this.sock.end();
    setTimeout(destroySocket, 1000, this.sock).unref();
  }

  /** The socket is gone, or the connection failed: every open stream is reset for its owner. */
  close(): void {
    if (this.phase === Phase.CLOSED) return;
    this.phase = Phase.CLOSED;
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.waiting = [];
    for (const s of streams) {
      s.closed = true;
      s.owner?.streamReset(ErrorCode.CANCEL);
    }
    this.handler.h2Closed();
  }

  /** The socket drained: streams that were told to wait may write again. */
  drained(): void {
    this.socketBlocked = false;
    if (this.writer.queued >= OUTPUT_HIGH || this.waitingWriters === 0) return;
    for (const s of this.streams.values()) if (s.wantsWritable && s.outBytes === 0) this.tellWritable(s);
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(flushConnection, this);
  }

  /** Writes what this turn produced, in one socket write (several buffers go out corked: one writev). */
  flush(): void {
    this.flushScheduled = false;
    if (this.writer.empty) return;
    const sock = this.sock;
    const out = this.writer.take();
    if (sock.destroyed) return;
    let ok: boolean;
    if (out.length === 1) ok = sock.write(out[0]!);
    else {
      sock.cork();
      ok = true;
      for (let i = 0; i < out.length; i++) ok = sock.write(out[i]!);
      sock.uncork();
    }
    if (!ok) this.socketBlocked = true;
    // Streams that waited only for this turn's output to leave (it was over OUTPUT_HIGH) may write on.
    else if (this.waitingWriters > 0) this.drained();
  }

  private headerFrames(id: number, block: Buffer, endStream: boolean): void {
    const max = this.peerMaxFrame;
    const first = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.writer.frame(FrameType.HEADERS, first | Flag.END_HEADERS, id, block);
      return;
    }
    this.writer.frame(FrameType.HEADERS, first, id, block, 0, max);
    for (let at = max; at < block.length; at += max) {
      const to = Math.min(block.length, at + max);
      this.writer.frame(FrameType.CONTINUATION, to === block.length ? Flag.END_HEADERS : 0, id, block, at, to);
    }
  }

  /** DATA frames for `chunk[from..]` as far as the windows allow; returns the offset reached. END_STREAM goes on the
   * last frame when `end` and everything fit. */
  private dataFrames(s: H2Stream, chunk: Buffer, from: number, end: boolean): number {
    const len = chunk.length;
    if (from === len) {
      if (end && !this.writer.endLastData(s.id)) this.writer.frame(FrameType.DATA, Flag.END_STREAM, s.id, null);
      return len;
    }
    let at = from;
    while (at < len) {
      const room = Math.min(s.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (room <= 0) break;
      const to = Math.min(len, at + room);
      const n = to - at;
      s.sendWindow -= n;
      this.sendWindow -= n;
      this.writer.frame(FrameType.DATA, end && to === len ? Flag.END_STREAM : 0, s.id, chunk, at, to);
      at = to;
    }
    return at;
  }

  private enqueue(s: H2Stream, rest: Buffer): void {
    if (s.out === null) s.out = [];
    s.out.push(rest);
    s.outBytes += rest.length;
    if (!s.queued) {
      s.queued = true;
      this.waiting.push(s);
    }
  }

  /** Sends what a stream has queued as far as the windows allow; its end (data's END_STREAM or trailers) after. */
  private sendQueued(s: H2Stream): void {
    const out = s.out!;
    while (out.length > 0) {
      const chunk = out[0]!;
      const last = out.length === 1 && s.endQueued && s.trailers === null;
      const sent = this.dataFrames(s, chunk, 0, last);
      s.outBytes -= sent;
      if (sent < chunk.length) {
        out[0] = chunk.subarray(sent);
        this.schedule();
        return;
      }
      out.shift();
      if (last) {
        this.localEnd(s);
        this.schedule();
        return;
      }
    }
    if (s.endQueued) {
      if (s.trailers !== null) {
        this.headerFrames(s.id, this.encoder.encode(s.trailers, s.trailerCount), true);
        s.trailers = null;
      } else this.writer.frame(FrameType.DATA, Flag.END_STREAM, s.id, null);
      this.localEnd(s);
    }
    this.schedule();
  }

  /** The connection's window opened: streams waiting for it go on, in order. */
  private sendWaiting(): void {
    const list = this.waiting;
    if (list.length === 0) return;
    this.waiting = [];
    for (const s of list) {
      s.queued = false;
      if (s.closed || s.outBytes === 0 && !s.endQueued) continue;
      if (this.sendWindow > 0) this.sendQueued(s);
      if (s.outBytes > 0 && !s.closed) {
        s.queued = true;
        this.waiting.push(s);
      } else this.tellWritable(s);
    }
  }

  private tellWritable(s: H2Stream): void {
    if (!s.wantsWritable || s.outBytes > 0 || s.closed && !s.localEnded) return;
    if (this.socketBlocked || this.writer.queued >= OUTPUT_HIGH) return;
    s.wantsWritable = false;
    this.waitingWriters--;
    s.owner?.streamWritable();
  }

  private localEnd(s: H2Stream): void {
    s.localEnded = true;
    s.endQueued = false;
    s.out = null;
    s.outBytes = 0;
    if (s.remoteEnded) return this.maybeClose(s);
    // The response is whole before the request: the rest of the request is not wanted (RFC 9113 §8.1).
    this.drop(s);
    this.writeReset(s.id, ErrorCode.NO_ERROR);
  }

  private maybeClose(s: H2Stream): void {
    if (s.remoteEnded && s.localEnded && !s.closed) this.drop(s);
  }

  private drop(s: H2Stream): void {
    s.closed = true;
    this.closedStreams++;
    if (s.wantsWritable) {
      s.wantsWritable = false;
      this.waitingWriters--;
    }
    this.streams.delete(s.id);
    // Going away (either side), or the peer half-closed: the last stream's end is the connection's.
    if (this.streams.size === 0 && (this.goawaySent || this.peerGoaway || !this.sock.readable)) this.handler.h2Idle();
  }

  private writeReset(id: number, code: number): void {
    this.writer.u32(FrameType.RST_STREAM, id, code);
    this.controlQueued();
  }

  /** A frame on a stream that is not open is answered with RST_STREAM. */
  private resetId(id: number, code: number): void {
    const s = this.streams.get(id);
    if (s !== undefined) this.reset(s, code);
    else this.writeReset(id, code);
  }
}

function destroySocket(sock: Socket): void {
  sock.destroy();
}

