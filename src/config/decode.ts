/**
 * Syntax tree → typed model, driven by the schema (src/config/descriptor.ts). Every message node gets its [META]
 * (span, per-field spans and comments, dialect notes); values are checked against the field's type; fields the schema
 * does not know are reported and kept verbatim in the node's `unmodeled` object so a conversion does not lose them.
 * The article's dialect is mapped onto the canonical model by src/config/normalize.ts, called for every message.
 */
import { UNMODELED_FIELD } from './envoy-api/rule-ids.js';
import { actedOnByRun } from './run-fate/unmodeled.js';
import type { Diagnostic } from './diagnostic.js';
import { loadSchema } from './descriptor.js';
import type { EnumDesc, FieldDesc, FieldKind, MessageDesc, ScalarType, Schema } from './descriptor.js';
import { type Duration, parseDuration } from './duration.js';
import type { JsonObject, JsonValue } from './json-value.js';
import { type DialectNote, META, type ModelNode } from './node-meta.js';
import { FieldTable, SourceMetaStore } from './source-meta-store.js';
import type { Bootstrap, InputFormat } from './model.js';
import { expandAny } from './any-expansion.js';
import { afterDecode, isWrapperField, normalizeMessage } from './normalize.js';
import type { NormalizeContext } from './normalize.js';
import type { SourceFile, Span } from './source.js';
import { didYouMean } from './suggest.js';
import { jsonName } from './envoy-api/json-name.js';
import { JudgedStandIn, type EnvoyJudge } from './envoy-api/judge.js';
import { describeScalar, SField, SMessage, type Rereader, type SScalar, type SyntaxNode } from './syntax.js';

interface DecodeOptions {
  readonly format: InputFormat;
  /** The schema to decode against (defaults to the packaged one). */
  readonly schema?: Schema;
  /**
   * Envoy's judge (src/config/envoy-api/judge.ts), for Envoy-shaped input: it judges the tree (and each element read
   * ahead) before the decoder sees it, and the decoder decodes its canonical form.
   */
  readonly judge?: EnvoyJudge;
}

interface DecodeResult {
  config: Bootstrap;
  diagnostics: Diagnostic[];
}

/** Type URLs (the part after `type.googleapis.com/`) that a modelled message accepts in `@type`. */
const TYPE_URLS: Record<string, readonly string[]> = {
  HttpConnectionManager: [
    'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    'envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager',
  ],
  TlsContext: [
    'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    'envoy.api.v2.auth.DownstreamTlsContext',
    'envoy.api.v2.auth.UpstreamTlsContext',
  ],
  Bootstrap: ['envoy.config.bootstrap.v3.Bootstrap'],
  Cluster: ['envoy.config.cluster.v3.Cluster'],
  Listener: ['envoy.config.listener.v3.Listener'],
  RouteConfiguration: ['envoy.config.route.v3.RouteConfiguration'],
  ClusterLoadAssignment: ['envoy.config.endpoint.v3.ClusterLoadAssignment'],
};

/**
 * Decoding while reading. A reader that has just read one element of a repeated field under `static_resources` (a
 * list item, or one text-proto `clusters { … }` occurrence) passes it to element(), which decodes it at once when
 * the path is one of a few known ones, and returns a stand-in: an empty message with the same extent that carries
 * the model node and the element's diagnostics. decode() then takes the stand-in where it would have decoded the
 * element, so the result and the order of the diagnostics are exactly those of decoding the whole tree afterwards;
 * but the element's syntax tree is garbage as soon as it is decoded, instead of staying alive (and being copied into
 * the old generation) until the whole file has been read, which on a large config was most of the collector's work.
 *
 * The paths:
 *  - `static_resources.clusters[]` and `static_resources.listeners[]`: their decoding depends on nothing outside
 *    them (Bootstrap and StaticResources rewrite neither; a wrapper block such as `clusters { cluster { … } }` is left
 *    to the normal path, and an element whose `@type` makes it verbatim is returned as it was).
 *  - `…listeners[].filter_chains[].filters[].typed_config.route_config.virtual_hosts[]`, only from a reader that can
 *    read the element again: whether a filter's typed_config is a connection manager at all depends on the filter's
 *    name and `@type`, which may come after it. A virtual host decoded as such is used only when decode() meets it as
 *    a VirtualHost; anywhere else (a typed_config kept verbatim) it is read again from the source.
 */
export class ConfigDecoder {
  private readonly d: Decoder;
  private readonly staticResources: MessageDesc;
  private readonly routeConfiguration: MessageDesc;
  private readonly judge: EnvoyJudge | undefined;

  constructor(opts: DecodeOptions) {
    this.d = new Decoder(opts.schema ?? loadSchema(), opts.format, opts.judge !== undefined);
    const schema = this.d.schema;
    this.staticResources = messageField(schema.message('Bootstrap'), 'static_resources');
    this.routeConfiguration = schema.message('RouteConfiguration');
    this.judge = opts.judge;
  }

  /** See ElementHook (src/config/syntax.ts). Returns the stand-in, or `item` itself when it is decoded with the rest. */
  element(keys: readonly string[], item: SMessage, occurrence: SField | undefined, rereader: Rereader | undefined): SMessage {
    const judge = this.judge;
    // Every path ends in one of three fields: any other list item (a route, an endpoint: most of them) is left here,
    // before the path is renamed (an array and a lookup per key, for each of them).
    // (Compared as strings, not looked up in PATH_NAMES: most keys differ from these in length, and need no hash.)
    const last = keys[keys.length - 1]!;
    const lastName = judge !== undefined && last === VIRTUAL_HOSTS_JSON ? 'virtual_hosts' : last;
    if (lastName !== 'clusters' && lastName !== 'listeners' && lastName !== 'virtual_hosts') return item;
    // Envoy reads a field by its JSON name too: the path is matched by proto names (renamed as a whole only for a
    // virtual host's long path, not for each cluster's two keys).
    let parent: MessageDesc;
    if (keys.length === 2 && lastName !== 'virtual_hosts' && (judge !== undefined ? (PATH_NAMES.get(keys[0]!) ?? keys[0]) : keys[0]) === 'static_resources') {
      parent = this.staticResources;
    } else if (rereader !== undefined && lastName === 'virtual_hosts' && isVirtualHostsPath(judge !== undefined ? keys.map((k) => PATH_NAMES.get(k) ?? k) : keys)) {
      parent = this.routeConfiguration;
    } else {
      return item;
    }
    const fd = parent.fields.get(lastName);
    if (fd === undefined || !fd.repeated || fd.value.kind !== 'message') return item;
    if (occurrence !== undefined && isWrapperField(parent, occurrence)) return item;
    // Envoy's judgement first (a virtual host's only as a guess: whether it is one depends on the filter's `@type`).
    let written = item;
    let pending: ReturnType<EnvoyJudge['speculate']>['pending'] | undefined;
    const envoyType = judge === undefined ? undefined : ELEMENT_TYPES[lastName]!;
    if (judge !== undefined && envoyType !== undefined) {
      if (parent === this.staticResources) written = judge.element(envoyType, item);
      else ({ node: written, pending } = judge.speculate(envoyType, item));
    }
    const diagnostics = this.d.diagnostics;
    const mark = diagnostics.length;
    const node = this.d.element(fd, written, occurrence);
    let result: SMessage;
    if (node === UNMODELED || node === undefined) {
      diagnostics.length = mark;
      result = written;
    } else {
      result = new DecodedElement(fd.value.type, node, diagnostics.length === mark ? NO_DIAGNOSTICS : diagnostics.splice(mark), item, rereader);
    }
    if (judge !== undefined && envoyType !== undefined) {
      // A stand-in carries the judgement and reads its element again from its own extent: nothing here may hold the
      // element's syntax tree, which is garbage once decoded (keeping it alive until the end was most of a large
      // file's collector work).
      judge.remember(result, envoyType, pending, undefined);
    }
    return result;
  }

  decode(tree: SMessage): DecodeResult {
    const d = this.d;
    const canonical = this.judge === undefined ? tree : this.judge.root(tree);
    const root = d.message(d.schema.message('Bootstrap'), canonical, 'Bootstrap', true);
    return { config: root as Bootstrap, diagnostics: d.diagnostics };
  }
}

/** The Envoy message of each element path's last field. */
const ELEMENT_TYPES: Readonly<Record<string, string>> = {
  clusters: 'envoy.config.cluster.v3.Cluster',
  listeners: 'envoy.config.listener.v3.Listener',
  virtual_hosts: 'envoy.config.route.v3.VirtualHost',
};

function messageField(desc: MessageDesc, name: string): MessageDesc {
  const k = desc.fields.get(name)?.value;
  if (k?.kind !== 'message') throw new Error(`${desc.name}.${name} is not a message field`);
  return k.type;
}

const NO_DIAGNOSTICS: Diagnostic[] = [];
const NO_FIELDS: SField[] = [];

/** A list marker after a repeated field's name in ElementHook keys. */
const ITEM = '-';
const VIRTUAL_HOSTS_PATH = ['static_resources', 'listeners', ITEM, 'filter_chains', ITEM, 'filters', ITEM, 'typed_config', 'route_config', 'virtual_hosts'];

/** The JSON names of the element paths' fields, to their proto names. */
const PATH_NAMES: ReadonlyMap<string, string> = new Map(
  [...VIRTUAL_HOSTS_PATH, 'clusters'].filter((k) => k !== ITEM).map((k) => [jsonName(k), k] as const),
);

/** The JSON name of the only element path's last field whose JSON name differs (`clusters`, `listeners` do not). */
const VIRTUAL_HOSTS_JSON = jsonName('virtual_hosts');

/** `static_resources.listeners[].filter_chains[].filters[].typed_config.route_config.virtual_hosts` (each `[]` optional). */
function isVirtualHostsPath(keys: readonly string[]): boolean {
  if (keys.length < 7 || keys[keys.length - 1] !== 'virtual_hosts') return false;
  let i = 0;
  for (const want of VIRTUAL_HOSTS_PATH) {
    if (want === ITEM) {
      if (keys[i] === ITEM) i++;
    } else if (keys[i++] !== want) {
      return false;
    }
  }
  return i === keys.length;
}

/** The stand-in ConfigDecoder.element returns: the decoded element and its diagnostics, under the element's extent. */
class DecodedElement extends JudgedStandIn {
  // Declared, set once in the constructor (see the note above SField in syntax.ts).
  declare readonly desc: MessageDesc;
  declare readonly node: unknown;
  declare readonly diagnostics: Diagnostic[];
  private declare readonly rereader: Rereader | undefined;

  constructor(desc: MessageDesc, node: unknown, diagnostics: Diagnostic[], item: SMessage, rereader: Rereader | undefined) {
    super(NO_FIELDS, item.src, item.start, item.end);
    this.desc = desc;
    this.node = node;
    this.diagnostics = diagnostics;
    this.rereader = rereader;
    this.judgedAs = undefined;
    this.pending = undefined;
  }

  /** JudgedStandIn: the element's syntax tree read again, when the reader can. */
  reread(): SMessage | undefined {
    return this.rereader === undefined ? undefined : this.rereader.reread(this);
  }

  /** The element's syntax tree, read again (for a stand-in met where it does not fit). */
  original(): SMessage {
    if (this.rereader === undefined) throw new Error(`internal: a ${this.desc.name} decoded while reading cannot be read again`);
    return this.rereader.reread(this);
  }
}

const UNMODELED = Symbol('unmodeled');
type Decoded = unknown;

const INT_RANGES: Partial<Record<ScalarType, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

class Decoder implements NormalizeContext {
  readonly diagnostics: Diagnostic[] = [];
  private readonly notes = new WeakMap<object, DialectNote[]>();
  private readonly verbatim = new WeakMap<SField, string>();
  /** Where the metadata of the nodes decoded from one file lives. */
  private store: SourceMetaStore | undefined;

  private storeFor(src: SourceFile): SourceMetaStore {
    if (this.store?.src !== src) this.store = new SourceMetaStore(src);
    return this.store;
  }

  constructor(
    readonly schema: Schema,
    readonly format: InputFormat,
    /**
     * Judged input: a value the model cannot hold (Envoy's verdict on it stands, or Envoy accepts it and meshctl
     * does not act on it) is kept verbatim in `unmodeled`, so a conversion does not lose it.
     */
    readonly keepRefused = false,
  ) {}

  /** Whether any note / verbatim mark was ever recorded (most configs have none: no lookups then). */
  private noted = false;
  private markedVerbatim = false;

  // NormalizeContext
  note(target: object, note: DialectNote): void {
    this.noted = true;
    const list = this.notes.get(target);
    if (list === undefined) this.notes.set(target, [note]);
    else list.push(note);
  }
  keepVerbatim(field: SField, why: string): void {
    this.markedVerbatim = true;
    this.verbatim.set(field, why);
  }
  report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  message(desc: MessageDesc, written: SMessage, path: string, root: true): ModelNode;
  message(desc: MessageDesc, written: SMessage, path: string): ModelNode | typeof UNMODELED;
  message(desc: MessageDesc, written: SMessage, path: string, root = false): ModelNode | typeof UNMODELED {
    const original = expandAny(written);
    if (original !== written && this.noted) {
      const carried = this.notes.get(written);
      if (carried !== undefined) this.notes.set(original, carried);
    }
    let typeField: SField | undefined;
    for (const f of original.fields) {
      if (f.name === '@type') {
        typeField = f;
        break;
      }
    }
    // A mismatched @type on the root is reported, and the file still read as a bootstrap.
    if (typeField !== undefined && !this.typeMatches(desc, typeField, root) && !root) return UNMODELED;
    const msg = normalizeMessage(desc, original, this);
    const node: ModelNode & Record<string, unknown> = {};
    const table = new FieldTable(msg.fields.length);
    let unmodeled: JsonObject | undefined;

    for (const f of msg.fields) {
      if (f.name === '@type') continue;
      const why = this.markedVerbatim ? this.verbatim.get(f) : undefined;
      const fd = desc.fields.get(f.name);
      if (why !== undefined || fd === undefined) {
        unmodeled ??= {};
        const json = toJson(f.value);
        const prev = Object.hasOwn(unmodeled, f.name) ? unmodeled[f.name] : undefined;
        setOwn(unmodeled, f.name, prev === undefined ? json : Array.isArray(prev) ? [...prev, json] : [prev, json]);
        if (table.find(f.name) < 0) addField(table, f, f.name);
        if (why !== undefined) {
          this.diagnostics.push({ ruleId: 'unmodeled-extension', severity: 'warning', message: why, span: f.keySpan });
        } else {
          this.unknownField(desc, f, path, json);
        }
        continue;
      }
      if (fd.repeated) {
        const kept = this.repeated(fd, f, node, table, path);
        if (kept !== undefined) {
          unmodeled ??= {};
          setOwn(unmodeled, f.name, kept);
        }
        continue;
      }
      const prior = table.find(f.name);
      if (prior >= 0) {
        this.diagnostics.push({
          ruleId: 'duplicate-field',
          severity: 'error',
          message: `field \`${f.name}\` is set twice; ${desc.name} holds one \`${f.name}\``,
          span: f.keySpan,
          related: [{ message: 'first set here', span: original.src.span(table.keyStart(prior), table.keyEnd(prior)) }],
        });
        continue;
      }
      if (f.value.kind === 'list') {
        this.invalid(f.value.span, `field \`${f.name}\` takes a single value, not a list`, f.name);
        addField(table, f, fd.name);
        continue;
      }
      if (f.value.kind === 'scalar' && f.value.style === 'null') continue;
      const v = this.value(fd, f.value, path, f);
      if (v === UNMODELED) {
        unmodeled ??= {};
        setOwn(unmodeled, f.name, toJson(f.value));
        addField(table, f, fd.name);
        continue;
      }
      addField(table, f, fd.name);
      if (v === undefined) {
        if (this.keepRefused) {
          unmodeled ??= {};
          setOwn(unmodeled, f.name, toJson(f.value));
        }
        continue;
      }
      node[fd.name] = v;
    }
    if (unmodeled !== undefined) node.unmodeled = unmodeled;
    const own = this.noted ? this.notes.get(original) : undefined;
    const rewritten = msg !== original && this.noted ? this.notes.get(msg) : undefined;
    const meta = this.storeFor(original.src).add(original.start, original.end, table);
    if (original.trailingComments !== undefined) meta.trailingComments = original.trailingComments;
    if (original.ignored !== undefined) {
      const kept: JsonObject = {};
      for (const f of original.ignored) setOwn(kept, f.name, toJson(f.value));
      meta.ignoredKeys = kept;
    }
    if (own !== undefined || rewritten !== undefined) meta.dialect = [...(own ?? []), ...(rewritten ?? [])];
    META_PROPERTY.value = meta;
    Object.defineProperty(node, META, META_PROPERTY);
    META_PROPERTY.value = undefined;
    afterDecode(desc, node, original, this);
    return node;
  }

  /** The elements of a repeated field; returns those kept verbatim (UNMODELED), if any. */
  private repeated(fd: FieldDesc, f: SField, node: Record<string, unknown>, table: FieldTable, path: string): JsonValue[] | undefined {
    const items = f.value.kind === 'list' ? f.value.items : f.value.kind === 'scalar' && f.value.style === 'null' ? [] : [f.value];
    const name = fd.name;
    let arr = node[name] as unknown[] | undefined;
    /** Elements this call put in an array it made (sized for all of them, trimmed at the end). */
    let made = -1;
    let fm = table.find(name);
    let kept: JsonValue[] | undefined;
    for (const item of items) {
      const v = this.value(fd, item, path, f.value.kind === 'list' ? undefined : f);
      if (v === UNMODELED || (v === undefined && this.keepRefused)) {
        (kept ??= []).push(toJson(item));
        continue;
      }
      if (v === undefined) continue;
      if (arr === undefined) {
        // Sized for every element: an array grown from [] by push keeps 17 slots or more, and a big config has tens
        // of thousands of one- and two-element lists. (V8 makes a very large `new Array(n)` a dictionary: push then.)
        if (items.length <= 4096) {
          arr = new Array(items.length);
          made = 0;
        } else arr = [];
        node[name] = arr;
      }
      if (fm < 0) fm = addField(table, f, name);
      if (made >= 0) arr[made++] = v;
      else arr.push(v);
      table.addItem(fm, item.start, item.end);
    }
    if (arr !== undefined && made >= 0 && made < arr.length) arr.length = made;
    return kept;
  }

  /** See ConfigDecoder.element. */
  element(fd: FieldDesc, item: SMessage, occurrence: SField | undefined): Decoded | typeof UNMODELED | undefined {
    return this.value(fd, item, 'Bootstrap', occurrence);
  }

  /** One value of a field (an element, for repeated fields). undefined = invalid (already reported). */
  private value(fd: FieldDesc, v: SyntaxNode, path: string, occurrence?: SField): Decoded | typeof UNMODELED | undefined {
    const k: FieldKind = fd.value;
    if (v instanceof DecodedElement) {
      // Decoded while the file was read (ConfigDecoder.element): its diagnostics come out here, where decoding it
      // now would have reported them. Met as anything else, it is read again and decoded as that.
      if (k.kind === 'message' && k.type === v.desc) {
        for (const d of v.diagnostics) this.diagnostics.push(d);
        return v.node;
      }
      v = v.original();
    }
    switch (k.kind) {
      case 'message': {
        if (v.kind !== 'message') {
          if (v.kind === 'scalar' && v.style === 'null') return this.emptyMessage(v.span);
          this.invalid(v.span, `field \`${fd.name}\` takes a ${k.type.name} message, not ${describeNode(v)}`, fd.name);
          return undefined;
        }
        const node = this.message(k.type, v, path);
        if (node === UNMODELED) return UNMODELED;
        if (occurrence?.comments !== undefined) {
          const m = node[META];
          if (m !== undefined) m.comments = occurrence.comments;
        }
        return node;
      }
      case 'scalar':
        return v.kind === 'scalar' ? this.scalar(k.type, v, fd.name) : this.typeError(v, fd.name, k.type);
      case 'enum':
        return v.kind === 'scalar' ? this.enumValue(k.type, v, fd.name) : this.typeError(v, fd.name, 'enum');
      case 'wrapper': {
        if (v.kind === 'message') {
          const inner = v.fields.find((x) => x.name === 'value');
          if (inner === undefined || v.fields.length !== 1 || inner.value.kind !== 'scalar') {
            this.invalid(v.span, `field \`${fd.name}\` takes a plain ${k.type} value (or \`{value: …}\`)`, fd.name);
            return undefined;
          }
          return this.scalar(k.type, inner.value, fd.name);
        }
        return v.kind === 'scalar' ? this.scalar(k.type, v, fd.name) : this.typeError(v, fd.name, k.type);
      }
      case 'duration':
        return this.duration(v, fd.name);
      case 'struct':
        if (v.kind !== 'message') {
          this.invalid(v.span, `field \`${fd.name}\` takes an object, not ${describeNode(v)}`, fd.name);
          return undefined;
        }
        return toJson(v);
      case 'json':
        return toJson(v);
    }
  }

  private emptyMessage(span: Span): ModelNode {
    const node: ModelNode = {};
    Object.defineProperty(node, META, { value: { span, fields: {} }, enumerable: false, writable: true, configurable: true });
    return node;
  }

  private typeMatches(desc: MessageDesc, typeField: SField, root: boolean): boolean {
    const v = typeField.value;
    const url = v.kind === 'scalar' && typeof v.value === 'string' ? v.value : undefined;
    const name = url?.slice(url.lastIndexOf('/') + 1);
    const accepted = TYPE_URLS[desc.name];
    if (name !== undefined && accepted !== undefined && accepted.includes(name)) return true;
    if (name !== undefined && accepted === undefined && name.endsWith('.' + desc.name.split('.').pop())) return true;
    this.diagnostics.push({
      ruleId: 'unmodeled-extension',
      severity: 'warning',
      message:
        url === undefined
          ? '`@type` must be a type URL string'
          : root
            ? `\`${name}\` is not a bootstrap; the file is read as one anyway`
            : `\`${name}\` is not modelled by meshctl; it is kept verbatim and passed through unchanged`,
      span: v.span,
      hint: accepted !== undefined ? `meshctl models ${[...new Set(accepted.map((a) => a.split('.').pop()))].join(' / ')} here` : undefined,
    } as Diagnostic);
    return false;
  }

  private unknownField(desc: MessageDesc, f: SField, path: string, value: JsonValue): void {
    const where = desc.name.split('.').pop();
    void path;
    // A field meshctl run reads from the verbatim copy (src/config/run-fate) is acted on: neither a note nor a warning.
    if (actedOnByRun(desc.name, f.name, value)) return;
    if (this.format === 'envoy') {
      // Envoy's judge has read the same field: where Envoy does not know it either, its error stands and this note
      // is dropped (parse.ts); where Envoy knows it, this is all there is to say.
      this.diagnostics.push({
        ruleId: UNMODELED_FIELD,
        severity: 'info',
        message: `\`${f.name}\` (in ${where}) is an Envoy field meshctl does not act on; it is kept verbatim`,
        span: f.keySpan,
      });
      return;
    }
    const suggestion = didYouMean(f.name, desc.fields.keys());
    this.diagnostics.push({
      ruleId: 'unknown-field',
      severity: 'warning',
      message: `unknown field \`${f.name}\` in ${where}; it is kept verbatim`,
      span: f.keySpan,
      ...(suggestion !== undefined ? { hint: `did you mean \`${suggestion}\`?` } : {}),
    });
  }

  private invalid(span: Span, message: string, field: string, hint?: string): void {
    this.diagnostics.push({ ruleId: 'invalid-value', severity: 'error', message, span, ...(hint ? { hint } : {}) });
    void field;
  }

  private typeError(v: SyntaxNode, field: string, expected: string): undefined {
    this.invalid(v.span, `field \`${field}\` takes ${article(expected)} ${expected}, not ${describeNode(v)}`, field);
    return undefined;
  }

  private scalar(type: ScalarType, v: SScalar, field: string): string | number | boolean | undefined {
    switch (type) {
      case 'string':
      case 'bytes':
        if (v.style === 'string' || v.style === 'bare') return String(v.value);
        this.invalid(
          v.span,
          `field \`${field}\` takes a string, not ${describeNode(v)}`,
          field,
          `quote it: "${v.raw.replace(/"/g, '\\"')}"`,
        );
        return undefined;
      case 'bool': {
        if (v.style === 'bool') return v.value as boolean;
        if (v.style === 'bare' || (v.style === 'number' && this.format === 'textproto')) {
          const t = String(v.raw);
          if (t === 'true' || t === 'True' || t === 't' || t === '1') return true;
          if (t === 'false' || t === 'False' || t === 'f' || t === '0') return false;
        }
        this.invalid(v.span, `field \`${field}\` takes true or false, not ${describeNode(v)}`, field);
        return undefined;
      }
      case 'double':
      case 'float':
        return this.float(v, field);
      default:
        return this.integer(type, v, field);
    }
  }

  private float(v: SScalar, field: string): number | undefined {
    if (v.style === 'number' && typeof v.value === 'number') return v.value;
    if (v.style === 'bare' || v.style === 'string') {
      const t = String(v.value).trim();
      const lower = t.toLowerCase();
      if (lower === 'inf' || lower === 'infinity' || lower === '+inf' || lower === '+infinity') return Infinity;
      if (lower === '-inf' || lower === '-infinity') return -Infinity;
      if (lower === 'nan' || lower === '-nan') return NaN;
      if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fF]?$/.test(t)) return Number.parseFloat(t);
    }
    this.invalid(v.span, `field \`${field}\` takes a number, not ${describeNode(v)}`, field);
    return undefined;
  }

  private integer(type: ScalarType, v: SScalar, field: string): number | undefined {
    let big: bigint | undefined;
    const range = INT_RANGES[type];
    if (v.style === 'number' && typeof v.value === 'number' && Number.isSafeInteger(v.value) && range !== undefined) {
      // The common case without BigInt: a safe integer compares exactly as a number (the ranges' ends are exact
      // doubles); `+ 0` turns -0 into 0 as Number(BigInt(-0)) did.
      const n = v.value;
      if (n >= Number(range[0]) && n <= Number(range[1])) return n + 0;
    }
    if (v.style === 'number' && typeof v.value === 'number') {
      if (!Number.isFinite(v.value) || !Number.isInteger(v.value)) {
        this.invalid(v.span, `field \`${field}\` takes a whole number (${type}), not ${v.raw}`, field);
        return undefined;
      }
      big = Number.isSafeInteger(v.value) ? BigInt(v.value) : exactInteger(v.raw) ?? BigInt(v.value);
    } else if (v.style === 'string' || v.style === 'bare') {
      // proto3 JSON writes 64-bit integers as strings; accept digit strings for every integer type.
      big = exactInteger(String(v.value).trim());
    }
    if (big === undefined) {
      this.invalid(v.span, `field \`${field}\` takes a whole number (${type}), not ${describeNode(v)}`, field);
      return undefined;
    }
    if (range !== undefined && (big < range[0] || big > range[1])) {
      this.invalid(v.span, `${v.raw} is out of range for field \`${field}\` (${type}: ${range[0]}..${range[1]})`, field);
      return undefined;
    }
    return Number(big);
  }

  private enumValue(e: EnumDesc, v: SScalar, field: string): string | undefined {
    if (v.style === 'number' && typeof v.value === 'number') {
      const name = e.names.get(v.value);
      if (name !== undefined) return name;
      this.invalid(v.span, `${v.raw} is not a value of ${e.name} (field \`${field}\`)`, field, `use one of ${[...e.values.keys()].join(', ')}`);
      return undefined;
    }
    if (v.style === 'string' || v.style === 'bare') {
      const name = String(v.value);
      const canonical = enumName(e, name);
      if (canonical !== undefined) return canonical;
      // YAML and JSON: Envoy parses enum names case-insensitively (MessageUtil::loadFromJson sets protobuf's
      // case_insensitive_enum_parsing: a name that does not match is tried upper-cased). Text format does not.
      const upper = this.format === 'textproto' ? undefined : enumName(e, name.toUpperCase());
      if (upper !== undefined) return upper;
      const ci = [...e.values.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
      const suggestion = ci ?? didYouMean(name, e.values.keys());
      this.invalid(
        v.span,
        `\`${name}\` is not a value of ${e.name} (field \`${field}\`)`,
        field,
        suggestion !== undefined
          ? `did you mean \`${suggestion}\`?${this.format === 'textproto' ? ' (text format reads enum names case-sensitively)' : ''}`
          : `use one of ${[...e.values.keys()].join(', ')}`,
      );
      return undefined;
    }
    this.invalid(v.span, `field \`${field}\` takes an ${e.name} name, not ${describeNode(v)}`, field);
    return undefined;
  }

  private duration(v: SyntaxNode, field: string): Duration | undefined {
    if (v.kind === 'scalar') {
      if (v.style === 'number' && typeof v.value === 'number' && Number.isFinite(v.value)) {
        return parseDuration(/^-?\d+(\.\d+)?$/.test(v.raw) ? v.raw : String(v.value));
      }
      if (v.style === 'string' || v.style === 'bare') {
        const fast = typeof v.value === 'string' ? simpleSeconds(v.value) : undefined;
        if (fast !== undefined) return fast;
        const d = parseDuration(String(v.value));
        if (d !== undefined) return d;
      }
      this.invalid(v.span, `field \`${field}\` takes a duration such as "0.25s", "5s" or "250ms", not ${describeNode(v)}`, field);
      return undefined;
    }
    if (v.kind === 'message') {
      let seconds = 0;
      let nanos = 0;
      for (const f of v.fields) {
        const n = f.value.kind === 'scalar' ? this.integer(f.name === 'nanos' ? 'int32' : 'int64', f.value, `${field}.${f.name}`) : undefined;
        if (n === undefined) {
          if (f.value.kind !== 'scalar') this.invalid(f.value.span, `\`${field}.${f.name}\` takes a whole number`, field);
          return undefined;
        }
        if (f.name === 'seconds') seconds = n;
        else if (f.name === 'nanos') nanos = n;
        else {
          this.invalid(f.keySpan, `a duration has \`seconds\` and \`nanos\`, not \`${f.name}\``, field);
          return undefined;
        }
      }
      if (Math.abs(nanos) >= 1e9 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
        this.invalid(v.span, `\`${field}.nanos\` must be below 1e9 in magnitude and have the sign of \`seconds\``, field);
        return undefined;
      }
      return { seconds, nanos };
    }
    this.invalid(v.span, `field \`${field}\` takes a duration, not a list`, field);
    return undefined;
  }
}

const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * `5s`, `0.25s`: what nearly every duration looks like (`^(\d{1,15})(?:\.(\d{1,9}))?s$`), read digit by digit without
 * parseDuration's BigInt arithmetic (the same result; 15 digits and 9 digits are exact in a double).
 */
function simpleSeconds(t: string): Duration | undefined {
  const last = t.length - 1;
  if (last < 1 || t.charCodeAt(last) !== 0x73 /* s */) return undefined;
  let i = 0;
  let seconds = 0;
  for (let c = t.charCodeAt(i); i < last && c >= 0x30 && c <= 0x39; c = t.charCodeAt(++i)) seconds = seconds * 10 + (c - 0x30);
  if (i === 0 || i > 15) return undefined;
  if (i === last) return { seconds, nanos: 0 };
  if (t.charCodeAt(i) !== 0x2e /* . */) return undefined;
  const from = ++i;
  let frac = 0;
  for (let c = t.charCodeAt(i); i < last && c >= 0x30 && c <= 0x39; c = t.charCodeAt(++i)) frac = frac * 10 + (c - 0x30);
  const digits = i - from;
  if (i !== last || digits === 0 || digits > 9) return undefined;
  return { seconds, nanos: frac * NANO_SCALE[digits]! };
}

/** `name` is f.name, as the schema spells it when the field is modelled (one string for every node, not one each). */
function addField(table: FieldTable, f: SField, name: string): number {
  return table.add(name, f.keyStart, f.keyEnd, f.start, f.end, f.comments);
}

/** Each enum's names mapped to themselves: a decoded enum value is the schema's string, not a copy from the input. */
const ENUM_NAMES = new WeakMap<EnumDesc, Map<string, string>>();

function enumName(e: EnumDesc, name: string): string | undefined {
  let names = ENUM_NAMES.get(e);
  if (names === undefined) {
    names = new Map();
    for (const n of e.values.keys()) names.set(n, n);
    ENUM_NAMES.set(e, names);
  }
  return names.get(name);
}

/** One descriptor for every node's META (defineProperty reads it; no object per node). */
const META_PROPERTY: PropertyDescriptor = { value: undefined, enumerable: false, writable: true, configurable: true };

/** An exact integer from decimal (or 0x hex) text, or undefined. */
function exactInteger(t: string): bigint | undefined {
  if (/^[-+]?\d+$/.test(t)) return BigInt(t.replace(/^\+/, ''));
  const m = /^([-+]?)0[xX]([0-9a-fA-F]+)$/.exec(t);
  if (m !== null) return (m[1] === '-' ? -1n : 1n) * BigInt('0x' + m[2]);
  return undefined;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

function describeNode(v: SyntaxNode): string {
  if (v.kind === 'message') return 'a message';
  if (v.kind === 'list') return 'a list';
  return describeScalar(v);
}

/** A syntax node as plain JSON, for Struct fields and for fields kept verbatim. */
/**
 * Keys come from the input, so `obj[key] = v` would run the `__proto__` setter and replace the object's prototype
 * (a later read then finds Object.prototype's members, and rules walking the model crash): define own properties.
 */
function setOwn<T>(o: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function toJson(v: SyntaxNode): JsonValue {
  if (v instanceof DecodedElement) return toJson(v.original());
  if (v.kind === 'message') {
    const o: JsonObject = {};
    for (const f of v.fields) setOwn(o, f.name, toJson(f.value));
    return o;
  }
  if (v.kind === 'list') return v.items.map(toJson);
  if (v.style === 'number' && typeof v.value === 'number') {
    if (Number.isInteger(v.value) && !Number.isSafeInteger(v.value) && /^-?\d+$/.test(v.raw)) return v.raw;
    if (!Number.isFinite(v.value)) return String(v.value);
    return v.value;
  }
  return v.value;
}
