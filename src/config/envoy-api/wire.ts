/**
 * Envoy's protobuf wire form, from and to proto3 JSON, driven by the descriptors in schemas/envoy-api/ (field numbers
 * and types as Envoy's .proto files declare them). What an xDS server sends (a Listener, a RouteConfiguration, a
 * Cluster or a ClusterLoadAssignment packed in an Any) is therefore the bytes Envoy's own serializer would write, and
 * any xDS client (Envoy, gRPC's xDS resolver) decodes it with its own generated code. JSON follows
 * https://protobuf.dev/programming-guides/json/: Durations as "1.5s", wrappers as bare values, enums by name, Any as
 * {"@type": URL, …fields} (a well-known type's Any as {"@type", "value"}), int64 as numbers or strings.
 */
import protobuf from 'protobufjs';
import type { JsonValue } from '../json-value.js';
import { envoyApi, type EnvoyApi, type FieldDesc, type FieldType, type MessageDesc, type ScalarType } from './descriptors.js';
import { parseJsonDuration, parseJsonTimestamp } from './well-known.js';

type Obj = { [k: string]: JsonValue };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value that cannot be written as the field's type: names the field path. */
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

function num(v: JsonValue, path: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new WireError(`${path}: expected a number, got ${JSON.stringify(v)}`);
  return n;
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
      w.int64(num(v, path));
      return;
    case 'sint64':
      w.sint64(num(v, path));
      return;
    case 'uint64':
      w.uint64(num(v, path));
      return;
    case 'fixed64':
      w.fixed64(num(v, path));
      return;
    case 'sfixed64':
      w.sfixed64(num(v, path));
      return;
  }
}

/** The Envoy message (or well-known type) an Any's type URL names. */
function anyTarget(api: EnvoyApi, url: string, path: string): FieldType {
  const name = url.slice(url.lastIndexOf('/') + 1);
  const t = api.typeByName(name);
  if (t === undefined) throw new WireError(`${path}: unknown type ${url}`);
  return t;
}

export class WireCodec {
  constructor(private readonly api: EnvoyApi = envoyApi()) {}

  /** A message by full name, or a WireError. */
  private message(fullName: string): MessageDesc {
    const m = this.api.message(fullName);
    if (m === undefined) throw new WireError(`no message ${fullName} in Envoy's API`);
    return m;
  }

  /** proto3 JSON → the message's wire bytes. */
  encode(fullName: string, json: Obj): Uint8Array {
    const w = protobuf.Writer.create();
    this.writeMessage(w, this.message(fullName), json, fullName);
    return w.finish();
  }

  /** Wire bytes → proto3 JSON (snake_case names; default values left out). */
  decode(fullName: string, bytes: Uint8Array): Obj {
    return this.readMessage(protobuf.Reader.create(bytes), this.message(fullName), bytes.length);
  }

  private writeMessage(w: protobuf.Writer, m: MessageDesc, json: Obj, path: string): void {
    for (const [k, v] of Object.entries(json)) {
      if (v === null) continue;
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
        if ((t.kind === 'scalar' && wireTypeOf(t.scalar) !== LEN) || t.kind === 'enum') {
          // proto3 packs repeated numbers (https://protobuf.dev/programming-guides/encoding/#packed).
          if (v.length === 0) continue;
          w.uint32((f.id << 3) | LEN).fork();
          for (const [i, x] of v.entries()) {
            if (t.kind === 'enum') w.int32(this.enumNumber(f, x, `${p}[${i}]`));
            else writeScalar(w, t.scalar, x, `${p}[${i}]`);
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
        const nanos = BigInt(d.nanos);
        const seconds = nanos / 1_000_000_000n;
        const rest = Number(nanos - seconds * 1_000_000_000n);
        if (seconds !== 0n) w.uint32((1 << 3) | VARINT).int64(Number(seconds));
        if (rest !== 0) w.uint32((2 << 3) | VARINT).int32(rest);
        return;
      }
      case 'timestamp': {
        const ns = typeof v === 'string' ? parseJsonTimestamp(v) : undefined;
        if (ns === undefined) throw new WireError(`${path}: expected an RFC 3339 timestamp`);
        const seconds = ns / 1_000_000_000n;
        if (seconds !== 0n) w.uint32((1 << 3) | VARINT).int64(Number(seconds));
        const rest = Number(ns - seconds * 1_000_000_000n);
        if (rest !== 0) w.uint32((2 << 3) | VARINT).int32(rest);
        return;
      }
      case 'any': {
        if (!isObj(v) || typeof v['@type'] !== 'string') throw new WireError(`${path}: an Any needs "@type"`);
        const url = v['@type'];
        const t = anyTarget(this.api, url, path);
        w.uint32((1 << 3) | LEN).string(url);
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
        if (v === null) w.uint32((1 << 3) | VARINT).int32(0);
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
        for (const p of v.split(',').filter((s) => s !== '')) w.uint32((1 << 3) | LEN).string(p.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()));
        return;
      default:
        // Empty, NullValue: no body.
        return;
    }
  }

  private readMessage(r: protobuf.Reader, m: MessageDesc, len: number): Obj {
    const end = r.pos + len;
    const out: Obj = {};
    const byId = fieldsById(m);
    while (r.pos < end) {
      const tag = r.uint32();
      const f = byId.get(tag >>> 3);
      const wt = tag & 7;
      if (f === undefined || f.type.kind === 'missing') {
        r.skipType(wt);
        continue;
      }
      if (f.mapKey !== undefined) {
        const entryEnd = r.uint32() + r.pos;
        let key: JsonValue = '';
        let val: JsonValue = null;
        while (r.pos < entryEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) key = readScalar(r, f.mapKey);
          else if (t >>> 3 === 2) val = this.readValue(r, f.type, t & 7);
          else r.skipType(t & 7);
        }
        const map = (isObj(out[f.name]) ? out[f.name] : (out[f.name] = {})) as Obj;
        map[String(key)] = val;
        continue;
      }
      const t = f.type;
      if (f.repeated) {
        const list = (Array.isArray(out[f.name]) ? out[f.name] : (out[f.name] = [])) as JsonValue[];
        if (wt === LEN && (t.kind === 'enum' || (t.kind === 'scalar' && wireTypeOf(t.scalar) !== LEN))) {
          const packedEnd = r.uint32() + r.pos;
          while (r.pos < packedEnd) list.push(this.readValue(r, t, t.kind === 'enum' ? VARINT : wireTypeOf(t.scalar)));
        } else list.push(this.readValue(r, t, wt));
      } else out[f.name] = this.readValue(r, t, wt);
    }
    return out;
  }

  private readValue(r: protobuf.Reader, t: FieldType, wt: number): JsonValue {
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
      default: {
        const len = r.uint32();
        return this.readBody(r, t, len);
      }
    }
  }

  private readBody(r: protobuf.Reader, t: FieldType, len: number): JsonValue {
    if (t.kind === 'message') return this.readMessage(r, t.message, len);
    if (t.kind === 'wrapper') {
      const end = r.pos + len;
      let v: JsonValue = t.scalar === 'bool' ? false : t.scalar === 'string' || t.scalar === 'bytes' ? '' : 0;
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
          if (tag >>> 3 === 1) seconds = long(r.int64());
          else if (tag >>> 3 === 2) nanos = r.int32();
          else r.skipType(tag & 7);
        }
        if (wkt === 'timestamp') return new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
        const frac = nanos === 0 ? '' : '.' + String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '');
        return `${seconds}${frac}s`;
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
        const t = this.api.typeByName(url.slice(url.lastIndexOf('/') + 1));
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
          else r.skipType(tag & 7);
        }
        return v;
      }
      case 'field-mask': {
        const paths: string[] = [];
        while (r.pos < end) {
          const tag = r.uint32();
          if (tag >>> 3 === 1) paths.push(r.string());
          else r.skipType(tag & 7);
        }
        return paths.join(',');
      }
      default:
        r.pos = end;
        return {};
    }
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

/** protobufjs reads 64-bit values as a Long when the long package is present, else as a number. */
function long(v: number | { toString(): string }): number {
  return typeof v === 'number' ? v : Number(v.toString());
}

const BY_ID = new WeakMap<MessageDesc, Map<number, FieldDesc>>();

function fieldsById(m: MessageDesc): Map<number, FieldDesc> {
  let map = BY_ID.get(m);
  if (map === undefined) {
    map = new Map(m.fields.map((f) => [f.id, f]));
    BY_ID.set(m, map);
  }
  return map;
}
