/**
 * HPACK (RFC 7541): header compression for meshctl's own HTTP/2 codec. The decoder reads the header blocks a peer
 * sends (requests, on the proxy's hot path); the encoder writes ours (responses). Strings are latin1 both ways, one
 * char per octet, as the HTTP/1.1 codec keeps header bytes: obs-text passes through unchanged. Whether names and
 * values are valid HTTP (case, pseudo-headers, connection headers) is the caller's judgement; this layer decodes
 * exactly what a block says and refuses only what HPACK itself forbids.
 */
import { huffmanDecode, huffmanEncode, huffmanLength } from './huffman.js';
import { STATIC_COUNT, STATIC_NAME_INDEX, STATIC_NAMES, STATIC_VALUES } from './static-table.js';

/** A malformed header block: the connection's COMPRESSION_ERROR (RFC 7540 §4.3). */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}

/** HTTP/2's initial SETTINGS_HEADER_TABLE_SIZE (RFC 7540 §6.5.2): both encoders start with this table size. */
const DEFAULT_TABLE_SIZE = 4096;
/** RFC 7541 §4.1: an entry's size is its name's and value's octets plus 32. */
const ENTRY_OVERHEAD = 32;
/**
 * The largest integer we accept (RFC 7541 §5.1 leaves the limit to the implementation). Lengths and indexes beyond
 * it cannot be honest in a frame-bounded block; the bound also keeps the arithmetic exact.
 */
const MAX_INT = 0x7fffffff;

// --- decoder --------------------------------------------------------------------------------------------------

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the peer's table size updates may not exceed it. */
  private setting: number;
  /** The table's maximum size, as the peer's last dynamic table size update set it. */
  private capacity: number;
  private size = 0;
  /** The dynamic table as a ring, newest at `head - 1`; slots grow by doubling. */
  private names: string[] = new Array<string>(16).fill('');
  private values: string[] = new Array<string>(16).fill('');
  private mask = 15;
  private head = 0;
  private count = 0;
  /**
   * Our setting fell below the table's size: the next block must open with a size update of at most
   * `updateAtMost` (RFC 7541 §4.2; the lowest setting since, if it changed more than once).
   */
  private updateRequired = false;
  private updateAtMost = 0;
  /** Read position in the block being decoded (shared by the helpers so they need not return pairs). */
  private pos = 0;

  /**
   * `maxTableSize`: our SETTINGS_HEADER_TABLE_SIZE (default 4096), the bound for the peer's table size updates and
   * the table's size until the peer sends an update. A value below HTTP/2's initial 4096 is safe only once the peer
   * has applied it (until our SETTINGS reach it, its encoder may fill 4096 octets, and entries we evicted early
   * would be missing); announce it by constructing with 4096 and calling setMaxTableSize() on the ACK.
   */
  constructor(maxTableSize = DEFAULT_TABLE_SIZE) {
    this.setting = maxTableSize;
    this.capacity = maxTableSize;
  }

  /** Our SETTINGS_HEADER_TABLE_SIZE changed (after the peer ACKed the SETTINGS). */
  setMaxTableSize(n: number): void {
    this.setting = n;
    if (this.capacity > n) {
      this.updateAtMost = this.updateRequired ? Math.min(this.updateAtMost, n) : n;
      this.updateRequired = true;
    }
  }

  /** The dynamic table's current size in octets (RFC 7541 §4.1). */
  get dynamicTableSize(): number {
    return this.size;
  }

  /** The dynamic table's entries, newest first, as [name, value] pairs (for tests and diagnostics). */
  dynamicTable(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 1; i <= this.count; i++) {
      const slot = (this.head - i) & this.mask;
      out.push([this.names[slot]!, this.values[slot]!]);
    }
    return out;
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION fragments joined) into `out` as
   * name, value, name, value, ... (out is reused by the caller: written from index 0, never truncated). Returns the
   * number of FIELDS (pairs). Throws HpackError on a malformed block. `maxListSize`: RFC 7540 §6.5.2 accounting
   * (name octets + value octets + 32 per field); when the block exceeds it, the whole block is still decoded (the
   * dynamic table must stay in sync), nothing more is written to `out`, and the return value is -1.
   */
  decode(block: Uint8Array, out: string[], maxListSize: number): number {
    const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = buf.length;
    let fields = 0;
    let listSize = 0;
    let opening = true;
    let lowestUpdate = MAX_INT + 1;
    this.pos = 0;
    while (this.pos < end) {
      const b = buf[this.pos++]!;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed header field (§6.1).
        let index = b & 0x7f;
        if (index === 0x7f) index = this.continueInt(buf, end, index);
        if (index === 0) throw new HpackError('header field index 0');
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index - 1]!;
          value = STATIC_VALUES[index - 1]!;
        } else {
          const slot = this.slotOf(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (b >= 0x40) {
        // Literal with incremental indexing (§6.2.1).
        let index = b & 0x3f;
        if (index === 0x3f) index = this.continueInt(buf, end, index);
        name = index === 0 ? this.readString(buf, end) : this.nameAt(index);
        value = this.readString(buf, end);
        this.insert(name, value);
      } else if (b >= 0x20) {
        // Dynamic table size update (§6.3): only before the first field of a block (§4.2).
        if (!opening) throw new HpackError('dynamic table size update after a header field');
        let n = b & 0x1f;
        if (n === 0x1f) n = this.continueInt(buf, end, n);
        if (n > this.setting) throw new HpackError(`dynamic table size update to ${n} above the setting ${this.setting}`);
        if (n < lowestUpdate) lowestUpdate = n;
        this.capacity = n;
        this.evictTo(n);
        continue;
      } else {
        // Literal without indexing (0000, §6.2.2) or never indexed (0001, §6.2.3).
        let index = b & 0x0f;
        if (index === 0x0f) index = this.continueInt(buf, end, index);
        name = index === 0 ? this.readString(buf, end) : this.nameAt(index);
        value = this.readString(buf, end);
      }
      if (opening) {
        opening = false;
        this.checkRequiredUpdate(lowestUpdate);
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize <= maxListSize) {
        out[2 * fields] = name;
        out[2 * fields + 1] = value;
      }
      fields++;
    }
    if (opening) this.checkRequiredUpdate(lowestUpdate);
    return listSize > maxListSize ? -1 : fields;
  }

  private checkRequiredUpdate(lowestUpdate: number): void {
    if (!this.updateRequired) return;
    if (lowestUpdate > this.updateAtMost) {
      throw new HpackError(
        `the block must open with a dynamic table size update of at most ${this.updateAtMost} (SETTINGS_HEADER_TABLE_SIZE was lowered)`,
      );
    }
    this.updateRequired = false;
  }

  /** The rest of an integer whose prefix was all ones (`prefix` = 2^N − 1), from this.pos (§5.1). */
  private continueInt(buf: Buffer, end: number, prefix: number): number {
    let value = prefix;
    let scale = 1;
    for (;;) {
      if (this.pos >= end) throw new HpackError('truncated integer');
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (value > MAX_INT) throw new HpackError('integer overflow');
      if (b < 0x80) return value;
      scale *= 128;
      // Continuation octets of zero add nothing; more than five of them cannot be an integer below 2^31.
      if (scale > 2 ** 35) throw new HpackError('integer overflow');
    }
  }

  /** A string literal (§5.2) at this.pos. */
  private readString(buf: Buffer, end: number): string {
    if (this.pos >= end) throw new HpackError('truncated string literal');
    const b = buf[this.pos++]!;
    let len = b & 0x7f;
    if (len === 0x7f) len = this.continueInt(buf, end, len);
    const start = this.pos;
    if (len > end - start) throw new HpackError('string literal longer than the block');
    this.pos = start + len;
    if (b < 0x80) return buf.latin1Slice(start, start + len);
    const s = huffmanDecode(buf, start, start + len);
    if (s === null) throw new HpackError('invalid Huffman-coded string (EOS, or padding not of at most 7 one-bits)');
    return s;
  }

  private nameAt(index: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index - 1]! : this.names[this.slotOf(index)]!;
  }

  /** The ring slot of dynamic `index` (> 61). */
  private slotOf(index: number): number {
    const d = index - STATIC_COUNT;
    if (d > this.count) throw new HpackError(`header field index ${index} beyond the tables (${STATIC_COUNT + this.count})`);
    return (this.head - d) & this.mask;
  }

  private insert(name: string, value: string): void {
    const entry = name.length + value.length + ENTRY_OVERHEAD;
    // §4.4: an entry larger than the table empties it and is not added.
    if (entry > this.capacity) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - entry);
    if (this.count > this.mask) this.grow();
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.head = (this.head + 1) & this.mask;
    this.count++;
    this.size += entry;
  }

  /** Evicts the oldest entries until the table holds at most `limit` octets. */
  private evictTo(limit: number): void {
    while (this.size > limit) {
      const slot = (this.head - this.count) & this.mask;
      this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }

  private grow(): void {
    const n = this.mask + 1;
    const names = new Array<string>(2 * n).fill('');
    const values = new Array<string>(2 * n).fill('');
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head - this.count + i) & this.mask;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
    }
    this.names = names;
    this.values = values;
    this.mask = 2 * n - 1;
    this.head = this.count;
  }
}

// --- encoder --------------------------------------------------------------------------------------------------

/**
 * The largest dynamic table the encoder keeps, whatever the peer allows: 4 KiB holds a response's repeated fields
 * many times over, and bounds each connection's memory.
 */
const ENCODER_TABLE_LIMIT = 4096;
/** Ring slots: the most entries ENCODER_TABLE_LIMIT can hold (every entry is at least 32 octets). */
const RING = ENCODER_TABLE_LIMIT / ENTRY_OVERHEAD;

/** Names sent as "never indexed" (§6.2.3, §7.1.3): credentials, which no intermediary should put in a table. */
const NEVER_INDEXED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
/**
 * Names whose values seldom repeat from one response to the next: each new value would push a useful entry out of
 * the table. They are sent as literals without indexing, naming the static entry or, when the name has none, a
 * dynamic entry (one is inserted, once, so the name is not spelled out every time).
 */
const UNIQUE_VALUES = new Set([
  'content-length',
  'etag',
  'age',
  'last-modified',
  'expires',
  'content-range',
  'x-request-id',
  'x-envoy-upstream-service-time',
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-amzn-trace-id',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'grpc-message',
]);

/** The encoders' shared scratch buffer (grown, never shrunk). */
let scratch = Buffer.allocUnsafeSlow(4096);

export interface HpackEncoderOptions {
  /**
   * Huffman-code the literals that enter the dynamic table, when that makes them shorter (default true). They are
   * sent once per connection, so the octets saved cost little; literals sent on every response (content-length,
   * never-indexed and unique values) stay raw, which bench/hpack.ts measures as the cheaper steady state (RFC 7541
   * §5.2 lets each string choose). false: every literal raw.
   */
  huffman?: boolean;
}

export class HpackEncoder {
  private readonly huffman: boolean;
  /** The dynamic table's maximum size: min(the peer's setting, ENCODER_TABLE_LIMIT). */
  private capacity = DEFAULT_TABLE_SIZE;
  private size = 0;
  /** The table size the peer's decoder last heard of (HTTP/2 starts at 4096). */
  private signalled = DEFAULT_TABLE_SIZE;
  /** Size updates owed at the start of the next block: the lowest capacity since the last block, then the current. */
  private updatePending = false;
  private updateLowest = 0;
  /** The table as a ring indexed by each entry's insertion number (`id`) modulo RING; newest is `inserted - 1`. */
  private readonly names = new Array<string>(RING).fill('');
  private readonly values = new Array<string>(RING).fill('');
  /** The id of the previous (older) entry with the same name, or -1. */
  private readonly sameName = new Float64Array(RING);
  private inserted = 0;
  private count = 0;
  /** Each name's newest entry id. */
  private readonly newest = new Map<string, number>();
  /** Where blocks are written before being copied out (shared: encode() is synchronous and copies its result). */
  private buf = scratch;
  private p = 0;

  constructor(options: HpackEncoderOptions = {}) {
    this.huffman = options.huffman ?? true;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: the next block starts with a dynamic table size update if needed. */
  setPeerMaxTableSize(n: number): void {
    const capacity = Math.min(n, ENCODER_TABLE_LIMIT);
    if (capacity === this.capacity) return;
    this.updateLowest = this.updatePending ? Math.min(this.updateLowest, capacity) : capacity;
    this.updatePending = true;
    this.capacity = capacity;
    this.evictTo(capacity);
  }

  /** Encodes `count` fields from `fields` (name, value, ... ; names lower-case, pseudo-headers first) into one block. */
  encode(fields: readonly string[], count: number): Buffer {
    this.buf = scratch;
    this.p = 0;
    if (this.updatePending) {
      this.updatePending = false;
      this.reserve(12);
      // RFC 7541 §4.2: when the size went down and up again, the lowest comes first, so that the peer evicts what
      // we evicted. A low point not below what the peer knew evicted nothing there, and needs no signal.
      if (this.updateLowest < this.capacity && this.updateLowest < this.signalled) this.int(0x20, 5, this.updateLowest);
      this.int(0x20, 5, this.capacity);
      this.signalled = this.capacity;
    }
    for (let i = 0; i < count; i++) this.field(fields[2 * i]!, fields[2 * i + 1]!);
    const block = Buffer.allocUnsafe(this.p);
    this.buf.copy(block, 0, 0, this.p);
    return block;
  }

  private field(name: string, value: string): void {
    // Two prefixed integers of at most 6 octets each, and the strings (Huffman is never longer than raw here).
    this.reserve(name.length + value.length + 13);
    const staticIndex = STATIC_NAME_INDEX.get(name);
    // The static table's exact pairs (:method, :path, :scheme, :status, accept-encoding) sit at the start of their
    // names' runs, which are consecutive in the table.
    if (staticIndex !== undefined && staticIndex <= 16) {
      for (let i = staticIndex; i <= STATIC_COUNT && STATIC_NAMES[i - 1] === name; i++) {
        if (STATIC_VALUES[i - 1] === value) {
          this.int(0x80, 7, i);
          return;
        }
      }
    }
    const oldest = this.inserted - this.count;
    let id = this.newest.get(name) ?? -1;
    const newestId = id;
    for (let steps = 0; id >= oldest && steps < 8; steps++) {
      const slot = id % RING;
      if (this.values[slot] === value) {
        this.int(0x80, 7, STATIC_COUNT + this.inserted - id);
        return;
      }
      id = this.sameName[slot]!;
    }
    const nameIndex = staticIndex ?? (newestId >= oldest ? STATIC_COUNT + this.inserted - newestId : 0);
    const entry = name.length + value.length + ENTRY_OVERHEAD;
    if (NEVER_INDEXED.has(name)) {
      this.literal(0x10, 4, nameIndex, name, value);
    } else if (entry > this.capacity >> 1 || (nameIndex !== 0 && UNIQUE_VALUES.has(name))) {
      this.literal(0x00, 4, nameIndex, name, value);
    } else {
      this.literal(0x40, 6, nameIndex, name, value);
      this.insert(name, value, entry);
    }
  }

  private literal(pattern: number, prefix: number, nameIndex: number, name: string, value: string): void {
    this.int(pattern, prefix, nameIndex);
    const huffman = this.huffman && pattern === 0x40;
    if (nameIndex === 0) this.string(name, huffman);
    this.string(value, huffman);
  }

  private insert(name: string, value: string, entry: number): void {
    this.evictTo(this.capacity - entry);
    const id = this.inserted++;
    const slot = id % RING;
    this.names[slot] = name;
    this.values[slot] = value;
    this.sameName[slot] = this.newest.get(name) ?? -1;
    this.newest.set(name, id);
    this.count++;
    this.size += entry;
  }

  private evictTo(limit: number): void {
    while (this.size > limit) {
      const id = this.inserted - this.count;
      const slot = id % RING;
      const name = this.names[slot]!;
      this.size -= name.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      // The oldest entry of a name is its newest only when it is the name's last one.
      if (this.newest.get(name) === id) this.newest.delete(name);
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }

  private reserve(n: number): void {
    if (this.p + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.p + n));
    this.buf.copy(next, 0, 0, this.p);
    this.buf = scratch = next;
  }

  /** An integer with an N-bit prefix (§5.1), `pattern` in the first octet's high bits. */
  private int(pattern: number, prefix: number, value: number): void {
    const max = (1 << prefix) - 1;
    const buf = this.buf;
    if (value < max) {
      buf[this.p++] = pattern | value;
      return;
    }
    buf[this.p++] = pattern | max;
    value -= max;
    while (value >= 0x80) {
      buf[this.p++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.p++] = value;
  }

  /** A string literal (§5.2): Huffman-coded when asked and shorter. */
  private string(s: string, huffman: boolean): void {
    if (huffman && s.length > 0) {
      const h = huffmanLength(s);
      if (h < s.length) {
        this.int(0x80, 7, h);
        this.p = huffmanEncode(s, this.buf, this.p);
        return;
      }
    }
    this.int(0x00, 7, s.length);
    if (s.length > 32) {
      this.p += this.buf.latin1Write(s, this.p);
      return;
    }
    // Short strings (most values of a response) are copied here: cheaper than a call into node's latin1 writer.
    const buf = this.buf;
    let p = this.p;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.p = p;
  }
}
