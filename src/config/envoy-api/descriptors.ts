/**
 * Envoy's API at run time: the compact descriptors in schemas/envoy-api/ (written by scripts/gen-envoy-api.ts from
 * the .proto files @grpc/grpc-js-xds ships), one JSON file per proto package, each read with a plain JSON.parse the
 * first time the input reaches a type of that package. Judging a cluster reads the cluster, core, endpoint and type
 * packages and nothing else; a field's type is looked up when a value of that field is first met.
 */
import { readFileSync } from 'node:fs';
import { SCALAR_TYPES, type ScalarType } from '../descriptor.js';
import { jsonName } from './json-name.js';

export type { ScalarType };

/** google.protobuf's types with their own JSON form (https://protobuf.dev/programming-guides/json/). */
export type WellKnownType = 'any' | 'duration' | 'timestamp' | 'struct' | 'value' | 'list-value' | 'empty' | 'field-mask' | 'null-value';

export type FieldType =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  /** google.protobuf.UInt32Value and the other wrappers: written as the bare value. */
  | { readonly kind: 'wrapper'; readonly scalar: ScalarType; readonly name: string }
  | { readonly kind: 'well-known'; readonly wkt: WellKnownType; readonly name: string }
  | { readonly kind: 'message'; readonly message: MessageDesc }
  | { readonly kind: 'enum'; readonly enum: EnumDesc }
  /** A type whose .proto is not in the copy (see index.json `missingTypes`): its values are not judged. */
  | { readonly kind: 'missing'; readonly name: string };


const WRAPPERS: Readonly<Record<string, ScalarType>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const WELL_KNOWN: Readonly<Record<string, WellKnownType>> = {
  'google.protobuf.Any': 'any',
  'google.protobuf.Duration': 'duration',
  'google.protobuf.Timestamp': 'timestamp',
  'google.protobuf.Struct': 'struct',
  'google.protobuf.Value': 'value',
  'google.protobuf.ListValue': 'list-value',
  'google.protobuf.Empty': 'empty',
  'google.protobuf.FieldMask': 'field-mask',
  'google.protobuf.NullValue': 'null-value',
};

/** A field's `(validate.rules)` as the .proto writes them (see src/config/envoy-api/constraints.ts). */
export type RawRules = Readonly<Record<string, unknown>>;

interface RawField {
  name: string;
  id: number;
  type: string;
  enum?: boolean;
  repeated?: boolean;
  key?: string;
  oneof?: number;
  optional?: boolean;
  rules?: RawRules;
  deprecated?: boolean;
  disallowed?: boolean;
}
interface RawMessage {
  fields: RawField[];
  oneofs?: { name: string; required?: boolean }[];
  disabled?: boolean;
}
interface RawEnum {
  values: Record<string, number>;
  deprecated?: string[];
  disallowed?: string[];
}
/** A gRPC method: request and response full type names, and which sides stream. */
export interface MethodDesc {
  readonly request: string;
  readonly response: string;
  readonly requestStream?: true;
  readonly responseStream?: true;
}
interface RawPackage {
  package: string;
  messages: Record<string, RawMessage>;
  enums: Record<string, RawEnum>;
  services?: Record<string, Record<string, MethodDesc>>;
}
export interface EnvoyApiIndex {
  readonly source: string;
  readonly packages: readonly string[];
  readonly missingTypes: readonly string[];
  readonly bootstrapFields: readonly string[];
}

export interface OneofDesc {
  readonly name: string;
  /** `(validate.required)`: one of its fields must be set. */
  readonly required: boolean;
  readonly fields: FieldDesc[];
}

export class FieldDesc {
  declare readonly name: string;
  /** The field number (the key of the wire form: config/envoy-api/wire.ts). */
  declare readonly id: number;
  /** The proto3 JSON name (lowerCamelCase). */
  declare readonly jsonName: string;
  declare readonly typeName: string;
  /** The type is an enum (known without reading the package the type lives in). */
  declare readonly isEnum: boolean;
  declare readonly repeated: boolean;
  /** A map field's key type (the field is then a map of `typeName` values). */
  declare readonly mapKey: ScalarType | undefined;
  declare readonly oneof: OneofDesc | undefined;
  /** proto3 `optional`: the rules apply only when it is set. */
  declare readonly optional: boolean;
  declare readonly rules: RawRules | undefined;
  declare readonly deprecated: boolean;
  /** `envoy.annotations.disallowed_by_default`: deprecated and fatal unless a runtime override allows it. */
  declare readonly disallowed: boolean;
  declare readonly parent: MessageDesc;
  private declare resolved: FieldType | undefined;
  private declare readonly api: EnvoyApi;
  /** Compiled checks, set by the judge on first use (see constraints.ts). */
  declare compiled: unknown;

  constructor(raw: RawField, parent: MessageDesc, oneof: OneofDesc | undefined, api: EnvoyApi) {
    this.name = raw.name;
    this.id = raw.id;
    this.jsonName = jsonName(raw.name);
    this.typeName = raw.type;
    this.isEnum = raw.enum === true;
    this.repeated = raw.repeated === true;
    this.mapKey = raw.key as ScalarType | undefined;
    this.oneof = oneof;
    this.optional = raw.optional === true;
    this.rules = raw.rules;
    this.deprecated = raw.deprecated === true;
    this.disallowed = raw.disallowed === true;
    this.parent = parent;
    this.resolved = undefined;
    this.api = api;
    this.compiled = undefined;
  }

  /** The field's value type (looked up on first use: the package it lives in is read then). */
  get type(): FieldType {
    return (this.resolved ??= this.api.fieldType(this.typeName));
  }
}

export class MessageDesc {
  declare readonly fullName: string;
  /** The name after the package (`Cluster.LbSubsetConfig`). */
  declare readonly localName: string;
  declare readonly fields: readonly FieldDesc[];
  declare readonly oneofs: readonly OneofDesc[];
  /** `(validate.disabled)` / `(validate.ignored)`: no rule of this message is checked. */
  declare readonly disabled: boolean;
  /** By proto name and by JSON name. */
  private declare readonly byName: Map<string, FieldDesc>;
  private declare byId: Map<number, FieldDesc> | undefined;
  /** Set by the judge on first use (the checks a message needs when fields are absent). */
  declare absent: unknown;

  constructor(fullName: string, localName: string, raw: RawMessage, api: EnvoyApi) {
    this.fullName = fullName;
    this.localName = localName;
    this.disabled = raw.disabled === true;
    const oneofs: OneofDesc[] = (raw.oneofs ?? []).map((o) => ({ name: o.name, required: o.required === true, fields: [] }));
    const fields: FieldDesc[] = [];
    const byName = new Map<string, FieldDesc>();
    for (const rf of raw.fields) {
      const oneof = rf.oneof !== undefined ? oneofs[rf.oneof] : undefined;
      const f = new FieldDesc(rf, this, oneof, api);
      oneof?.fields.push(f);
      fields.push(f);
      byName.set(f.name, f);
    }
    // JSON names second: a proto name always wins over another field's JSON name.
    for (const f of fields) if (!byName.has(f.jsonName)) byName.set(f.jsonName, f);
    this.fields = fields;
    this.oneofs = oneofs;
    this.byName = byName;
    this.byId = undefined;
    this.absent = undefined;
  }

  /** The field written as `name` (its proto name or its JSON name). */
  field(name: string): FieldDesc | undefined {
    return this.byName.get(name);
  }

  /** The field with number `id` (binary protobuf), indexed on first use. */
  fieldById(id: number): FieldDesc | undefined {
    this.byId ??= new Map(this.fields.map((f) => [f.id, f]));
    return this.byId.get(id);
  }
}

export class EnumDesc {
  declare readonly fullName: string;
  declare readonly values: ReadonlyMap<string, number>;
  /** The first name of each number (an alias's number maps to the first name declared). */
  declare readonly names: ReadonlyMap<number, string>;
  declare readonly deprecated: ReadonlySet<string>;
  declare readonly disallowed: ReadonlySet<string>;

  constructor(fullName: string, raw: RawEnum) {
    this.fullName = fullName;
    const values = new Map(Object.entries(raw.values));
    const names = new Map<number, string>();
    for (const [k, v] of values) if (!names.has(v)) names.set(v, k);
    this.values = values;
    this.names = names;
    this.deprecated = new Set(raw.deprecated ?? []);
    this.disallowed = new Set(raw.disallowed ?? []);
  }
}

/** Reads one file of schemas/envoy-api/ (the default reads the package's own copy; tests pass generated text). */
export type DescriptorReader = (file: string) => string;

export class EnvoyApi {
  readonly index: EnvoyApiIndex;
  private readonly packages: ReadonlySet<string>;
  private readonly missing: ReadonlySet<string>;
  private readonly loaded = new Map<string, RawPackage | null>();
  private readonly messages = new Map<string, MessageDesc | null>();
  private readonly enums = new Map<string, EnumDesc | null>();

  constructor(private readonly read: DescriptorReader) {
    this.index = JSON.parse(read('index.json')) as EnvoyApiIndex;
    this.packages = new Set(this.index.packages);
    this.missing = new Set(this.index.missingTypes);
  }

  /** The package a full type name belongs to (its longest prefix that is a package), if any. */
  packageOf(fullName: string): string | undefined {
    for (let i = fullName.lastIndexOf('.'); i > 0; i = fullName.lastIndexOf('.', i - 1)) {
      const p = fullName.slice(0, i);
      if (this.packages.has(p)) return p;
    }
    return undefined;
  }

  hasPackage(name: string): boolean {
    return this.packages.has(name);
  }

  private raw(pkg: string): RawPackage | null {
    let p = this.loaded.get(pkg);
    if (p === undefined) {
      p = this.packages.has(pkg) ? (JSON.parse(this.read(`${pkg}.json`)) as RawPackage) : null;
      this.loaded.set(pkg, p);
    }
    return p;
  }

  /** A message by full name (without a leading dot), or undefined. */
  message(fullName: string): MessageDesc | undefined {
    let m = this.messages.get(fullName);
    if (m === undefined) {
      m = null;
      const pkg = this.packageOf(fullName);
      const raw = pkg === undefined ? undefined : this.raw(pkg)?.messages[fullName.slice(pkg.length + 1)];
      if (raw !== undefined) m = new MessageDesc(fullName, fullName.slice(pkg!.length + 1), raw, this);
      this.messages.set(fullName, m);
    }
    return m ?? undefined;
  }

  enum(fullName: string): EnumDesc | undefined {
    let e = this.enums.get(fullName);
    if (e === undefined) {
      e = null;
      const pkg = this.packageOf(fullName);
      const raw = pkg === undefined ? undefined : this.raw(pkg)?.enums[fullName.slice(pkg.length + 1)];
      if (raw !== undefined) e = new EnumDesc(fullName, raw);
      this.enums.set(fullName, e);
    }
    return e ?? undefined;
  }

  /** A gRPC service's methods by name (`envoy.service.discovery.v3.AggregatedDiscoveryService`), or undefined. */
  service(fullName: string): Readonly<Record<string, MethodDesc>> | undefined {
    const pkg = this.packageOf(fullName);
    return pkg === undefined ? undefined : this.raw(pkg)?.services?.[fullName.slice(pkg.length + 1)];
  }

  /** The local names of a package's messages (for did-you-mean on a type URL). */
  messageNames(pkg: string): string[] {
    return Object.keys(this.raw(pkg)?.messages ?? {});
  }

  /** Whether a full type name is one a field names but the copy lacks (index.json `missingTypes`). */
  isMissing(fullName: string): boolean {
    return this.missing.has(fullName);
  }

  /** What a field's type name stands for. */
  fieldType(name: string): FieldType {
    if (SCALAR_TYPES.has(name)) return { kind: 'scalar', scalar: name as ScalarType };
    if (name.startsWith('?')) return { kind: 'missing', name: name.slice(1) };
    const wrapped = WRAPPERS[name];
    if (wrapped !== undefined) return { kind: 'wrapper', scalar: wrapped, name };
    const wkt = WELL_KNOWN[name];
    if (wkt !== undefined) return { kind: 'well-known', wkt, name };
    const m = this.message(name);
    if (m !== undefined) return { kind: 'message', message: m };
    const e = this.enum(name);
    if (e !== undefined) return { kind: 'enum', enum: e };
    return { kind: 'missing', name };
  }

  /** The type a type URL's name stands for, as a field type (messages, well-known types and wrappers). */
  typeByName(name: string): Extract<FieldType, { kind: 'message' | 'well-known' | 'wrapper' }> | undefined {
    const t = this.fieldType(name);
    return t.kind === 'message' || t.kind === 'well-known' || t.kind === 'wrapper' ? t : undefined;
  }
}

let shared: EnvoyApi | undefined;

/** The descriptors shipped in the package (schemas/envoy-api/), read on first use. */
export function envoyApi(): EnvoyApi {
  if (shared === undefined) {
    // dist/src/config/envoy-api/descriptors.js → the package root is four levels up.
    const dir = new URL('../../../../schemas/envoy-api/', import.meta.url);
    shared = new EnvoyApi((file) => readFileSync(new URL(file, dir), 'utf8'));
  }
  return shared;
}
