/**
 * The canonical plain tree: a model turned into ordered fields (proto declaration order, then unmodeled fields),
 * typed scalars and the comments from the source. Every printer (text-proto, YAML, JSON) walks this one tree, so
 * they agree on field order, on what is emitted, and on where comments go.
 */
import { durationText, type Duration, type DurationStyle } from '../duration.js';
import type { JsonValue } from '../json-value.js';
import { type Comments, META, type NodeMeta } from '../node-meta.js';
import { BOOTSTRAP, schema, type FieldInfo } from './schema.js';

/**
 * How a scalar is written:
 *  - `string`: quoted where the format quotes strings;
 *  - `number`, `bool`, `null`;
 *  - `enum`: an enum value name, bare in text-proto;
 *  - `duration`: already formatted (`0.25s`), bare in text-proto, a string in YAML/JSON.
 */
type TScalarType = 'string' | 'number' | 'bool' | 'null' | 'enum' | 'duration';

export interface TScalar {
  readonly kind: 'scalar';
  readonly type: TScalarType;
  readonly value: string | number | boolean | null;
}

export interface TField {
  readonly name: string;
  readonly value: TNode;
  readonly comments?: Comments;
  /** A YAML key tag: `!ignore` for a key Envoy's YAML loader leaves out (only in trees built with ignoredKeys). */
  readonly tag?: '!ignore';
}

export interface TMessage {
  readonly kind: 'message';
  readonly fields: TField[];
  readonly comments?: Comments;
  readonly trailingComments?: readonly string[];
  /** True for values taken verbatim from JSON (Struct fields, unmodeled data), which have no schema. */
  readonly opaque?: boolean;
  /** The model node the message was made from (with TreeOptions.origins; see origin.ts). */
  readonly origin?: object;
}

export interface TList {
  readonly kind: 'list';
  readonly items: TNode[];
  /** True for JSON arrays taken verbatim: without a schema, only list syntax says "this is a list". */
  readonly opaque?: boolean;
}

export type TNode = TScalar | TMessage | TList;

interface TreeOptions {
  durations: DurationStyle;
  /** Keep comments from the source (text-proto and YAML can hold them). */
  comments: boolean;
  /** Say which model node each message was made from (TMessage.origin). */
  origins?: boolean;
  /** Keep the keys the YAML source tagged `!ignore`, tagged (only YAML can write a tag). */
  ignoredKeys?: boolean;
}

function metaComments(c: Comments | undefined): Comments | undefined {
  if (c === undefined) return undefined;
  const leading = c.leading?.filter((l) => l !== undefined);
  const hasLeading = leading !== undefined && leading.length > 0;
  const hasTrailing = c.trailing !== undefined && c.trailing !== '';
  if (!hasLeading && !hasTrailing) return undefined;
  return { ...(hasLeading ? { leading } : {}), ...(hasTrailing ? { trailing: c.trailing } : {}) };
}

function sameComments(a: Comments | undefined, b: Comments | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.trailing !== b.trailing) return false;
  const la = a.leading ?? [];
  const lb = b.leading ?? [];
  return la.length === lb.length && la.every((l, i) => l === lb[i]);
}

/** Both a field and the message it holds can carry comments; merge them without printing one twice. */
function mergeComments(field: Comments | undefined, node: Comments | undefined): Comments | undefined {
  if (field === undefined) return node;
  if (node === undefined || sameComments(field, node)) return field;
  const leading = [...(field.leading ?? []), ...(node.leading ?? []).filter((l) => !(field.leading ?? []).includes(l))];
  const trailing = field.trailing ?? node.trailing;
  return metaComments({ leading, ...(trailing !== undefined ? { trailing } : {}) });
}

/** A JSON value (a Struct, or fields meshctl does not model) as a tree, verbatim. */
export function jsonToTree(v: JsonValue): TNode {
  if (v === null) return { kind: 'scalar', type: 'null', value: null };
  if (Array.isArray(v)) return { kind: 'list', opaque: true, items: v.map(jsonToTree) };
  switch (typeof v) {
    case 'string':
      return { kind: 'scalar', type: 'string', value: v };
    case 'number':
      return { kind: 'scalar', type: 'number', value: v };
    case 'boolean':
      return { kind: 'scalar', type: 'bool', value: v };
    default:
      return {
        kind: 'message',
        opaque: true,
        fields: Object.entries(v).map(([name, value]) => ({ name, value: jsonToTree(value) })),
      };
  }
}

function scalarNode(info: FieldInfo, v: unknown, opts: TreeOptions): TNode {
  switch (info.kind) {
    case 'duration':
      return { kind: 'scalar', type: 'duration', value: durationText(v as Duration, opts.durations) };
    case 'enum':
      return typeof v === 'number'
        ? { kind: 'scalar', type: 'number', value: v }
        : { kind: 'scalar', type: 'enum', value: String(v) };
    case 'struct':
      return jsonToTree(v as JsonValue);
    case 'message':
      return messageToTree(v as Record<string, unknown>, info.typeName!, opts);
    default:
      if (typeof v === 'boolean') return { kind: 'scalar', type: 'bool', value: v };
      if (typeof v === 'number') return { kind: 'scalar', type: 'number', value: v };
      if (v === null) return { kind: 'scalar', type: 'null', value: null };
      if (typeof v === 'object') return jsonToTree(v as JsonValue);
      return { kind: 'scalar', type: 'string', value: String(v) };
  }
}

function isWrittenMessage(unmodeled: unknown, name: string): boolean {
  if (unmodeled === null || typeof unmodeled !== 'object' || !Object.hasOwn(unmodeled, name)) return false;
  const w = (unmodeled as Record<string, unknown>)[name];
  return w !== null && typeof w === 'object' && !Array.isArray(w);
}

/** One model message as a tree, fields in proto order, then its unmodeled fields in their source order. */
function messageToTree(node: Record<string, unknown>, typeName: string, opts: TreeOptions): TMessage {
  const info = schema().message(typeName);
  const meta = opts.comments ? (node as { [META]?: NodeMeta })[META] : undefined;
  const fields: TField[] = [];
  const defs = info.fields;
  for (let i = 0; i < defs.length; i++) {
    const f = defs[i]!;
    const v = node[f.name];
    if (v === undefined) continue;
    let comments = meta === undefined ? undefined : metaComments(meta.fields[f.name]?.comments);
    let value: TNode;
    if (f.repeated && Array.isArray(v)) {
      // an element message keeps its own comments (those written before it in the source)
      const items: TNode[] = new Array<TNode>(v.length);
      for (let k = 0; k < v.length; k++) items[k] = scalarNode(f, v[k], opts);
      // the field's comments are those of its first occurrence, which the first element also carries
      const first = items[0];
      if (comments !== undefined && first?.kind === 'message' && sameComments(first.comments, comments)) comments = undefined;
      value = { kind: 'list', items };
    } else if (typeof v === 'number' && isWrittenMessage(node.unmodeled, f.name)) {
      // A number the source wrote as a message (a RuntimeDouble with its runtime key, normalize.ts): as written.
      value = jsonToTree((node.unmodeled as Record<string, JsonValue>)[f.name]!);
    } else {
      value = scalarNode(f, v, opts);
      if (meta !== undefined && value.kind === 'message' && !value.opaque && value.comments !== undefined) {
        comments = mergeComments(comments, value.comments);
        value = {
          kind: 'message',
          fields: value.fields,
          ...(value.trailingComments ? { trailingComments: value.trailingComments } : {}),
          ...(value.origin !== undefined ? { origin: value.origin } : {}),
        };
      }
    }
    fields.push(comments === undefined ? { name: f.name, value } : { name: f.name, value, comments });
  }
  const unmodeled = node.unmodeled as Record<string, JsonValue> | undefined;
  if (unmodeled !== undefined && unmodeled !== null && typeof unmodeled === 'object') {
    for (const name of Object.keys(unmodeled)) {
      // a schema field whose value could not be modelled (another filter's typed_config, say) is kept here too
      if (node[name] !== undefined) continue;
      const comments = meta === undefined ? undefined : metaComments(meta.fields[name]?.comments);
      const value = jsonToTree(unmodeled[name]!);
      fields.push(comments === undefined ? { name, value } : { name, value, comments });
    }
  }
  const ignored = opts.ignoredKeys === true ? (node as { [META]?: NodeMeta })[META]?.ignoredKeys : undefined;
  if (ignored !== undefined) for (const name of Object.keys(ignored)) fields.push({ name, value: jsonToTree(ignored[name]!), tag: '!ignore' });
  if (meta === undefined) return opts.origins === true ? { kind: 'message', fields, origin: node } : { kind: 'message', fields };
  const comments = metaComments(meta.comments);
  const trailing = meta.trailingComments?.filter((c) => c !== undefined);
  const out: { -readonly [K in keyof TMessage]: TMessage[K] } = { kind: 'message', fields };
  if (opts.origins === true) out.origin = node;
  if (comments !== undefined) out.comments = comments;
  if (trailing !== undefined && trailing.length > 0) out.trailingComments = trailing;
  return out;
}

/** The whole config as a tree. */
export function configToTree(config: object, opts: TreeOptions): TMessage {
  return messageToTree(config as Record<string, unknown>, BOOTSTRAP, opts);
}

/** Whether any model node holds keys its YAML source tagged `!ignore` (which only a YAML conversion can write). */
export function hasIgnoredKeys(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasIgnoredKeys);
  if (node === null || typeof node !== 'object') return false;
  if ((node as { [META]?: NodeMeta })[META]?.ignoredKeys !== undefined) return true;
  for (const [k, v] of Object.entries(node)) if (k !== 'unmodeled' && hasIgnoredKeys(v)) return true;
  return false;
}

/** Whether any node of the tree carries a comment (to say that a format without comments dropped them). */
export function hasComments(node: TNode): boolean {
  if (node.kind === 'scalar') return false;
  if (node.kind === 'list') return node.items.some(hasComments);
  if (node.comments !== undefined || (node.trailingComments?.length ?? 0) > 0) return true;
  return node.fields.some((f) => f.comments !== undefined || hasComments(f.value));
}
