/**
 * The syntax tree every input format is read into before it is decoded against the schema: messages (ordered
 * fields), lists and scalars, each with its span and comments. The text-proto parser and the YAML/JSON reader
 * produce it; src/config/decode.ts turns it into the typed model, applying the dialect's rewrites on the way.
 */
import type { Comments } from './model-base.js';
import type { Span } from './source.js';

export type SyntaxNode = SMessage | SList | SScalar;

export interface SField {
  readonly name: string;
  readonly keySpan: Span;
  /** Name and value. */
  readonly span: Span;
  readonly value: SyntaxNode;
  comments?: Comments;
}

export interface SMessage {
  readonly kind: 'message';
  fields: SField[];
  readonly span: Span;
  /** Comments after the last field, before the closing brace / end of the mapping. */
  trailingComments?: string[];
}

export interface SList {
  readonly kind: 'list';
  items: SyntaxNode[];
  readonly span: Span;
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

export interface SScalar {
  readonly kind: 'scalar';
  readonly style: ScalarStyle;
  readonly value: string | number | boolean | null;
  readonly raw: string;
  readonly span: Span;
}
