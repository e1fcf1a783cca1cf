/**
 * Reading a filter's typed_config. The loader has already judged it against Envoy's descriptors (unknown fields,
 * types and PGV constraints refused, names canonical), so these helpers only pick values out; what meshctl run does
 * not build is refused here, with the filter's place in the config.
 */
import { ConfigRefusedError } from '../../config/usage-error.js';
import type { JsonObject, JsonValue } from '../../config/json-value.js';
import type { Where } from './types.js';

export function refuse(at: Where, message: string): never {
  throw new ConfigRefusedError(`${at}${message}`);
}

export function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

export function list(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A number, or an int64/uint64 written as a string (protobuf JSON). */
export function num(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

/** A google.protobuf.*Value wrapper or plain scalar: JSON writes wrappers as their value. */
export function uint(v: JsonValue | undefined, dflt: number): number {
  const o = obj(v);
  const n = num(o !== undefined ? o.value : v);
  return n ?? dflt;
}

export function bool(v: JsonValue | undefined, dflt = false): boolean {
  const o = obj(v);
  const b = o !== undefined ? o.value : v;
  return typeof b === 'boolean' ? b : dflt;
}

/** A google.protobuf.Duration in JSON form ("1.5s"), or { seconds, nanos }, in ms. */
export function durationMs(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
    return m === null ? undefined : Number(m[1]) * 1000;
  }
  const o = obj(v);
  if (o === undefined) return undefined;
  return (num(o.seconds) ?? 0) * 1000 + (num(o.nanos) ?? 0) / 1e6;
}

/** type.v3.FractionalPercent as [numerator, denominator]. */
export function fraction(v: JsonValue | undefined): readonly [number, number] | undefined {
  const o = obj(v);
  if (o === undefined) return undefined;
  const d = str(o.denominator) ?? 'HUNDRED';
  return [num(o.numerator) ?? 0, d === 'MILLION' ? 1_000_000 : d === 'TEN_THOUSAND' ? 10_000 : 100];
}

/** config.core.v3.RuntimeFractionalPercent: meshctl has no runtime, so its default_value is the value (as Envoy uses
 * it when the runtime key is unset). */
export function runtimeFraction(v: JsonValue | undefined): readonly [number, number] | undefined {
  return fraction(obj(v)?.default_value);
}

/** One draw against a fraction: Envoy's featureEnabled, random % denominator < numerator. */
export function sample(f: readonly [number, number], draw: () => number): boolean {
  if (f[0] <= 0) return false;
  if (f[0] >= f[1]) return true;
  return draw() % f[1] < f[0];
}

/** The fields of `o` that are set (present and not the JSON default), outside `known`. */
export function unknownFields(o: JsonObject, known: ReadonlySet<string>): string[] {
  return Object.keys(o).filter((k) => k !== '@type' && !known.has(k) && !isDefault(o[k]));
}

function isDefault(v: JsonValue | undefined): boolean {
  return v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Refuses the set fields of `o` that meshctl run does not build (`what` names the message, for the error). */
export function refuseUnbuilt(o: JsonObject, known: ReadonlySet<string>, at: Where, what: string): void {
  const extra = unknownFields(o, known);
  if (extra.length > 0) refuse(at, `${what}: ${extra.map((f) => '`' + f + '`').join(', ')} ${extra.length === 1 ? 'is' : 'are'} not supported by meshctl run (it would not be enforced)`);
}
