/**
 * Envoy's judgement of a dialect file (the article's text-proto, meshctl's own YAML/JSON shape): the Envoy bootstrap
 * `meshctl convert --to envoy` writes for it (emit/envoy.ts toEnvoy) is judged by the same EnvoyJudge as a file
 * written in Envoy's shape, and each finding is reported at the line and column of the dialect's node it came from.
 *
 * The Envoy form is read into a syntax tree whose positions are not offsets but references (OriginSource): each
 * says which model node, field or element a syntax node was made from (emit/origin.ts), and becomes a span of the
 * dialect file only when the judge reports there. An object the emitter made with no model node of its own (the
 * router filter it adds, a RuntimeDouble around a plain number) is placed where its parent field is.
 */
import type { Diagnostic } from '../diagnostic.js';
import type { JsonValue } from '../json-value.js';
import type { Bootstrap } from '../model.generated.js';
import { keySpanOf, metaOf, spanOf } from '../node-meta.js';
import { SourceNodeMeta } from '../source-meta-store.js';
import { SourceFile, pointSpan, type Span } from '../source.js';
import { SField, SList, SMessage, SScalar, type SyntaxNode } from '../syntax.js';
import { toEnvoy } from '../emit/envoy.js';
import { ItemOrigin, ORIGIN, type WithOrigin } from '../emit/origin.js';
import { EnvoyJudge } from './judge.js';

/**
 * A SourceFile whose "offsets" are references into blocks of consecutive numbers, one block per emitted object made
 * from a model node (its start, then each field's name and value) and one per list of a model node's repeated field
 * (an element each); `span()` turns a reference into the dialect file's span. A block costs a few array slots while
 * the Envoy form is read, a span is made only for what the judge reports.
 */
class OriginSource extends SourceFile {
  /** The first reference of each block, ascending. */
  private readonly firsts: number[] = [];
  private readonly nodes: (object | undefined)[] = [];
  /** An object block's field names, or an element block's field. */
  private readonly names: (readonly string[] | string | undefined)[] = [];
  /** An element block's first element index. */
  private readonly offsets: number[] = [];
  private next = 0;

  constructor(private readonly dialect: SourceFile) {
    super(dialect.name, dialect.text);
  }

  private block(node: object | undefined, names: readonly string[] | string | undefined, offset: number, size: number): number {
    const first = this.next;
    this.firsts.push(first);
    this.nodes.push(node);
    this.names.push(names);
    this.offsets.push(offset);
    this.next += size;
    return first;
  }

  /** A reference to the file as a whole. */
  file(): number {
    return this.block(undefined, undefined, 0, 1);
  }

  /** References for an object made from `node` with fields `keys`: the object at the result, field i's name at +1+2i, its value at +2+2i. */
  object(node: object, keys: readonly string[]): number {
    return this.block(node, keys, 0, 1 + 2 * keys.length);
  }

  /** References for `count` elements of `node`'s repeated `field`, from element `from` (-1: the field as a whole). */
  items(node: object, field: string, from: number, count: number): number {
    return this.block(node, field, from, Math.max(count, 1));
  }

  override span(ref: number): Span {
    // the block holding ref: the last whose first reference is ≤ ref
    const firsts = this.firsts;
    let lo = 0;
    let hi = firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (firsts[mid]! <= ref) lo = mid;
      else hi = mid - 1;
    }
    const node = this.nodes[lo];
    const names = this.names[lo];
    const at = ref - firsts[lo]!;
    if (node === undefined) return pointSpan(this.name);
    if (typeof names === 'string') {
      const from = this.offsets[lo]!;
      return hasField(node, names) ? spanOf(node, names, from < 0 ? undefined : from + at)! : startOf(spanOf(node)!);
    }
    if (at === 0 || names === undefined) return startOf(spanOf(node)!);
    const field = names[(at - 1) >> 1]!;
    // a field the node does not have (one the emitter added) is placed at the node's start
    if (!hasField(node, field)) return startOf(spanOf(node)!);
    if (at % 2 === 1) return keySpanOf(node, field)!;
    return this.valueSpan(spanOf(node, field)!, keySpanOf(node, field));
  }

  /** A field's value: its extent after the name and the `:` (text-proto, YAML and JSON all write it so). */
  private valueSpan(field: Span, key: Span | undefined): Span {
    const src = this.dialect;
    if (key === undefined || field.file !== src.name || key.endLine !== field.endLine) return field;
    const text = src.text;
    const starts = src.starts();
    const end = starts[field.endLine - 1]! + field.endColumn - 1;
    let i = starts[key.endLine - 1]! + key.endColumn - 1;
    while (i < end && (text[i] === ' ' || text[i] === '\t' || text[i] === '"' || text[i] === "'")) i++;
    if (text[i] === ':') i++;
    while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
    return i < end ? src.span(i, end) : field;
  }
}

function hasField(node: object, field: string): boolean {
  const meta = metaOf(node);
  if (meta instanceof SourceNodeMeta && meta.compact) return meta.fieldKeySpan(field) !== undefined;
  return meta?.fields[field] !== undefined;
}

function startOf(s: Span): Span {
  return { file: s.file, line: s.line, column: s.column, endLine: s.line, endColumn: s.column + 1 };
}

/** The Envoy form read into a syntax tree whose positions are OriginSource references. */
class FormReader {
  constructor(private readonly src: OriginSource) {}

  message(o: { [k: string]: JsonValue } & WithOrigin, at: number): SMessage {
    const src = this.src;
    const origin = o[ORIGIN];
    const keys = Object.keys(o);
    // Without a model node of its own (made by the emitter), an object and everything in it is where `at` is.
    let node: object | undefined;
    let self = at;
    if (origin instanceof ItemOrigin) self = src.items(origin.node, origin.field, origin.index ?? -1, 1);
    else if (origin !== undefined && metaOf(origin) !== undefined) {
      node = origin;
      self = src.object(node, keys);
    }
    const fields: SField[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const key = node === undefined ? self : self + 1 + 2 * i;
      const value = node === undefined ? self : key + 1;
      const v = o[k]!;
      const syntax = Array.isArray(v) ? this.list(v, node, k, value) : this.value(v, value);
      fields.push(new SField(k, syntax, src, key, key, value, value));
    }
    return new SMessage(fields, src, self, self);
  }

  private list(items: JsonValue[], node: object | undefined, field: string, at: number): SList {
    const out: SyntaxNode[] = [];
    const first = node === undefined ? at : this.src.items(node, field, 0, items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const ref = node === undefined ? at : first + i;
      out.push(Array.isArray(item) ? this.list(item, undefined, field, ref) : this.value(item, ref));
    }
    return new SList(out, this.src, at, at);
  }

  private value(v: JsonValue, at: number): SyntaxNode {
    const src = this.src;
    if (v === null) return new SScalar('null', null, 'null', src, at, at);
    switch (typeof v) {
      case 'string':
        // raw: the text as written, which only messages about non-strings quote
        return new SScalar('string', v, v, src, at, at);
      case 'number':
        return new SScalar('number', v, String(v), src, at, at);
      case 'boolean':
        return new SScalar('bool', v, String(v), src, at, at);
      default:
        return Array.isArray(v) ? this.list(v, undefined, '', at) : this.message(v, at);
    }
  }
}

/**
 * Envoy's findings on the Envoy form of `config` (read from `source`), at the dialect's line and column. What the
 * emitter warns about (constructs Envoy has no place for) is not in that form, so not judged.
 */
export function judgeEnvoyForm(config: Bootstrap, source: SourceFile): Diagnostic[] {
  const { bootstrap } = toEnvoy(config, { origins: true });
  const src = new OriginSource(source);
  const tree = new FormReader(src).message(bootstrap, src.file());
  const judge = new EnvoyJudge({ yaml: false });
  judge.root(tree);
  return [...judge.diagnostics];
}
