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

/** What a reference points at. */
const enum Part {
  /** The start of a model node. */
  Node,
  /** A field's name. */
  Key,
  /** A field's value. */
  Value,
  /** An element of a repeated field. */
  Item,
}

/**
 * A SourceFile whose "offsets" are references into a table of (model node, field, element, part); `span()` turns
 * one into the dialect file's span. A reference is made per syntax node while the Envoy form is read, a span only
 * for what the judge reports.
 */
class OriginSource extends SourceFile {
  private readonly nodes: (object | undefined)[] = [];
  private readonly fields: (string | undefined)[] = [];
  /** part | index << 2 */
  private readonly codes: number[] = [];

  constructor(private readonly dialect: SourceFile) {
    super(dialect.name, dialect.text);
  }

  ref(node: object | undefined, field: string | undefined, part: Part, index = 0): number {
    this.nodes.push(node);
    this.fields.push(field);
    return this.codes.push(part | (index << 2)) - 1;
  }

  override span(ref: number): Span {
    const node = this.nodes[ref];
    if (node === undefined) return pointSpan(this.name);
    const field = this.fields[ref];
    const code = this.codes[ref]!;
    const part = (code & 3) as Part;
    // A field the node does not have (one the emitter added) is placed at the node's start.
    if (field === undefined || part === Part.Node || !hasField(node, field)) return startOf(spanOf(node)!);
    if (part === Part.Key) return keySpanOf(node, field)!;
    if (part === Part.Item) return spanOf(node, field, code >> 2)!;
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
    let node: object | undefined;
    let self = at;
    if (origin instanceof ItemOrigin) self = src.ref(origin.node, origin.field, Part.Item, origin.index);
    else if (origin !== undefined && metaOf(origin) !== undefined) {
      node = origin;
      self = src.ref(node, undefined, Part.Node);
    }
    const fields: SField[] = [];
    for (const k of Object.keys(o)) {
      const key = node === undefined ? self : src.ref(node, k, Part.Key);
      const value = node === undefined ? self : src.ref(node, k, Part.Value);
      const v = o[k]!;
      const syntax = Array.isArray(v) ? this.list(v, node, k, value) : this.value(v, value);
      fields.push(new SField(k, syntax, src, key, key, value, value));
    }
    return new SMessage(fields, src, self, self);
  }

  private list(items: JsonValue[], node: object | undefined, field: string, at: number): SList {
    const out: SyntaxNode[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const ref = node === undefined ? at : this.src.ref(node, field, Part.Item, i);
      out.push(Array.isArray(item) ? this.list(item, undefined, field, ref) : this.value(item, ref));
    }
    return new SList(out, this.src, at, at);
  }

  private value(v: JsonValue, at: number): SyntaxNode {
    const src = this.src;
    if (v === null) return new SScalar('null', null, 'null', src, at, at);
    switch (typeof v) {
      case 'string':
        return new SScalar('string', v, JSON.stringify(v), src, at, at);
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
  const tree = new FormReader(src).message(bootstrap, src.ref(undefined, undefined, Part.Node));
  const judge = new EnvoyJudge({ yaml: false });
  judge.root(tree);
  return [...judge.diagnostics];
}
