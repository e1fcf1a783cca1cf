/**
 * What every model node carries besides its fields: where it came from (META) and any fields meshctl does not model
 * (unmodeled), kept so a conversion never drops them.
 */
import type { Span } from './source.js';

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
  const f = meta.fields[field];
  if (f === undefined) return meta.span;
  if (index !== undefined && f.itemSpans !== undefined && f.itemSpans[index] !== undefined) return f.itemSpans[index];
  return f.span;
}

/** The span of a field's name (falls back to the field, then the node). */
export function keySpanOf(node: object | undefined, field: string): Span | undefined {
  const meta = metaOf(node);
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
