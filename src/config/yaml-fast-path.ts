/**
 * A fast reader for the plain subset of YAML (and all of JSON) that configs are written in: block mappings and
 * sequences, single-line plain and quoted scalars, flow collections, `#` comments. It produces exactly the syntax
 * tree the `yaml`-package reader (src/config/yaml-reader.ts) would, at a fraction of the cost — and without loading
 * that package. Anything outside the subset (anchors, tags, block scalars, multi-line plain scalars, several
 * documents, odd keys, duplicate keys, any error) makes it give up and return undefined, and the full reader takes
 * over; a differential test holds the two to the same output.
 */
import type { Comments } from './node-meta.js';
import { jsonName } from './envoy-api/json-name.js';
import type { SourceFile } from './source.js';
import { SField, SList, SMessage, SScalar, type ElementHook, type Rereader, type SyntaxNode } from './syntax.js';

class GiveUp extends Error {}
const GIVE_UP = new GiveUp();

interface FastReadOptions {
  readonly json?: boolean;
  readonly maxDepth: number;
  /**
   * Called with each mapping read as an element of a list under `static_resources`, as soon as it is read; what it
   * returns stands in the list for it (see ElementHook).
   */
  readonly element?: ElementHook;
}


/** The tree, or undefined when the input needs the full YAML reader. */
export function readYamlFast(source: SourceFile, opts: FastReadOptions): SMessage | undefined {
  const text = source.text;
  if (text.includes('\t') || text.includes('\r')) return undefined;
  try {
    const p = new FastParser(source, opts);
    return p.document();
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const SPECIAL_FLOAT_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const PLAIN_KEY_RE = /[A-Za-z_$/][A-Za-z0-9_.$/-]*/y;

/** `static_resources` by its proto name and its JSON name (Envoy reads both). */
const STATIC_RESOURCES: ReadonlySet<string> = new Set(['static_resources', jsonName('static_resources')]);

const SP = 32;
const NL = 10;
const HASH = 35;

class FastParser implements Rereader {
  private pos = 0;
  private consumed = 0;
  private readonly text: string;
  private readonly comments: boolean;

  /** Set by mappingValue. */
  private valueWasBlock = false;
  /** The keys (and `-` per sequence) from the root to what is being read: where an element hook applies. */
  private readonly keys: string[] = [];
  private readonly element: ElementHook | undefined;

  constructor(
    private readonly source: SourceFile,
    private readonly opts: FastReadOptions,
  ) {
    this.text = source.text;
    this.comments = opts.json !== true;
    this.element = opts.element;
  }

  /** An item just read in a sequence under `static_resources`: the element hook's stand-in for it. */
  private sequenceItem(item: SyntaxNode): SyntaxNode {
    const keys = this.keys;
    if (this.element === undefined || item.kind !== 'message' || keys.length < 2 || !STATIC_RESOURCES.has(keys[0]!)) return item;
    return this.element(keys, item, undefined, this);
  }

  /** Rereader: the mapping that was read at `item.start`, read again (the same text gives the same tree). */
  reread(item: SMessage): SMessage {
    const p = new FastParser(this.source, { json: this.opts.json === true, maxDepth: this.opts.maxDepth });
    p.pos = item.start;
    p.consumed = item.start;
    const again = this.text.charCodeAt(item.start) === 0x7b ? p.flow(1) : p.blockMapping(p.column(), 1);
    if (again.kind !== 'message' || again.start !== item.start || again.end !== item.end) {
      throw new Error(`internal: re-reading the mapping at offset ${item.start} gave another extent`);
    }
    return again;
  }

  document(): SMessage {
    this.skipBlankAndCommentLines();
    if (this.pos >= this.text.length) throw GIVE_UP;
    const c = this.text.charCodeAt(this.pos);
    let root: SMessage;
    if (c === 0x7b /* { */) {
      const v = this.flow(0);
      if (v.kind !== 'message') throw GIVE_UP;
      root = v;
      this.endOfLine();
    } else {
      if (this.column() !== 0) throw GIVE_UP;
      if (this.startsWith('---') || this.startsWith('...') || c === 0x25 /* % */) throw GIVE_UP;
      root = this.blockMapping(0, 1);
    }
    this.skipBlankAndCommentLines();
    if (this.pos < this.text.length) throw GIVE_UP;
    if (this.comments) {
      const rest = commentsBetween(this.text, this.consumed, this.text.length);
      if (rest.length > 0) root.trailingComments = [...rest];
    }
    return root;
  }

  // --- lines ------------------------------------------------------------------------------------------------

  private column(): number {
    const nl = this.text.lastIndexOf('\n', this.pos - 1);
    return this.pos - (nl + 1);
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** Moves to the first content character of the next line that has content (not blank, not a comment). */
  private skipBlankAndCommentLines(): void {
    const t = this.text;
    for (;;) {
      let i = this.pos;
      while (i < t.length && t.charCodeAt(i) === SP) i++;
      if (i >= t.length) {
        this.pos = t.length;
        return;
      }
      const c = t.charCodeAt(i);
      if (c === NL) {
        this.pos = i + 1;
        continue;
      }
      if (c === HASH) {
        const nl = t.indexOf('\n', i);
        this.pos = nl === -1 ? t.length : nl + 1;
        continue;
      }
      this.pos = i;
      return;
    }
  }

  /** After a value: only spaces and an optional comment up to the end of the line. */
  private endOfLine(): void {
    const t = this.text;
    let i = this.pos;
    while (i < t.length && t.charCodeAt(i) === SP) i++;
    if (i < t.length && t.charCodeAt(i) === HASH) {
      if (i === this.pos) throw GIVE_UP; // `#` must follow whitespace to start a comment
      const nl = t.indexOf('\n', i);
      i = nl === -1 ? t.length : nl;
    }
    if (i < t.length && t.charCodeAt(i) !== NL) throw GIVE_UP;
    this.pos = i < t.length ? i + 1 : i;
  }

  private lineIndent(): number {
    return this.column();
  }

  // --- block collections ------------------------------------------------------------------------------------

  /** A block mapping whose first key is at this.pos; every key sits at column `indent`. */
  private blockMapping(indent: number, depth: number): SMessage {
    if (depth > this.opts.maxDepth) throw GIVE_UP;
    const fields: SField[] = [];
    const start = this.pos;
    let end = start;
    for (;;) {
      const ks = this.pos;
      const name = this.key();
      const ke = this.pos;
      if (name === '<<') throw GIVE_UP;
      for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) throw GIVE_UP;
      const leading = this.comments ? commentsBetween(this.text, this.consumed, ks) : [];
      this.consumed = Math.max(this.consumed, ke);
      // `:` then a space, the end of the line, or a comment.
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw GIVE_UP;
      this.pos++;
      const after = this.text.charCodeAt(this.pos);
      if (!(after === SP || after === NL || Number.isNaN(after))) throw GIVE_UP;
      this.keys.push(name);
      const value = this.mappingValue(indent, depth);
      this.keys.pop();
      const block = this.valueWasBlock;
      const valueEnd = trimEnd(this.text, ks, value.end);
      const field = new SField(name, value, this.source, ks, ke, ks, Math.max(valueEnd, ke));
      if (this.comments) {
        const trailing = trailingComment(this.text, block ? ke : valueEnd);
        if (leading.length > 0 || trailing !== undefined) {
          const comments: Comments = {};
          if (leading.length > 0) comments.leading = [...leading];
          if (trailing !== undefined) comments.trailing = trailing;
          field.comments = comments;
        }
      }
      fields.push(field);
      end = Math.max(valueEnd, ke);
      // Next key at the same indentation?
      const save = this.pos;
      this.skipBlankAndCommentLines();
      if (this.pos >= this.text.length) break;
      const col = this.lineIndent();
      if (col < indent) {
        this.pos = save;
        break;
      }
      if (col > indent) throw GIVE_UP;
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2d /* - */ && isSeqIndicator(this.text, this.pos)) {
        this.pos = save;
        break;
      }
    }
    // Exact-size copies (as the text-proto parser keeps): a grown array keeps ~17 slots, and 10,000s of small mappings
    // stay alive until decoding ends.
    return new SMessage(fields.slice(), this.source, start, Math.max(start, end));
  }

  /**
   * The value after `key:`; sets valueWasBlock when it is a block collection on the following lines (a field rather
   * than a returned pair: one object fewer per key).
   */
  private mappingValue(indent: number, depth: number): SyntaxNode {
    const t = this.text;
    let i = this.pos;
    while (i < t.length && t.charCodeAt(i) === SP) i++;
    const c = t.charCodeAt(i);
    if (i >= t.length || c === NL || c === HASH) {
      if (c === HASH && i === this.pos) throw GIVE_UP;
      // A block collection on the next lines (a sequence may sit at the key's own indentation).
      const nl = i >= t.length ? t.length : t.indexOf('\n', i);
      this.pos = nl === -1 ? t.length : nl + 1;
      this.skipBlankAndCommentLines();
      if (this.pos >= t.length) throw GIVE_UP; // null value
      const col = this.lineIndent();
      const isSeq = t.charCodeAt(this.pos) === 0x2d && isSeqIndicator(t, this.pos);
      let value: SyntaxNode;
      if (isSeq && col >= indent) value = this.blockSequence(col, depth + 1);
      else if (col > indent) value = this.blockMapping(col, depth + 1);
      else throw GIVE_UP; // null value
      this.valueWasBlock = true;
      return value;
    }
    this.pos = i;
    const value = this.inlineValue(depth);
    this.endOfLine();
    this.noContinuation(indent);
    this.valueWasBlock = false;
    return value;
  }

  /** A plain scalar continued on a more indented line is a multi-line scalar: not in the subset. */
  private noContinuation(indent: number): void {
    const save = this.pos;
    this.skipBlankAndCommentLines();
    if (this.pos < this.text.length && this.lineIndent() > indent) {
      // Deeper content after a complete value is either a continuation or an error: the full reader decides.
      const c = this.text.charCodeAt(this.pos);
      if (!(c === 0x2d && isSeqIndicator(this.text, this.pos))) throw GIVE_UP;
      throw GIVE_UP;
    }
    this.pos = save;
  }

  private blockSequence(indent: number, depth: number): SList {
    if (depth > this.opts.maxDepth) throw GIVE_UP;
    const items: SyntaxNode[] = [];
    const start = this.pos;
    let end = start;
    for (;;) {
      // At `-`.
      this.pos++;
      const t = this.text;
      let i = this.pos;
      while (i < t.length && t.charCodeAt(i) === SP) i++;
      const c = t.charCodeAt(i);
      let item: SyntaxNode;
      this.keys.push('-');
      if (i >= t.length || c === NL || c === HASH) {
        if (c === HASH && i === this.pos) throw GIVE_UP;
        const nl = i >= t.length ? t.length : t.indexOf('\n', i);
        this.pos = nl === -1 ? t.length : nl + 1;
        this.skipBlankAndCommentLines();
        if (this.pos >= t.length) throw GIVE_UP;
        const col = this.lineIndent();
        if (col <= indent) throw GIVE_UP; // null item
        const isSeq = t.charCodeAt(this.pos) === 0x2d && isSeqIndicator(t, this.pos);
        item = isSeq ? this.blockSequence(col, depth + 1) : this.blockMapping(col, depth + 1);
      } else {
        this.pos = i;
        const col = i - (t.lastIndexOf('\n', i - 1) + 1);
        if (c === 0x2d && isSeqIndicator(t, i)) item = this.blockSequence(col, depth + 1);
        else if (this.looksLikeKey()) item = this.blockMapping(col, depth + 1);
        else {
          item = this.inlineValue(depth);
          this.endOfLine();
          this.noContinuation(indent);
        }
      }
      this.keys.pop();
      item = this.sequenceItem(item);
      items.push(item);
      end = trimEnd(this.text, start, item.end);
      const save = this.pos;
      this.skipBlankAndCommentLines();
      if (this.pos >= this.text.length) break;
      const col = this.lineIndent();
      if (col < indent) {
        this.pos = save;
        break;
      }
      if (col > indent) throw GIVE_UP;
      if (!(this.text.charCodeAt(this.pos) === 0x2d && isSeqIndicator(this.text, this.pos))) {
        this.pos = save;
        break;
      }
    }
    this.consumed = Math.max(this.consumed, end);
    return new SList(items.slice(), this.source, start, Math.max(start, end));
  }

  /** Is there `key:` (then space or end of line) at this.pos, before the end of the line? */
  private looksLikeKey(): boolean {
    const save = this.pos;
    try {
      this.key();
      const c = this.text.charCodeAt(this.pos);
      const n = this.text.charCodeAt(this.pos + 1);
      return c === 0x3a && (n === SP || n === NL || Number.isNaN(n));
    } catch (err) {
      if (err instanceof GiveUp) return false;
      throw err;
    } finally {
      this.pos = save;
    }
  }

  /** A block mapping key: a plain identifier-like word or a quoted string. */
  private key(): string {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      const s = this.quoted();
      return String(s.value);
    }
    PLAIN_KEY_RE.lastIndex = this.pos;
    if (!PLAIN_KEY_RE.test(this.text)) throw GIVE_UP;
    const k = this.text.slice(this.pos, PLAIN_KEY_RE.lastIndex);
    if (nullOrBool(k)) throw GIVE_UP;
    this.pos += k.length;
    return k;
  }

  // --- values -----------------------------------------------------------------------------------------------

  private inlineValue(depth: number): SyntaxNode {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b || c === 0x5b) return this.flow(depth + 1);
    if (c === 0x22 || c === 0x27) {
      const s = this.quoted();
      this.consumed = Math.max(this.consumed, this.pos);
      return s;
    }
    return this.plain(false);
  }

  private plain(inFlow: boolean): SScalar {
    const t = this.text;
    const start = this.pos;
    const c = t.charCodeAt(start);
    // Indicators that cannot start a plain scalar (or start YAML features outside the subset).
    if ('&*!|>%@`#,[]{}'.includes(t[start] ?? '')) throw GIVE_UP;
    if ((c === 0x2d || c === 0x3f || c === 0x3a) && (t.charCodeAt(start + 1) === SP || t.charCodeAt(start + 1) === NL)) throw GIVE_UP;
    let i = start;
    for (; i < t.length; i++) {
      const ch = t.charCodeAt(i);
      if (ch === NL) break;
      if (ch === HASH && t.charCodeAt(i - 1) === SP) break;
      if (ch === 0x3a /* : */) {
        const n = t.charCodeAt(i + 1);
        if (n === SP || n === NL || Number.isNaN(n) || (inFlow && (n === 0x2c || n === 0x5d || n === 0x7d))) throw GIVE_UP;
      }
      if (inFlow && (ch === 0x2c || ch === 0x5d || ch === 0x7d || ch === 0x5b || ch === 0x7b)) break;
    }
    let end = i;
    while (end > start && t.charCodeAt(end - 1) === SP) end--;
    if (end === start) throw GIVE_UP;
    this.pos = end;
    const raw = t.slice(start, end);
    this.consumed = Math.max(this.consumed, end);
    return resolvePlain(raw, this.source, start, end);
  }

  private quoted(): SScalar {
    const start = this.pos;
    const value = this.quotedText();
    return new SScalar('string', value, this.text.slice(start, this.pos), this.source, start, this.pos);
  }

  /** The value of the quoted string at this.pos (moving past it), without building its scalar node (for keys). */
  private quotedText(): string {
    const t = this.text;
    const start = this.pos;
    const q = t.charCodeAt(start);
    let out = '';
    let i = start + 1;
    if (q === 0x27) {
      for (;;) {
        const j = t.indexOf("'", i);
        if (j === -1) throw GIVE_UP;
        const chunk = t.slice(i, j);
        if (chunk.includes('\n')) throw GIVE_UP;
        out += chunk;
        if (t.charCodeAt(j + 1) === 0x27) {
          out += "'";
          i = j + 2;
          continue;
        }
        i = j + 1;
        break;
      }
    } else {
      let from = i;
      for (;;) {
        if (i >= t.length) throw GIVE_UP;
        const ch = t.charCodeAt(i);
        if (ch === 0x22) break;
        if (ch === NL) throw GIVE_UP;
        if (ch === 0x5c /* \ */) {
          out += t.slice(from, i);
          const e = t[i + 1];
          const simple = e === undefined ? undefined : ESCAPES[e];
          if (simple !== undefined) {
            out += simple;
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) {
            out += String.fromCharCode(parseInt(t.slice(i + 2, i + 6), 16));
            i += 6;
          } else throw GIVE_UP;
          from = i;
          continue;
        }
        i++;
      }
      out += t.slice(from, i);
      i++;
    }
    this.pos = i;
    return out;
  }

  /** `{…}` or `[…]`, JSON-like, possibly over several lines (no comments inside). */
  private flow(depth: number): SyntaxNode {
    if (depth > this.opts.maxDepth) throw GIVE_UP;
    const t = this.text;
    const start = this.pos;
    const open = t.charCodeAt(start);
    this.pos++;
    const close = open === 0x7b ? 0x7d : 0x5d;
    // Only the collection being read is allocated; duplicate keys are found by a scan while the mapping is small
    // (nearly always), by a set once it is not.
    const fields: SField[] = open === 0x7b ? [] : NO_FIELDS;
    const items: SyntaxNode[] = open === 0x7b ? NO_ITEMS : [];
    let names: Set<string> | undefined;
    this.flowSpace();
    if (t.charCodeAt(this.pos) === close) {
      this.pos++;
    } else {
      for (;;) {
        if (open === 0x7b) {
          const ks = this.pos;
          const c = t.charCodeAt(ks);
          let name: string;
          if (c === 0x22 || c === 0x27) name = this.quotedText();
          else {
            PLAIN_KEY_RE.lastIndex = ks;
            if (!PLAIN_KEY_RE.test(t)) throw GIVE_UP;
            name = t.slice(ks, PLAIN_KEY_RE.lastIndex);
            if (nullOrBool(name)) throw GIVE_UP;
            this.pos += name.length;
          }
          const ke = this.pos;
          if (name === '<<') throw GIVE_UP;
          if (names !== undefined) {
            if (names.has(name)) throw GIVE_UP;
            names.add(name);
          } else {
            for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) throw GIVE_UP;
            if (fields.length >= 16) names = new Set(fields.map((f) => f.name)).add(name);
          }
          if (t.charCodeAt(this.pos) !== 0x3a) throw GIVE_UP;
          this.pos++;
          // JSON allows `"a":1`; YAML needs a space after `:` unless the key is quoted.
          const n = t.charCodeAt(this.pos);
          if (!(n === SP || n === NL) && !(c === 0x22 || c === 0x27)) throw GIVE_UP;
          this.flowSpace();
          this.keys.push(name);
          const value = this.flowValue(depth);
          this.keys.pop();
          const valueEnd = this.pos; // a flow value ends where it was read to
          fields.push(new SField(name, value, this.source, ks, ke, ks, valueEnd));
        } else {
          this.keys.push('-');
          const item = this.flowValue(depth);
          this.keys.pop();
          items.push(this.sequenceItem(item));
        }
        this.flowSpace();
        const c = t.charCodeAt(this.pos);
        if (c === 0x2c) {
          this.pos++;
          this.flowSpace();
          if (t.charCodeAt(this.pos) === close) throw GIVE_UP; // trailing comma: let the full reader judge
          continue;
        }
        if (c === close) {
          this.pos++;
          break;
        }
        throw GIVE_UP;
      }
    }
    this.consumed = Math.max(this.consumed, this.pos);
    return open === 0x7b ? new SMessage(fields.slice(), this.source, start, this.pos) : new SList(items.slice(), this.source, start, this.pos);
  }

  private flowValue(depth: number): SyntaxNode {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b || c === 0x5b) return this.flow(depth + 1);
    if (c === 0x22 || c === 0x27) return this.quoted();
    return this.plain(true);
  }

  private flowSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === SP || c === NL) this.pos++;
      else if (c === HASH) throw GIVE_UP;
      else break;
    }
  }
}

const NO_FIELDS: SField[] = [];
const NO_ITEMS: SyntaxNode[] = [];

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  '"': '"',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  '0': '\0',
};

/** A plain key that YAML reads as null or a boolean (only keys starting with n, N, t, T, f or F can be). */
function nullOrBool(k: string): boolean {
  const c = k.charCodeAt(0) | 0x20;
  return (c === 0x6e || c === 0x74 || c === 0x66) && (NULL_RE.test(k) || BOOL_RE.test(k));
}

function isSeqIndicator(t: string, i: number): boolean {
  const n = t.charCodeAt(i + 1);
  return n === SP || n === NL || Number.isNaN(n);
}

const PLAIN_SPECIAL_START = new Set([0x7e, 0x6e, 0x4e, 0x74, 0x54, 0x66, 0x46, 0x2b, 0x2d, 0x2e]);

function resolvePlain(raw: string, src: SourceFile, start: number, end: number): SScalar {
  // Most plain scalars are names and enum values: a first character that starts no null, bool or number
  // (`~ n N t T f F + - .` or a digit) skips the patterns.
  const c = raw.charCodeAt(0);
  if (!(PLAIN_SPECIAL_START.has(c) || (c >= 0x30 && c <= 0x39))) return new SScalar('bare', raw, raw, src, start, end);
  if (NULL_RE.test(raw)) return new SScalar('null', null, raw, src, start, end);
  if (BOOL_RE.test(raw)) return new SScalar('bool', raw[0] === 't' || raw[0] === 'T', raw, src, start, end);
  if (INT_RE.test(raw)) return new SScalar('number', parseInt(raw, 10), raw, src, start, end);
  if (HEX_RE.test(raw)) return new SScalar('number', parseInt(raw.slice(2), 16), raw, src, start, end);
  if (OCT_RE.test(raw)) return new SScalar('number', parseInt(raw.slice(2), 8), raw, src, start, end);
  if (SPECIAL_FLOAT_RE.test(raw)) {
    const value = raw.slice(-3).toLowerCase() === 'nan' ? NaN : raw[0] === '-' ? -Infinity : Infinity;
    return new SScalar('number', value, raw, src, start, end);
  }
  if (EXP_RE.test(raw) || FLOAT_RE.test(raw)) return new SScalar('number', parseFloat(raw), raw, src, start, end);
  return new SScalar('bare', raw, raw, src, start, end);
}

function trimEnd(t: string, start: number, end: number): number {
  let e = end;
  while (e > start && (t.charCodeAt(e - 1) === NL || t.charCodeAt(e - 1) === SP)) e--;
  return e;
}

/**
 * Whole-line `#` comments in [from, to), without the marker (the rule both readers share). Lines of only `-`
 * indicators are node boundaries; any other content in between means the comments belonged to something else.
 */
export function commentsBetween(text: string, from: number, to: number): readonly string[] {
  if (to <= from) return NONE;
  let out: string[] | undefined;
  let i = from;
  if (from > 0 && text.charCodeAt(from - 1) !== NL) {
    const nl = text.indexOf('\n', i);
    if (nl === -1 || nl >= to) return NONE;
    i = nl + 1;
  }
  while (i < to) {
    let j = text.indexOf('\n', i);
    if (j === -1 || j > to) j = to;
    // The first non-blank character decides what the line is.
    let k = i;
    while (k < j && (text.charCodeAt(k) === SP || text.charCodeAt(k) === 9)) k++;
    const c = text.charCodeAt(k);
    if (k < j && c === HASH) (out ??= []).push(stripMarker(text.slice(k, j).trim()));
    else if (k < j && !isIndicatorLine(text, k, j)) out = undefined;
    i = j + 1;
  }
  return out ?? NONE;
}

const NONE: string[] = [];

/** `-`, `- -`, `---`: nothing but sequence indicators (and spaces) on the rest of the line. */
function isIndicatorLine(text: string, from: number, to: number): boolean {
  const rest = text.slice(from, to).trim();
  return rest === '-' || rest === '---' || /^(- ?)+$/.test(rest);
}

/** A `# comment` after `from` on the same line. */
export function trailingComment(text: string, from: number): string | undefined {
  let end = text.indexOf('\n', from);
  if (end === -1) end = text.length;
  for (let i = from; i < end; i++) {
    if (text.charCodeAt(i) !== HASH) continue;
    const before = i === from ? SP : text.charCodeAt(i - 1);
    if (before === SP || before === 9) return stripMarker(text.slice(i, end)).trimEnd();
  }
  return undefined;
}

function stripMarker(line: string): string {
  return line.replace(/^#\s?/, '').replace(/\r$/, '');
}
