/**
 * Envoy's bootstrap in protobuf text format, as Envoy reads a `.pb_text` bootstrap (`envoy -c bootstrap.pb_text`): the
 * Envoy JSON form (emit/envoy.ts) printed field by field from Envoy's own descriptors (schemas/envoy-api/). Text format
 * has no JSON conveniences, so each well-known type is written as the message it is: an Any as its expansion
 * `[type.googleapis.com/pkg.Msg] { … }`, a Duration as `{ seconds: … nanos: … }`, a wrapper as `{ value: … }`, a
 * Struct as its `fields` map of Values; enums bare; a map as repeated `{ key: … value: … }` entries
 * (https://protobuf.dev/reference/protobuf/textformat-spec/).
 *
 * A value the descriptors cannot place (a type whose .proto is not in meshctl's copy of the API, an Any without a
 * resolvable `@type`) cannot be written in text format at all, unlike JSON: it is reported, and left out.
 */
import type { Diagnostic } from '../diagnostic.js';
import type { JsonObject, JsonValue } from '../json-value.js';
import { pointSpan } from '../source.js';
import { envoyApi, type EnumDesc, type EnvoyApi, type FieldType, type MessageDesc, type WellKnownType } from '../envoy-api/descriptors.js';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const INDENT = '  ';

class Printer {
  readonly lines: string[] = [];
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly api: EnvoyApi,
    private readonly file: string,
  ) {}

  problem(path: string, message: string): void {
    this.diagnostics.push({ ruleId: 'not-representable-in-pbtext', severity: 'warning', message: `${path}: ${message}; left out of the text-format output`, span: pointSpan(this.file) });
  }

  message(desc: MessageDesc, obj: JsonObject, depth: number, path: string): void {
    for (const [key, value] of Object.entries(obj)) {
      if (key === '@type') continue;
      const fd = desc.field(key);
      if (fd === undefined) {
        this.problem(`${path}.${key}`, `${desc.localName} has no field \`${key}\``);
        continue;
      }
      if (value === null) continue;
      if (fd.mapKey !== undefined) {
        if (typeof value !== 'object' || Array.isArray(value)) continue;
        for (const [k, v] of Object.entries(value)) {
          this.open(fd.name, depth);
          this.line(depth + 1, `key: ${fd.mapKey === 'string' ? quote(k) : k}`);
          this.field('value', fd.type, v, depth + 1, `${path}.${key}[${k}]`);
          this.close(depth);
        }
      } else if (fd.repeated && Array.isArray(value)) {
        value.forEach((v, i) => this.field(fd.name, fd.type, v, depth, `${path}.${key}[${i}]`));
      } else this.field(fd.name, fd.type, value, depth, `${path}.${key}`);
    }
  }

  /** One `name: value` or `name { … }` for a value of type `t`. */
  field(name: string, t: FieldType, v: JsonValue, depth: number, path: string): void {
    switch (t.kind) {
      case 'scalar':
        return this.line(depth, `${name}: ${scalar(t.scalar, v)}`);
      case 'enum':
        return this.line(depth, `${name}: ${enumName(t.enum, v)}`);
      case 'wrapper':
        return this.line(depth, `${name} { value: ${scalar(t.scalar, v)} }`);
      case 'message':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.problem(path, `expected a ${t.message.localName} message`);
        this.open(name, depth);
        this.message(t.message, v, depth + 1, path);
        return this.close(depth);
      case 'well-known':
        return this.wellKnown(name, t.wkt, v, depth, path);
      case 'missing':
        return this.problem(path, `its type \`${t.name}\` is not in meshctl's copy of Envoy's API`);
    }
  }

  private wellKnown(name: string, wkt: WellKnownType, v: JsonValue, depth: number, path: string): void {
    switch (wkt) {
      case 'duration': {
        const d = typeof v === 'string' ? parseDurationSeconds(v) : undefined;
        if (d === undefined) return this.problem(path, `\`${JSON.stringify(v)}\` is not a duration`);
        return this.line(depth, `${name} { ${d.seconds !== 0n ? `seconds: ${d.seconds}` : ''}${d.seconds !== 0n && d.nanos !== 0 ? ' ' : ''}${d.nanos !== 0 ? `nanos: ${d.nanos}` : ''} }`.replace('{  }', '{}'));
      }
      case 'any': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.problem(path, 'expected an Any (an object with `@type`)');
        const url = v['@type'];
        if (typeof url !== 'string') {
          if (Object.keys(v).length === 0) return this.line(depth, `${name} {}`);
          return this.problem(path, 'an Any without `@type`');
        }
        const t = this.api.typeByName(url.slice(url.lastIndexOf('/') + 1));
        if (t === undefined) return this.problem(path, `\`${url}\` is not in meshctl's copy of Envoy's API`);
        this.open(name, depth);
        if (t.kind === 'message') {
          this.open(`[${url}]`, depth + 1);
          this.message(t.message, v, depth + 2, path);
          this.close(depth + 1);
        } else {
          // A well-known type or wrapper inside an Any: JSON keeps its value under `value`.
          this.field(`[${url}]`, t, v.value ?? null, depth + 1, path);
        }
        return this.close(depth);
      }
      case 'struct':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.problem(path, 'expected a Struct (an object)');
        this.open(name, depth);
        this.structFields(v, depth + 1);
        return this.close(depth);
      case 'value':
        this.open(name, depth);
        this.value(v, depth + 1);
        return this.close(depth);
      case 'list-value':
        this.open(name, depth);
        for (const x of Array.isArray(v) ? v : [v]) this.structValue('values', x, depth + 1);
        return this.close(depth);
      case 'empty':
        return this.line(depth, `${name} {}`);
      case 'field-mask':
        this.open(name, depth);
        for (const p of typeof v === 'string' ? v.split(',').filter((x) => x !== '') : []) this.line(depth + 1, `paths: ${quote(p)}`);
        return this.close(depth);
      case 'timestamp': {
        const ms = typeof v === 'string' ? Date.parse(v) : NaN;
        if (Number.isNaN(ms)) return this.problem(path, `\`${JSON.stringify(v)}\` is not a timestamp`);
        return this.line(depth, `${name} { seconds: ${Math.floor(ms / 1000)} }`);
      }
      case 'null-value':
        return this.line(depth, `${name}: NULL_VALUE`);
    }
  }

  private structFields(obj: JsonObject, depth: number): void {
    for (const [k, x] of Object.entries(obj)) {
      this.open('fields', depth);
      this.line(depth + 1, `key: ${quote(k)}`);
      this.structValue('value', x, depth + 1);
      this.close(depth);
    }
  }

  private structValue(name: string, v: JsonValue, depth: number): void {
    this.open(name, depth);
    this.value(v, depth + 1);
    this.close(depth);
  }

  /** The body of a google.protobuf.Value. */
  private value(v: JsonValue, depth: number): void {
    if (v === null) this.line(depth, 'null_value: NULL_VALUE');
    else if (typeof v === 'boolean') this.line(depth, `bool_value: ${v}`);
    else if (typeof v === 'number') this.line(depth, `number_value: ${v}`);
    else if (typeof v === 'string') this.line(depth, `string_value: ${quote(v)}`);
    else if (Array.isArray(v)) {
      this.open('list_value', depth);
      for (const x of v) this.structValue('values', x, depth + 1);
      this.close(depth);
    } else {
      this.open('struct_value', depth);
      this.structFields(v, depth + 1);
      this.close(depth);
    }
  }

  private line(depth: number, text: string): void {
    this.lines.push(INDENT.repeat(depth) + text);
  }
  private open(name: string, depth: number): void {
    this.line(depth, `${name} {`);
  }
  private close(depth: number): void {
    this.line(depth, '}');
  }
}

/**
 * An enum value by its declared name: text format matches names exactly, while Envoy's JSON/YAML reading takes any
 * case (`tlsv1_2` for `TLSv1_2`), and a number stands for the value's first name.
 */
function enumName(e: EnumDesc, v: JsonValue): string {
  if (typeof v === 'number') return e.names.get(v) ?? String(v);
  const text = String(v);
  if (e.values.has(text)) return text;
  const upper = text.toUpperCase();
  for (const name of e.values.keys()) if (name.toUpperCase() === upper) return name;
  return text;
}

/** A scalar as text format writes it; 64-bit integers arrive as strings in proto3 JSON and are written bare. */
function scalar(type: string, v: JsonValue): string {
  if (type === 'string' || type === 'bytes') return quote(String(v));
  if (type === 'bool') return v === true || v === 'true' ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  return String(v);
}

/** A string literal: double quotes, with `"`, `\` and control characters escaped (octal for the rest of C0). */
function quote(s: string): string {
  let out = '"';
  for (const ch of Buffer.from(s, 'utf8')) {
    if (ch === 0x22) out += '\\"';
    else if (ch === 0x5c) out += '\\\\';
    else if (ch === 0x0a) out += '\\n';
    else if (ch === 0x0d) out += '\\r';
    else if (ch === 0x09) out += '\\t';
    else if (ch < 0x20 || ch === 0x7f) out += '\\' + ch.toString(8).padStart(3, '0');
    else if (ch >= 0x80) out += '\\' + ch.toString(8).padStart(3, '0');
    else out += String.fromCharCode(ch);
  }
  return out + '"';
}

/** Proto3 JSON's duration string (`1.5s`, `-0.25s`) as seconds and nanos. */
function parseDurationSeconds(text: string): { seconds: bigint; nanos: number } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const nanos = m[3] !== undefined ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: BigInt(sign) * BigInt(m[2]!), nanos: sign * nanos };
}

/** Envoy's bootstrap (its JSON form) in protobuf text format. */
export function bootstrapToPbText(bootstrap: JsonObject, file: string): { text: string; diagnostics: Diagnostic[] } {
  const api = envoyApi();
  const desc = api.message(BOOTSTRAP);
  if (desc === undefined) throw new Error(`${BOOTSTRAP} is not in schemas/envoy-api`);
  const p = new Printer(api, file);
  p.message(desc, bootstrap, 0, 'bootstrap');
  return { text: p.lines.join('\n') + '\n', diagnostics: p.diagnostics };
}

