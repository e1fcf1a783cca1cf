/**
 * Recursive-descent reader of protobuf text format and the article's dialect, producing the syntax tree of
 * src/config/syntax.ts. It reads structure only; what a field means (enum, duration, wrapper block) is the decoder's
 * business, so the dialect needs no special cases here beyond being lenient where the article is:
 *  - `0.25s`, `5xx`, `1m30s`: a bare word starting with a digit → scalar style `bare`;
 *  - `name { … }`, `name: { … }`, `name < … >`, `name [ … ]`: `:` optional before a message or a list;
 *  - lists of scalars, messages or lists, trailing commas, `,` or `;` after a field.
 *
 * Scalars keep how they were written: `raw` is the source text (numbers keep every digit of a uint64, hex and octal
 * are kept as written; concatenated strings keep their quotes), `value` is the decoded JS value. Numbers: decimal,
 * `0x` hex, `0` octal, floats with exponent and `f` suffix; a leading `-` is folded into the literal. `inf`, `nan`,
 * `infinity` (any case, with or without `-`) stay identifiers: style `bare`, value the text as written (`-inf`).
 * `true`/`True`/`false`/`False` are style `bool`, `null` style `null`. An Any or extension field name keeps its
 * brackets: `[type.googleapis.com/pkg.Msg]`. A field name may also be a quoted string (meshctl's printer writes
 * `"@type": …` and keys of opaque JSON that way); the name is then the decoded string. Adjacent strings concatenate,
 * also across lines, except that a string starting a line and followed by `:`, `{` or `<` is such a field name.
 *
 * Comments: whole-line comments before a field become `comments.leading` of that field; a comment on the line where a
 * field ends becomes its `comments.trailing`; comments before a closing brace (or the end of the document) become
 * the message's `trailingComments`.
 *
 * Errors: every syntax error is a diagnostic with an exact span and "expected X, found Y"; the parser resynchronises
 * (at the next field on a new line, or the enclosing closing brace) to report several errors in one pass, always
 * consuming at least one token per error so it cannot loop, and gives up after MAX_ERRORS. Nesting beyond MAX_DEPTH
 * is refused with `nesting-too-deep` before the JS stack is at risk.
 */
import type { Diagnostic, RelatedLocation } from '../diagnostic.js';
import type { Comments } from '../node-meta.js';
import type { SourceFile, Span } from '../source.js';
import { SField, SList, SMessage, SScalar, type ElementHook, type SyntaxNode } from '../syntax.js';
import { describeChar, Lexer, Tok, type LexComment, type LexError } from './lexer.js';

/** Messages and lists nested deeper than this are refused (protobuf's default recursion limit). */
const MAX_DEPTH = 100;
/** After this many errors the parser stops reading: more would only be echoes of the first ones. */
const MAX_ERRORS = 100;
/** Unclosed messages reported at the end of the file (the innermost ones; the rest follow from them). */
const MAX_EOF_ERRORS = 3;

interface ParseTextprotoOptions {
  /** Return the recovered tree even when there are syntax errors (by default `tree` is then undefined). */
  partial?: boolean;
  /** Elements of `static_resources.<field>` are handed to it as soon as they are read (see ElementHook). */
  element?: ElementHook;
}

export interface TextprotoParseResult {
  /** The document as a message; undefined when there were syntax errors (unless `partial`). */
  tree: SMessage | undefined;
  diagnostics: Diagnostic[];
}

export function parseTextproto(source: SourceFile, opts: ParseTextprotoOptions = {}): TextprotoParseResult {
  const parser = new Parser(source, opts.element);
  const tree = parser.document();
  const failed = parser.diagnostics.some((d) => d.severity === 'error');
  return { tree: failed && opts.partial !== true ? undefined : tree, diagnostics: parser.diagnostics };
}

/** A message being read: what closes it, and how to name it in "expected `}` to close X opened at L:C". */
interface Opened {
  /** The field it is the value of (or the list's field, for an element). */
  readonly name: string;
  /** An element of a list (`an element of \`routes\``) rather than a field's value (`\`routes\``). */
  readonly element: boolean;
  readonly line: number;
  readonly column: number;
  readonly close: Tok.RBrace | Tok.RAngle;
}

const NAN_INF = /^(?:inf|infinity|nan)$/i;

function commentTexts(cs: LexComment[] | undefined): string[] | undefined {
  if (cs === undefined) return undefined;
  const out = new Array<string>(cs.length);
  for (let i = 0; i < cs.length; i++) out[i] = cs[i]!.text;
  return out;
}

function isScalarStart(k: Tok): boolean {
  return k === Tok.String || k === Tok.Number || k === Tok.Word || k === Tok.Ident || k === Tok.Minus;
}

function isOpener(k: Tok): boolean {
  return k === Tok.LBrace || k === Tok.LAngle || k === Tok.LBracket;
}

function numberValue(raw: string): number {
  const c1 = raw.charCodeAt(1);
  if (raw.length > 1 && raw.charCodeAt(0) === 0x30 && c1 >= 0x30 && c1 <= 0x37 && /^0[0-7]+$/.test(raw)) {
    return parseInt(raw, 8);
  }
  const last = raw.charCodeAt(raw.length - 1) | 0x20;
  if (last === 0x66 && !(raw.length > 1 && (raw.charCodeAt(1) | 0x20) === 0x78)) return Number(raw.slice(0, -1));
  return Number(raw);
}

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  private readonly file: string;
  private readonly src: SourceFile;
  private readonly text: string;
  private readonly lx: Lexer;
  private errors = 0;
  /** Offset of the token the last parser error was reported at: one error per token is enough. */
  private lastErrorAt = -1;
  private eofErrors = 0;
  /** Field names (and `-` per list) from the root to what is being read: where the element hook applies. */
  private readonly keys: string[] = [];

  constructor(
    source: SourceFile,
    private readonly element?: ElementHook,
  ) {
    this.file = source.name;
    this.src = source;
    this.text = source.text;
    this.lx = new Lexer(source.text, (e) => this.lexError(e));
  }

  private span(line: number, column: number, endLine: number, endColumn: number): Span {
    return { file: this.file, line, column, endLine, endColumn };
  }

  private push(d: Diagnostic): void {
    if (this.errors >= MAX_ERRORS) return;
    this.diagnostics.push(d);
    if (d.severity === 'error' && ++this.errors === MAX_ERRORS) {
      this.diagnostics.push({
        ruleId: 'syntax-error',
        severity: 'error',
        message: `too many errors (${MAX_ERRORS}); stopped reading the file here`,
        span: d.span,
      });
      this.lx.stopped = true;
    }
  }

  private lexError(e: LexError): void {
    this.push({
      ruleId: e.ruleId,
      severity: 'error',
      message: e.message,
      span: this.span(e.line, e.column, e.endLine, e.endColumn),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
    });
  }

  /** The current token as "found …" text. */
  private found(): string {
    const lx = this.lx;
    switch (lx.kind) {
      case Tok.EOF:
        return 'end of file';
      case Tok.String: {
        const raw = this.text.slice(lx.start, lx.end);
        return raw.length > 24 ? `string ${raw.slice(0, 20)}…` : `string ${raw}`;
      }
      case Tok.Number:
        return `number \`${lx.value}\``;
      default: {
        const v = lx.value.length > 24 ? lx.value.slice(0, 20) + '…' : lx.value;
        return '`' + v + '`';
      }
    }
  }

  /** A syntax error at the current token (suppressed when that token already has one, or was itself reported). */
  private error(message: string, hint?: string, related?: RelatedLocation[]): void {
    const lx = this.lx;
    // At the end of the file each still-open message gets its own "expected `}`" error, the innermost few.
    if (lx.kind === Tok.Invalid) return;
    if (lx.kind === Tok.EOF ? this.eofErrors++ >= MAX_EOF_ERRORS : lx.start === this.lastErrorAt) return;
    this.lastErrorAt = lx.start;
    const span =
      lx.kind === Tok.EOF
        ? this.span(lx.tokLine, lx.tokCol, lx.tokLine, lx.tokCol + 1)
        : this.span(lx.tokLine, lx.tokCol, lx.tokLine, lx.tokEndCol);
    this.push({
      ruleId: 'syntax-error',
      severity: 'error',
      message,
      span,
      ...(hint !== undefined ? { hint } : {}),
      ...(related !== undefined ? { related } : {}),
    });
  }

  document(): SMessage {
    const fields: SField[] = [];
    const trailing = this.body(fields, undefined, 0);
    const lx = this.lx;
    const msg = new SMessage(fields, this.src, 0, lx.start);
    if (trailing !== undefined) msg.trailingComments = trailing;
    return msg;
  }

  /** Fields up to the closing token of `opened` (or the end of the document); returns the comments before it. */
  private body(fields: SField[], opened: Opened | undefined, depth: number): string[] | undefined {
    const lx = this.lx;
    const close = opened === undefined ? Tok.EOF : opened.close;
    for (;;) {
      const k = lx.kind;
      if (k === Tok.Ident || k === Tok.LBracket || k === Tok.String) {
        const f = this.field(depth);
        if (f !== undefined) fields.push(f);
        continue;
      }
      if (k === close || k === Tok.EOF) {
        const trailing = commentTexts(lx.takePending());
        if (k === Tok.EOF && opened !== undefined) this.unclosed(opened);
        if (k !== Tok.EOF) lx.advance();
        return trailing;
      }
      if (k === Tok.RBrace || k === Tok.RAngle) {
        if (opened !== undefined) {
          // A mismatched closer most likely closes this message: report it and treat it so.
          this.unclosed(opened);
          const trailing = commentTexts(lx.takePending());
          lx.advance();
          return trailing;
        }
        this.error(`unexpected ${this.found()}: there is no open \`${k === Tok.RBrace ? '{' : '<'}\` to close`);
        lx.advance();
        continue;
      }
      if (k === Tok.Invalid) {
        lx.advance();
        continue;
      }
      this.error(`expected a field name, found ${this.found()}`);
      this.resync();
    }
  }

  private unclosed(o: Opened): void {
    const label = o.element ? `an element of \`${o.name}\`` : `\`${o.name}\``;
    const close = o.close === Tok.RBrace ? '}' : '>';
    this.error(`expected \`${close}\` to close ${label} opened at ${o.line}:${o.column}, found ${this.found()}`, undefined, [
      { message: `${label} opened here`, span: this.span(o.line, o.column, o.line, o.column + 1) },
    ]);
  }

  /** After an error in a message body: skip at least one token, then on to a likely field start or a closer. */
  private resync(): void {
    const lx = this.lx;
    for (;;) {
      if (isOpener(lx.kind)) this.skipBalanced();
      else lx.advance();
      const k = lx.kind;
      if (k === Tok.EOF || k === Tok.RBrace || k === Tok.RAngle) return;
      if ((k === Tok.Ident || k === Tok.LBracket || k === Tok.String) && lx.firstOnLine) return;
    }
  }

  /** Skips from an opener to just after its matching closer (by count, whatever the bracket kinds). */
  private skipBalanced(): void {
    const lx = this.lx;
    let depth = 0;
    do {
      const k = lx.kind;
      if (isOpener(k)) depth++;
      else if (k === Tok.RBrace || k === Tok.RAngle || k === Tok.RBracket) depth--;
      lx.advance();
    } while (depth > 0 && lx.kind !== Tok.EOF);
  }

  private tooDeep(): void {
    const lx = this.lx;
    this.lastErrorAt = lx.start;
    this.push({
      ruleId: 'nesting-too-deep',
      severity: 'error',
      message: `messages and lists nested more than ${MAX_DEPTH} levels deep; this \`${lx.value}\` is level ${MAX_DEPTH + 1}`,
      span: this.span(lx.tokLine, lx.tokCol, lx.tokLine, lx.tokEndCol),
      hint: 'flatten the config: no real config nests this deep',
    });
    this.skipBalanced();
  }

  private field(depth: number): SField | undefined {
    const lx = this.lx;
    const leading = lx.takePending();
    const line = lx.tokLine;
    const column = lx.tokCol;
    const start = lx.start;
    let name: string;
    let keyEnd: number;
    if (lx.kind === Tok.Ident || lx.kind === Tok.String) {
      // A quoted name is meshctl's extension for keys that are not identifiers (`"@type"`, opaque JSON keys).
      name = lx.value;
      keyEnd = lx.end;
      lx.advance();
    } else {
      const r = lx.readBracketName();
      if (!r.ok) {
        const at = lx.pos;
        const ch = this.text.charCodeAt(at);
        const found = at >= this.text.length ? 'end of file' : ch === 10 || ch === 13 ? 'end of line' : describeChar(ch);
        this.lastErrorAt = at;
        this.push({
          ruleId: 'syntax-error',
          severity: 'error',
          message:
            r.name === '[]'
              ? `expected an extension or type name after \`[\` at ${line}:${column}, found ${found}`
              : `expected \`]\` to close the field name \`${r.name.slice(0, -1)}\` opened at ${line}:${column}, found ${found}`,
          span: this.span(r.endLine, r.endCol, r.endLine, r.endCol + 1),
        });
        lx.advance();
        if (!(lx.kind === Tok.EOF || lx.kind === Tok.RBrace || lx.kind === Tok.RAngle || lx.firstOnLine)) this.resync();
        return undefined;
      }
      name = r.name;
      keyEnd = lx.end; // readBracketName leaves a zero-width token just after the `]`
      lx.advance();
    }

    let colon = false;
    if (lx.kind === Tok.Colon) {
      colon = true;
      lx.advance();
    }
    let value: SyntaxNode | undefined;
    const k = lx.kind;
    if (k === Tok.LBrace || k === Tok.LAngle) {
      this.keys.push(name);
      value = this.message(depth + 1, name, false, line, column);
      this.keys.pop();
    } else if (k === Tok.LBracket) {
      this.keys.push(name);
      value = this.list(depth + 1, name);
      this.keys.pop();
    } else if (isScalarStart(k)) {
      if (!colon) {
        if (lx.firstOnLine) {
          // `enabled` alone on a line, then the next field: do not swallow the next field as a value.
          this.error(`expected \`:\` or \`{\` after \`${name}\`, found ${this.found()}`);
          return undefined;
        }
        this.error(`expected \`:\` between \`${name}\` and its value, found ${this.found()}`, `write \`${name}: …\``);
      }
      value = this.scalar();
    } else {
      if (k === Tok.Invalid) lx.advance();
      else this.error(colon ? `expected a value for \`${name}\`, found ${this.found()}` : `expected \`:\` or \`{\` after \`${name}\`, found ${this.found()}`);
      return undefined;
    }
    if (value === undefined) return undefined;

    const f = new SField(name, value, this.src, start, keyEnd, start, lx.prevEnd);
    if (lx.kind === Tok.Comma || lx.kind === Tok.Semi) lx.advance();
    const pending = lx.pending;
    let trailing: string | undefined;
    if (pending.length > 0 && !pending[0]!.ownLine && pending[0]!.line === lx.prevEndLine) {
      trailing = pending.shift()!.text;
    }
    if (leading !== undefined || trailing !== undefined) {
      const c: Comments = {};
      if (leading !== undefined) c.leading = commentTexts(leading);
      if (trailing !== undefined) c.trailing = trailing;
      f.comments = c;
    }
    if (this.element !== undefined && value.kind === 'message' && this.keys.length === 1 && this.keys[0] === 'static_resources') {
      const stand = this.element(['static_resources', name], value, f, undefined);
      if (stand !== value) return f.with(name, stand);
    }
    return f;
  }

  /** After a quoted string at the start of a line: is it followed by `:`, `{` or `<`, making it a field name? */
  private nextIsFieldValue(): boolean {
    const k = this.lx.peekKind();
    return k === Tok.Colon || k === Tok.LBrace || k === Tok.LAngle;
  }

  private message(depth: number, name: string, element: boolean, openLine: number, openCol: number): SMessage | undefined {
    const lx = this.lx;
    if (depth > MAX_DEPTH) {
      this.tooDeep();
      return undefined;
    }
    const close = lx.kind === Tok.LBrace ? Tok.RBrace : Tok.RAngle;
    const start = lx.start;
    lx.advance();
    const fields: SField[] = [];
    const trailing = this.body(fields, { name, element, line: openLine, column: openCol, close }, depth);
    // An exact-size copy: a grown array keeps ~17 slots, and a big config holds 100,000s of small messages.
    const exact = fields.length === 0 ? fields : fields.slice();
    const msg = new SMessage(exact, this.src, start, lx.prevEnd);
    if (trailing !== undefined) msg.trailingComments = trailing;
    return msg;
  }

  private list(depth: number, name: string): SList | undefined {
    const lx = this.lx;
    if (depth > MAX_DEPTH) {
      this.tooDeep();
      return undefined;
    }
    const line = lx.tokLine;
    const column = lx.tokCol;
    const start = lx.start;
    const unclosed = (): void =>
      this.error(`expected \`]\` to close the list of \`${name}\` opened at ${line}:${column}, found ${this.found()}`, undefined, [
        { message: 'the list opened here', span: this.span(line, column, line, column + 1) },
      ]);
    lx.advance();
    const items: SyntaxNode[] = [];
    for (;;) {
      const k = lx.kind;
      if (k === Tok.RBracket) {
        lx.advance();
        break;
      }
      let item: SyntaxNode | undefined;
      if (k === Tok.LBrace || k === Tok.LAngle) {
        this.keys.push('-');
        item = this.message(depth + 1, name, true, lx.tokLine, lx.tokCol);
        this.keys.pop();
        const keys = this.keys;
        if (item !== undefined && this.element !== undefined && keys.length === 2 && keys[0] === 'static_resources') {
          item = this.element(keys, item, undefined, undefined);
        }
      } else if (k === Tok.LBracket) {
        this.keys.push('-');
        item = this.list(depth + 1, name);
        this.keys.pop();
      } else if (isScalarStart(k)) {
        item = this.scalar();
      } else if (k === Tok.EOF || k === Tok.RBrace || k === Tok.RAngle) {
        unclosed();
        break;
      } else {
        if (k !== Tok.Invalid) this.error(`expected a list element or \`]\`, found ${this.found()}`);
        lx.advance();
        continue;
      }
      if (item !== undefined) items.push(item);
      const k2 = lx.kind;
      if (k2 === Tok.Comma) {
        lx.advance();
        continue;
      }
      if (k2 === Tok.RBracket || k2 === Tok.EOF || k2 === Tok.RBrace || k2 === Tok.RAngle) continue;
      if (k2 === Tok.Ident && lx.firstOnLine) {
        // An identifier at the start of a line after an element: most likely the next field, the `]` forgotten.
        unclosed();
        break;
      }
      this.error(`expected \`,\` or \`]\` after an element of \`${name}\`, found ${this.found()}`);
      if (!(isScalarStart(k2) || isOpener(k2))) lx.advance();
    }
    const exact = items.length === 0 ? items : items.slice();
    return new SList(exact, this.src, start, lx.prevEnd);
  }

  private scalar(): SScalar | undefined {
    const lx = this.lx;
    const src = this.src;
    const start = lx.start;
    switch (lx.kind) {
      case Tok.String: {
        let value = lx.value;
        lx.advance();
        // Adjacent strings concatenate, also across lines, unless the next one is a quoted field name.
        while (lx.kind === Tok.String && !(lx.firstOnLine && this.nextIsFieldValue())) {
          value += lx.value;
          lx.advance();
        }
        return new SScalar('string', value, this.text.slice(start, lx.prevEnd), src, start, lx.prevEnd);
      }
      case Tok.Number: {
        const raw = lx.value;
        lx.advance();
        return new SScalar('number', numberValue(raw), raw, src, start, lx.prevEnd);
      }
      case Tok.Word: {
        const raw = lx.value;
        lx.advance();
        return new SScalar('bare', raw, raw, src, start, lx.prevEnd);
      }
      case Tok.Ident: {
        const raw = lx.value;
        lx.advance();
        const end = lx.prevEnd;
        if (raw === 'true' || raw === 'True') return new SScalar('bool', true, raw, src, start, end);
        if (raw === 'false' || raw === 'False') return new SScalar('bool', false, raw, src, start, end);
        // Not protobuf, but what meshctl's printer writes for a JSON null inside opaque data.
        if (raw === 'null') return new SScalar('null', null, raw, src, start, end);
        return new SScalar('bare', raw, raw, src, start, end);
      }
      case Tok.Minus: {
        lx.advance();
        const k = lx.kind as Tok; // advance() moved on: TypeScript's narrowing to Minus no longer holds
        if (k === Tok.Number || k === Tok.Word || (k === Tok.Ident && NAN_INF.test(lx.value))) {
          const raw = '-' + lx.value;
          lx.advance();
          if (k === Tok.Number) return new SScalar('number', -numberValue(raw.slice(1)), raw, src, start, lx.prevEnd);
          return new SScalar('bare', raw, raw, src, start, lx.prevEnd);
        }
        this.error(`expected a number after \`-\`, found ${this.found()}`);
        // `- x` on one line: x was meant as the value; skip it so it is not read as the next field's name.
        if (!lx.firstOnLine && (k === Tok.Ident || k === Tok.String)) lx.advance();
        return undefined;
      }
      default:
        return undefined;
    }
  }
}
