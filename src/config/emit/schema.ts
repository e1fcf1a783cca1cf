/**
 * The schema as the emitters need it: for each message, its fields in declaration (proto) order with what kind of
 * value each holds. A view over src/config/descriptor.ts (the one reader of schemas/meshctl.descriptor.json), keyed
 * by fully qualified names, so the printers follow the .proto without a hand-kept field list.
 */
import { loadSchema, type FieldDesc, type Schema as Descriptor } from '../descriptor.js';

type FieldKind = 'message' | 'enum' | 'scalar' | 'duration' | 'wrapper' | 'struct';

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** For `message` and `enum`: the fully qualified type name (without a leading dot). */
  readonly typeName?: string;
  /** For `scalar` and `wrapper`: the protobuf scalar type (`string`, `uint32`, `bool`, `double`, ...). */
  readonly scalar?: string;
}

interface MessageInfo {
  readonly fullName: string;
  readonly fields: readonly FieldInfo[];
  readonly byName: ReadonlyMap<string, FieldInfo>;
}

interface EnumInfo {
  readonly fullName: string;
  readonly values: readonly string[];
}

export const ROOT_PACKAGE = 'meshctl.config.v1';
export const BOOTSTRAP = `${ROOT_PACKAGE}.Bootstrap`;
const PREFIX = ROOT_PACKAGE + '.';

function fieldInfo(f: FieldDesc): FieldInfo {
  const v = f.value;
  switch (v.kind) {
    case 'message':
      return { name: f.name, kind: 'message', repeated: f.repeated, typeName: PREFIX + v.type.name };
    case 'enum':
      return { name: f.name, kind: 'enum', repeated: f.repeated, typeName: PREFIX + v.type.name };
    case 'wrapper':
      return { name: f.name, kind: 'wrapper', repeated: f.repeated, scalar: v.type };
    case 'scalar':
      return { name: f.name, kind: 'scalar', repeated: f.repeated, scalar: v.type };
    case 'duration':
      return { name: f.name, kind: 'duration', repeated: f.repeated };
    case 'struct':
      return { name: f.name, kind: 'struct', repeated: f.repeated };
    case 'json':
      // Other google.protobuf types (none in the schema today) are written as they are held.
      return { name: f.name, kind: 'scalar', repeated: f.repeated, scalar: f.typeName };
  }
}

class Schema {
  private readonly messages = new Map<string, MessageInfo>();
  private readonly enums = new Map<string, EnumInfo>();

  constructor(private readonly desc: Descriptor) {}

  private local(fullName: string): string {
    return fullName.startsWith(PREFIX) ? fullName.slice(PREFIX.length) : fullName;
  }

  message(fullName: string): MessageInfo {
    const cached = this.messages.get(fullName);
    if (cached !== undefined) return cached;
    const m = this.desc.messages.get(this.local(fullName));
    if (m === undefined) throw new Error(`schema: no message ${fullName}`);
    const fields = [...m.fields.values()].map(fieldInfo);
    const msg: MessageInfo = { fullName, fields, byName: new Map(fields.map((f) => [f.name, f])) };
    this.messages.set(fullName, msg);
    return msg;
  }

  enumValues(fullName: string): EnumInfo {
    const cached = this.enums.get(fullName);
    if (cached !== undefined) return cached;
    const e = this.desc.enums.get(this.local(fullName));
    if (e === undefined) throw new Error(`schema: no enum ${fullName}`);
    const info: EnumInfo = { fullName, values: [...e.values.keys()] };
    this.enums.set(fullName, info);
    return info;
  }

  /** Every message type name, for generators that walk the whole schema. */
  messageNames(): string[] {
    return [...this.desc.messages.keys()].map((n) => PREFIX + n);
  }
}

let loaded: Schema | undefined;

/** The schema of meshctl's model, loaded lazily once per process. */
export function schema(): Schema {
  loaded ??= new Schema(loadSchema());
  return loaded;
}
