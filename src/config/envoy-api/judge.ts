/**
 * Envoy's judgement of an Envoy-shaped syntax tree: the tree is read against Envoy's own descriptors the way Envoy
 * reads a YAML/JSON config (protobuf's JSON parser with `case_insensitive_enum_parsing` and unknown fields refused,
 * then protoc-gen-validate's constraints; source/common/protobuf/yaml_utility.cc, MessageUtil::loadFromJson and
 * MessageUtil::validate), at any depth, each Any (`typed_config`) decoded as the message its `@type` names.
 *
 * It reports what Envoy refuses, at the line and column it is written, and returns the tree in canonical form —
 * proto field names for JSON names (`loadAssignment` → `load_assignment`), enum names as declared (`round_robin` →
 * `ROUND_ROBIN`), YAML booleans Envoy reads (`yes`) as booleans — so that meshctl's decoder, and every command after
 * it, sees what Envoy sees. A node that needs no change is returned as it is (no copy). On the way it records every
 * place the input names a cluster where Envoy takes a cluster name (cluster-refs.ts).
 */
import { expandAny } from '../any-expansion.js';
import type { Diagnostic, Severity } from '../diagnostic.js';
import { parseDuration } from '../duration.js';
import { didYouMean } from '../suggest.js';
import type { Span } from '../source.js';
import { describeScalar, SField, SList, SMessage, SScalar, type SyntaxNode } from '../syntax.js';
import { CLUSTER_NAME_FIELDS, ClusterRef, RUNTIME_CLUSTER_FIELDS, RUNTIME_CLUSTER_TYPES, type ClusterLookup, type EnvoyClusterUse } from './cluster-refs.js';
import {
  checkAnyUrl,
  checkBool,
  checkBytes,
  checkDuration,
  checkEnum,
  checkMapCount,
  checkNumber,
  checkRepeatedCount,
  checkString,
  checkTimestamp,
  isRequired,
  isSkipped,
  type Violation,
} from './constraints.js';
import { envoyApi, type EnumDesc, type EnvoyApi, type FieldDesc, type FieldType, type MessageDesc, type OneofDesc, type RawRules, type ScalarType } from './descriptors.js';
import { readScalar, ScalarProblem, yamlBoolean, type ScalarValue } from './scalars.js';
import { classifyUnknownType, NEWER_FIELDS, NEWER_TYPES } from './type-urls.js';
import { base64Length, envoyDurationForm, parseJsonDuration, parseJsonTimestamp } from './well-known.js';

export const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const TYPE_URL_PREFIX = 'type.googleapis.com/';
const TYPED_STRUCTS: ReadonlySet<string> = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

export interface JudgeOptions {
  /** The descriptors (default: the package's own). */
  readonly api?: EnvoyApi;
  /** The input is YAML: Envoy reads plain scalars by yaml-cpp's rules first (scalars.ts). */
  readonly yaml: boolean;
  /** Record where each field Envoy knows is written (knownFields), for reviewing another reader's findings. */
  readonly recordKnownFields?: boolean;
}

/** What a judgement produces besides the tree; a speculative judgement keeps its own until it is taken. */
class Findings {
  readonly diagnostics: Diagnostic[] = [];
  readonly refs: ClusterRef[] = [];
  runtime: string | undefined = undefined;
  /** The names (key spans) of fields whose value Envoy refuses. */
  readonly refusedFields: Span[] = [];

  addAll(other: Findings): void {
    for (const d of other.diagnostics) this.diagnostics.push(d);
    for (const r of other.refs) this.refs.push(r);
    for (const k of other.refusedFields) this.refusedFields.push(k);
    this.runtime ??= other.runtime;
  }
}

/** A list element judged while the file was read (see EnvoyJudge.remember). */
interface Prejudged {
  readonly type: MessageDesc;
  /** A speculative judgement's findings, taken when the element turns out to be what it was judged as. */
  readonly pending: Findings | undefined;
  /** Reads the element's syntax again (for a stand-in that turns out to be something else). */
  readonly reread: (() => SMessage) | undefined;
}

/**
 * A reader's stand-in for an element judged ahead (the decoder's DecodedElement), which carries that judgement in
 * fields of its own: a big config has one per cluster, and a WeakMap entry (plus a record and a closure) for each
 * showed as ~14 ms of a 10,000-cluster file's profile (the map growing and rehashing; its ephemerons in collections).
 */
export abstract class JudgedStandIn extends SMessage {
  /** Set by EnvoyJudge.remember; each subclass constructor sets both to undefined (one shape for all). */
  declare judgedAs: MessageDesc | undefined;
  declare pending: Findings | undefined;
  /** The element's syntax read again, or undefined when it cannot be (then the stand-in itself is judged). */
  abstract reread(): SMessage | undefined;
}

/** What a message type needs checked when fields are absent, computed once per type. */
interface AbsentChecks {
  readonly required: readonly FieldDesc[];
  /** Scalar, repeated and map fields whose default (empty) value breaks their rules: the broken rule. */
  readonly defaults: readonly { readonly field: FieldDesc; readonly violation: Violation }[];
  readonly requiredOneofs: readonly OneofDesc[];
  /** Enum fields whose default value is deprecated (Envoy warns when they are left unset). */
  readonly deprecatedDefaults: readonly { readonly field: FieldDesc; readonly value: string; readonly disallowed: boolean }[];
  /** Nothing to check (most messages). */
  readonly none: boolean;
  /** The type is an extension that picks clusters at run time (RUNTIME_CLUSTER_TYPES), asked once per type, not per message. */
  readonly runtimeClusters: boolean;
}

/** Per field, computed with its type's facts (typeFacts), before a message of the type is judged. */
interface FieldFacts {
  readonly clusterLookup: ClusterLookup | undefined;
  readonly runtimeCluster: boolean;
  readonly fullName: string;
  /**
   * How to tell whether the input wrote the field by its JSON name, knowing it wrote one of the two names: by the
   * length when they differ in length (`load_assignment` / `loadAssignment`), by comparing the names when only
   * their letters differ, never when they are the same (`name`). Comparing equal strings costs a character loop
   * on every field of every message.
   */
  readonly jsonNameBy: 'length' | 'text' | 'never';
  /** `repeated` rules and their `items` rules, looked up once per field instead of per list. */
  readonly repeatedRules: RawRules | undefined;
  readonly itemRules: RawRules | undefined;
}

export class EnvoyJudge {
  readonly api: EnvoyApi;
  private readonly yaml: boolean;
  private readonly main = new Findings();
  private out: Findings;
  /** Depth of `message.skip` subtrees being walked: their constraints are not checked (unknown fields still are). */
  private skipRules = 0;
  private readonly prejudged = new WeakMap<SMessage, Prejudged>();
  private readonly known: Map<number, { field: string; message: string }> | undefined;

  constructor(opts: JudgeOptions) {
    this.api = opts.api ?? envoyApi();
    this.yaml = opts.yaml;
    this.out = this.main;
    this.known = opts.recordKnownFields === true ? new Map() : undefined;
  }

  /** Fields of Envoy's messages the input wrote, by the offset of their name (with recordKnownFields). */
  knownFields(): ReadonlyMap<number, { field: string; message: string }> {
    return this.known ?? new Map();
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.main.diagnostics;
  }

  /** Where fields whose value Envoy refuses are named (so that no note about them stands beside the error). */
  get refusedFields(): readonly Span[] {
    return this.main.refusedFields;
  }

  /** The clusters the judged input names, for the reference rules. */
  clusterUse(): EnvoyClusterUse {
    return { refs: this.main.refs, chosenAtRunTime: this.main.runtime };
  }

  /** Judges a whole tree whose root is `typeName` (a Bootstrap by default); returns it in canonical form. */
  root(tree: SMessage, typeName: string = BOOTSTRAP): SMessage {
    const desc = this.requireMessage(typeName);
    return this.message(desc, tree, false);
  }

  /** Judges one element read ahead of the rest of the tree (an element of `static_resources.clusters`, …). */
  element(typeName: string, item: SMessage): SMessage {
    return this.message(this.requireMessage(typeName), item, false);
  }

  /**
   * Judges an element whose type is only a guess (a virtual host of what may turn out not to be a connection
   * manager): its findings are kept apart until the tree walk meets it where the guess holds.
   */
  speculate(typeName: string, item: SMessage): { node: SMessage; pending: Findings } {
    const pending = new Findings();
    const saved = this.out;
    this.out = pending;
    try {
      return { node: this.message(this.requireMessage(typeName), item, false), pending };
    } finally {
      this.out = saved;
    }
  }

  /**
   * Marks `node` (what the reader keeps in the tree for an element judged ahead: the canonical element, or a
   * decoder's stand-in for it) as judged as `typeName`, so that the tree walk takes that judgement instead of
   * judging it again.
   */
  remember(node: SMessage, typeName: string, pending: Findings | undefined, reread: (() => SMessage) | undefined): void {
    if (node instanceof JudgedStandIn) {
      node.judgedAs = this.requireMessage(typeName);
      node.pending = pending;
      return;
    }
    this.prejudged.set(node, { type: this.requireMessage(typeName), pending, reread });
  }

  private requireMessage(name: string): MessageDesc {
    const m = this.api.message(name);
    if (m === undefined) throw new Error(`internal: Envoy's API has no message ${name}`);
    return m;
  }

  // ---- reporting -------------------------------------------------------------------------------------------

  private report(ruleId: string, severity: Severity, message: string, node: { src: SMessage['src']; start: number; end: number }, hint?: string): void {
    // A message (a missing field) is pointed at where it starts; anything else at its whole extent.
    const end = node instanceof SMessage ? node.start : node.end;
    const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { ruleId, severity, message, span: node.src.span(node.start, end) };
    if (hint !== undefined) d.hint = hint;
    this.out.diagnostics.push(d);
  }

  private reportKey(ruleId: string, severity: Severity, message: string, f: SField, hint?: string): void {
    this.report(ruleId, severity, message, { src: f.src, start: f.keyStart, end: f.keyEnd }, hint);
  }

  private violated(field: string, v: Violation, at: { src: SMessage['src']; start: number; end: number }, absent = false): void {
    if (this.skipRules > 0) return;
    const problem = absent ? 'is not set' : v.problem;
    this.report(v.ruleId, 'error', `\`${field}\` ${problem}; Envoy requires ${v.constraint}`, at);
  }

  // ---- messages --------------------------------------------------------------------------------------------

  /** Judges `node` as `desc`. `viaAny`: its `@type` was read by the Any holding it. */
  private message(desc: MessageDesc, node: SMessage, viaAny: boolean): SMessage {
    const fields = node.fields;
    let out: SField[] | undefined;
    let renamed = false;
    // The fields set here go on the shared stack from `mark` (a nested message pushes above, and pops, its own):
    // presence and oneof checks without an array or map per message.
    const present = this.present;
    const mark = this.presentTop;
    const checks = (desc.absent ??= typeFacts(desc)) as AbsentChecks;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      let next: SField = f;
      // `@type` is never a field name (not a proto identifier): looked for only when the name is not a field's.
      const fd = desc.field(f.name);
      if (fd === undefined) {
        if (f.name !== '@type') this.unknownField(desc, f);
        else if (!viaAny) this.typeOnMessage(desc, f);
      } else {
        this.known?.set(f.keyStart, { field: f.name, message: desc.localName });
        if (!(f.value.kind === 'scalar' && f.value.style === 'null')) {
          if (fd.oneof !== undefined) this.oneofConflict(desc, fd, f, mark);
          present[this.presentTop++] = fd;
          present[this.presentTop++] = f;
          if (fd.deprecated) this.deprecatedField(desc, fd, f);
          const before = this.out.diagnostics.length;
          const value = this.fieldValue(fd, f);
          if (this.out.diagnostics.length !== before && this.out.diagnostics.slice(before).some((d) => d.severity === 'error')) {
            this.out.refusedFields.push(f.keySpan);
          }
          const facts = this.facts(fd);
          const jsonNamed = facts.jsonNameBy === 'never' ? false : facts.jsonNameBy === 'length' ? f.name.length !== fd.name.length : f.name !== fd.name;
          if (jsonNamed) renamed = true;
          if (value !== f.value || jsonNamed) next = f.with(fd.name, value);
        }
      }
      if (next !== f) {
        out ??= fields.slice(0, i);
        out.push(next);
      } else if (out !== undefined) out.push(f);
    }
    if (renamed) this.duplicates(desc, fields);
    if (!desc.disabled && !checks.none) this.absentChecks(desc, checks, node, mark);
    this.presentTop = mark;
    if (checks.runtimeClusters) this.out.runtime ??= `a ${desc.localName} extension (${desc.fullName})`;
    return out === undefined ? node : node.withFields(out);
  }

  /** Pairs of (field, its syntax) set in the messages being judged, up to presentTop; see message(). */
  private readonly present: Array<FieldDesc | SField> = [];
  private presentTop = 0;

  private isPresent(fd: FieldDesc, mark: number): boolean {
    const p = this.present;
    for (let i = mark; i < this.presentTop; i += 2) if (p[i] === fd) return true;
    return false;
  }

  private anyPresent(fds: readonly FieldDesc[], mark: number): boolean {
    for (const fd of fds) if (this.isPresent(fd, mark)) return true;
    return false;
  }

  private oneofConflict(desc: MessageDesc, fd: FieldDesc, f: SField, mark: number): void {
    const p = this.present;
    for (let i = mark; i < this.presentTop; i += 2) {
      const other = p[i] as FieldDesc;
      if (other.oneof !== fd.oneof) continue;
      const first = p[i + 1] as SField;
      this.reportKey(
        'envoy-oneof-conflict',
        'error',
        `\`${fd.name}\` and \`${first.name}\` are both set; ${desc.localName} takes one of ${oneofList(fd.oneof!)}`,
        f,
        `keep one (oneof \`${fd.oneof!.name}\`)`,
      );
      return;
    }
  }

  /** `@type` on a message that is not held by an Any: Envoy's parser knows no such field, unless it names the message itself. */
  private typeOnMessage(desc: MessageDesc, f: SField): void {
    const v = f.value;
    const url = v.kind === 'scalar' && typeof v.value === 'string' ? v.value : undefined;
    if (url !== undefined && url.slice(url.lastIndexOf('/') + 1) === desc.fullName) return;
    this.reportKey('envoy-unknown-field', 'error', `\`@type\` is not a field of ${desc.localName}: only an Any (such as \`typed_config\`) takes a \`@type\``, f);
  }

  private unknownField(desc: MessageDesc, f: SField): void {
    const release = NEWER_FIELDS.get(desc.fullName)?.get(f.name);
    if (release !== undefined) {
      this.reportKey('envoy-newer-api', 'warning', `\`${f.name}\` (in ${desc.localName}) is in Envoy ${release}'s API, newer than meshctl's copy: Envoy ${release} and later load it; its value is not checked`, f);
      return;
    }
    const candidates: string[] = [];
    for (const x of desc.fields) candidates.push(x.name, x.jsonName);
    const suggestion = didYouMean(f.name, candidates);
    this.reportKey(
      'envoy-unknown-field',
      'error',
      `\`${f.name}\` is not a field of ${desc.localName} (${desc.fullName}); Envoy refuses unknown fields`,
      f,
      suggestion !== undefined ? `did you mean \`${suggestion}\`?` : undefined,
    );
  }

  /** The same field written under both its names (`load_assignment` and `loadAssignment`). */
  private duplicates(desc: MessageDesc, fields: readonly SField[]): void {
    const seen = new Map<FieldDesc, SField>();
    for (const f of fields) {
      const fd = desc.field(f.name);
      if (fd === undefined) continue;
      const first = seen.get(fd);
      if (first === undefined) seen.set(fd, f);
      // Legacy syntax lets a repeated field (or map) be given twice; a singular field or a oneof, not.
      else if (!fd.repeated && fd.mapKey === undefined) {
        this.reportKey('duplicate-field', 'error', `\`${f.name}\` and \`${first.name}\` are the same field of ${desc.localName} (\`${fd.name}\`), set twice`, f);
      }
    }
  }

  private deprecatedField(desc: MessageDesc, fd: FieldDesc, f: SField): void {
    if (fd.disallowed) {
      this.reportKey(
        'envoy-deprecated-field',
        'error',
        `\`${fd.name}\` (in ${desc.localName}) is deprecated and disallowed by default: Envoy refuses it unless a runtime override allows it`,
        f,
      );
    } else {
      this.reportKey('envoy-deprecated-field', 'warning', `\`${fd.name}\` (in ${desc.localName}) is deprecated: Envoy logs a warning when it is set`, f);
    }
  }

  private absentChecks(desc: MessageDesc, checks: AbsentChecks, node: SMessage, mark: number): void {
    // Where an absent field is reported: the start of the message that lacks it.
    const at = node;
    if (this.skipRules === 0) {
      for (const fd of checks.required) {
        if (!this.isPresent(fd, mark)) this.report('envoy-required', 'error', `${desc.localName} needs \`${fd.name}\`: Envoy requires it (${requiredRule(fd.rules)})`, at);
      }
      for (const { field, violation } of checks.defaults) if (!this.isPresent(field, mark)) this.violated(field.name, violation, at, true);
      for (const o of checks.requiredOneofs) {
        if (!this.anyPresent(o.fields, mark)) {
          this.report('envoy-oneof-required', 'error', `${desc.localName} needs one of ${oneofList(o)}: Envoy requires one (oneof \`${o.name}\`)`, at);
        }
      }
    }
    for (const { field, value, disallowed } of checks.deprecatedDefaults) {
      if (this.isPresent(field, mark)) continue;
      this.report(
        'envoy-deprecated-field',
        disallowed ? 'error' : 'warning',
        `\`${field.name}\` is not set, and its default \`${value}\` is deprecated${disallowed ? ': Envoy refuses it unless a runtime override allows it' : ''}`,
        at,
        `set \`${field.name}\` explicitly`,
      );
    }
  }

  // ---- fields ----------------------------------------------------------------------------------------------

  private fieldValue(fd: FieldDesc, f: SField): SyntaxNode {
    const v = f.value;
    if (fd.mapKey !== undefined) return this.map(fd, v);
    if (fd.repeated) return this.repeated(fd, v);
    return this.single(fd, fd.type, v, fd.rules);
  }

  private repeated(fd: FieldDesc, v: SyntaxNode): SyntaxNode {
    const t = fd.type;
    const { repeatedRules, itemRules } = this.facts(fd);
    // protobuf's parser (legacy syntax) takes a single element in place of a list of one.
    if (v.kind !== 'list') {
      const one = this.item(fd, t, v, itemRules);
      if (repeatedRules !== undefined && this.skipRules === 0) {
        const count = checkRepeatedCount(1, repeatedRules);
        if (count !== undefined) this.violated(fd.name, count, v);
      }
      return one;
    }
    const items = v.items;
    let out: SyntaxNode[] | undefined;
    let count = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      let next: SyntaxNode;
      // Legacy syntax: a list inside a list is flattened into it (not for Value/ListValue elements).
      if (item.kind === 'list' && !(t.kind === 'well-known' && (t.wkt === 'value' || t.wkt === 'list-value'))) {
        next = this.repeated(fd, item);
        count += item.items.length;
      } else {
        next = this.item(fd, t, item, itemRules);
        count++;
      }
      if (next !== item) {
        out ??= items.slice(0, i);
        out.push(next);
      } else if (out !== undefined) out.push(item);
    }
    if (repeatedRules !== undefined && this.skipRules === 0) {
      const violation = checkRepeatedCount(count, repeatedRules);
      if (violation !== undefined) this.violated(fd.name, violation, v);
      else if (repeatedRules['unique'] === true) this.unique(fd, items);
    }
    return out === undefined ? v : new SList(out, v.src, v.start, v.end);
  }

  /** One element of a repeated field (`null` is the element's default, in legacy syntax). */
  private item(fd: FieldDesc, t: FieldType, item: SyntaxNode, itemRules: RawRules | undefined): SyntaxNode {
    if (t.kind === 'message' && item.kind === 'message') return this.listMessage(t.message, item, itemRules);
    return this.single(fd, t, item, itemRules);
  }

  /** A message element of a list: taken as judged ahead when it was (see remember). */
  private listMessage(desc: MessageDesc, item: SMessage, rules: RawRules | undefined): SyntaxNode {
    if (item instanceof JudgedStandIn && item.judgedAs !== undefined) {
      if (item.judgedAs === desc) {
        if (item.pending !== undefined) this.out.addAll(item.pending);
        return item;
      }
      return this.messageValue(desc, item.reread() ?? item, rules);
    }
    const pre = this.prejudged.get(item);
    if (pre !== undefined) {
      if (pre.type === desc) {
        if (pre.pending !== undefined) this.out.addAll(pre.pending);
        return item;
      }
      return this.messageValue(desc, pre.reread !== undefined ? pre.reread() : item, rules);
    }
    return this.messageValue(desc, item, rules);
  }

  private unique(fd: FieldDesc, items: readonly SyntaxNode[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      if (item.kind !== 'scalar') continue;
      const key = String(item.value);
      if (seen.has(key)) {
        this.violated(fd.name, { ruleId: 'envoy-repeated-rule', problem: `repeats ${describeNode(item)}`, constraint: 'repeated unique: true' }, item);
        return;
      }
      seen.add(key);
    }
  }

  private map(fd: FieldDesc, v: SyntaxNode): SyntaxNode {
    if (v.kind !== 'message') {
      this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes a map (an object of keys to values), not ${describeNode(v)}`, v);
      return v;
    }
    const mapRules = fd.rules?.['map'] as RawRules | undefined;
    const keyRules = mapRules?.['keys'] as RawRules | undefined;
    const valueRules = mapRules?.['values'] as RawRules | undefined;
    const keyType = fd.mapKey!;
    const t = fd.type;
    let out: SField[] | undefined;
    const fields = v.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const key = new SScalar('string', f.name, f.name, f.src, f.keyStart, f.keyEnd);
      const k = keyType === 'string' ? f.name : readScalar(keyType, key, false, `${fd.name} key`);
      if (k instanceof ScalarProblem) this.reportKey('envoy-invalid-value', 'error', `map key ${JSON.stringify(f.name)}: ${k.message}`, f);
      else if (keyRules !== undefined) this.scalarRules(`${fd.name} key`, keyType, k, keyRules, key);
      let next = f;
      if (!(f.value.kind === 'scalar' && f.value.style === 'null')) {
        const value = t.kind === 'message' && f.value.kind === 'message' ? this.messageValue(t.message, f.value, valueRules) : this.single(fd, t, f.value, valueRules);
        if (value !== f.value) next = f.with(f.name, value);
      }
      if (next !== f) {
        out ??= fields.slice(0, i);
        out.push(next);
      } else if (out !== undefined) out.push(f);
    }
    if (mapRules !== undefined && this.skipRules === 0) {
      const count = checkMapCount(fields.length, mapRules);
      if (count !== undefined) this.violated(fd.name, count, v);
    }
    return out === undefined ? v : v.withFields(out);
  }

  /** One value of a field (an element, for lists), with the rules that apply to it. */
  private single(fd: FieldDesc, t: FieldType, v: SyntaxNode, rules: RawRules | undefined): SyntaxNode {
    if (v.kind === 'scalar' && v.style === 'null') return v;
    switch (t.kind) {
      case 'scalar':
        return this.scalar(fd, t.scalar, v, rules);
      case 'wrapper':
        // `{value: …}`: the wrapper as a plain message, which the parser's legacy syntax reads too.
        if (v.kind === 'message') {
          const value = this.plainForm(t.name, v, ['value']).get('value');
          if (value === undefined) return v;
          const judged = this.scalar(fd, t.scalar, value.value, rules);
          return judged === value.value ? v : v.withFields(v.fields.map((f) => (f === value ? f.with(f.name, judged) : f)));
        }
        return this.scalar(fd, t.scalar, v, rules);
      case 'enum':
        return this.enumValue(fd, t.enum, v, rules);
      case 'message':
        if (v.kind !== 'message') {
          this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes ${/^[AEIOU]/.test(t.message.localName) ? 'an' : 'a'} ${t.message.localName} message, not ${describeNode(v)}`, v);
          return v;
        }
        return this.messageValue(t.message, v, rules);
      case 'well-known':
        return this.wellKnown(fd, t.wkt, t.name, v, rules);
      case 'missing':
        // Its .proto is not in the copy: Envoy knows it; meshctl cannot judge it.
        return v;
    }
  }

  private messageValue(desc: MessageDesc, v: SMessage, rules: RawRules | undefined): SMessage {
    if (!isSkipped(rules)) return this.message(desc, v, false);
    this.skipRules++;
    try {
      return this.message(desc, v, false);
    } finally {
      this.skipRules--;
    }
  }

  /** Set for every field of a type before a message of it is judged (typeFacts), so nearly always there. */
  private facts(fd: FieldDesc): FieldFacts {
    return (fd.compiled as FieldFacts | undefined) ?? compileFacts(fd);
  }

  private scalar(fd: FieldDesc, type: ScalarType, v: SyntaxNode, rules: RawRules | undefined): SyntaxNode {
    if (v.kind !== 'scalar') {
      this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes ${scalarNoun(type)}, not ${describeNode(v)}`, v);
      return v;
    }
    const r = readScalar(type, v, this.yaml, fd.name);
    if (r instanceof ScalarProblem) {
      this.report('envoy-invalid-value', 'error', r.message, v, r.hint);
      return v;
    }
    if (rules !== undefined) this.scalarRules(fd.name, type, r, rules, v);
    if (type === 'string') {
      const facts = this.facts(fd);
      if (facts.clusterLookup !== undefined && r !== '') {
        this.out.refs.push(new ClusterRef(r as string, facts.fullName, facts.clusterLookup, v.src, v.start, v.end));
      } else if (facts.runtimeCluster && r !== '') {
        this.out.runtime ??= `\`${fd.name}\` (${facts.fullName})`;
      }
    }
    // A boolean written as a word (`yes`, "true"): the model sees the boolean Envoy reads.
    if (type === 'bool' && v.style !== 'bool') return new SScalar('bool', r as boolean, v.raw, v.src, v.start, v.end);
    return v;
  }

  private scalarRules(field: string, type: ScalarType, value: ScalarValue, rules: RawRules, at: SyntaxNode): void {
    if (this.skipRules > 0) return;
    let violation: Violation | undefined;
    if (type === 'string') {
      const r = rules['string'] as RawRules | undefined;
      if (r !== undefined) violation = checkString(value as string, r);
    } else if (type === 'bytes') {
      const r = rules['bytes'] as RawRules | undefined;
      const length = base64Length(value as string);
      if (r !== undefined && length !== undefined) violation = checkBytes(length, r);
    } else if (type === 'bool') {
      const r = rules['bool'] as RawRules | undefined;
      if (r !== undefined) violation = checkBool(value as boolean, r);
    } else {
      const r = rules[type] as RawRules | undefined;
      if (r !== undefined) violation = checkNumber(type, value as number | bigint, r);
    }
    if (violation !== undefined) this.violated(field, violation, at);
  }

  /** Enums: names case-insensitively (exact first, then upper-cased, as protobuf's `case_insensitive_enum_parsing`), or numbers. */
  private enumValue(fd: FieldDesc, e: EnumDesc, v: SyntaxNode, rules: RawRules | undefined): SyntaxNode {
    if (v.kind !== 'scalar') {
      this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes a ${shortName(e.fullName)} name, not ${describeNode(v)}`, v);
      return v;
    }
    let number: number | undefined;
    let name: string | undefined;
    let out: SyntaxNode = v;
    if (v.style === 'number' && typeof v.value === 'number' && Number.isInteger(v.value)) {
      number = v.value;
      name = e.names.get(number);
    } else if ((v.style === 'string' || v.style === 'bare') && yamlBoolean(v, this.yaml) === undefined) {
      const written = String(v.value);
      name = e.values.has(written) ? written : e.values.has(written.toUpperCase()) ? written.toUpperCase() : undefined;
      if (name === undefined && /^-?\d+$/.test(written)) {
        // A number in a string is read as the enum's number.
        number = Number(written);
        name = e.names.get(number);
      } else if (name === undefined) {
        const suggestion = didYouMean(written, e.values.keys());
        this.report(
          'envoy-unknown-enum-value',
          'error',
          `\`${written}\` is not a value of ${shortName(e.fullName)} (field \`${fd.name}\`)`,
          v,
          suggestion !== undefined ? `did you mean \`${suggestion}\`?` : `use one of ${[...e.values.keys()].join(', ')}`,
        );
        return v;
      }
      if (name !== undefined) {
        number = e.values.get(name)!;
        if (name !== written) out = new SScalar('bare', name, v.raw, v.src, v.start, v.end);
      }
    } else {
      this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes a ${shortName(e.fullName)} name, not ${describeScalar(v)}`, v);
      return v;
    }
    const enumRules = rules?.['enum'] as RawRules | undefined;
    if (enumRules !== undefined && this.skipRules === 0 && number !== undefined) {
      const violation = checkEnum(number, (n) => e.names.has(n), enumRules, (n) => e.names.get(n) ?? String(n));
      if (violation !== undefined) this.violated(fd.name, violation, v);
    }
    if (name !== undefined && e.deprecated.has(name)) {
      const disallowed = e.disallowed.has(name);
      this.report(
        'envoy-deprecated-field',
        disallowed ? 'error' : 'warning',
        `\`${name}\` (${shortName(e.fullName)}) is deprecated${disallowed ? ' and disallowed by default: Envoy refuses it unless a runtime override allows it' : ': Envoy logs a warning'}`,
        v,
      );
    }
    return out;
  }

  // ---- well-known types ------------------------------------------------------------------------------------

  /**
   * A well-known type written as its plain message (`{seconds: 5}`, `{value: 3}`), which protobuf's parser reads in
   * legacy syntax: its fields by name, each other field reported.
   */
  private plainForm(typeName: string, v: SMessage, names: readonly string[]): Map<string, SField> {
    const found = new Map<string, SField>();
    for (const f of v.fields) {
      if (names.includes(f.name)) found.set(f.name, f);
      else this.reportKey('envoy-unknown-field', 'error', `\`${f.name}\` is not a field of ${typeName.slice(16)} (it has ${names.map((n) => `\`${n}\``).join(' and ')})`, f);
    }
    return found;
  }

  /** `{seconds, nanos}` of a Duration or Timestamp written as a message: nanoseconds, or undefined when invalid (reported). */
  private secondsAndNanos(field: string, typeName: string, v: SMessage): bigint | undefined {
    const parts = this.plainForm(typeName, v, ['seconds', 'nanos']);
    let total = 0n;
    for (const [name, f] of parts) {
      const x = f.value;
      if (x.kind === 'scalar' && x.style === 'null') continue;
      const r = x.kind === 'scalar' ? readScalar(name === 'seconds' ? 'int64' : 'int32', x, this.yaml, `${field}.${name}`) : undefined;
      if (r === undefined || r instanceof ScalarProblem) {
        this.report('envoy-invalid-value', 'error', r?.message ?? `\`${field}.${name}\` takes a whole number, not ${describeNode(x)}`, x);
        return undefined;
      }
      total += name === 'seconds' ? BigInt(r as number | bigint) * 1_000_000_000n : BigInt(r as number | bigint);
    }
    return total;
  }

  private wellKnown(fd: FieldDesc, wkt: string, typeName: string, v: SyntaxNode, rules: RawRules | undefined): SyntaxNode {
    switch (wkt) {
      case 'any':
        return this.any(fd.name, v, rules);
      case 'duration':
        this.duration(fd.name, v, rules);
        return v;
      case 'timestamp': {
        if (v.kind === 'message') {
          this.secondsAndNanos(fd.name, typeName, v);
          return v;
        }
        const text = v.kind === 'scalar' && (v.style === 'string' || v.style === 'bare') ? String(v.value) : undefined;
        const t = text === undefined ? undefined : parseJsonTimestamp(text);
        if (t === undefined) {
          this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes an RFC 3339 time such as "2024-01-31T12:00:00Z", not ${describeNode(v)}`, v);
        } else {
          const r = rules?.['timestamp'] as RawRules | undefined;
          const violation = r === undefined ? undefined : checkTimestamp(t, r);
          if (violation !== undefined) this.violated(fd.name, violation, v);
        }
        return v;
      }
      case 'struct':
        if (v.kind !== 'message') this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes an object (a Struct), not ${describeNode(v)}`, v);
        return v;
      case 'list-value':
        if (v.kind === 'message') this.plainForm(typeName, v, ['values']);
        else if (v.kind !== 'list') this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes a list (a ListValue), not ${describeNode(v)}`, v);
        return v;
      case 'empty':
        if (v.kind !== 'message') this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes an empty object \`{}\`, not ${describeNode(v)}`, v);
        else for (const f of v.fields) this.reportKey('envoy-unknown-field', 'error', `\`${f.name}\` is not a field of Empty: \`${fd.name}\` takes \`{}\``, f);
        return v;
      case 'field-mask':
        if (v.kind === 'message') this.plainForm(typeName, v, ['paths']);
        // Any characters: legacy syntax keeps those outside lowerCamelCase paths as they are.
        else if (v.kind !== 'scalar' || (v.style !== 'string' && v.style !== 'bare')) {
          this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes a field mask string such as "a.b,c", not ${describeNode(v)}`, v);
        }
        return v;
      case 'null-value':
        this.report('envoy-invalid-value', 'error', `\`${fd.name}\` takes null, not ${describeNode(v)}`, v);
        return v;
      default:
        // google.protobuf.Value: any JSON.
        return v;
    }
  }

  /** Durations: a string of seconds ending in `s`; Envoy refuses other units, numbers, objects and negative values. */
  private duration(field: string, v: SyntaxNode, rules: RawRules | undefined): void {
    const text = v.kind === 'scalar' && (v.style === 'string' || v.style === 'bare') ? String(v.value) : undefined;
    let parsed: ReturnType<typeof parseJsonDuration> | undefined;
    if (v.kind === 'message') {
      const nanos = this.secondsAndNanos(field, 'google.protobuf.Duration', v);
      if (nanos === undefined) return;
      parsed = { nanos };
    } else if (text !== undefined) parsed = parseJsonDuration(text);
    if (parsed === undefined || 'error' in parsed) {
      const meshctl = v.kind === 'scalar' && v.style !== 'null' ? parseDuration(String(v.value)) : undefined;
      const hint =
        meshctl !== undefined
          ? `Envoy reads only seconds: write "${envoyDurationForm(BigInt(meshctl.seconds) * 1_000_000_000n + BigInt(meshctl.nanos))}"`
          : 'write seconds with an `s`, such as "5s" or "0.25s"';
      this.report('envoy-invalid-value', 'error', `\`${field}\` takes a duration string such as "5s" or "0.25s", not ${describeNode(v)}`, v, hint);
      return;
    }
    if (parsed.nanos < 0) {
      this.report('envoy-invalid-value', 'error', `\`${field}\` is negative; Envoy refuses negative durations`, v);
      return;
    }
    const r = rules?.['duration'] as RawRules | undefined;
    if (r !== undefined && this.skipRules === 0) {
      const violation = checkDuration(parsed.nanos, r);
      if (violation !== undefined) this.violated(field, violation, v);
    }
  }

  /** An Any: `@type` names the message; the other fields are that message's (or `value`, for a well-known type). */
  private any(field: string, v: SyntaxNode, rules: RawRules | undefined): SyntaxNode {
    if (v.kind !== 'message') {
      this.report('envoy-invalid-value', 'error', `\`${field}\` takes a message with a \`@type\`, not ${describeNode(v)}`, v);
      return v;
    }
    const node = expandAny(v);
    const typeField = node.fields.find((f) => f.name === '@type');
    if (typeField === undefined) {
      if (node.fields.length > 0) {
        this.report('envoy-invalid-value', 'error', `\`${field}\` holds fields but no \`@type\` to say which message they are`, node.fields[0]!, 'add "@type": type.googleapis.com/<the extension\'s config message>');
      }
      return v;
    }
    const tv = typeField.value;
    if (tv.kind !== 'scalar' || typeof tv.value !== 'string') {
      this.report('envoy-invalid-value', 'error', '`@type` takes a type URL string', tv);
      return v;
    }
    const url = tv.value;
    if (!url.startsWith(TYPE_URL_PREFIX) || url.length === TYPE_URL_PREFIX.length) {
      this.report('envoy-unknown-type', 'error', `\`${url}\` is not a type URL Envoy resolves: it must be ${TYPE_URL_PREFIX}<full message name>`, tv);
      return v;
    }
    const anyRules = rules?.['any'] as RawRules | undefined;
    if (anyRules !== undefined && this.skipRules === 0) {
      const violation = checkAnyUrl(url, anyRules);
      if (violation !== undefined) this.violated(field, violation, tv);
    }
    const typeName = url.slice(TYPE_URL_PREFIX.length);
    const t = this.api.typeByName(typeName);
    if (t === undefined) {
      this.unknownType(typeName, tv);
      this.harvest(node);
      return v;
    }
    if (t.kind === 'message') {
      const judged = this.message(t.message, node, true);
      if (TYPED_STRUCTS.has(t.message.fullName)) this.typedStruct(judged);
      return judged === node && node === v ? v : judged;
    }
    // A well-known type or wrapper in an Any carries its JSON form under `value`.
    let out: SField[] | undefined;
    for (let i = 0; i < node.fields.length; i++) {
      const f = node.fields[i]!;
      if (f.name === '@type') continue;
      if (f.name !== 'value') {
        this.reportKey('envoy-unknown-field', 'error', `\`${f.name}\` is not a field of an Any holding ${typeName}: its value goes under \`value\``, f);
        continue;
      }
      const pseudo = { name: 'value', rules: undefined } as unknown as FieldDesc;
      const value = t.kind === 'wrapper' ? this.scalar(pseudo, t.scalar, f.value, undefined) : this.wellKnown(pseudo, t.wkt, t.name, f.value, undefined);
      if (value !== f.value) {
        out ??= [...node.fields];
        out[i] = f.with(f.name, value);
      }
    }
    return out === undefined ? v : node.withFields(out);
  }

  /** TypedStruct (`type_url` + a Struct `value`): Envoy converts the Struct into `type_url`'s message and judges that. */
  private typedStruct(ts: SMessage): void {
    const url = ts.fields.find((f) => f.name === 'type_url')?.value;
    const value = ts.fields.find((f) => f.name === 'value')?.value;
    if (url?.kind !== 'scalar' || typeof url.value !== 'string' || url.value === '') return;
    const name = url.value.slice(url.value.lastIndexOf('/') + 1);
    const t = this.api.typeByName(name);
    if (t === undefined) {
      this.unknownType(name, url);
      if (value?.kind === 'message') this.harvest(value);
      return;
    }
    if (t.kind === 'message' && value?.kind === 'message') this.message(t.message, value, true);
  }

  private unknownType(name: string, at: SyntaxNode): void {
    const release = NEWER_TYPES.get(name);
    if (release !== undefined) {
      this.report('envoy-newer-api', 'warning', `\`${name}\` is in Envoy ${release}'s API, newer than meshctl's copy: Envoy ${release} and later load it; its config is not checked`, at);
      return;
    }
    const pkg = this.api.packageOf(name);
    if (pkg !== undefined) {
      const local = name.slice(pkg.length + 1);
      const suggestion = didYouMean(local, this.api.messageNames(pkg));
      this.report(
        'envoy-unknown-type',
        'error',
        `\`${name}\`: package ${pkg} has no message ${local}`,
        at,
        suggestion !== undefined ? `did you mean \`${pkg}.${suggestion}\`?` : undefined,
      );
      return;
    }
    const kind = classifyUnknownType(name);
    // A config meshctl cannot read may name any cluster (or pick one by a default of its own, as ESPv2's filters
    // do): whether a cluster is unused can no longer be told from the file.
    if (kind.kind === 'contrib' || kind.kind === 'third-party') this.out.runtime ??= `an extension whose config meshctl cannot read (${name})`;
    switch (kind.kind) {
      case 'contrib':
        this.report(
          'envoy-unknown-type',
          'warning',
          `\`${name}\` is a contrib extension (${kind.family}): its .proto is not in meshctl's copy of Envoy's API, so its config is not checked (Envoy's contrib build knows it)`,
          at,
        );
        return;
      case 'third-party':
        this.report(
          'envoy-unknown-type',
          'warning',
          `\`${name}\` is not part of Envoy's API: only an Envoy built with that extension knows it, and its config is not checked`,
          at,
        );
        return;
      case 'v2':
        this.report('envoy-unknown-type', 'error', `\`${name}\` is from Envoy's v2 API, which Envoy no longer loads`, at, 'use the v3 type (envoy.extensions.… .v3 / envoy.config.… .v3)');
        return;
      default: {
        const prefix = name.slice(0, name.lastIndexOf('.'));
        const near = didYouMean(prefix, this.api.index.packages);
        const local = name.slice(name.lastIndexOf('.') + 1);
        const hint = near !== undefined && this.api.message(`${near}.${local}`) !== undefined ? `did you mean \`${near}.${local}\`?` : undefined;
        this.report('envoy-unknown-type', 'error', `\`${name}\` is not a type of Envoy's API`, at, hint);
      }
    }
  }

  /** Cluster names in a payload that cannot be judged (an unknown `@type`): counted as used, never required. */
  private harvest(v: SyntaxNode, inClusters = false): void {
    if (v.kind === 'list') {
      for (const x of v.items) this.harvest(x, inClusters);
      return;
    }
    if (v.kind !== 'message') return;
    for (const f of v.fields) {
      const x = f.value;
      const named = f.name === 'cluster' || f.name === 'cluster_name' || f.name === 'clusterName' || (inClusters && f.name === 'name');
      if (named && x.kind === 'scalar' && typeof x.value === 'string' && x.value !== '') {
        this.out.refs.push(new ClusterRef(x.value, 'unjudged', 'none', x.src, x.start, x.end));
      } else this.harvest(x, f.name === 'clusters');
    }
  }
}

// ---- per-type facts --------------------------------------------------------------------------------------------

/**
 * A type's facts, computed the first time a message of it is judged: its absent-field checks, and each field's facts
 * (compileFacts). Compiling the fields' facts here, not on a field's first use, keeps that first use out of the
 * judge's optimised code: code compiled before a field was ever met had no feedback for it and was thrown away
 * (deoptimised) each time a new field turned up.
 */
function typeFacts(desc: MessageDesc): AbsentChecks {
  for (const fd of desc.fields) if (fd.compiled === undefined) compileFacts(fd);
  return absentChecksOf(desc);
}

function compileFacts(fd: FieldDesc): FieldFacts {
  // The stand-in field of an Any holding a wrapper (judge.any: `value`) has no parent and no JSON name; it names no
  // cluster. (Reading its parent's name threw, for an Any holding a StringValue.)
  const parent = fd.parent as MessageDesc | undefined;
  const json = (fd.jsonName as string | undefined) ?? fd.name;
  const fullName = `${parent?.fullName ?? 'google.protobuf.Any'}.${fd.name}`;
  const repeatedRules = fd.rules?.['repeated'] as RawRules | undefined;
  const f: FieldFacts = {
    fullName,
    clusterLookup: CLUSTER_NAME_FIELDS[fullName],
    runtimeCluster: RUNTIME_CLUSTER_FIELDS.has(fullName),
    jsonNameBy: json.length !== fd.name.length ? 'length' : json !== fd.name ? 'text' : 'never',
    repeatedRules,
    itemRules: repeatedRules?.['items'] as RawRules | undefined,
  };
  fd.compiled = f;
  return f;
}

function absentChecksOf(desc: MessageDesc): AbsentChecks {
  const required: FieldDesc[] = [];
  const defaults: { field: FieldDesc; violation: Violation }[] = [];
  const deprecatedDefaults: { field: FieldDesc; value: string; disallowed: boolean }[] = [];
  for (const fd of desc.fields) {
    const r = fd.rules;
    // PGV checks a oneof's fields only when that field is the one set.
    if (fd.oneof !== undefined || fd.optional) continue;
    if (isRequired(r)) required.push(fd);
    if (r !== undefined) {
      const v = defaultViolation(fd, r);
      if (v !== undefined) defaults.push({ field: fd, violation: v });
    }
    if (!fd.repeated && fd.mapKey === undefined && fd.isEnum) {
      const t = fd.type;
      if (t.kind === 'enum') {
        const zero = t.enum.names.get(0);
        if (zero !== undefined && t.enum.deprecated.has(zero)) deprecatedDefaults.push({ field: fd, value: zero, disallowed: t.enum.disallowed.has(zero) });
      }
    }
  }
  const requiredOneofs = desc.oneofs.filter((o) => o.required);
  const none = required.length === 0 && defaults.length === 0 && requiredOneofs.length === 0 && deprecatedDefaults.length === 0;
  return { required, defaults, requiredOneofs, deprecatedDefaults, none, runtimeClusters: RUNTIME_CLUSTER_TYPES.has(desc.fullName) };
}

/** The rule a field's default value (unset) breaks, if any: PGV checks proto3 scalars whether or not they are set. */
function defaultViolation(fd: FieldDesc, r: RawRules): Violation | undefined {
  if (fd.mapKey !== undefined) {
    const m = r['map'] as RawRules | undefined;
    return m === undefined ? undefined : checkMapCount(0, m);
  }
  if (fd.repeated) {
    const rep = r['repeated'] as RawRules | undefined;
    return rep === undefined ? undefined : checkRepeatedCount(0, rep);
  }
  const t = fd.typeName;
  if (t === 'string') return r['string'] === undefined ? undefined : checkString('', r['string'] as RawRules);
  if (t === 'bytes') return r['bytes'] === undefined ? undefined : checkBytes(0, r['bytes'] as RawRules);
  if (t === 'bool') return r['bool'] === undefined ? undefined : checkBool(false, r['bool'] as RawRules);
  const num = r[t] as RawRules | undefined;
  if (num !== undefined && !t.includes('.')) return checkNumber(t, t.endsWith('64') ? 0n : 0, num);
  const e = r['enum'] as RawRules | undefined;
  if (e !== undefined && fd.isEnum && fd.type.kind === 'enum') {
    const en = fd.type.enum;
    return checkEnum(0, (n) => en.names.has(n), e, (n) => en.names.get(n) ?? String(n));
  }
  return undefined;
}

function requiredRule(r: RawRules | undefined): string {
  for (const k of ['message', 'duration', 'timestamp', 'any'] as const) {
    const x = r?.[k] as RawRules | undefined;
    if (x?.['required'] === true) return `${k}.required`;
  }
  return 'required';
}

function oneofList(o: OneofDesc): string {
  const names = o.fields.map((f) => `\`${f.name}\``);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function shortName(fullName: string): string {
  const parts = fullName.split('.');
  // The message-qualified name: `Cluster.LbPolicy`, not `envoy.config.cluster.v3.Cluster.LbPolicy`.
  const i = parts.findIndex((p) => /^[A-Z]/.test(p));
  return i < 0 ? fullName : parts.slice(i).join('.');
}

function scalarNoun(t: ScalarType): string {
  if (t === 'string' || t === 'bytes') return 'a string';
  if (t === 'bool') return 'true or false';
  return t === 'double' || t === 'float' ? 'a number' : `a whole number (${t})`;
}

function describeNode(v: SyntaxNode): string {
  if (v.kind === 'message') return 'an object';
  if (v.kind === 'list') return 'a list';
  return describeScalar(v);
}
