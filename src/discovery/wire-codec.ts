/**
 * Binary protobuf ⇄ proto3 JSON for any message of Envoy's API, driven by Envoy's own descriptors (schemas/envoy-api,
 * read lazily through src/config/envoy-api/descriptors.ts, which carry each field's number). gRPC xDS moves
 * DiscoveryRequest/Response and their `Any` resources in this form; decoding them with the real descriptors (rather
 * than a hand-written subset) means a Listener, a RouteConfiguration or an HttpConnectionManager inside a filter's
 * typed_config arrives whole, every field there to be judged as the same resource in a file would be.
 *
 * The JSON side uses proto field names (snake_case), as meshctl's Envoy reader takes them; `Any` is expanded to
 * `{"@type": url, ...fields}` (well-known payloads as `{"@type": url, "value": …}`), Durations are "1.5s",
 * wrappers are bare values, enums are names, 64-bit integers are numbers when exact and strings otherwise, bytes are
 * base64 (https://protobuf.dev/programming-guides/json/). Unknown field numbers are skipped, as protobuf requires.
 */
import protobuf from 'protobufjs/minimal.js';
import { durationText, parseDuration } from '../config/duration.js';
import { envoyApi, type FieldDesc, type FieldType, type MessageDesc, type ScalarType } from '../config/envoy-api/descriptors.js';

type Json = Record<string, unknown>;

function mustMessage(fullName: string): MessageDesc {
  const m = envoyApi().message(fullName);
  if (m === undefined) throw new Error(`${fullName} is not in Envoy's API descriptors`);
  return m;
}

// ---------------------------------------------------------------- decoding

/** Decode one message of type `fullName` (e.g. `envoy.service.discovery.v3.DiscoveryResponse`). */
export function decodeMessage(fullName: string, bytes: Uint8Array): Json {
  return readMessage(mustMessage(fullName), protobuf.Reader.create(bytes), bytes.length);
}

function readMessage(desc: MessageDesc, r: protobuf.Reader, length: number): Json {
  const end = r.pos + length;
  const out: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const f = desc.fieldById(tag >>> 3);
    const wire = tag & 7;
    if (f === undefined) {
      r.skipType(wire);
      continue;
    }
    const t = f.type;
    if (f.mapKey !== undefined) {
      const { key, value } = readMapEntry(f, r);
      ((out[f.name] ??= {}) as Json)[key] = value;
    } else if (f.repeated) {
      const list = (out[f.name] ??= []) as unknown[];
      if (wire === 2 && isPackable(t)) {
        const stop = r.uint32() + r.pos;
        while (r.pos < stop) list.push(readValue(t, r, wire));
      } else list.push(readValue(t, r, wire));
    } else {
      const v = readValue(t, r, wire);
      // A message field written twice merges (protobuf's rule); the last scalar wins.
      const prev = out[f.name];
      out[f.name] = t.kind === 'message' && isObject(prev) && isObject(v) ? { ...prev, ...v } : v;
    }
  }
  return out;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isPackable(t: FieldType): boolean {
  return (t.kind === 'scalar' && t.scalar !== 'string' && t.scalar !== 'bytes') || t.kind === 'enum';
}

function readMapEntry(f: FieldDesc, r: protobuf.Reader): { key: string; value: unknown } {
  const end = r.uint32() + r.pos;
  let key = '';
  let value: unknown;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) key = String(readScalar(f.mapKey!, r));
    else if (tag >>> 3 === 2) value = readValue(f.type, r, tag & 7);
    else r.skipType(tag & 7);
  }
  return { key, value: value ?? defaultOf(f.type) };
}

function defaultOf(t: FieldType): unknown {
  if (t.kind === 'message') return {};
  if (t.kind === 'enum') return t.enum.names.get(0) ?? 0;
  if (t.kind === 'scalar' || t.kind === 'wrapper') return t.scalar === 'string' || t.scalar === 'bytes' ? '' : t.scalar === 'bool' ? false : 0;
  return null;
}

function readValue(t: FieldType, r: protobuf.Reader, wire: number): unknown {
  switch (t.kind) {
    case 'scalar':
      return readScalar(t.scalar, r);
    case 'enum': {
      const n = r.int32();
      return t.enum.names.get(n) ?? n;
    }
    case 'message':
      return readMessage(t.message, r, r.uint32());
    case 'wrapper': {
      const end = r.uint32() + r.pos;
      let v: unknown = defaultOf(t);
      while (r.pos < end) {
        const tag = r.uint32();
        if (tag >>> 3 === 1) v = readScalar(t.scalar, r);
        else r.skipType(tag & 7);
      }
      return v;
    }
    case 'well-known':
      return readWellKnown(t.wkt, r.bytes());
    case 'missing':
      r.skipType(wire);
      return undefined;
  }
}

function readScalar(s: ScalarType, r: protobuf.Reader): unknown {
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
    case 'uint32':
      return r.uint32();
    case 'sint32':
      return r.sint32();
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'int64':
      return long(r.int64());
    case 'uint64':
      return long(r.uint64());
    case 'sint64':
      return long(r.sint64());
    case 'fixed64':
      return long(r.fixed64());
    case 'sfixed64':
      return long(r.sfixed64());
  }
}

/** A 64-bit value as a number when exact, else its decimal text (proto3 JSON writes int64 as text). */
function long(v: number | protobuf.Long): number | string {
  if (typeof v === 'number') return v;
  const text = v.toString();
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function readWellKnown(wkt: string, bytes: Uint8Array): unknown {
  const fields = rawFields(bytes);
  switch (wkt) {
    case 'duration':
    case 'timestamp': {
      const seconds = Number(fields.get(1)?.[0] ?? 0);
      const nanos = toInt32(Number(fields.get(2)?.[0] ?? 0));
      if (wkt === 'duration') return durationText({ seconds: toSigned(seconds), nanos }, 'envoy');
      return new Date(toSigned(seconds) * 1000 + Math.trunc(nanos / 1e6)).toISOString();
    }
    case 'any':
      return readAny(fields);
    case 'struct':
      return readStruct(bytes);
    case 'value':
      return readStructValue(bytes);
    case 'list-value':
      return (fields.get(1) ?? []).map((b) => readStructValue(b as Uint8Array));
    case 'field-mask':
      return (fields.get(1) ?? []).map((b) => Buffer.from(b as Uint8Array).toString('utf8')).join(',');
    case 'empty':
      return {};
    default:
      return null;
  }
}

/** An unsigned varint read as a uint64 number → the int64 it encodes. */
function toSigned(n: number): number {
  return n >= 2 ** 63 ? n - 2 ** 64 : n;
}

function toInt32(n: number): number {
  return n | 0;
}

/** A message's fields by number without a descriptor: varints as numbers, length-delimited as bytes. */
function rawFields(bytes: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const r = protobuf.Reader.create(bytes);
  const out = new Map<number, (number | Uint8Array)[]>();
  while (r.pos < bytes.length) {
    const tag = r.uint32();
    const id = tag >>> 3;
    let v: number | Uint8Array;
    switch (tag & 7) {
      case 0:
        v = Number(long(r.uint64()));
        break;
      case 1:
        v = r.double();
        break;
      case 2:
        v = r.bytes();
        break;
      case 5:
        v = r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
        continue;
    }
    const list = out.get(id);
    if (list) list.push(v);
    else out.set(id, [v]);
  }
  return out;
}

function readAny(fields: Map<number, (number | Uint8Array)[]>): Json {
  const urlBytes = fields.get(1)?.[0];
  const url = urlBytes instanceof Uint8Array ? Buffer.from(urlBytes).toString('utf8') : '';
  const value = fields.get(2)?.[0];
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(0);
  const name = url.slice(url.lastIndexOf('/') + 1);
  const t = envoyApi().typeByName(name);
  if (t === undefined) return { '@type': url };
  if (t.kind === 'message') return { '@type': url, ...readMessage(t.message, protobuf.Reader.create(bytes), bytes.length) };
  if (t.kind === 'well-known') return { '@type': url, value: readWellKnown(t.wkt, bytes) };
  const inner = rawFields(bytes).get(1)?.[0];
  return { '@type': url, value: inner instanceof Uint8Array ? Buffer.from(inner).toString('utf8') : (inner ?? defaultOf(t)) };
}

function readStruct(bytes: Uint8Array): Json {
  const out: Json = {};
  for (const entry of rawFields(bytes).get(1) ?? []) {
    const e = rawFields(entry as Uint8Array);
    const k = e.get(1)?.[0];
    const v = e.get(2)?.[0];
    out[k instanceof Uint8Array ? Buffer.from(k).toString('utf8') : ''] = v instanceof Uint8Array ? readStructValue(v) : null;
  }
  return out;
}

function readStructValue(bytes: Uint8Array): unknown {
  const r = protobuf.Reader.create(bytes);
  let v: unknown = null;
  while (r.pos < bytes.length) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        r.int32();
        v = null;
        break;
      case 2:
        v = r.double();
        break;
      case 3:
        v = r.string();
        break;
      case 4:
        v = r.bool();
        break;
      case 5:
        v = readStruct(r.bytes());
        break;
      case 6:
        v = (rawFields(r.bytes()).get(1) ?? []).map((b) => readStructValue(b as Uint8Array));
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return v;
}

// ---------------------------------------------------------------- encoding

/** Encode proto3 JSON (proto or JSON field names) as message `fullName`. Unknown fields are an error. */
export function encodeMessage(fullName: string, json: Json): Uint8Array {
  const w = protobuf.Writer.create();
  writeMessage(mustMessage(fullName), json, w);
  return w.finish();
}

function writeMessage(desc: MessageDesc, json: Json, w: protobuf.Writer): void {
  for (const [key, v] of Object.entries(json)) {
    if (key === '@type' || v === undefined || v === null) continue;
    const f = desc.field(key);
    if (f === undefined) throw new Error(`${desc.fullName} has no field \`${key}\``);
    if (f.mapKey !== undefined) {
      for (const [k, mv] of Object.entries(v as Json)) {
        w.uint32((f.id << 3) | 2).fork();
        writeScalar(f.mapKey, k, 1, w);
        writeValue(f.type, mv, 2, w, `${desc.fullName}.${f.name}`);
        w.ldelim();
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new Error(`${desc.fullName}.${f.name} is repeated: expected a list`);
      for (const item of v) writeValue(f.type, item, f.id, w, `${desc.fullName}.${f.name}`);
    } else writeValue(f.type, v, f.id, w, `${desc.fullName}.${f.name}`);
  }
}

const WIRE: Record<ScalarType, number> = {
  string: 2,
  bytes: 2,
  bool: 0,
  double: 1,
  float: 5,
  int32: 0,
  int64: 0,
  uint32: 0,
  uint64: 0,
  sint32: 0,
  sint64: 0,
  fixed32: 5,
  fixed64: 1,
  sfixed32: 5,
  sfixed64: 1,
};

function writeScalar(s: ScalarType, v: unknown, id: number, w: protobuf.Writer): void {
  w.uint32((id << 3) | WIRE[s]);
  const n = (): number => (typeof v === 'string' ? Number(v) : Number(v));
  switch (s) {
    case 'string':
      w.string(String(v));
      return;
    case 'bytes':
      w.bytes(Buffer.from(String(v), 'base64'));
      return;
    case 'bool':
      w.bool(v === true || v === 'true');
      return;
    case 'double':
      w.double(n());
      return;
    case 'float':
      w.float(n());
      return;
    case 'int32':
      w.int32(n());
      return;
    case 'uint32':
      w.uint32(n());
      return;
    case 'sint32':
      w.sint32(n());
      return;
    case 'fixed32':
      w.fixed32(n());
      return;
    case 'sfixed32':
      w.sfixed32(n());
      return;
    case 'int64':
      w.int64(n());
      return;
    case 'uint64':
      w.uint64(n());
      return;
    case 'sint64':
      w.sint64(n());
      return;
    case 'fixed64':
      w.fixed64(n());
      return;
    case 'sfixed64':
      w.sfixed64(n());
      return;
  }
}

function writeValue(t: FieldType, v: unknown, id: number, w: protobuf.Writer, where: string): void {
  switch (t.kind) {
    case 'scalar':
      writeScalar(t.scalar, v, id, w);
      return;
    case 'enum': {
      const n = typeof v === 'number' ? v : t.enum.values.get(String(v));
      if (n === undefined) throw new Error(`${where}: \`${String(v)}\` is not a value of ${t.enum.fullName}`);
      w.uint32(id << 3).int32(n);
      return;
    }
    case 'message':
      if (!isObject(v)) throw new Error(`${where}: expected an object`);
      w.uint32((id << 3) | 2).fork();
      writeMessage(t.message, v, w);
      w.ldelim();
      return;
    case 'wrapper':
      w.uint32((id << 3) | 2).fork();
      writeScalar(t.scalar, v, 1, w);
      w.ldelim();
      return;
    case 'well-known':
      w.uint32((id << 3) | 2).fork();
      writeWellKnown(t.wkt, v, w, where);
      w.ldelim();
      return;
    case 'missing':
      throw new Error(`${where}: type ${t.name} is not in Envoy's API descriptors`);
  }
}

function writeWellKnown(wkt: string, v: unknown, w: protobuf.Writer, where: string): void {
  switch (wkt) {
    case 'duration': {
      const d = typeof v === 'string' ? parseDuration(v) : (v as { seconds: number; nanos: number });
      if (d === undefined) throw new Error(`${where}: \`${String(v)}\` is not a duration`);
      if (d.seconds !== 0) w.uint32(1 << 3).int64(d.seconds);
      if (d.nanos !== 0) w.uint32(2 << 3).int32(d.nanos);
      return;
    }
    case 'timestamp': {
      const ms = Date.parse(String(v));
      if (Number.isNaN(ms)) throw new Error(`${where}: \`${String(v)}\` is not a timestamp`);
      const seconds = Math.floor(ms / 1000);
      w.uint32(1 << 3).int64(seconds);
      if (ms % 1000 !== 0) w.uint32(2 << 3).int32((ms - seconds * 1000) * 1e6);
      return;
    }
    case 'any': {
      const o = v as Json;
      const url = String(o['@type'] ?? '');
      w.uint32((1 << 3) | 2).string(url);
      const t = envoyApi().typeByName(url.slice(url.lastIndexOf('/') + 1));
      if (t === undefined) throw new Error(`${where}: type ${url} is not in Envoy's API descriptors`);
      w.uint32((2 << 3) | 2).fork();
      if (t.kind === 'message') writeMessage(t.message, o, w);
      else if (t.kind === 'well-known') writeWellKnown(t.wkt, o.value, w, where);
      else writeScalar(t.scalar, o.value, 1, w);
      w.ldelim();
      return;
    }
    case 'struct':
      writeStruct(v as Json, w);
      return;
    case 'value':
      writeStructValue(v, w);
      return;
    case 'list-value':
      for (const item of v as unknown[]) {
        w.uint32((1 << 3) | 2).fork();
        writeStructValue(item, w);
        w.ldelim();
      }
      return;
    case 'field-mask':
      for (const p of String(v).split(',').filter((x) => x !== '')) w.uint32((1 << 3) | 2).string(p);
      return;
    default:
      return;
  }
}

function writeStruct(o: Json, w: protobuf.Writer): void {
  for (const [k, v] of Object.entries(o)) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(k);
    w.uint32((2 << 3) | 2).fork();
    writeStructValue(v, w);
    w.ldelim();
    w.ldelim();
  }
}

function writeStructValue(v: unknown, w: protobuf.Writer): void {
  if (v === null || v === undefined) w.uint32(1 << 3).int32(0);
  else if (typeof v === 'number') w.uint32((2 << 3) | 1).double(v);
  else if (typeof v === 'string') w.uint32((3 << 3) | 2).string(v);
  else if (typeof v === 'boolean') w.uint32(4 << 3).bool(v);
  else if (Array.isArray(v)) {
    w.uint32((6 << 3) | 2).fork();
    writeWellKnown('list-value', v, w, 'ListValue');
    w.ldelim();
  } else {
    w.uint32((5 << 3) | 2).fork();
    writeStruct(v as Json, w);
    w.ldelim();
  }
}
