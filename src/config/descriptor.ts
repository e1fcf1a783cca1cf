/**
 * The config schema at run time: schemas/meshctl.descriptor.json (protobufjs's JSON form of schemas/meshctl.proto),
 * read once with a plain JSON.parse and resolved into small lookup tables. protobufjs itself is never loaded here, so
 * `meshctl validate` starts fast.
 */
import { readFileSync } from 'node:fs';

export type ScalarType =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'double'
  | 'float'
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'sint32'
  | 'sint64'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed32'
  | 'sfixed64';

/** What kind of value a field holds, with the well-known google.protobuf types singled out. */
export type FieldKind =
  | { readonly kind: 'scalar'; readonly type: ScalarType }
  | { readonly kind: 'enum'; readonly type: EnumDesc }
  | { readonly kind: 'message'; readonly type: MessageDesc }
  | { readonly kind: 'wrapper'; readonly type: ScalarType; readonly wrapperName: string }
  | { readonly kind: 'duration' }
  | { readonly kind: 'struct' }
  | { readonly kind: 'json' };

export interface FieldDesc {
  readonly name: string;
  readonly repeated: boolean;
  /** The type name as written in the descriptor (for messages). */
  readonly typeName: string;
  value: FieldKind;
}

export interface MessageDesc {
  /** Dotted name inside the package, e.g. `Cluster`, `HealthCheck.HttpHealthCheck`. */
  readonly name: string;
  readonly fields: ReadonlyMap<string, FieldDesc>;
}

export interface EnumDesc {
  readonly name: string;
  readonly values: ReadonlyMap<string, number>;
  readonly names: ReadonlyMap<number, string>;
}

/** protobuf's scalar type names, as .proto files and descriptors write them. */
export const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>([
  'string',
  'bytes',
  'bool',
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
]);

const WRAPPERS: Record<string, ScalarType> = {
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

interface JsonField {
  type: string;
  id: number;
  rule?: string;
}
interface JsonNamespace {
  nested?: Record<string, JsonNamespace>;
  fields?: Record<string, JsonField>;
  values?: Record<string, number>;
}

export interface Schema {
  readonly messages: ReadonlyMap<string, MessageDesc>;
  readonly enums: ReadonlyMap<string, EnumDesc>;
  message(name: string): MessageDesc;
}

const PACKAGE = ['meshctl', 'config', 'v1'];

/** Build the lookup tables from a descriptor object (exported for tests that build from a freshly generated one). */
export function buildSchema(descriptor: unknown): Schema {
  let ns = descriptor as JsonNamespace;
  for (const p of PACKAGE) {
    const next = ns.nested?.[p];
    if (next === undefined) throw new Error(`schema descriptor has no package ${PACKAGE.join('.')}`);
    ns = next;
  }
  const messages = new Map<string, MessageDesc>();
  const enums = new Map<string, EnumDesc>();
  const pending: Array<{ field: FieldDesc; scope: string[] }> = [];

  const walk = (node: JsonNamespace, path: string[]): void => {
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      const full = [...path, name];
      if (child.values !== undefined) {
        const values = new Map(Object.entries(child.values));
        const names = new Map<number, string>();
        for (const [k, v] of values) if (!names.has(v)) names.set(v, k);
        enums.set(full.join('.'), { name: full.join('.'), values, names });
      } else if (child.fields !== undefined) {
        const fields = new Map<string, FieldDesc>();
        for (const [fname, f] of Object.entries(child.fields)) {
          const fd: FieldDesc = {
            name: fname,
            repeated: f.rule === 'repeated',
            typeName: f.type,
            value: { kind: 'json' },
          };
          fields.set(fname, fd);
          pending.push({ field: fd, scope: full });
        }
        messages.set(full.join('.'), { name: full.join('.'), fields });
      }
      if (child.nested !== undefined) walk(child, full);
    }
  };
  walk(ns, []);

  // protobuf name resolution: innermost scope outwards.
  for (const { field, scope } of pending) {
    const t = field.typeName;
    if (SCALAR_TYPES.has(t)) {
      field.value = { kind: 'scalar', type: t as ScalarType };
      continue;
    }
    const wk = t.replace(/^\./, '');
    if (wk === 'google.protobuf.Duration') field.value = { kind: 'duration' };
    else if (wk === 'google.protobuf.Struct') field.value = { kind: 'struct' };
    else if (WRAPPERS[wk] !== undefined) field.value = { kind: 'wrapper', type: WRAPPERS[wk]!, wrapperName: wk };
    else if (wk.startsWith('google.protobuf.')) field.value = { kind: 'json' };
    else {
      let found = false;
      for (let i = scope.length; i >= 0 && !found; i--) {
        const candidate = [...scope.slice(0, i), wk].join('.');
        const m = messages.get(candidate);
        if (m !== undefined) {
          field.value = { kind: 'message', type: m };
          found = true;
        } else {
          const e = enums.get(candidate);
          if (e !== undefined) {
            field.value = { kind: 'enum', type: e };
            found = true;
          }
        }
      }
      if (!found) throw new Error(`schema descriptor: unresolved type ${t}`);
    }
  }
  return {
    messages,
    enums,
    message(name: string): MessageDesc {
      const m = messages.get(name);
      if (m === undefined) throw new Error(`schema has no message ${name}`);
      return m;
    },
  };
}

let cached: Schema | undefined;

/** The schema, loaded on first use. dist/src/config/descriptor.js → the package root is three levels up. */
export function loadSchema(): Schema {
  if (cached === undefined) {
    const url = new URL('../../../schemas/meshctl.descriptor.json', import.meta.url);
    cached = buildSchema(JSON.parse(readFileSync(url, 'utf8')));
  }
  return cached;
}
