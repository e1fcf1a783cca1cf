/**
 * The syntax tree every input format is read into before it is decoded against the schema: messages (ordered
 * fields), lists and scalars, each with its span and comments. The text-proto parser and the YAML/JSON reader
 * produce it; src/config/decode.ts turns it into the typed model, applying the dialect's rewrites on the way.
 *
 * A big config is read into millions of nodes, so a node keeps its position as two character offsets into its
 * SourceFile (small integers stored in the node itself) rather than a Span object: `span` and `keySpan` are getters
 * that build the `{file, line, column, endLine, endColumn}` object when asked (for a diagnostic, a dialect note, a
 * test), and most never are. The decoder copies the offsets, not spans, into the model's metadata (see
 * SourceFieldMeta in source-meta-store.ts).
 */
import type { Comments } from './node-meta.js';
import type { SourceFile, Span } from './source.js';

export type SyntaxNode = SMessage | SList | SScalar;

// The node classes declare their fields and set each once in the constructor: with class-field initialisers (or
// TypeScript parameter properties) every field of the millions of nodes of a large file is first defined as
// `undefined`, then set.

export class SField {
  declare readonly name: string;
  declare readonly value: SyntaxNode;
  declare readonly src: SourceFile;
  /** The name's offsets. */
  declare readonly keyStart: number;
  declare readonly keyEnd: number;
  /** The whole field's offsets (name and value); start is nearly always keyStart. */
  declare readonly start: number;
  declare readonly end: number;
  declare comments: Comments | undefined;

  constructor(name: string, value: SyntaxNode, src: SourceFile, keyStart: number, keyEnd: number, start: number, end: number) {
    this.name = name;
    this.value = value;
    this.src = src;
    this.keyStart = keyStart;
    this.keyEnd = keyEnd;
    this.start = start;
    this.end = end;
    this.comments = undefined;
  }

  get keySpan(): Span {
    return this.src.span(this.keyStart, this.keyEnd);
  }

  /** Name and value. */
  get span(): Span {
    return this.src.span(this.start, this.end);
  }

  /** The same field under another name, or with another value (the dialect's rewrites). */
  with(name: string, value: SyntaxNode): SField {
    const f = new SField(name, value, this.src, this.keyStart, this.keyEnd, this.start, this.end);
    f.comments = this.comments;
    return f;
  }
}

export class SMessage {
  declare readonly kind: 'message';
  declare fields: SField[];
  declare readonly src: SourceFile;
  declare readonly start: number;
  declare readonly end: number;
  /** Comments after the last field, before the closing brace / end of the mapping. */
  declare trailingComments: string[] | undefined;
  /** YAML keys tagged `!ignore`, which Envoy's YAML loader leaves out: not among `fields`, kept for conversions. */
  declare ignored: SField[] | undefined;

  constructor(fields: SField[], src: SourceFile, start: number, end: number) {
    this.kind = 'message';
    this.fields = fields;
    this.src = src;
    this.start = start;
    this.end = end;
    this.trailingComments = undefined;
    this.ignored = undefined;
  }

  get span(): Span {
    return this.src.span(this.start, this.end);
  }

  /** The same message (extent, trailing comments) with other fields. */
  withFields(fields: SField[]): SMessage {
    const m = new SMessage(fields, this.src, this.start, this.end);
    m.trailingComments = this.trailingComments;
    m.ignored = this.ignored;
    return m;
  }
}

export class SList {
  declare readonly kind: 'list';
  declare items: SyntaxNode[];
  declare readonly src: SourceFile;
  declare readonly start: number;
  declare readonly end: number;

  constructor(items: SyntaxNode[], src: SourceFile, start: number, end: number) {
    this.kind = 'list';
    this.items = items;
    this.src = src;
    this.start = start;
    this.end = end;
  }

  get span(): Span {
    return this.src.span(this.start, this.end);
  }
}

/**
 * How a scalar was written, because the meaning can depend on it: a quoted "80" is a string in text-proto, a bare
 * `ROUND_ROBIN` is an enum name, a bare `0.25s` is the dialect's unquoted duration.
 *  - `string`: a quoted string (text-proto, JSON, quoted YAML);
 *  - `number`: a numeric literal; `value` is the JS number, `raw` the text (for uint64 precision and hex/octal);
 *  - `bool`, `null`;
 *  - `bare`: any other unquoted token (enum names, identifiers such as `inf`/`nan`, `0.25s`, plain YAML strings).
 */
export type ScalarStyle = 'string' | 'number' | 'bool' | 'null' | 'bare';

export class SScalar {
  declare readonly kind: 'scalar';
  declare readonly style: ScalarStyle;
  declare readonly value: string | number | boolean | null;
  declare readonly raw: string;
  declare readonly src: SourceFile;
  declare readonly start: number;
  declare readonly end: number;

  constructor(style: ScalarStyle, value: string | number | boolean | null, raw: string, src: SourceFile, start: number, end: number) {
    this.kind = 'scalar';
    this.style = style;
    this.value = value;
    this.raw = raw;
    this.src = src;
    this.start = start;
    this.end = end;
  }

  get span(): Span {
    return this.src.span(this.start, this.end);
  }
}

/**
 * Called by a reader with each message it reads as an element of a repeated field under `static_resources` (a list
 * item, or one text-proto `clusters { … }` occurrence, then with its field as `occurrence`), as soon as it is read;
 * the message it returns stands in the tree for the element (see ConfigDecoder.element). `keys` are the field names
 * from the root to the repeated field, with `-` after a name whose value is a list the path goes through (YAML and
 * JSON; text-proto passes only the safe paths). `rereader` can read the element again from the source, for a
 * stand-in that turns out not to be needed.
 */
export type ElementHook = (keys: readonly string[], item: SMessage, occurrence: SField | undefined, rereader: Rereader | undefined) => SMessage;

/** Reads a message again from its source, given the message read there before (its offsets). */
export interface Rereader {
  reread(item: SMessage): SMessage;
}

/** A scalar as a message names it (`the string "80"`, `the number 1.5`, `` `STRICT_DNS` ``), as the input wrote it. */
export function describeScalar(v: SScalar): string {
  switch (v.style) {
    case 'string':
      return `the string ${JSON.stringify(v.value)}`;
    case 'number':
      return `the number ${v.raw}`;
    case 'bool':
      return `the boolean ${v.raw}`;
    case 'null':
      return 'null';
    default:
      return `\`${v.raw}\``;
  }
}
