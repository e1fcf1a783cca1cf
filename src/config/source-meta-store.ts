/**
 * Where each node and field of a parsed file was written, kept compactly: the decoder fills a FieldTable per node,
 * SourceMetaStore packs it into Int32Array chunks, and SourceNodeMeta / SourceFieldMeta turn offsets into spans only
 * when a span is asked for.
 */
import type { Comments, DialectNote, FieldMeta, NodeMeta } from './node-meta.js';
import type { JsonObject } from './json-value.js';
import type { SourceFile, Span } from './source.js';

/**
 * The FieldMeta of a parsed field: the field's character offsets, with `span`, `keySpan` and `itemSpans` built from
 * them on first read (and kept).
 */
class SourceFieldMeta implements FieldMeta {
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

/** The store a chunk belongs to (a node's meta keeps only its chunk: one pointer fewer per node). */
const STORE_OF = new WeakMap<Int32Array, SourceMetaStore>();

/** An Int32Array of n ints, not zeroed (only what add() writes is ever read). */
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
  ignoredKeys?: JsonObject;
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

  get ignoredKeys(): JsonObject | undefined {
    return this.extra?.ignoredKeys;
  }
  set ignoredKeys(k: JsonObject | undefined) {
    (this.extra ??= {}).ignoredKeys = k;
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
