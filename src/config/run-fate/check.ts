/**
 * The run-fate check: every element of a config held to the table (fields.ts, extensions.ts, unmodeled.ts). What
 * `meshctl run` refuses or does not act on comes back as findings, and as diagnostics for `meshctl validate --target
 * run` and for run's own start-up, reload and xDS updates (one walk, one answer).
 */
import { connectionManager } from '../connection-manager.js';
import { loadSchema, type MessageDesc } from '../descriptor.js';
import type { Diagnostic } from '../diagnostic.js';
import type { JsonObject, JsonValue } from '../json-value.js';
import type { Bootstrap, Cluster, ClusterLoadAssignment, HttpConnectionManager } from '../model.generated.js';
import { keySpanOf, spanOf, type ModelNode } from '../node-meta.js';
import { pointSpan, type Span } from '../source.js';
import { ENFORCED, refused, warned, type FateEntry, type FieldFate } from './fate.js';
import { EXTENSION_KINDS, extensionFate, extensionId, typeOf, type ExtensionFate, type ExtensionKind } from './extensions.js';
import { FIELD_FATES } from './fields.js';
import { RUN_IGNORED, RUN_REFUSED } from './rule-ids.js';
import { UNMODELED_EXTENSIONS, unmodeledFate } from './unmodeled.js';


export interface RunFateFinding {
  readonly fate: 'refused' | 'warned';
  /** The element, as the message names it: "HTTP filter `envoy.filters.http.ext_authz`", "`drain_timeout`". */
  readonly what: string;
  readonly note: string | undefined;
  /** Where it is written (undefined for a model built by hand). */
  readonly span: Span | undefined;
  /** Where it is in the config, for places without a file (an xDS resource): `listeners[0].filter_chains[0]…`. */
  readonly path: string;
  /** What to do about it. */
  readonly hint: string;
}

type Place = 'downstream' | 'upstream' | undefined;

interface Walk {
  readonly out: RunFateFinding[];
  readonly place: Place;
  /** Inside a connection manager the listener does not serve (meshctl serves one per listener). */
  readonly unserved: boolean;
  readonly served: HttpConnectionManager | undefined;
}

type Node = ModelNode & Record<string, unknown>;

/** Model fields that hold a list of extensions (kept as JSON): each element is judged as its kind. */
const EXTENSION_LISTS: Readonly<Record<string, ExtensionKind>> = {
  'HttpConnectionManager.access_log': 'access-logger',
  'RetryPolicy.retry_host_predicate': 'retry-host-predicate',
};

const HINT_REFUSED = 'remove it to serve this config with meshctl run (Envoy would act on it, and meshctl run cannot)';
const HINT_REFUSED_FILTER = 'remove it, or mark the filter `is_optional: true` to run without it (Envoy skips an optional filter it does not have)';
const HINT_WARNED = 'meshctl run behaves as if it were absent; remove it, or expect Envoy to behave differently here';

/** Every element of `config` whose fate in `meshctl run` is not `enforced`, in config order. */
export function runFateFindings(config: Bootstrap): RunFateFinding[] {
  const out: RunFateFinding[] = [];
  message(config as Node, loadSchema().message('Bootstrap'), '', { out, place: undefined, unserved: false, served: undefined });
  return out;
}

/** The same for one xDS resource (a CDS cluster, an EDS load assignment): its findings' paths start at it. */
export function resourceRunFateFindings(resource: Cluster | ClusterLoadAssignment, type: 'Cluster' | 'ClusterLoadAssignment'): RunFateFinding[] {
  const out: RunFateFinding[] = [];
  message(resource as Node, loadSchema().message(type), '', { out, place: 'upstream', unserved: false, served: undefined });
  return out;
}

/** The findings as diagnostics: refused → `run-refused` errors, warned → `run-ignored` warnings. */
export function runFateDiagnostics(config: Bootstrap, file: string): Diagnostic[] {
  return runFateFindings(config).map((f) => findingDiagnostic(f, file));
}

function findingDiagnostic(f: RunFateFinding, file: string): Diagnostic {
  return {
    ruleId: f.fate === 'refused' ? RUN_REFUSED : RUN_IGNORED,
    severity: f.fate === 'refused' ? 'error' : 'warning',
    message: findingMessage(f),
    span: f.span ?? pointSpan(file),
    hint: f.hint,
  };
}

/** The finding in one sentence (the diagnostic's message; with the path, an xDS NACK's error_detail). */
export function findingMessage(f: RunFateFinding): string {
  return f.fate === 'refused'
    ? `meshctl run does not support ${f.what}${f.note !== undefined ? `: ${f.note}` : ''}`
    : `${f.what} is accepted but meshctl run does not act on it${f.note !== undefined ? ` (${f.note})` : ''}`;
}

function join(path: string, field: string, index?: number): string {
  return `${path === '' ? '' : path + '.'}${field}${index === undefined ? '' : `[${index}]`}`;
}

function report(w: Walk, fate: FateEntry, what: string, span: Span | undefined, path: string, hint?: string): void {
  if (fate.fate === 'enforced') return;
  w.out.push({ fate: fate.fate, what, note: fate.note, span, path, hint: hint ?? (fate.fate === 'refused' ? HINT_REFUSED : HINT_WARNED) });
}

function placed(entry: FieldFate, place: Place): FieldFate {
  if (place === 'downstream' && entry.downstream !== undefined) return entry.downstream;
  if (place === 'upstream' && entry.upstream !== undefined) return entry.upstream;
  return entry;
}

/** The fate of one model field, for the walk and the docs. undefined: the table has no entry (a test fails). */
export function fieldFate(messageName: string, field: string): FieldFate | undefined {
  return Object.hasOwn(FIELD_FATES, `${messageName}.${field}`) ? FIELD_FATES[`${messageName}.${field}`] : undefined;
}

function message(node: Node, desc: MessageDesc, path: string, w: Walk): void {
  // Extension points: the element's fate is its extension's.
  if (desc.name === 'HttpFilter') return httpFilter(node, path, w);
  if (desc.name === 'Filter' && !networkFilter(node, path, w)) return;
  if (desc.name === 'TransportSocket' && !transportSocket(node, path, w)) return;
  if (desc.name === 'Listener') {
    const served = connectionManager(node);
    w = { ...w, place: 'downstream', served };
  } else if (desc.name === 'Cluster') {
    w = { ...w, place: 'upstream' };
  }
  for (const [name, fd] of desc.fields) {
    const value = node[name];
    if (value === undefined) continue;
    const entry = fieldFate(desc.name, name) ?? warned(`no fate is decided for ${desc.name}.${name}`);
    const fate = placed(entry, w.place);
    if (fate.values !== undefined || fate.otherValues !== undefined) {
      const words = name === 'retry_on' && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : [String(value)];
      for (const v of words) {
        const own = fate.values !== undefined && Object.hasOwn(fate.values, v) ? fate.values[v]! : (fate.otherValues ?? fate);
        report(w, own, `\`${name}: ${v}\``, spanOf(node, name), join(path, name));
      }
    } else if (fate.fate !== 'enforced') {
      report(w, fate, `\`${name}\` (in ${desc.name})`, keySpanOf(node, name), join(path, name));
      continue;
    }
    if (fate.fate !== 'enforced') continue;
    if (desc.name === 'Cluster' && name === 'typed_extension_protocol_options') {
      protocolOptions(node, value as JsonObject, join(path, name), w);
      continue;
    }
    const listKind = Object.hasOwn(EXTENSION_LISTS, `${desc.name}.${name}`) ? EXTENSION_LISTS[`${desc.name}.${name}`]! : undefined;
    if (listKind !== undefined && Array.isArray(value)) {
      value.forEach((item, i) => {
        const { name: ext, type } = extensionId(item as JsonValue);
        report(w, extensionFate(listKind, type, ext) ?? EXTENSION_KINDS[listKind].unknown, extensionWhat(listKind, ext, type), spanOf(node, name, i), join(path, name, i));
      });
      continue;
    }
    if (fd.value.kind !== 'message') continue;
    const child = fd.value.type;
    if (Array.isArray(value)) value.forEach((v, i) => message(v as Node, child, join(path, name, i), w));
    else message(value as Node, child, join(path, name), w);
  }
  unmodeled(node, desc, path, w);
}

function unmodeled(node: Node, desc: MessageDesc, path: string, w: Walk): void {
  const extra = node.unmodeled;
  if (extra === undefined) return;
  for (const [key, value] of Object.entries(extra)) {
    const id = `${desc.name}.${key}`;
    // A network filter's or transport socket's typed_config kept verbatim: judged as the extension it is.
    if (key === 'typed_config' && (desc.name === 'Filter' || desc.name === 'TransportSocket')) continue;
    const span = keySpanOf(node, key);
    const kind = Object.hasOwn(UNMODELED_EXTENSIONS, id) ? UNMODELED_EXTENSIONS[id] : undefined;
    if (kind !== undefined) {
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, i) => {
        const { name, type } = extensionId(item);
        const entry = extensionFate(kind, type, name);
        report(w, entry ?? EXTENSION_KINDS[kind].unknown, extensionWhat(kind, name, type), span, join(path, key, Array.isArray(value) ? i : undefined));
      });
      continue;
    }
    report(w, unmodeledFate(desc.name, key), `\`${key}\` (in ${desc.name})`, span, join(path, key));
  }
}

function extensionWhat(kind: ExtensionKind, name: string | undefined, type: string | undefined): string {
  return `${EXTENSION_KINDS[kind].label} \`${name ?? type ?? '(unnamed)'}\``;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function httpFilter(node: Node, path: string, w: Walk): void {
  const name = typeof node.name === 'string' ? node.name : undefined;
  const tc = isObject(node.typed_config) ? node.typed_config : undefined;
  const type = typeOf(tc);
  const entry = extensionFate('http-filter', type, name);
  let fate: FateEntry = entry ?? EXTENSION_KINDS['http-filter'].unknown;
  if (w.unserved && fate.fate === 'enforced' && entry?.guardsAccess === true) {
    fate = refused('it sits in a connection manager this listener does not serve (meshctl run serves the first one of a listener)');
  }
  const optional = node.is_optional === true || node.unmodeled?.is_optional === true;
  if (fate.fate === 'refused' && optional) fate = warned(`it is marked is_optional, so run goes on without it: ${fate.note ?? ''}`.replace(/: $/, ''));
  report(w, fate, extensionWhat('http-filter', name, type), keySpanOf(node, 'name') ?? spanOf(node), path, fate.fate === 'refused' ? HINT_REFUSED_FILTER : undefined);
  if (fate.fate === 'enforced' && entry !== undefined && tc !== undefined) settings(entry, name ?? type ?? '', tc, keySpanOf(node, 'typed_config'), join(path, 'typed_config'), w);
}

/** An enforced extension's typed_config, field by field (its own settings may not all be acted on). */
function settings(entry: ExtensionFate, name: string, tc: JsonObject, span: Span | undefined, path: string, w: Walk): void {
  if (entry.settings === undefined && entry.otherSettings === undefined) return;
  for (const key of Object.keys(tc)) {
    if (key === '@type') continue;
    const field = key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    const fate = entry.settings !== undefined && Object.hasOwn(entry.settings, field) ? entry.settings[field]! : (entry.otherSettings ?? ENFORCED);
    report(w, fate, `\`${field}\` (in the config of \`${name}\`)`, span, join(path, key));
  }
}

/** A network filter; true when its fields are to be walked (a served or unserved connection manager). */
function networkFilter(node: Node, path: string, w: Walk): boolean {
  const name = typeof node.name === 'string' ? node.name : undefined;
  if (node.typed_config !== undefined) {
    // A connection manager (the decoder models no other network filter).
    if (w.served !== undefined && node.typed_config !== w.served) {
      report(w, warned('meshctl run serves the first connection manager of a listener on every filter chain'), 'this connection manager', keySpanOf(node, 'typed_config'), join(path, 'typed_config'));
      message(node.typed_config as Node, loadSchema().message('HttpConnectionManager'), join(path, 'typed_config'), { ...w, unserved: true });
      return false;
    }
    return true;
  }
  const { type } = extensionId(undefined, node.unmodeled?.typed_config);
  const entry = extensionFate('network-filter', type, name);
  report(w, entry ?? EXTENSION_KINDS['network-filter'].unknown, extensionWhat('network-filter', name, type), keySpanOf(node, 'name') ?? spanOf(node), path);
  return false;
}

/** A transport socket; true when its fields are to be walked (TLS). */
function transportSocket(node: Node, path: string, w: Walk): boolean {
  if (node.typed_config !== undefined) return true;
  const name = typeof node.name === 'string' ? node.name : undefined;
  const { type } = extensionId(undefined, node.unmodeled?.typed_config);
  const entry = extensionFate('transport-socket', type, name);
  report(w, entry ?? EXTENSION_KINDS['transport-socket'].unknown, extensionWhat('transport-socket', name, type), keySpanOf(node, 'name') ?? spanOf(node), path);
  return false;
}

function protocolOptions(node: Node, options: JsonObject, path: string, w: Walk): void {
  for (const [key, value] of Object.entries(options)) {
    const type = typeOf(value);
    const entry = extensionFate('protocol-options', type, key);
    const span = keySpanOf(node, 'typed_extension_protocol_options');
    report(w, entry ?? EXTENSION_KINDS['protocol-options'].unknown, extensionWhat('protocol-options', key, type), span, join(path, key));
    if (entry?.fate === 'enforced' && isObject(value)) settings(entry, key, value, span, join(path, key), w);
  }
}
