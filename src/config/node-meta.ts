/**
 * What every model node carries besides its fields: where it came from (under META: spans, comments, dialect notes)
 * and any fields meshctl does not model (unmodeled), kept so a conversion never drops them. spanOf and keySpanOf
 * read the positions, from the decoder's compact store (source-meta-store.ts) when nothing else was asked yet.
 */
import type { JsonObject, JsonValue } from './json-value.js';
import { SourceNodeMeta } from './source-meta-store.js';
import type { Span } from './source.js';

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
  /** Keys the YAML source tagged `!ignore` (Envoy's loader leaves them out), as JSON, for YAML conversions. */
  ignoredKeys?: JsonObject;
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

/**
 * A field as the config wrote it: the model's own, or the verbatim copy the decoder kept (`unmodeled`) of a field
 * Envoy knows and the model does not hold. For run-time code that acts on such a field (its fate is in
 * config/run-fate/unmodeled.ts).
 */
export function writtenField(node: object | undefined, name: string): JsonValue | undefined {
  if (node === undefined) return undefined;
  return ((node as Record<string, unknown>)[name] as JsonValue | undefined) ?? (node as { unmodeled?: JsonObject }).unmodeled?.[name];
}
