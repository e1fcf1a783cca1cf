/**
 * YAML and JSON → syntax tree. JSON is read by the same reader (JSON is YAML 1.2), so both get the same positions
 * and diagnostics. The `yaml` package does the parsing; this module maps its nodes onto src/config/syntax.ts, keeps
 * comments, rejects what a config file must not contain (several documents, duplicate keys, runaway aliases) and
 * expands aliases and `<<` merge keys.
 */
import { createRequire } from 'node:module';
import type { Alias, Document, Node as YNode, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { commentsBetween, readYamlFast, trailingComment } from './yaml-fast-path.js';
import type { Diagnostic } from './diagnostic.js';
import type { Comments } from './node-meta.js';
import type { SourceFile, Span } from './source.js';
import { SField, SList, SMessage, SScalar, type ElementHook, type ScalarStyle, type SyntaxNode } from './syntax.js';

interface YamlReadOptions {
  /** Recorded only for messages; JSON has no comments to look for. */
  readonly json?: boolean;
  /** Most syntax nodes that alias expansion may create in one file (a guard against "billion laughs"). */
  readonly maxAliasNodes?: number;
  /** Deepest nesting of mappings and sequences accepted. */
  readonly maxDepth?: number;
  /** Always use the `yaml` package (for the differential test of the fast path). */
  readonly noFastPath?: boolean;
  /** Passed to the fast path (FastReadOptions.element); the full reader builds the whole tree. */
  readonly element?: ElementHook;
}

interface YamlReadResult {
  tree: SMessage | undefined;
  diagnostics: Diagnostic[];
}

const DEFAULT_MAX_ALIAS_NODES = 20_000;
const DEFAULT_MAX_DEPTH = 200;

class AliasLimit extends Error {}
class DepthLimit extends Error {}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/** The `yaml` package, loaded on first need: most configs never need it (see yaml-fast-path.ts). */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

export function readYaml(source: SourceFile, opts: YamlReadOptions = {}): YamlReadResult {
  if (opts.noFastPath !== true) {
    const tree = readYamlFast(source, {
      json: opts.json === true,
      maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH,
      ...(opts.element !== undefined ? { element: opts.element } : {}),
    });
    if (tree !== undefined) return { tree, diagnostics: [] };
  }
  return readYamlFull(source, opts);
}

function readYamlFull(source: SourceFile, opts: YamlReadOptions): YamlReadResult {
  const { Composer, Parser, isMap, isScalar } = yaml();
  const diagnostics: Diagnostic[] = [];
  const what = opts.json ? 'JSON' : 'YAML';
  if (opts.json) {
    // JSON's brackets outside strings are all structure, so its depth is known before the (recursive) YAML
    // composer runs into the stack limit, which costs seconds on 10,000 levels.
    // The top-level mapping is level 0 to the reader, so the reader's limit allows one more bracket.
    const tooDeep = jsonTooDeepAt(source.text, (opts.maxDepth ?? DEFAULT_MAX_DEPTH) + 1);
    if (tooDeep >= 0) {
      diagnostics.push({
        ruleId: 'nesting-too-deep',
        severity: 'error',
        message: `the JSON is nested more than ${opts.maxDepth ?? DEFAULT_MAX_DEPTH} levels deep`,
        span: source.span(tooDeep, tooDeep + 1),
      });
      return { tree: undefined, diagnostics };
    }
  }
  const list: Document.Parsed[] = [];
  try {
    // Documents one at a time, stopping at the first one after the config's: a stream of thousands of documents
    // is refused as fast as a stream of two.
    const composer = new Composer({ uniqueKeys: false, prettyErrors: false, strict: true });
    for (const doc of composer.compose(new Parser().parse(source.text))) {
      list.push(doc as Document.Parsed);
      if (list.length > 1 && (doc.contents !== null || doc.errors.length > 0)) break;
    }
  } catch (err) {
    if (err instanceof RangeError) {
      diagnostics.push({
        ruleId: 'nesting-too-deep',
        severity: 'error',
        message: `the ${what} is nested too deeply to read`,
        span: source.span(0, 0),
      });
      return { tree: undefined, diagnostics };
    }
    throw err;
  }
  if (list.length === 0) return { tree: new SMessage([], source, 0, 0), diagnostics };

  const first = list[0]!;
  for (const e of first.errors) {
    const [start, end] = e.pos;
    // The yaml package turns its own stack overflow on deeply nested flow collections into a parse error.
    if (/Maximum call stack size exceeded/.test(e.message)) {
      diagnostics.push({
        ruleId: 'nesting-too-deep',
        severity: 'error',
        message: `the ${what} is nested too deeply to read (meshctl accepts at most ${opts.maxDepth ?? DEFAULT_MAX_DEPTH} levels)`,
        span: source.span(start, Math.max(end, start + 1)),
      });
      break;
    }
    diagnostics.push({
      ruleId: 'syntax-error',
      severity: 'error',
      message: `${what} syntax error: ${firstLine(e.message)}`,
      span: source.span(start, Math.max(end, start + 1)),
    });
  }
  for (let i = 1; i < list.length; i++) {
    const doc = list[i]!;
    if (doc.contents === null && doc.errors.length === 0) continue;
    const start = doc.range[0];
    diagnostics.push({
      ruleId: 'multi-document',
      severity: 'error',
      message: `the file holds more than one YAML document; a config must be a single document`,
      span: source.span(start, start + 3),
      hint: 'split the documents into separate files, or remove the `---` separator',
    });
    break;
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { tree: undefined, diagnostics };

  const reader = new Reader(source, first, opts, diagnostics);
  const contents = first.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return { tree: new SMessage([], source, 0, source.text.length), diagnostics };
  }
  if (!isMap(contents)) {
    const [s, e] = contents.range ?? [0, 0];
    diagnostics.push({
      ruleId: 'syntax-error',
      severity: 'error',
      message: `the top level of a config must be a mapping of field names to values, not ${describe(contents)}`,
      span: source.span(s, e),
    });
    return { tree: undefined, diagnostics };
  }
  try {
    const tree = reader.message(contents, 0);
    const rest = opts.json ? [] : commentsBetween(source.text, reader.consumed, source.text.length);
    if (rest.length > 0) tree.trailingComments = [...rest];
    return { tree, diagnostics };
  } catch (err) {
    if (err instanceof AliasLimit) {
      diagnostics.push({ ruleId: 'alias-expansion', severity: 'error', message: err.message, span: reader.aliasSpan ?? source.span(0, 0) });
      return { tree: undefined, diagnostics };
    }
    if (err instanceof DepthLimit || err instanceof RangeError) {
      diagnostics.push({
        ruleId: 'nesting-too-deep',
        severity: 'error',
        message: `the ${what} is nested more than ${opts.maxDepth ?? DEFAULT_MAX_DEPTH} levels deep`,
        span: reader.depthSpan ?? source.span(0, 0),
      });
      return { tree: undefined, diagnostics };
    }
    throw err;
  }
}

/** Offset of the first `{` or `[` that opens a level deeper than `max`, or -1. Strings are skipped. */
function jsonTooDeepAt(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22 || d === 0x0a) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function describe(n: YNode): string {
  const { isSeq, isScalar } = yaml();
  if (isSeq(n)) return 'a sequence';
  if (isScalar(n)) return `the scalar ${JSON.stringify(n.value)}`;
  return 'this value';
}

class Reader {
  /** Offset up to which the source has been turned into nodes; whole-line comments before it are taken. */
  consumed = 0;
  aliasSpan: Span | undefined;
  depthSpan: Span | undefined;
  private aliasNodes = 0;
  private expanding = 0;
  private readonly active = new Set<YNode>();
  private readonly resolved = new Map<Alias, YNode | undefined>();
  private readonly maxAliasNodes: number;
  private readonly maxDepth: number;
  private readonly comments: boolean;

  constructor(
    private readonly source: SourceFile,
    private readonly doc: Document.Parsed,
    opts: YamlReadOptions,
    private readonly diagnostics: Diagnostic[],
  ) {
    this.maxAliasNodes = opts.maxAliasNodes ?? DEFAULT_MAX_ALIAS_NODES;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.comments = !opts.json;
  }

  /** A scalar at [s, e) (the end is never before the start, as in SourceFile.span). */
  private scalarNode(style: ScalarStyle, value: string | number | boolean | null, raw: string, s: number, e: number): SScalar {
    return new SScalar(style, value, raw, this.source, s, Math.max(s, e));
  }

  private trimEnd(start: number, end: number): number {
    const t = this.source.text;
    let e = end;
    while (e > start && (t.charCodeAt(e - 1) === 10 || t.charCodeAt(e - 1) === 13 || t.charCodeAt(e - 1) === 32 || t.charCodeAt(e - 1) === 9)) e--;
    return e;
  }

  node(n: YNode | null, depth: number, at: number): SyntaxNode {
    const { isMap, isSeq, isAlias, isScalar } = yaml();
    if (n === null) {
      return this.scalarNode('null', null, '', at, at);
    }
    if (this.expanding > 0 && ++this.aliasNodes > this.maxAliasNodes) {
      throw new AliasLimit(
        `YAML aliases expand to more than ${this.maxAliasNodes} nodes; refusing to expand them further`,
      );
    }
    if (isMap(n)) return this.message(n, depth + 1);
    if (isSeq(n)) return this.list(n, depth + 1);
    if (isAlias(n)) return this.alias(n, depth);
    if (isScalar(n)) return this.scalar(n);
    const [s, e] = (n as YNode).range ?? [at, at];
    this.diagnostics.push({
      ruleId: 'syntax-error',
      severity: 'error',
      message: 'unsupported YAML node',
      span: this.source.span(s, e),
    });
    return this.scalarNode('null', null, '', s, e);
  }

  private checkDepth(depth: number, range: readonly [number, number, number] | null | undefined): void {
    if (depth > this.maxDepth) {
      const [s] = range ?? [0];
      this.depthSpan = this.source.span(s, s + 1);
      throw new DepthLimit();
    }
  }

  private alias(n: Alias, depth: number): SyntaxNode {
    const [as, ae] = n.range ?? [0, 0];
    const aliasEnd = this.trimEnd(as, ae);
    const span = this.source.span(as, aliasEnd);
    // Alias.resolve walks the whole document; an expansion meets the same few aliases again and again.
    let target = this.resolved.get(n);
    if (target === undefined && !this.resolved.has(n)) {
      target = n.resolve(this.doc);
      this.resolved.set(n, target);
    }
    if (target === undefined) {
      this.diagnostics.push({
        ruleId: 'syntax-error',
        severity: 'error',
        message: `YAML alias *${n.source} refers to no anchor`,
        span,
      });
      return this.scalarNode('null', null, '', as, aliasEnd);
    }
    if (this.active.has(target)) {
      this.aliasSpan = span;
      throw new AliasLimit(`YAML alias *${n.source} refers to a node that contains it`);
    }
    this.aliasSpan = span;
    this.active.add(target);
    this.expanding++;
    try {
      return this.node(target, depth, n.range?.[0] ?? 0);
    } finally {
      this.expanding--;
      this.active.delete(target);
    }
  }

  private scalar(n: Scalar): SScalar {
    const PLAIN = 'PLAIN';
    const [s] = n.range ?? [0, 0];
    const e = this.scalarEnd(n);
    if (this.expanding === 0) this.consumed = Math.max(this.consumed, e);
    const raw = this.source.text.slice(s, e);
    const v = n.value;
    if (n.type !== PLAIN && n.type !== undefined) {
      return this.scalarNode('string', typeof v === 'string' ? v : String(v), raw, s, e);
    }
    if (typeof v === 'number') return this.scalarNode('number', v, raw, s, e);
    if (typeof v === 'bigint') return this.scalarNode('number', Number(v), raw, s, e);
    if (typeof v === 'boolean') return this.scalarNode('bool', v, raw, s, e);
    if (v === null || v === undefined) return this.scalarNode('null', null, raw, s, e);
    return this.scalarNode('bare', String(v), raw, s, e);
  }

  /** Where a scalar's text ends: the package's range can run on over a trailing comment at the end of a block. */
  private scalarEnd(n: Scalar): number {
    const t = this.source.text;
    const [s, e] = n.range ?? [0, 0];
    if (n.type === 'QUOTE_DOUBLE') {
      for (let i = s + 1; i < e; i++) {
        if (t[i] === '\\') i++;
        else if (t[i] === '"') return i + 1;
      }
      return e;
    }
    if (n.type === 'QUOTE_SINGLE') {
      for (let i = s + 1; i < e; i++) {
        if (t[i] === "'") {
          if (t[i + 1] === "'") i++;
          else return i + 1;
        }
      }
      return e;
    }
    if (n.type === 'PLAIN' || n.type === undefined) {
      const m = t.slice(s, e).search(/[ \t\n]#/);
      return this.trimEnd(s, m >= 0 ? s + m : e);
    }
    return this.trimEnd(s, e);
  }

  /** A block collection ends where its last element does (its range may run on over comments). */
  private collectionEnd(range: readonly [number, number, number] | null | undefined, flow: boolean | undefined, last: { readonly end: number } | undefined): number {
    const [s, e] = range ?? [0, 0];
    if (flow || last === undefined) return this.trimEnd(s, e);
    return last.end;
  }

  private list(n: YAMLSeq, depth: number): SList {
    this.checkDepth(depth, n.range);
    const items: SyntaxNode[] = [];
    for (const item of n.items) {
      const start = (item as YNode | null)?.range?.[0] ?? n.range?.[0] ?? 0;
      items.push(this.node(item as YNode | null, depth, start));
    }
    const end = this.collectionEnd(n.range, n.flow, items[items.length - 1]);
    if (this.expanding === 0) this.consumed = Math.max(this.consumed, end);
    const start = n.range?.[0] ?? 0;
    return new SList(items, this.source, start, Math.max(start, end));
  }

  message(n: YAMLMap, depth: number): SMessage {
    const { isPair, isScalar, isMap, isSeq } = yaml();
    this.checkDepth(depth, n.range);
    // Comments belong to the field that holds a flow collection, not to the fields inside it.
    const comments = this.comments && !n.flow;
    const fields: SField[] = [];
    const seen = new Map<string, SField>();
    const merges: Array<{ value: YNode | null; span: Span }> = [];
    let ignored: SField[] | undefined;
    for (const pair of n.items as Array<Pair<unknown, unknown>>) {
      if (!isPair(pair)) continue;
      const key = pair.key as YNode | null;
      if (key === null || !isScalar(key)) {
        const [s, e] = (key as YNode | null)?.range ?? n.range ?? [0, 0];
        this.diagnostics.push({
          ruleId: 'syntax-error',
          severity: 'error',
          message: 'a mapping key must be a plain field name',
          span: this.source.span(s, e),
        });
        continue;
      }
      const [ks, ke] = key.range ?? [0, 0];
      const leading = comments && this.expanding === 0 ? commentsBetween(this.source.text, this.consumed, ks) : [];
      if (this.expanding === 0) this.consumed = Math.max(this.consumed, ke);
      const name = String(key.value);
      const valueNode = pair.value as YNode | null;
      if (name === '<<' && key.type === 'PLAIN') {
        merges.push({ value: valueNode, span: this.source.span(ks, ke) });
        if (this.expanding === 0 && valueNode?.range) this.consumed = Math.max(this.consumed, valueNode.range[1]);
        continue;
      }
      const value = this.node(valueNode, depth, ke);
      const valueEnd = valueNode === null ? ke : value.end;
      const field = new SField(name, value, this.source, ks, Math.max(ks, ke), ks, Math.max(valueEnd, ke, ks));
      if (comments && this.expanding === 0) {
        const blockValue = valueNode !== null && (isMap(valueNode) || isSeq(valueNode)) && !valueNode.flow;
        const trailing = trailingComment(this.source.text, blockValue ? ke : valueEnd);
        const comments: Comments = {};
        if (leading.length > 0) comments.leading = [...leading];
        if (trailing !== undefined) comments.trailing = trailing;
        if (comments.leading || comments.trailing !== undefined) field.comments = comments;
      }
      // Envoy's YAML loader leaves out a key tagged `!ignore` (parseYamlNode in source/common/protobuf/yaml_utility.cc),
      // the place for anchors that other keys alias: not a field, but kept so a YAML conversion writes it back.
      if (key.tag === '!ignore') {
        (ignored ??= []).push(field);
        continue;
      }
      const prior = seen.get(name);
      if (prior !== undefined) {
        this.diagnostics.push({
          ruleId: 'duplicate-field',
          severity: 'error',
          message: `key \`${name}\` appears twice in the same mapping`,
          span: field.keySpan,
          hint: 'remove one of them; a mapping cannot hold the same key twice',
          related: [{ message: 'first written here', span: prior.keySpan }],
        });
        continue;
      }
      seen.set(name, field);
      fields.push(field);
    }
    for (const m of merges) this.merge(m.value, m.span, fields, seen, depth);
    const end = this.collectionEnd(n.range, n.flow, fields[fields.length - 1]);
    const start = n.range?.[0] ?? 0;
    const message = new SMessage(fields, this.source, start, Math.max(start, end));
    if (ignored !== undefined) message.ignored = ignored;
    return message;
  }

  /** YAML 1.1 merge keys (`<<: *base`): the aliased mappings' keys fill in what this mapping does not set. */
  private merge(value: YNode | null, span: Span, fields: SField[], seen: Map<string, SField>, depth: number): void {
    const { isSeq } = yaml();
    const sources = value !== null && isSeq(value) ? (value.items as YNode[]) : [value];
    for (const src of sources) {
      const converted = this.node(src, depth, 0);
      if (converted.kind !== 'message') {
        this.diagnostics.push({
          ruleId: 'invalid-value',
          severity: 'error',
          message: 'a `<<` merge key needs a mapping (or a list of mappings) to merge',
          span,
        });
        continue;
      }
      for (const f of converted.fields) {
        if (seen.has(f.name)) continue;
        seen.set(f.name, f);
        fields.push(f);
      }
    }
  }
}
