/**
 * HTTP/2 framing (RFC 9113 §4, §6): frame types, flags, error codes, setting ids, and the writer that lays frames
 * into one per-connection output so that everything produced in one I/O turn leaves in one socket write.
 *
 * The writer carves frame headers and small payloads out of a slab it owns (never rewritten once handed to the
 * socket: a full slab is replaced, not reused) and keeps large DATA payloads as references to the caller's Buffer
 * (no copy).
 */

export const FRAME_HEADER = 9;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const enum FrameType {
  DATA = 0,
  HEADERS = 1,
  PRIORITY = 2,
  RST_STREAM = 3,
  SETTINGS = 4,
  PUSH_PROMISE = 5,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9,
}

export const enum Flag {
  END_STREAM = 0x1,
  ACK = 0x1,
  END_HEADERS = 0x4,
  PADDED = 0x8,
  PRIORITY = 0x20,
}

/** RFC 9113 §7. */
export const enum ErrorCode {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  CONNECT_ERROR = 0xa,
  ENHANCE_YOUR_CALM = 0xb,
  INADEQUATE_SECURITY = 0xc,
  HTTP_1_1_REQUIRED = 0xd,
}

export const enum Setting {
  HEADER_TABLE_SIZE = 0x1,
  ENABLE_PUSH = 0x2,
  MAX_CONCURRENT_STREAMS = 0x3,
  INITIAL_WINDOW_SIZE = 0x4,
  MAX_FRAME_SIZE = 0x5,
  MAX_HEADER_LIST_SIZE = 0x6,
  ENABLE_CONNECT_PROTOCOL = 0x8,
}

export const DEFAULT_WINDOW = 65535;
export const MAX_WINDOW = 2 ** 31 - 1;
export const DEFAULT_MAX_FRAME = 16384;

const SLAB = 64 * 1024;
/** DATA payloads up to this size are copied next to their frame header; larger ones are referenced. */
const COPY_BELOW = 2048;

export class FrameWriter {
  private slab = Buffer.allocUnsafe(SLAB);
  private pos = 0;
  /** Start of the slab region not yet moved to `out`. */
  private start = 0;
  private out: Buffer[] = [];
  /** Bytes queued (the socket has not been given them yet). */
  queued = 0;

  get empty(): boolean {
    return this.queued === 0;
  }

  /** Room for `n` bytes in the slab; returns the offset to write at. */
  private reserve(n: number): number {
    if (this.pos + n > this.slab.length) {
      this.close();
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, n));
      this.pos = 0;
      this.start = 0;
    }
    const at = this.pos;
    this.pos += n;
    this.queued += n;
    return at;
  }

  /** Moves the slab's pending region to the output list. */
  private close(): void {
    if (this.pos > this.start) {
      this.out.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }

  /** The last frame queued (slab offset of its header; -1 when nothing is queued or it has gone). */
  private lastAt = -1;
  private lastStream = 0;

  /**
   * Ends `stream` by setting END_STREAM on its DATA frame when that is the last frame queued: a response whose end
   * follows its last body bytes in the same turn needs no empty DATA frame of its own. False when it cannot.
   */
  endLastData(stream: number): boolean {
    const at = this.lastAt;
    if (at < 0 || this.lastStream !== stream || this.slab[at + 3] !== FrameType.DATA) return false;
    this.slab[at + 4] = this.slab[at + 4]! | Flag.END_STREAM;
    return true;
  }

  private header(at: number, length: number, type: number, flags: number, stream: number): void {
    this.lastAt = at;
    this.lastStream = stream;
    const s = this.slab;
    s[at] = length >>> 16;
    s[at + 1] = (length >>> 8) & 0xff;
    s[at + 2] = length & 0xff;
    s[at + 3] = type;
    s[at + 4] = flags;
    s.writeUInt32BE(stream, at + 5);
  }

  /** A frame whose payload is `payload[from, to)`. */
  frame(type: number, flags: number, stream: number, payload: Uint8Array | null, from = 0, to = payload?.length ?? 0): void {
    const len = to - from;
    if (payload !== null && len >= COPY_BELOW) {
      this.header(this.reserve(FRAME_HEADER), len, type, flags, stream);
      this.close();
      this.out.push(Buffer.isBuffer(payload) ? payload.subarray(from, to) : Buffer.from(payload.buffer, payload.byteOffset + from, len));
      this.queued += len;
      return;
    }
    const at = this.reserve(FRAME_HEADER + len);
    this.header(at, len, type, flags, stream);
    if (len > 0) this.slab.set(payload!.subarray(from, to), at + FRAME_HEADER);
  }

  settings(ids: readonly number[], values: readonly number[]): void {
    const n = ids.length;
    const at = this.reserve(FRAME_HEADER + 6 * n);
    this.header(at, 6 * n, FrameType.SETTINGS, 0, 0);
    for (let i = 0; i < n; i++) {
      this.slab.writeUInt16BE(ids[i]!, at + FRAME_HEADER + 6 * i);
      this.slab.writeUInt32BE(values[i]!, at + FRAME_HEADER + 6 * i + 2);
    }
  }

  /** A frame whose payload is one 32-bit value (RST_STREAM, WINDOW_UPDATE). */
  u32(type: number, stream: number, value: number): void {
    const at = this.reserve(FRAME_HEADER + 4);
    this.header(at, 4, type, 0, stream);
    this.slab.writeUInt32BE(value >>> 0, at + FRAME_HEADER);
  }

  goaway(lastStream: number, code: number): void {
    const at = this.reserve(FRAME_HEADER + 8);
    this.header(at, 8, FrameType.GOAWAY, 0, 0);
    this.slab.writeUInt32BE(lastStream, at + FRAME_HEADER);
    this.slab.writeUInt32BE(code, at + FRAME_HEADER + 4);
  }

  /** Everything queued since the last take, in order; the writer starts empty again. */
  take(): Buffer[] {
    this.close();
    this.lastAt = -1;
    const out = this.out;
    this.out = [];
    this.queued = 0;
    return out;
  }
}
