/**
 * Envoy's protobuf wire form, from and to proto3 JSON, driven by the descriptors in schemas/envoy-api/ (field numbers
 * and types as Envoy's .proto files declare them). What an xDS server sends (a Listener, a RouteConfiguration, a
 * Cluster or a ClusterLoadAssignment packed in an Any) is therefore the bytes Envoy's own serializer would write, and
 * any xDS client (Envoy, gRPC's xDS resolver) decodes it with its own generated code. JSON follows
 * https://protobuf.dev/programming-guides/json/: Durations as "1.5s", wrappers as bare values, enums by name, Any as
 * {"@type": URL, …fields} (a well-known type's Any as {"@type", "value"}, an Any of a type meshctl's copy lacks as
 * {"@type", "value": base64}), bytes as base64, int64 read as numbers while exact and as decimal strings beyond 2^53
 * (encoded from either, exactly). Decoded Durations and Timestamps have 0, 3, 6 or 9 fractional digits, as protobuf's
 * own JSON printer writes them. Decoding skips unknown field numbers, merges a message field that occurs twice and
 * lets the last member of a oneof win (https://protobuf.dev/programming-guides/encoding/#last-one-wins).
 *
 * One codec serves both ends of xDS: the control plane (control-plane/, `meshctl serve`) and the client
 * (discovery/xds-messages.ts). It needs protobufjs's minimal runtime only, and meshctl loads it only when gRPC xDS
 * is used (test/run/xds-lazy.test.ts).
 */
import protobuf from 'protobufjs/minimal.js';
import { durationText } from '../duration.js';
import type { JsonValue } from '../json-value.js';
import { envoyApi, type EnvoyApi, type FieldDesc, type FieldType, type MessageDesc, type ScalarType } from './descriptors.js';
import { parseJsonDuration, parseJsonTimestamp } from './well-known.js';
import { typeNameOf } from './xds-protocol.js';

type Obj = { [k: string]: JsonValue };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value that cannot be written as the field's type, or bytes that are not the message: names the field path. */
export class WireError extends Error {}

/** protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

function wireTypeOf(s: ScalarType): number {
  switch (s) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return FIXED64;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return FIXED32;
    case 'string':
    case 'bytes':
      return LEN;
    default:
      return VARINT;
  }
}

/** proto3 packs repeated numbers and enums (https://protobuf.dev/programming-guides/encoding/#packed). */
function isPackable(t: FieldType): boolean {
  return (t.kind === 'scalar' && wireTypeOf(t.scalar) !== LEN) || t.kind === 'enum';
}

function num(v: JsonValue, path: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new WireError(`${path}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A 64-bit integer as protobufjs writes it: decimal text stays text, so values beyond 2^53 keep every digit. */
function num64(v: JsonValue, path: string): number | string {
  return typeof v === 'string' && /^-?\d+$/.test(v) ? v : num(v, path);
}

function writeScalar(w: protobuf.Writer, s: ScalarType, v: JsonValue, path: string): void {
  switch (s) {
    case 'string':
      if (typeof v !== 'string') throw new WireError(`${path}: expected a string, got ${JSON.stringify(v)}`);
      w.string(v);
      return;
    case 'bytes':
      if (typeof v !== 'string') throw new WireError(`${path}: expected base64 bytes`);
      w.bytes(Buffer.from(v, 'base64'));
      return;
    case 'bool':
      w.bool(v === true || v === 'true');
      return;
    case 'double':
      w.double(num(v, path));
      return;
    case 'float':
      w.float(num(v, path));
      return;
    case 'int32':
      w.int32(num(v, path));
      return;
    case 'sint32':
      w.sint32(num(v, path));
      return;
    case 'uint32':
      w.uint32(num(v, path));
      return;
    case 'fixed32':
      w.fixed32(num(v, path));
      return;
    case 'sfixed32':
      w.sfixed32(num(v, path));
      return;
    case 'int64':
      w.int64(num64(v, path));
      return;
    case 'sint64':
      w.sint64(num64(v, path));
      return;
    case 'uint64':
      w.uint64(num64(v, path));
      return;
    case 'fixed64':
      w.fixed64(num64(v, path));
      return;
    case 'sfixed64':
      w.sfixed64(num64(v, path));
      return;
  }
}

/** google.protobuf.FieldMask: JSON paths are lowerCamelCase, the wire's are the proto names. */
const snakePath = (p: string): string => p.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camelPath = (p: string): string => p.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Seconds and nanos (Duration, Timestamp) → their message body. */
function writeSecondsNanos(w: protobuf.Writer, seconds: bigint, nanos: number): void {
  if (seconds !== 0n) w.uint32((1 << 3) | VARINT).int64(seconds.toString());
  if (nanos !== 0) w.uint32((2 << 3) | VARINT).int32(nanos);
}

/** A Timestamp's JSON form: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits. */
function timestampText(seconds: number, nanos: number): string {
  const whole = new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, '');
  const frac = durationText({ seconds: 0, nanos }, 'envoy').slice(1, -1);
  return `${whole}${frac}Z`;
}

export class WireCodec {
  constructor(private readonly api: EnvoyApi = envoyApi()) {}

  /** A message by full name, or a WireError. */
  private message(fullName: string): MessageDesc {
    const m = this.api.message(fullName);
    if (m === undefined) throw new WireError(`no message ${fullName} in Envoy's API`);
    return m;
  }

  /** proto3 JSON (proto or JSON field names) → the message's wire bytes. A field with no place is a WireError. */
  encode(fullName: string, json: Obj): Uint8Array {
    const w = protobuf.Writer.create();
    this.writeMessage(w, this.message(fullName), json, fullName);
    return w.finish();
  }

  /** Wire bytes → proto3 JSON (snake_case names; default values left out). Bytes that do not parse are a WireError. */
  decode(fullName: string, bytes: Uint8Array): Obj {
    const m = this.message(fullName);
    try {
      return this.readMessage(protobuf.Reader.create(bytes), m, bytes.length, {});
    } catch (err) {
      // protobufjs throws a RangeError for a truncated or malformed message.
      throw err instanceof WireError ? err : new WireError(`${fullName}: ${(err as Error).message}`);
    }
  }

  private writeMessage(w: protobuf.Writer, m: MessageDesc, json: Obj, path: string): void {
    for (const [k, v] of Object.entries(json)) {
      // Typed callers may hand over optional fields left undefined; they are absent, as null is.
      if (v === null || v === undefined) continue;
      const f = m.field(k);
      if (f === undefined) throw new WireError(`${path}.${k}: ${m.fullName} has no such field`);
      const p = `${path}.${k}`;
      if (f.mapKey !== undefined) {
        if (!isObj(v)) throw new WireError(`${p}: expected a map`);
        for (const [key, val] of Object.entries(v)) {
          w.uint32((f.id << 3) | LEN).fork();
          const keyScalar = f.mapKey;
          w.uint32((1 << 3) | wireTypeOf(keyScalar));
          writeScalar(w, keyScalar, keyScalar === 'bool' ? key === 'true' : key, p);
          this.writeValue(w, 2, f.type, val, `${p}[${key}]`);
          w.ldelim();
        }
      } else if (f.repeated) {
        if (!Array.isArray(v)) throw new WireError(`${p}: expected a list`);
        const t = f.type;
        if (isPackable(t)) {
          if (v.length === 0) continue;
          w.uint32((f.id << 3) | LEN).fork();
          for (const [i, x] of v.entries()) {
            if (t.kind === 'enum') w.int32(this.enumNumber(f, x, `${p}[${i}]`));
            else if (t.kind === 'scalar') writeScalar(w, t.scalar, x, `${p}[${i}]`);
          }
          w.ldelim();
        } else for (const [i, x] of v.entries()) this.writeValue(w, f.id, t, x, `${p}[${i}]`);
      } else this.writeValue(w, f.id, f.type, v, p);
    }
  }

  private enumNumber(f: FieldDesc, v: JsonValue, path: string): number {
    if (typeof v === 'number') return v;
    const t = f.type;
    const n = t.kind === 'enum' && typeof v === 'string' ? t.enum.values.get(v) : undefined;
    if (n === undefined) throw new WireError(`${path}: ${JSON.stringify(v)} is not a value of ${f.typeName}`);
    return n;
  }

  /** One field value with its tag. */
  private writeValue(w: protobuf.Writer, id: number, t: FieldType, v: JsonValue, path: string): void {
    switch (t.kind) {
      case 'scalar':
        w.uint32((id << 3) | wireTypeOf(t.scalar));
        writeScalar(w, t.scalar, v, path);
        return;
      case 'enum': {
        const n = typeof v === 'number' ? v : t.enum.values.get(String(v));
        if (n === undefined) throw new WireError(`${path}: ${JSON.stringify(v)} is not a value of ${t.enum.fullName}`);
        w.uint32((id << 3) | VARINT).int32(n);
        return;
      }
      case 'missing':
        throw new WireError(`${path}: type ${t.name} is not in meshctl's copy of Envoy's API`);
      default:
        // google.protobuf.NullValue is an enum with the single value 0.
        if (t.kind === 'well-known' && t.wkt === 'null-value') {
          w.uint32((id << 3) | VARINT).int32(0);
          return;
        }
        w.uint32((id << 3) | LEN).fork();
        this.writeBody(w, t, v, path);
        w.ldelim();
    }
  }

  /** The body of a message-typed value (an Envoy message, a wrapper or a well-known type). */
  private writeBody(w: protobuf.Writer, t: FieldType, v: JsonValue, path: string): void {
    if (t.kind === 'message') {
      if (!isObj(v)) throw new WireError(`${path}: expected an object`);
      this.writeMessage(w, t.message, v, path);
    } else if (t.kind === 'wrapper') {
      w.uint32((1 << 3) | wireTypeOf(t.scalar));
      writeScalar(w, t.scalar, v, path);
    } else if (t.kind === 'well-known') this.writeWellKnown(w, t.wkt, v, path);
  }

  private writeWellKnown(w: protobuf.Writer, wkt: string, v: JsonValue, path: string): void {
    switch (wkt) {
      case 'duration': {
        const d = typeof v === 'string' ? parseJsonDuration(v) : { error: 'a duration is a string such as "1.5s"' };
        if ('error' in d) throw new WireError(`${path}: ${d.error}`);
        // Seconds and nanos carry the same sign: truncate toward zero.
        const nanos = BigInt(d.nanos);
        const seconds = nanos / 1_000_000_000n;
        writeSecondsNanos(w, seconds, Number(nanos - seconds * 1_000_000_000n));
        return;
      }
      case 'timestamp': {
        const ns = typeof v === 'string' ? parseJsonTimestamp(v) : undefined;
        if (ns === undefined) throw new WireError(`${path}: expected an RFC 3339 timestamp`);
        // A Timestamp's nanos are never negative: floor the seconds before 1970.
        let seconds = ns / 1_000_000_000n;
        if (seconds * 1_000_000_000n > ns) seconds -= 1n;
        writeSecondsNanos(w, seconds, Number(ns - seconds * 1_000_000_000n));
        return;
      }
      case 'any': {
        if (!isObj(v) || typeof v['@type'] !== 'string') throw new WireError(`${path}: an Any needs "@type"`);
        const url = v['@type'];
        const t = this.api.typeByName(typeNameOf(url));
        w.uint32((1 << 3) | LEN).string(url);
        if (t === undefined) {
          // A type meshctl's copy lacks travels as the bytes it was read with.
          if (typeof v.value !== 'string') throw new WireError(`${path}: unknown type ${url}`);
          w.uint32((2 << 3) | LEN).bytes(Buffer.from(v.value, 'base64'));
          return;
        }
        w.uint32((2 << 3) | LEN).fork();
        if (t.kind === 'message') {
          const { ['@type']: _drop, ...body } = v;
          this.writeMessage(w, t.message, body, path);
        } else this.writeBody(w, t, v.value ?? null, path);
        w.ldelim();
        return;
      }
      case 'struct':
        if (!isObj(v)) throw new WireError(`${path}: a Struct is an object`);
        for (const [k, x] of Object.entries(v)) {
          w.uint32((1 << 3) | LEN).fork();
          w.uint32((1 << 3) | LEN).string(k);
          w.uint32((2 << 3) | LEN).fork();
          this.writeWellKnown(w, 'value', x, `${path}.${k}`);
          w.ldelim();
          w.ldelim();
        }
        return;
      case 'list-value':
        if (!Array.isArray(v)) throw new WireError(`${path}: a ListValue is a list`);
        for (const x of v) {
          w.uint32((1 << 3) | LEN).fork();
          this.writeWellKnown(w, 'value', x, path);
          w.ldelim();
        }
        return;
      case 'value':
        if (v === null || v === undefined) w.uint32((1 << 3) | VARINT).int32(0);
        else if (typeof v === 'number') w.uint32((2 << 3) | FIXED64).double(v);
        else if (typeof v === 'string') w.uint32((3 << 3) | LEN).string(v);
        else if (typeof v === 'boolean') w.uint32((4 << 3) | VARINT).bool(v);
        else {
          w.uint32(((Array.isArray(v) ? 6 : 5) << 3) | LEN).fork();
          this.writeWellKnown(w, Array.isArray(v) ? 'list-value' : 'struct', v, path);
          w.ldelim();
        }
        return;
      case 'field-mask':
        if (typeof v !== 'string') throw new WireError(`${path}: a FieldMask is a string`);
        for (const p of v.split(',').filter((s) => s !== '')) w.uint32((1 << 3) | LEN).string(snakePath(p));
        return;
      default:
        // Empty: no body.
        return;
    }
  }

  /** Reads `len` bytes of message `m` into `out`, so that a message field met twice merges (protobuf's rule). */
  private readMessage(r: protobuf.Reader, m: MessageDesc, len: number, out: Obj): Obj {
    const end = r.pos + len;
    while (r.pos < end) {
      const tag = r.uint32();
      const f = m.fieldById(tag >>> 3);
      const wt = tag & 7;
      if (f === undefined || f.type.kind === 'missing') {
        r.skipType(wt);
        continue;
      }
      if (f.mapKey !== undefined) {
        const entryEnd = r.uint32() + r.pos;
        let key: JsonValue = defaultOf({ kind: 'scalar', scalar: f.mapKey });
        let val: JsonValue | undefined;
        while (r.pos < entryEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) key = readScalar(r, f.mapKey);
          else if (t >>> 3 === 2) val = this.readValue(r, f.type, t & 7, undefined);
          else r.skipType(t & 7);
        }
        const map = (isObj(out[f.name]) ? out[f.name] : (out[f.name] = {})) as Obj;
        map[String(key)] = val ?? defaultOf(f.type);
        continue;
      }
      const t = f.type;
      if (f.repeated) {
        const list = (Array.isArray(out[f.name]) ? out[f.name] : (out[f.name] = [])) as JsonValue[];
        if (wt === LEN && isPackable(t)) {
          const packedEnd = r.uint32() + r.pos;
          const itemWire = t.kind === 'scalar' ? wireTypeOf(t.scalar) : VARINT;
          while (r.pos < packedEnd) list.push(this.readValue(r, t, itemWire, undefined));
        } else list.push(this.readValue(r, t, wt, undefined));
        continue;
      }
      // The last member of a oneof read is the one set.
      if (f.oneof !== undefined) for (const o of f.oneof.fields) if (o !== f) delete out[o.name];
      const prev = out[f.name];
      out[f.name] = this.readValue(r, t, wt, t.kind === 'message' && isObj(prev) ? prev : undefined);
    }
    return out;
  }

  /** One value; a message read into `into` when the field was already set. */
  private readValue(r: protobuf.Reader, t: FieldType, wt: number, into: Obj | undefined): JsonValue {
    switch (t.kind) {
      case 'scalar':
        return readScalar(r, t.scalar);
      case 'enum': {
        const n = r.int32();
        return t.enum.names.get(n) ?? n;
      }
      case 'missing':
        r.skipType(wt);
        return null;
      case 'message':
        return this.readMessage(r, t.message, r.uint32(), into ?? {});
      default:
        if (t.kind === 'well-known' && t.wkt === 'null-value') {
          r.skipType(wt);
          return null;
        }
        return this.readBody(r, t, r.uint32());
    }
  }

  private readBody(r: protobuf.Reader, t: FieldType, len: number): JsonValue {
    if (t.kind === 'message') return this.readMessage(r, t.message, len, {});
    if (t.kind === 'wrapper') {
      const end = r.pos + len;
      let v = defaultOf(t);
      while (r.pos < end) {
        const tag = r.uint32();
        if (tag >>> 3 === 1) v = readScalar(r, t.scalar);
        else r.skipType(tag & 7);
      }
      return v;
    }
    if (t.kind === 'well-known') return this.readWellKnown(r, t.wkt, len);
    r.skip(len);
    return null;
  }

  private readWellKnown(r: protobuf.Reader, wkt: string, len: number): JsonValue {
    const end = r.pos + len;
    switch (wkt) {
      case 'duration':
      case 'timestamp': {
        let seconds = 0;
        let nanos = 0;
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 === 1) seconds = Number(long(r.int64()));
          else if (tag >>> 3 === 2) nanos = r.int32();
          else r.skipType(tag & 7);
        }
        return wkt === 'timestamp' ? timestampText(seconds, nanos) : durationText({ seconds, nanos }, 'envoy');
      }
      case 'any': {
        let url = '';
        let value: Uint8Array = new Uint8Array(0);
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 === 1) url = r.string();
          else if (tag >>> 3 === 2) value = r.bytes();
          else r.skipType(tag & 7);
        }
        const t = this.api.typeByName(typeNameOf(url));
        if (t === undefined) return { '@type': url, value: Buffer.from(value).toString('base64') };
        const body = this.readBody(protobuf.Reader.create(value), t, value.length);
        return t.kind === 'message' && isObj(body) ? { '@type': url, ...body } : { '@type': url, value: body };
      }
      case 'struct': {
        const out: Obj = {};
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 !== 1) {
            r.skipType(tag & 7);
            continue;
          }
          const entryEnd = r.uint32() + r.pos;
          let key = '';
          let val: JsonValue = null;
          while (r.pos < entryEnd) {
            const t = r.uint32();
            if (t >>> 3 === 1) key = r.string();
            else if (t >>> 3 === 2) val = this.readWellKnown(r, 'value', r.uint32());
            else r.skipType(t & 7);
          }
          out[key] = val;
        }
        return out;
      }
      case 'list-value': {
        const out: JsonValue[] = [];
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 === 1) out.push(this.readWellKnown(r, 'value', r.uint32()));
          else r.skipType(tag & 7);
        }
        return out;
      }
      case 'value': {
        let v: JsonValue = null;
        while (r.pos < end) {
          const tag = r.uint32();
          const id = tag >>> 3;
          if (id === 2) v = r.double();
          else if (id === 3) v = r.string();
          else if (id === 4) v = r.bool();
          else if (id === 5) v = this.readWellKnown(r, 'struct', r.uint32());
          else if (id === 6) v = this.readWellKnown(r, 'list-value', r.uint32());
          else {
            // null_value (1) and anything unknown.
            r.skipType(tag & 7);
            if (id === 1) v = null;
          }
        }
        return v;
      }
      case 'field-mask': {
        const paths: string[] = [];
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 === 1) paths.push(camelPath(r.string()));
          else r.skipType(tag & 7);
        }
        return paths.join(',');
      }
      default:
        // Empty.
        r.pos = end;
        return {};
    }
  }
}

/** The value a field that is present but empty stands for (a map entry without its key or value). */
function defaultOf(t: FieldType): JsonValue {
  switch (t.kind) {
    case 'message':
      return {};
    case 'enum':
      return t.enum.names.get(0) ?? 0;
    case 'scalar':
    case 'wrapper':
      return t.scalar === 'string' || t.scalar === 'bytes' ? '' : t.scalar === 'bool' ? false : 0;
    case 'well-known':
      return t.wkt === 'struct' || t.wkt === 'empty' ? {} : t.wkt === 'list-value' ? [] : t.wkt === 'duration' ? '0s' : null;
    default:
      return null;
  }
}

function readScalar(r: protobuf.Reader, s: ScalarType): JsonValue {
  switch (s) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.bool();
    case 'double':
      return r.double();
    case 'float':
      return r.float();
    case 'int32':
      return r.int32();
    case 'sint32':
      return r.sint32();
    case 'uint32':
      return r.uint32();
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'int64':
      return long(r.int64());
    case 'sint64':
      return long(r.sint64());
    case 'uint64':
      return long(r.uint64());
    case 'fixed64':
      return long(r.fixed64());
    case 'sfixed64':
      return long(r.sfixed64());
  }
}

/**
 * A 64-bit value (a Long when the long package is present, else a number) as a number while exact, else its decimal
 * text: proto3 JSON writes int64 as text, and a number beyond 2^53 would lose digits.
 */
function long(v: number | protobuf.Long): number | string {
  if (typeof v === 'number') return v;
  const text = v.toString();
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}
