/**
 * The schema as the emitters need it: for each message, its fields in declaration (proto) order with what kind of
 * value each holds. Read once from the precompiled descriptor (schemas/meshctl.descriptor.json), so the printers
 * follow the .proto without a hand-kept field list.
 */
import { readFileSync } from 'node:fs';

export type FieldKind = 'message' | 'enum' | 'scalar' | 'duration' | 'wrapper' | 'struct';

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** For `message` and `enum`: the fully qualified type name (without a leading dot). */
  readonly typeName?: string;
  /** For `scalar` and `wrapper`: the protobuf scalar type (`string`, `uint32`, `bool`, `double`, ...). */
  readonly scalar?: string;
}

export interface MessageInfo {
  readonly fullName: string;
  readonly fields: readonly FieldInfo[];
  readonly byName: ReadonlyMap<string, FieldInfo>;
}

export interface EnumInfo {
  readonly fullName: string;
  readonly values: readonly string[];
}

interface DescriptorNode {
  fields?: Record<string, { type: string; id: number; rule?: string }>;
  values?: Record<string, number>;
  nested?: Record<string, DescriptorNode>;
}

const WRAPPER_SCALARS: Record<string, string> = {
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

export const ROOT_PACKAGE = 'meshctl.config.v1';
export const BOOTSTRAP = `${ROOT_PACKAGE}.Bootstrap`;

export class Schema {
  private readonly nodes = new Map<string, DescriptorNode>();
  private readonly messages = new Map<string, MessageInfo>();
  private readonly enums = new Map<string, EnumInfo>();

  constructor(descriptor: DescriptorNode) {
    this.index(descriptor, '');
  }

  private index(node: DescriptorNode, prefix: string): void {
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      const full = prefix === '' ? name : `${prefix}.${name}`;
      this.nodes.set(full, child);
      this.index(child, full);
    }
  }

  /** Proto name resolution: the innermost enclosing scope that declares the name wins. */
  private resolve(type: string, scope: string): string | undefined {
    if (type.startsWith('.')) return this.nodes.has(type.slice(1)) ? type.slice(1) : undefined;
    let s = scope;
    for (;;) {
      const candidate = s === '' ? type : `${s}.${type}`;
      if (this.nodes.has(candidate)) return candidate;
      if (s === '') return undefined;
      const dot = s.lastIndexOf('.');
      s = dot < 0 ? '' : s.slice(0, dot);
    }
  }

  message(fullName: string): MessageInfo {
    const cached = this.messages.get(fullName);
    if (cached !== undefined) return cached;
    const node = this.nodes.get(fullName);
    if (node === undefined || node.fields === undefined) throw new Error(`schema: no message ${fullName}`);
    const fields: FieldInfo[] = [];
    for (const [name, f] of Object.entries(node.fields)) {
      const repeated = f.rule === 'repeated';
      const bare = f.type.replace(/^\./, '');
      let info: FieldInfo;
      if (bare === 'google.protobuf.Duration') info = { name, kind: 'duration', repeated };
      else if (bare === 'google.protobuf.Struct') info = { name, kind: 'struct', repeated };
      else if (WRAPPER_SCALARS[bare] !== undefined) info = { name, kind: 'wrapper', repeated, scalar: WRAPPER_SCALARS[bare] };
      else {
        const resolved = this.resolve(f.type, fullName);
        if (resolved === undefined) info = { name, kind: 'scalar', repeated, scalar: f.type };
        else if (this.nodes.get(resolved)?.values !== undefined) info = { name, kind: 'enum', repeated, typeName: resolved };
        else info = { name, kind: 'message', repeated, typeName: resolved };
      }
      fields.push(info);
    }
    const msg: MessageInfo = { fullName, fields, byName: new Map(fields.map((f) => [f.name, f])) };
    this.messages.set(fullName, msg);
    return msg;
  }

  enumValues(fullName: string): EnumInfo {
    const cached = this.enums.get(fullName);
    if (cached !== undefined) return cached;
    const node = this.nodes.get(fullName);
    if (node?.values === undefined) throw new Error(`schema: no enum ${fullName}`);
    const info: EnumInfo = { fullName, values: Object.keys(node.values) };
    this.enums.set(fullName, info);
    return info;
  }

  /** Every message type name, for generators that walk the whole schema. */
  messageNames(): string[] {
    return [...this.nodes.entries()].filter(([, n]) => n.fields !== undefined).map(([k]) => k);
  }
}

let loaded: Schema | undefined;

/** The schema of meshctl's model, loaded lazily once per process. */
export function schema(): Schema {
  if (loaded === undefined) {
    // dist/src/config/emit/schema.js → the package root is four levels up.
    const url = new URL('../../../../schemas/meshctl.descriptor.json', import.meta.url);
    loaded = new Schema(JSON.parse(readFileSync(url, 'utf8')) as DescriptorNode);
  }
  return loaded;
}
