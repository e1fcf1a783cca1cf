/**
 * What every model node carries besides its fields: where it came from (META) and any fields meshctl does not model
 * (unmodeled), kept so a conversion never drops them.
 */
import type { SourceFile, Span } from './source.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** google.protobuf.Duration. `nanos` has the sign of `seconds` and |nanos| < 1e9. */
export interface Duration {
  seconds: number;
  nanos: number;
}

/** How a node or field was written, when the article's dialect put it somewhere Envoy would not. */
export interface DialectNote {
  /** A stable id of the construct, for example `transport-socket-in-hcm` (see src/config/normalize.ts). */
  readonly construct: string;
  /** Where it was written. */
  readonly span: Span;
  /** Where Envoy expects it, in Envoy's own words (for the diagnostic). */
  readonly envoyPlacement: string;
}

/** Comments attached to a node or a field, kept for conversions between formats that can hold comments. */
export interface Comments {
  /** Whole-line comments just before the node or field, without the comment marker. */
  leading?: string[];
  /** A comment on the same line, after the value. */
  trailing?: string;
}

export interface FieldMeta {
  /** The field's whole extent (name and value). */
  span: Span;
  /** The field name's extent, where the source has one. */
  keySpan?: Span;
  /** For repeated fields: one span per element. */
  itemSpans?: Span[];
  comments?: Comments;
}

export interface NodeMeta {
  span: Span;
  /** Per field name. */
  fields: { [field: string]: FieldMeta };
  comments?: Comments;
  dialect?: DialectNote[];
  /** Comments inside the node after its last field. */
  trailingComments?: string[];
}

/**
 * The FieldMeta of a parsed field: the field's character offsets, with `span`, `keySpan` and `itemSpans` built from
 * them on first read (and kept).
 */
export class SourceFieldMeta implements FieldMeta {
  comments: Comments | undefined;
  /** Element offsets (start and end of each) until itemSpans is first read. */
  private items: number[] | undefined;
  private made: { span?: Span; keySpan?: Span; itemSpans?: Span[] } | undefined = undefined;

  constructor(
    private readonly src: SourceFile,
    private readonly keyStart: number,
    private readonly keyEnd: number,
    private readonly start: number,
    private readonly end: number,
    comments?: Comments,
    items?: number[],
  ) {
    this.comments = comments;
    this.items = items;
  }

  get span(): Span {
    const m = (this.made ??= {});
    return (m.span ??= this.src.span(this.start, this.end));
  }
  set span(span: Span) {
    (this.made ??= {}).span = span;
  }

  get keySpan(): Span | undefined {
    const m = (this.made ??= {});
    return Object.hasOwn(m, 'keySpan') ? m.keySpan : (m.keySpan = this.src.span(this.keyStart, this.keyEnd));
  }
  set keySpan(span: Span | undefined) {
    (this.made ??= {}).keySpan = span;
  }

  get itemSpans(): Span[] | undefined {
    const m = this.made;
    if (m !== undefined && Object.hasOwn(m, 'itemSpans')) return m.itemSpans;
    const items = this.items;
    if (items === undefined) return undefined;
    const spans: Span[] = [];
    for (let i = 0; i < items.length; i += 2) spans.push(this.src.span(items[i]!, items[i + 1]!));
    this.items = undefined;
    (this.made ??= {}).itemSpans = spans;
    return spans;
  }
  set itemSpans(spans: Span[] | undefined) {
    this.items = undefined;
    (this.made ??= {}).itemSpans = spans;
  }
}

/**
 * The offsets of every node and field the decoder made from one file, in Int32Array chunks: a config of 10,000
 * clusters has ~150,000 nodes and ~300,000 fields, and nearly no span is ever looked at, so they cost the collector
 * nothing (a typed array's contents are neither copied nor scanned) and each node only a small SourceNodeMeta.
 *
 * A node's record, in one chunk at its position: start, end, field count, then its fields, then the element offsets
 * (start, end per element) of its repeated fields. A field: `name id << 3 | flags`, key start, key end, end; then
 * its start if F_START (it is nearly always the key's start), its elements' position and count if F_ITEMS, its
 * comments' index if F_COMMENTS. Four ints for most fields: the store's pages are fresh memory, and filling them
 * was a visible part of a large parse.
 */
export class SourceMetaStore {
  /** The chunk being filled (full ones stay alive through the nodes that point into them). */
  private ints = newInts(CHUNK);
  private used = 0;
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private readonly comments: Comments[] = [];

  constructor(readonly src: SourceFile) {
    STORE_OF.set(this.ints, this);
  }

  private reserve(n: number): Int32Array {
    if (this.used + n > this.ints.length) {
      this.ints = newInts(Math.max(CHUNK, n));
      this.used = 0;
      STORE_OF.set(this.ints, this);
    }
    return this.ints;
  }

  private nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }

  /** Stores a node and the fields of `table`; returns its meta. */
  add(start: number, end: number, table: FieldTable): SourceNodeMeta {
    const n = table.count;
    const t = table.entries;
    let size = 3;
    for (let i = 0, o = 0; i < n; i++, o += TABLE_STRIDE) {
      size += 4;
      if (t[o + 3] !== t[o + 1]) size += 1;
      const it = t[o + 6] as number[] | undefined;
      if (it !== undefined) size += 2 + it.length;
      if (t[o + 5] !== undefined) size += 1;
    }
    const ints = this.reserve(size);
    const pos = this.used;
    ints[pos] = start;
    ints[pos + 1] = end;
    ints[pos + 2] = n;
    let f = pos + 3;
    let items = pos + size;
    for (let i = 0, o = 0; i < n; i++, o += TABLE_STRIDE) {
      const fieldStart = t[o + 3] as number;
      const keyStart = t[o + 1] as number;
      const it = t[o + 6] as number[] | undefined;
      const comments = t[o + 5] as Comments | undefined;
      const flags = (fieldStart !== keyStart ? F_START : 0) | (it !== undefined ? F_ITEMS : 0) | (comments !== undefined ? F_COMMENTS : 0);
      ints[f] = (this.nameId(t[o] as string) << 3) | flags;
      ints[f + 1] = keyStart;
      ints[f + 2] = t[o + 2] as number;
      ints[f + 3] = t[o + 4] as number;
      f += 4;
      if (flags & F_START) ints[f++] = fieldStart;
      if (it !== undefined) {
        items -= it.length;
        ints[f++] = items;
        ints[f++] = it.length / 2;
        for (let k = 0; k < it.length; k++) ints[items + k] = it[k]!;
      }
      if (comments !== undefined) ints[f++] = this.comments.push(comments) - 1;
    }
    this.used = pos + size;
    return new SourceNodeMeta(ints, pos);
  }

  // Reading: `ints` is the chunk a node's record is in, `pos` the record, `f` a field's record.
  nodeSpan(ints: Int32Array, pos: number): Span {
    return this.src.span(ints[pos]!, ints[pos + 1]!);
  }
  /** The record of field `name` of the node at `pos`, or -1. */
  findField(ints: Int32Array, pos: number, name: string): number {
    const id = this.nameIds.get(name);
    if (id === undefined) return -1;
    const n = ints[pos + 2]!;
    for (let i = 0, f = pos + 3; i < n; i++, f = nextField(ints, f)) if (ints[f]! >>> 3 === id) return f;
    return -1;
  }
  keySpan(ints: Int32Array, f: number): Span {
    return this.src.span(ints[f + 1]!, ints[f + 2]!);
  }
  fieldSpan(ints: Int32Array, f: number): Span {
    return this.src.span(ints[f]! & F_START ? ints[f + 4]! : ints[f + 1]!, ints[f + 3]!);
  }
  itemSpan(ints: Int32Array, f: number, index: number): Span | undefined {
    const head = ints[f]!;
    if (!(head & F_ITEMS)) return undefined;
    const x = f + 4 + (head & F_START ? 1 : 0);
    if (index < 0 || index >= ints[x + 1]!) return undefined;
    const at = ints[x]! + 2 * index;
    return this.src.span(ints[at]!, ints[at + 1]!);
  }
  /** The fields of the node at `pos` as a record of FieldMeta objects. */
  fieldMetas(ints: Int32Array, pos: number): { [field: string]: FieldMeta } {
    const out: { [field: string]: FieldMeta } = {};
    const n = ints[pos + 2]!;
    for (let i = 0, f = pos + 3; i < n; i++, f = nextField(ints, f)) {
      // Names come from the input: define, so that `__proto__` is a field and not the prototype.
      Object.defineProperty(out, this.names[ints[f]! >>> 3]!, { value: this.fieldMeta(ints, f), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  private fieldMeta(ints: Int32Array, f: number): SourceFieldMeta {
    const head = ints[f]!;
    let x = f + 4;
    const start = head & F_START ? ints[x++]! : ints[f + 1]!;
    let items: number[] | undefined;
    if (head & F_ITEMS) {
      const at = ints[x]!;
      items = Array.from(ints.subarray(at, at + 2 * ints[x + 1]!));
      x += 2;
    }
    const comments = head & F_COMMENTS ? this.comments[ints[x]!] : undefined;
    return new SourceFieldMeta(this.src, ints[f + 1]!, ints[f + 2]!, start, ints[f + 3]!, comments, items);
  }
}

const F_START = 1;
const F_ITEMS = 2;
const F_COMMENTS = 4;

function nextField(ints: Int32Array, f: number): number {
  const head = ints[f]!;
  return f + 4 + (head & F_START) + (head & F_ITEMS) + ((head & F_COMMENTS) >> 2);
}

/** An Int32Array of n ints, not zeroed (only what add() writes is ever read). */
/** The store a chunk belongs to (a node's meta keeps only its chunk: one pointer fewer per node). */
const STORE_OF = new WeakMap<Int32Array, SourceMetaStore>();

function newInts(n: number): Int32Array {
  const b = Buffer.allocUnsafeSlow(n * 4);
  return new Int32Array(b.buffer, b.byteOffset, n);
}
/** Ints per chunk of a SourceMetaStore (256 KiB). */
const CHUNK = 1 << 16;

/** Per field of a FieldTable: name, key start, key end, start, end, comments, element offsets. */
const TABLE_STRIDE = 7;
/** Fields a table may hold before find() uses a Map. */
const SCAN_LIMIT = 24;

/** The fields of a node while the decoder builds it (then SourceMetaStore.add keeps them). */
export class FieldTable {
  // Declared, set once in the constructor (see the note above SField in syntax.ts).
  declare readonly entries: Array<string | number | Comments | number[] | undefined>;
  declare count: number;
  private declare index: Map<string, number> | undefined;

  /** `size`: at most how many distinct fields will be added. */
  constructor(size: number) {
    this.entries = new Array(size * TABLE_STRIDE);
    this.count = 0;
    this.index = undefined;
  }

  /** The index of field `name`, or -1. */
  find(name: string): number {
    if (this.count > SCAN_LIMIT) return this.index!.get(name) ?? -1;
    const t = this.entries;
    for (let i = 0, o = 0; i < this.count; i++, o += TABLE_STRIDE) if (t[o] === name) return i;
    return -1;
  }

  /** Adds a field (which must not be there yet); returns its index. */
  add(name: string, keyStart: number, keyEnd: number, start: number, end: number, comments: Comments | undefined): number {
    const t = this.entries;
    const o = this.count * TABLE_STRIDE;
    t[o] = name;
    t[o + 1] = keyStart;
    t[o + 2] = keyEnd;
    t[o + 3] = start;
    t[o + 4] = end;
    t[o + 5] = comments;
    t[o + 6] = undefined;
    const i = this.count++;
    if (this.count > SCAN_LIMIT) {
      if (this.index === undefined) {
        this.index = new Map();
        for (let j = 0; j < this.count; j++) if (!this.index.has(t[j * TABLE_STRIDE] as string)) this.index.set(t[j * TABLE_STRIDE] as string, j);
      } else this.index.set(name, i);
    }
    return i;
  }

  /** Appends element [start, end) to repeated field `i`. */
  addItem(i: number, start: number, end: number): void {
    const o = i * TABLE_STRIDE + 6;
    const items = this.entries[o] as number[] | undefined;
    if (items === undefined) this.entries[o] = [start, end];
    else items.push(start, end);
  }

  /** Field `i`'s name offsets. */
  keyStart(i: number): number {
    return this.entries[i * TABLE_STRIDE + 1] as number;
  }
  keyEnd(i: number): number {
    return this.entries[i * TABLE_STRIDE + 2] as number;
  }
}

/** What a SourceNodeMeta holds only when it is asked for or set. */
interface NodeMetaExtra {
  span?: Span;
  fields?: { [field: string]: FieldMeta };
  comments?: Comments;
  dialect?: DialectNote[];
  trailingComments?: string[];
}

/**
 * The NodeMeta of a parsed node: its record in the file's SourceMetaStore. `span` and the `fields` record of
 * FieldMeta objects are built on first read (and kept: after that they are ordinary, mutable values); spanOf and
 * keySpanOf read the store directly.
 */
export class SourceNodeMeta implements NodeMeta {
  // Declared, set once in the constructor (see the note above SField in syntax.ts).
  private declare readonly ints: Int32Array;
  private declare readonly pos: number;
  private declare extra: NodeMetaExtra | undefined;

  /** Made by SourceMetaStore.add. */
  constructor(ints: Int32Array, pos: number) {
    this.ints = ints;
    this.pos = pos;
    this.extra = undefined;
  }

  get span(): Span {
    const x = (this.extra ??= {});
    return (x.span ??= this.store().nodeSpan(this.ints, this.pos));
  }
  set span(span: Span) {
    (this.extra ??= {}).span = span;
  }

  get comments(): Comments | undefined {
    return this.extra?.comments;
  }
  set comments(c: Comments | undefined) {
    (this.extra ??= {}).comments = c;
  }
  get dialect(): DialectNote[] | undefined {
    return this.extra?.dialect;
  }
  set dialect(d: DialectNote[] | undefined) {
    (this.extra ??= {}).dialect = d;
  }
  get trailingComments(): string[] | undefined {
    return this.extra?.trailingComments;
  }
  set trailingComments(t: string[] | undefined) {
    (this.extra ??= {}).trailingComments = t;
  }

  get fields(): { [field: string]: FieldMeta } {
    const x = (this.extra ??= {});
    return (x.fields ??= this.store().fieldMetas(this.ints, this.pos));
  }
  set fields(fields: { [field: string]: FieldMeta }) {
    (this.extra ??= {}).fields = fields;
  }

  /** The fields are still only in the store (`fields` has not been read or set): spanOf can read them there. */
  get compact(): boolean {
    return this.extra?.fields === undefined;
  }

  /** Span of field `name` (or of its element `index`), its name's span, or undefined when the node has no such field. */
  fieldSpan(name: string, index?: number): Span | undefined {
    const store = this.store();
    const f = store.findField(this.ints, this.pos, name);
    if (f < 0) return undefined;
    return (index !== undefined ? store.itemSpan(this.ints, f, index) : undefined) ?? store.fieldSpan(this.ints, f);
  }
  fieldKeySpan(name: string): Span | undefined {
    const store = this.store();
    const f = store.findField(this.ints, this.pos, name);
    return f < 0 ? undefined : store.keySpan(this.ints, f);
  }

  private store(): SourceMetaStore {
    return STORE_OF.get(this.ints)!;
  }
}

/**
 * The source metadata lives under a symbol so that it is invisible to JSON.stringify, Object.keys and model
 * equality, yet travels with the node.
 */
export const META: unique symbol = Symbol.for('meshctl.meta');

export interface ModelNode {
  [META]?: NodeMeta;
  /** Fields the source had that meshctl does not model, kept verbatim (as JSON) so conversions keep them. */
  unmodeled?: JsonObject;
}

/** The node's metadata, if it was parsed from a file. */
export function metaOf(node: object | undefined): NodeMeta | undefined {
  return node === undefined ? undefined : (node as ModelNode)[META];
}

/** The span of a node, or of one of its fields (its value, or element `index` of a repeated field). */
export function spanOf(node: object | undefined, field?: string, index?: number): Span | undefined {
  const meta = metaOf(node);
  if (meta === undefined) return undefined;
  if (field === undefined) return meta.span;
  if (meta instanceof SourceNodeMeta) {
    // Without building the node's FieldMeta record (most nodes are never asked).
    if (meta.compact) return meta.fieldSpan(field, index) ?? meta.span;
  }
  const f = meta.fields[field];
  if (f === undefined) return meta.span;
  if (index !== undefined && f.itemSpans !== undefined && f.itemSpans[index] !== undefined) return f.itemSpans[index];
  return f.span;
}

/** The span of a field's name (falls back to the field, then the node). */
export function keySpanOf(node: object | undefined, field: string): Span | undefined {
  const meta = metaOf(node);
  if (meta instanceof SourceNodeMeta && meta.compact) return meta.fieldKeySpan(field) ?? meta.span;
  return meta?.fields[field]?.keySpan ?? spanOf(node, field);
}

export function durationToMs(d: Duration): number {
  return d.seconds * 1000 + d.nanos / 1e6;
}

export function msToDuration(ms: number): Duration {
  const totalNanos = Math.round(ms * 1e6);
  const seconds = Math.trunc(totalNanos / 1e9);
  return { seconds, nanos: totalNanos - seconds * 1e9 };
}

/** A duration as Envoy's JSON mapping writes it: `0.250s`, `5s`, `0.000000001s` (0, 3, 6 or 9 fractional digits). */
export function formatDuration(d: Duration): string {
  const neg = d.seconds < 0 || d.nanos < 0;
  const s = Math.abs(d.seconds);
  const n = Math.abs(d.nanos);
  let frac = '';
  if (n !== 0) {
    const nine = String(n).padStart(9, '0');
    if (n % 1e6 === 0) frac = '.' + nine.slice(0, 3);
    else if (n % 1e3 === 0) frac = '.' + nine.slice(0, 6);
    else frac = '.' + nine;
  }
  return `${neg ? '-' : ''}${s}${frac}s`;
}

/**
 * Parse a duration in the forms users write: `0.25s`, `250ms`, `1m30s`, `1h`, `5us`, `10ns`, or a bare number of
 * seconds. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): Duration | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(t)) return secondsToDuration(t);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let neg = false;
  let i = 0;
  if (t[0] === '-') {
    neg = true;
    i = 1;
  }
  re.lastIndex = i;
  let totalNanos = 0n;
  let matched = false;
  while (re.lastIndex < t.length) {
    const m = re.exec(t);
    if (m === null) return undefined;
    matched = true;
    const unitNanos: Record<string, bigint> = {
      h: 3_600_000_000_000n,
      m: 60_000_000_000n,
      s: 1_000_000_000n,
      ms: 1_000_000n,
      us: 1_000n,
      µs: 1_000n,
      ns: 1n,
    };
    totalNanos += decimalTimes(m[1]!, unitNanos[m[2]!]!);
  }
  if (!matched) return undefined;
  if (neg) totalNanos = -totalNanos;
  const seconds = totalNanos / 1_000_000_000n;
  const nanos = totalNanos - seconds * 1_000_000_000n;
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

function secondsToDuration(t: string): Duration {
  const neg = t.startsWith('-');
  const total = decimalTimes(neg ? t.slice(1) : t, 1_000_000_000n);
  const signed = neg ? -total : total;
  const seconds = signed / 1_000_000_000n;
  return { seconds: Number(seconds), nanos: Number(signed - seconds * 1_000_000_000n) };
}

/** Exact decimal × integer, truncated toward zero (so `0.1s` is exactly 100000000 nanos). */
function decimalTimes(decimal: string, factor: bigint): bigint {
  const [whole, frac = ''] = decimal.split('.');
  const digits = BigInt((whole ?? '0') + frac);
  const scale = 10n ** BigInt(frac.length);
  return (digits * factor) / scale;
}
