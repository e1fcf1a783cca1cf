/**
 * Envoy's API (the v3 .proto files with their protoc-gen-validate annotations, as @grpc/grpc-js-xds ships them under
 * deps/) → the compact descriptors meshctl judges Envoy-shaped input with: schemas/envoy-api/<package>.json, one file
 * per proto package, plus index.json (the package list and the Bootstrap's top-level field names). At run time they
 * are read with a plain JSON.parse, one package at a time as the input reaches it (src/config/envoy-api/descriptors.ts);
 * protobufjs is only used here. Used by `npm run envoy-api` (scripts/gen-envoy-api.ts) and by the test that fails
 * when the committed files are stale.
 *
 * The form of a package file:
 *   {"package": "envoy.config.cluster.v3",
 *    "messages": {"Cluster": {"fields": [Field…], "oneofs": [Oneof…]?, "disabled": true?}, "Cluster.LbSubsetConfig": …},
 *    "enums": {"Cluster.DiscoveryType": {"values": {"STATIC": 0, …}, "deprecated": ["…"]?, "disallowed": ["…"]?}}}
 *   Field: {"name", "id" (the field number: what the wire form is keyed by), "type" (a scalar name, or a full type name without the leading dot; `?name` when the type's proto
 *   is not in the copy), "enum"? (the type is an enum), "repeated"?, "key"? (map key type: the field is a map), "oneof"? (index into oneofs),
 *   "optional"? (proto3 `optional`), "rules"? (the field's `(validate.rules)`, as written), "deprecated"?,
 *   "disallowed"? (`envoy.annotations.disallowed_by_default`)}
 *   Oneof: {"name", "required"? (`(validate.required)`)}
 *   A package that declares gRPC services has "services": {"AggregatedDiscoveryService": {"StreamAggregatedResources":
 *   {"request", "response" (full type names), "requestStream"?, "responseStream"?}}} (the xDS server's methods).
 * google.protobuf's well-known types are not written: the judge knows them by name.
 */
import protobuf from 'protobufjs';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { SCALAR_TYPES } from '../src/config/descriptor.js';

/** The folders of deps/ that imports resolve against, in order. */
const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'];

export interface EnvoyApiField {
  name: string;
  /** The field number (the wire tag: xDS resources arrive as binary protobuf). */
  id: number;
  type: string;
  /** The type is an enum (so the judge knows without reading the package it lives in). */
  enum?: true;
  repeated?: true;
  key?: string;
  oneof?: number;
  optional?: true;
  rules?: Record<string, unknown>;
  deprecated?: true;
  disallowed?: true;
}

export interface EnvoyApiMessage {
  fields: EnvoyApiField[];
  oneofs?: { name: string; required?: true }[];
  disabled?: true;
}

export interface EnvoyApiEnum {
  values: Record<string, number>;
  deprecated?: string[];
  disallowed?: string[];
}

export interface EnvoyApiMethod {
  request: string;
  response: string;
  requestStream?: true;
  responseStream?: true;
}

export interface EnvoyApiPackage {
  package: string;
  messages: Record<string, EnvoyApiMessage>;
  enums: Record<string, EnvoyApiEnum>;
  services?: Record<string, Record<string, EnvoyApiMethod>>;
}

export interface EnvoyApiIndex {
  /** Where the descriptors come from. */
  source: string;
  packages: string[];
  /** Types that fields name but whose .proto is not in the copy (an import of a file the package does not ship). */
  missingTypes: string[];
  /** envoy.config.bootstrap.v3.Bootstrap's field names, for telling an Envoy bootstrap from meshctl's own YAML. */
  bootstrapFields: string[];
}

/** The .proto files read: every v3 file of Envoy's API, and xDS's type, core and udpa type files. */
function rootFiles(deps: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.proto')) out.push(p);
    }
  };
  walk(join(deps, 'envoy-api', 'envoy'));
  walk(join(deps, 'xds', 'xds'));
  walk(join(deps, 'xds', 'udpa', 'type'));
  const api = join(deps, 'envoy-api');
  return out.filter((p) => {
    const rel = relative(api, p);
    // Envoy's own v3 API (the v2 files left in the copy import v2 files it no longer has).
    if (!rel.startsWith('..')) return /\/v3(alpha)?\//.test(rel) || rel.startsWith('envoy/annotations/');
    return true;
  });
}

/** protobufjs's copy of descriptor.proto (the option definitions the annotations extend). */
function descriptorProto(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('protobufjs/package.json')), 'google', 'protobuf', 'descriptor.proto');
}

export function loadEnvoyRoot(deps: string): protobuf.Root {
  const root = new protobuf.Root();
  const includes = INCLUDE_DIRS.map((d) => join(deps, d));
  const descriptor = descriptorProto();
  root.resolvePath = (_origin: string, target: string): string | null => {
    if (target.startsWith('/')) return target;
    if (target === 'google/protobuf/descriptor.proto') return descriptor;
    for (const dir of includes) {
      const p = join(dir, target);
      try {
        if (statSync(p).isFile()) return p;
      } catch {
        /* not in this folder */
      }
    }
    // Not in the copy (opencensus, opentelemetry and prometheus protos): its types stay unresolved.
    return null;
  };
  try {
    root.loadSync(rootFiles(deps), { keepCase: true });
  } catch (err) {
    // loadSync resolves every type at the end and throws at the first one whose file is missing; the rest is loaded.
    if (!(err instanceof Error) || !/no such type/i.test(err.message)) throw err;
  }
  return root;
}


function packageOf(t: protobuf.ReflectionObject): string {
  let p: protobuf.ReflectionObject | null = t.parent;
  while (p instanceof protobuf.Type) p = p.parent;
  return p === null ? '' : p.fullName.replace(/^\./, '');
}

/** Deep merge of the `(validate.rules)` entries of a field's parsedOptions (one per option statement). */
function mergeRules(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const prev = into[k];
    if (isPlainObject(prev) && isPlainObject(v)) into[k] = mergeRules({ ...prev }, v);
    else into[k] = v;
  }
  return into;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsedOption(obj: { parsedOptions?: Array<Record<string, unknown>> | null }, name: string): unknown {
  let found: unknown;
  for (const o of obj.parsedOptions ?? []) {
    if (!Object.hasOwn(o, name)) continue;
    const v = o[name];
    found = isPlainObject(found) && isPlainObject(v) ? mergeRules({ ...found }, v) : v;
  }
  return found;
}

function fieldType(f: protobuf.Field, missing: Set<string>): string {
  if (SCALAR_TYPES.has(f.type)) return f.type;
  try {
    f.resolve();
  } catch {
    /* reported below */
  }
  const rt = f.resolvedType;
  if (rt === null) {
    missing.add(f.type);
    return '?' + f.type;
  }
  return rt.fullName.replace(/^\./, '');
}

function messageOf(t: protobuf.Type, missing: Set<string>): EnvoyApiMessage {
  const oneofs: { name: string; required?: true }[] = [];
  const oneofIndex = new Map<string, number>();
  for (const o of t.oneofsArray) {
    // proto3 `optional` makes a synthetic one-field oneof: presence, not a choice.
    if (o.fieldsArray.length === 1 && o.fieldsArray[0]!.options?.['proto3_optional'] === true) continue;
    oneofIndex.set(o.name, oneofs.length);
    oneofs.push(parsedOption(o as never, '(validate.required)') === true ? { name: o.name, required: true } : { name: o.name });
  }
  const fields: EnvoyApiField[] = [];
  for (const f of t.fieldsArray) {
    const out: EnvoyApiField = { name: f.name, id: f.id, type: fieldType(f, missing) };
    if (f.resolvedType instanceof protobuf.Enum) out.enum = true;
    if (f instanceof protobuf.MapField) out.key = f.keyType;
    else if (f.repeated) out.repeated = true;
    if (f.partOf !== null && oneofIndex.has(f.partOf.name)) out.oneof = oneofIndex.get(f.partOf.name)!;
    if (f.options?.['proto3_optional'] === true) out.optional = true;
    const rules = parsedOption(f as never, '(validate.rules)');
    if (isPlainObject(rules) && Object.keys(rules).length > 0) out.rules = rules;
    if (f.options?.['deprecated'] === true) out.deprecated = true;
    if (parsedOption(f as never, '(envoy.annotations.disallowed_by_default)') === true) out.disallowed = true;
    fields.push(out);
  }
  const m: EnvoyApiMessage = { fields };
  if (oneofs.length > 0) m.oneofs = oneofs;
  if (parsedOption(t as never, '(validate.disabled)') === true || parsedOption(t as never, '(validate.ignored)') === true) m.disabled = true;
  return m;
}

function enumOf(e: protobuf.Enum): EnvoyApiEnum {
  const out: EnvoyApiEnum = { values: { ...e.values } };
  const deprecated: string[] = [];
  const disallowed: string[] = [];
  for (const name of Object.keys(e.values)) {
    const opts = (e.valuesOptions as Record<string, Record<string, unknown>> | undefined)?.[name];
    if (opts?.['deprecated'] === true) deprecated.push(name);
    if (opts?.['(envoy.annotations.disallowed_by_default_enum)'] === true) disallowed.push(name);
  }
  if (deprecated.length > 0) out.deprecated = deprecated;
  if (disallowed.length > 0) out.disallowed = disallowed;
  return out;
}

function serviceOf(s: protobuf.Service): Record<string, EnvoyApiMethod> {
  const out: Record<string, EnvoyApiMethod> = {};
  for (const m of s.methodsArray) {
    m.resolve();
    const method: EnvoyApiMethod = { request: m.resolvedRequestType!.fullName.slice(1), response: m.resolvedResponseType!.fullName.slice(1) };
    if (m.requestStream === true) method.requestStream = true;
    if (m.responseStream === true) method.responseStream = true;
    out[m.name] = method;
  }
  return out;
}

/** Every package's descriptor, by package name. */
export function collectPackages(root: protobuf.Root): { packages: Map<string, EnvoyApiPackage>; missing: string[] } {
  const packages = new Map<string, EnvoyApiPackage>();
  const missing = new Set<string>();
  const pkgFor = (name: string): EnvoyApiPackage => {
    let p = packages.get(name);
    if (p === undefined) {
      p = { package: name, messages: {}, enums: {} };
      packages.set(name, p);
    }
    return p;
  };
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type || child instanceof protobuf.Enum) {
        const pkg = packageOf(child);
        // The well-known types are known to the judge by name; descriptor.proto only defines options.
        if (pkg !== 'google.protobuf') {
          const local = child.fullName.slice(pkg.length + 2);
          if (child instanceof protobuf.Type) pkgFor(pkg).messages[local] = messageOf(child, missing);
          else pkgFor(pkg).enums[local] = enumOf(child);
        }
      }
      if (child instanceof protobuf.Service) {
        const p = pkgFor(packageOf(child));
        (p.services ??= {})[child.name] = serviceOf(child);
      }
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) visit(child);
    }
  };
  visit(root);
  return { packages, missing: [...missing].sort() };
}

/** One message / enum per line, so that a new API copy gives a reviewable diff. */
function serializePackage(p: EnvoyApiPackage): string {
  const section = (rec: Record<string, unknown>): string => {
    const names = Object.keys(rec).sort();
    if (names.length === 0) return '{}';
    return '{\n' + names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(rec[n])}`).join(',\n') + '\n}';
  };
  const services = p.services !== undefined ? `,\n"services":${section(p.services)}` : '';
  return `{"package":${JSON.stringify(p.package)},\n"messages":${section(p.messages)},\n"enums":${section(p.enums)}${services}}\n`;
}

/** The file name of a package's descriptor. */
export function packageFile(pkg: string): string {
  return `${pkg}.json`;
}

/** Every file of schemas/envoy-api/, by file name. */
export function generateEnvoyApi(deps: string, source: string): Map<string, string> {
  const root = loadEnvoyRoot(deps);
  const { packages, missing } = collectPackages(root);
  const files = new Map<string, string>();
  const names = [...packages.keys()].sort();
  for (const name of names) files.set(packageFile(name), serializePackage(packages.get(name)!));
  const bootstrap = packages.get('envoy.config.bootstrap.v3')?.messages['Bootstrap'];
  if (bootstrap === undefined) throw new Error('envoy.config.bootstrap.v3.Bootstrap is not in the copy');
  const index: EnvoyApiIndex = {
    source,
    packages: names,
    missingTypes: missing,
    bootstrapFields: bootstrap.fields.map((f) => f.name),
  };
  files.set('index.json', JSON.stringify(index, null, 1) + '\n');
  return files;
}

/** deps/ of the installed @grpc/grpc-js-xds, and a line saying which version it is. */
export function envoyApiDeps(): { deps: string; source: string } {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@grpc/grpc-js-xds/package.json');
  const version = (require(pkgJson) as { version: string }).version;
  return {
    deps: join(dirname(pkgJson), 'deps'),
    source: `@grpc/grpc-js-xds ${version} deps/ (envoy-api, xds, googleapis, protoc-gen-validate)`,
  };
}
