/**
 * Scalars as Envoy reads them from YAML and JSON. Envoy turns YAML into JSON first (`ValueUtil::loadFromYaml`,
 * source/common/protobuf/yaml_utility.cc): a plain YAML scalar that yaml-cpp reads as a boolean (`yes`, `on`, `y`, any
 * case form of true/false/yes/no/on/off/y/n) becomes a JSON boolean, an integer outside int32 becomes a string, other
 * numbers stay numbers, everything else is a string. protobuf's JSON parser then reads the field
 * (src/google/protobuf/json/internal/parser.cc, with the `allow_legacy_syntax` that JsonStringToMessage turns on):
 * integers from whole numbers or digit strings, floats from numbers or numeric strings and `NaN`/`Infinity`/
 * `-Infinity`, booleans from booleans or the strings absl::SimpleAtob reads (true/false/t/f/yes/no/y/n/1/0, any
 * case), strings only from strings, enums from names or numbers (also as digit strings).
 */
import type { ScalarType } from './descriptors.js';
import { describeScalar, type SScalar } from '../syntax.js';

/** yaml-cpp's booleans (YAML::convert<bool>): y/yes/true/on and n/no/false/off, lower case, Capitalised or UPPER. */
const YAML_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const YAML_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

/** The boolean Envoy reads a plain YAML scalar as, if it reads one. */
export function yamlBoolean(v: SScalar, yaml: boolean): boolean | undefined {
  if (v.style === 'bool') return v.value as boolean;
  if (!yaml || v.style !== 'bare') return undefined;
  const t = v.raw;
  // Most plain scalars are names and addresses: only a word of at most five letters starting y/n/t/f/o can be one.
  if (t.length > 5 || !BOOL_INITIALS.has(t.charCodeAt(0))) return undefined;
  return YAML_TRUE.has(t) ? true : YAML_FALSE.has(t) ? false : undefined;
}

const BOOL_INITIALS: ReadonlySet<number> = new Set([...'yYnNtTfFoO'].map((c) => c.charCodeAt(0)));

/** absl::SimpleAtob's words, which protobuf's JSON parser accepts in a string for a bool field (legacy syntax). */
const ATOB_TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const ATOB_FALSE = new Set(['false', 'f', 'no', 'n', '0']);

function quotedBoolean(t: string): boolean | undefined {
  const l = t.toLowerCase();
  return ATOB_TRUE.has(l) ? true : ATOB_FALSE.has(l) ? false : undefined;
}

const INT_RANGES: Readonly<Partial<Record<ScalarType, readonly [bigint, bigint]>>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** The same ranges as numbers, for the common case of a safe integer (their ends are exact doubles or beyond 2^53). */
const NUMBER_RANGES: Readonly<Partial<Record<ScalarType, readonly [number, number]>>> = Object.fromEntries(
  Object.entries(INT_RANGES).map(([k, [lo, hi]]) => [k, [Number(lo), Number(hi)] as const]),
);

export type ScalarValue = string | number | bigint | boolean;

/** Why a scalar is not a value of the field's type (a value is returned as it is: no object per scalar). */
export class ScalarProblem {
  constructor(
    readonly message: string,
    readonly hint?: string,
  ) {}
}

export type ReadResult = ScalarValue | ScalarProblem;

function fail(message: string, hint?: string): ScalarProblem {
  return new ScalarProblem(message, hint);
}

/** A whole number from a number's source text or a digit string (exactly, as a bigint). */
function exactInteger(v: SScalar): bigint | undefined {
  if (v.style === 'number' && typeof v.value === 'number') {
    if (!Number.isFinite(v.value) || !Number.isInteger(v.value)) return undefined;
    if (Number.isSafeInteger(v.value)) return BigInt(v.value);
    return /^[-+]?\d+$/.test(v.raw) ? BigInt(v.raw.replace(/^\+/, '')) : BigInt(v.value);
  }
  if (v.style === 'string' || v.style === 'bare') {
    const t = String(v.value);
    if (/^[-+]?\d+$/.test(t)) return BigInt(t.replace(/^\+/, ''));
  }
  return undefined;
}

/**
 * Reads a scalar as a field of type `type`. 64-bit integers come back as bigints when they are not safe integers.
 * `field` names the field in messages.
 */
export function readScalar(type: ScalarType, v: SScalar, yaml: boolean, field: string): ReadResult {
  switch (type) {
    case 'string': {
      if (v.style === 'string') return v.value as string;
      if (v.style === 'bare') {
        if (yamlBoolean(v, yaml) !== undefined) {
          return fail(`\`${field}\` takes a string, but Envoy reads the plain YAML \`${v.raw}\` as a boolean`, `quote it: "${v.raw}"`);
        }
        return v.value as string;
      }
      // Envoy's YAML reader writes an integer beyond int32 as a string, which a string field then accepts.
      if (yaml && v.style === 'number') {
        const n = exactInteger(v);
        if (n !== undefined && (n < -(2n ** 31n) || n > 2n ** 31n - 1n)) return n.toString();
      }
      return fail(`\`${field}\` takes a string, not ${describeScalar(v)}`, v.style === 'null' ? undefined : `quote it: "${v.raw.replace(/"/g, '\\"')}"`);
    }
    case 'bytes':
      if (v.style === 'string' || (v.style === 'bare' && yamlBoolean(v, yaml) === undefined)) return String(v.value);
      return fail(`\`${field}\` takes base64 bytes in a string, not ${describeScalar(v)}`);
    case 'bool': {
      const b = yamlBoolean(v, yaml) ?? (v.style === 'string' || v.style === 'bare' ? quotedBoolean(String(v.value)) : undefined);
      if (b !== undefined) return b;
      return fail(`\`${field}\` takes true or false, not ${describeScalar(v)}`);
    }
    case 'double':
    case 'float': {
      if (v.style === 'number' && typeof v.value === 'number') return v.value;
      if (v.style === 'string' || (v.style === 'bare' && yamlBoolean(v, yaml) === undefined)) {
        const t = String(v.value);
        if (t === 'NaN') return NaN;
        if (t === 'Infinity') return Infinity;
        if (t === '-Infinity') return -Infinity;
        if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
      }
      return fail(`\`${field}\` takes a number, not ${describeScalar(v)}`);
    }
    default: {
      const range = INT_RANGES[type]!;
      // The common case without a bigint: a safe integer within the type's range.
      if (v.style === 'number' && typeof v.value === 'number' && Number.isSafeInteger(v.value)) {
        const n = v.value;
        const r = NUMBER_RANGES[type]!;
        if (n >= r[0] && n <= r[1]) return n + 0;
      }
      if (v.style !== 'number' && v.style !== 'string' && !(v.style === 'bare' && yamlBoolean(v, yaml) === undefined)) {
        return fail(`\`${field}\` takes a whole number (${type}), not ${describeScalar(v)}`);
      }
      const n = exactInteger(v);
      if (n === undefined) return fail(`\`${field}\` takes a whole number (${type}), not ${describeScalar(v)}`);
      if (n < range[0] || n > range[1]) return fail(`${v.raw} is out of range for \`${field}\` (${type}: ${range[0]} to ${range[1]})`);
      const big = type.endsWith('64');
      return big && (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) ? n : Number(n);
    }
  }
}

