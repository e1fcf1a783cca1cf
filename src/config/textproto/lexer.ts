/**
 * Tokenizer for protobuf text format and the article's looser dialect. Hand-written and allocation-light: the lexer
 * keeps ONE current token in mutable fields (kind, offsets, line, column, value) and the parser pulls the next one
 * with `advance()`, so reading a large config allocates nothing per token except the strings it keeps.
 *
 * Line and column are tracked while scanning (1-based, in UTF-16 code units like SourceFile), so spans never need an
 * offset→position search. Comments (`#` to end of line) are not tokens: they are collected into `pending`, each
 * marked with whether it stood alone on its line, and the parser attaches them to fields.
 *
 * Problems found here (unknown characters, unterminated strings, bad escapes, malformed numbers) are reported
 * through the `onError` callback; the lexer always makes progress and never throws.
 */

export const enum Tok {
  EOF,
  /** `[A-Za-z_][A-Za-z0-9_]*` */
  Ident,
  /** A valid protobuf number literal (decimal, hex, octal, float with optional `f`). Signs are separate tokens. */
  Number,
  /** Any other word starting with a digit or `.digit`: the dialect's unquoted `0.25s`, `5s`, `250ms`. */
  Word,
  /** One quoted string; `value` holds the decoded text. Adjacent strings are concatenated by the parser. */
  String,
  LBrace,
  RBrace,
  LAngle,
  RAngle,
  LBracket,
  RBracket,
  Colon,
  Comma,
  Semi,
  Minus,
  /** Characters that start no token (already reported); the parser skips them silently. */
  Invalid,
}

export interface LexComment {
  /** Without the `#` and one following space, trailing whitespace removed. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** Nothing but whitespace before it on its line. */
  readonly ownLine: boolean;
}

type LexErrorRule = 'syntax-error' | 'invalid-escape';

export interface LexError {
  readonly ruleId: LexErrorRule;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly hint?: string;
}

const PUNCT: Record<number, Tok> = {
  0x7b: Tok.LBrace,
  0x7d: Tok.RBrace,
  0x3c: Tok.LAngle,
  0x3e: Tok.RAngle,
  0x5b: Tok.LBracket,
  0x5d: Tok.RBracket,
  0x3a: Tok.Colon,
  0x2c: Tok.Comma,
  0x3b: Tok.Semi,
  0x2d: Tok.Minus,
};

const INTERN_MASK = 1023;

const PUNCT_TEXT: Partial<Record<Tok, string>> = {
  [Tok.EOF]: '',
  [Tok.LBrace]: '{',
  [Tok.RBrace]: '}',
  [Tok.LAngle]: '<',
  [Tok.RAngle]: '>',
  [Tok.LBracket]: '[',
  [Tok.RBracket]: ']',
  [Tok.Colon]: ':',
  [Tok.Comma]: ',',
  [Tok.Semi]: ';',
  [Tok.Minus]: '-',
};

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdentPart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

const FLOAT_RE = /^(?:(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fF]?$|^\d+[fF]$/;

/** How a character is shown in a message: `@` for printable ASCII, `é` (U+00E9) for other letters, U+0000 otherwise. */
export function describeChar(c: number): string {
  if (c > 0x20 && c < 0x7f) return '`' + String.fromCharCode(c) + '`';
  const code = 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
  if (c >= 0xa1 && (c < 0xd800 || c > 0xdfff) && c !== 0xfeff && /\p{L}|\p{N}|\p{S}|\p{P}/u.test(String.fromCharCode(c))) {
    return '`' + String.fromCharCode(c) + '` (' + code + ')';
  }
  return code;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class Lexer {
  readonly text: string;
  private readonly len: number;
  private readonly onError: (e: LexError) => void;

  /** Scan position (just after the current token). */
  pos = 0;
  line = 1;
  lineStart = 0;

  // The current token.
  kind: Tok = Tok.EOF;
  start = 0;
  end = 0;
  tokLine = 1;
  tokCol = 1;
  /** Decoded text of a String token; the source text of every other token. */
  value = '';
  /** The current token is the first thing on its line (or in the file). */
  firstOnLine = true;

  /** End of the previously consumed token (for field spans and same-line comment attachment). */
  prevEndLine = 1;
  prevEndCol = 1;
  prevEnd = 0;

  /** Comments met since the parser last took them. */
  pending: LexComment[] = [];

  /** Set by the parser to make every further token EOF (after too many errors). */
  stopped = false;

  constructor(text: string, onError: (e: LexError) => void) {
    this.text = text;
    this.len = text.length;
    this.onError = onError;
    this.scan();
  }

  /** The current token's end column (tokens other than bracket names never span lines). */
  get tokEndCol(): number {
    return this.tokCol + (this.end - this.start);
  }

  advance(): void {
    this.prevEndLine = this.tokLine;
    this.prevEndCol = this.tokCol + (this.end - this.start);
    this.prevEnd = this.end;
    this.scan();
  }

  takePending(): LexComment[] | undefined {
    if (this.pending.length === 0) return undefined;
    const p = this.pending;
    this.pending = [];
    return p;
  }

  private col(offset: number): number {
    return offset - this.lineStart + 1;
  }

  /**
   * The kind of the token after the current one, without consuming anything. Rarely needed (only to tell a string
   * continued on the next line from a quoted field name), so it simply scans ahead and restores the state.
   */
  peekKind(): Tok {
    const saved = [this.pos, this.line, this.lineStart, this.kind, this.start, this.end, this.tokLine, this.tokCol] as const;
    const { value, firstOnLine } = this;
    const pendingCount = this.pending.length;
    this.muted = true;
    this.scan();
    const kind = this.kind;
    this.muted = false;
    [this.pos, this.line, this.lineStart, this.kind, this.start, this.end, this.tokLine, this.tokCol] = saved;
    this.value = value;
    this.firstOnLine = firstOnLine;
    this.pending.length = pendingCount;
    return kind;
  }

  private muted = false;

  private error(ruleId: LexErrorRule, message: string, from: number, to: number, hint?: string): void {
    if (this.muted) return;
    // Every lexer error lies on the current line.
    const line = this.line;
    this.onError({
      ruleId,
      message,
      line,
      column: this.col(from),
      endLine: line,
      endColumn: this.col(Math.max(to, from + 1)),
      ...(hint !== undefined ? { hint } : {}),
    });
  }

  private scan(): void {
    this.skipTrivia();
    const text = this.text;
    const p = this.pos;
    this.start = p;
    this.tokLine = this.line;
    this.tokCol = p - this.lineStart + 1;
    if (p >= this.len || this.stopped) {
      this.kind = Tok.EOF;
      this.end = p;
      this.value = '';
      return;
    }
    const c = text.charCodeAt(p);
    if (isIdentStart(c)) {
      let q = p + 1;
      let h = c;
      let d: number;
      while (q < this.len && isIdentPart((d = text.charCodeAt(q)))) {
        h = (Math.imul(h, 31) + d) | 0;
        q++;
      }
      this.kind = Tok.Ident;
      this.end = this.pos = q;
      this.value = this.intern(p, q, h);
      return;
    }
    if (isDigit(c) || (c === 0x2e && p + 1 < this.len && isDigit(text.charCodeAt(p + 1)))) {
      this.scanNumber(p);
      return;
    }
    if (c === 0x22 || c === 0x27) {
      this.scanString(p, c);
      return;
    }
    const punct = PUNCT[c];
    if (punct !== undefined) {
      this.finish(punct, p + 1);
      return;
    }
    // A run of characters that start nothing: one error for the run, not one per character.
    let q = p + 1;
    while (q < this.len && this.isStray(q)) q++;
    const what = q - p === 1 ? `character ${describeChar(c)}` : `characters starting with ${describeChar(c)}`;
    this.error('syntax-error', `unexpected ${what}`, p, q);
    this.finish(Tok.Invalid, q);
  }

  private isStray(q: number): boolean {
    const c = this.text.charCodeAt(q);
    if (c <= 0x20 || c === 0x23 || c === 0x22 || c === 0x27 || isIdentPart(c)) return false;
    if (PUNCT[c] !== undefined) return false;
    return !(c === 0x2e && q + 1 < this.len && isDigit(this.text.charCodeAt(q + 1)));
  }

  /**
   * Field names and enum names repeat thousands of times in a large config: keep one string per distinct name (a
   * small hash-indexed cache, checked against the text) instead of a fresh copy per occurrence.
   */
  private intern(from: number, to: number, hash: number): string {
    const slot = (hash ^ (hash >>> 13)) & INTERN_MASK;
    const cached = this.names[slot];
    if (cached !== undefined && cached.length === to - from && this.text.startsWith(cached, from)) return cached;
    const s = this.text.slice(from, to);
    this.names[slot] = s;
    return s;
  }

  private readonly names: (string | undefined)[] = new Array<string | undefined>(INTERN_MASK + 1);

  private finish(kind: Tok, end: number): void {
    this.kind = kind;
    this.end = end;
    this.pos = end;
    // Punctuation needs no text of its own (the parser reads `value` only for words, strings and in messages).
    if (kind <= Tok.Word || kind === Tok.Invalid) this.value = this.text.slice(this.start, end);
    else if (kind !== Tok.String) this.value = PUNCT_TEXT[kind]!;
  }

  private skipTrivia(): void {
    const text = this.text;
    const len = this.len;
    let p = this.pos;
    this.firstOnLine = p === 0;
    while (p < len) {
      const c = text.charCodeAt(p);
      if (c === 10) {
        p++;
        this.line++;
        this.lineStart = p;
        this.firstOnLine = true;
      } else if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xfeff) {
        p++;
      } else if (c === 0x23 || (c === 0x2f && text.charCodeAt(p + 1) === 0x2f)) {
        let q = p + 1;
        while (q < len && text.charCodeAt(q) !== 10) q++;
        if (c === 0x2f) {
          this.pos = p;
          this.error('syntax-error', 'unexpected `//`: text format comments start with `#`', p, p + 2, 'write `# …` instead of `// …`');
        }
        const body = text.slice(c === 0x23 ? p + 1 : p + 2, q);
        const trimmed = body.replace(/\s+$/, '');
        this.pending.push({
          text: trimmed.charCodeAt(0) === 32 ? trimmed.slice(1) : trimmed,
          line: this.line,
          column: p - this.lineStart + 1,
          ownLine: this.firstOnLine,
        });
        p = q;
      } else {
        break;
      }
    }
    this.pos = p;
  }

  private scanNumber(p: number): void {
    const text = this.text;
    const len = this.len;
    let q = p;
    let allDigits = true;
    let h = 0;
    const hex = text.charCodeAt(p) === 0x30 && (text.charCodeAt(p + 1) | 0x20) === 0x78;
    while (q < len) {
      const c = text.charCodeAt(q);
      if (isIdentPart(c) || c === 0x2e) {
        if (!isDigit(c)) allDigits = false;
        h = (Math.imul(h, 31) + c) | 0;
        q++;
      } else if (
        (c === 0x2b || c === 0x2d) &&
        !hex &&
        (text.charCodeAt(q - 1) | 0x20) === 0x65 &&
        q + 1 < len &&
        isDigit(text.charCodeAt(q + 1))
      ) {
        allDigits = false;
        q++;
      } else {
        break;
      }
    }
    if (allDigits && (q - p === 1 || text.charCodeAt(p) !== 0x30)) {
      // Plain decimal integers (ports, weights) repeat like names do.
      this.kind = Tok.Number;
      this.end = this.pos = q;
      this.value = this.intern(p, q, h);
      return;
    }
    const word = text.slice(p, q);
    let kind = Tok.Word;
    if (allDigits) {
      {
        let octal = true;
        for (let i = 1; i < word.length; i++) if (!isOctal(word.charCodeAt(i))) octal = false;
        if (octal) kind = Tok.Number;
        else {
          this.error(
            'syntax-error',
            `invalid number \`${word}\`: a leading 0 makes it octal, which has no digits 8 or 9`,
            p,
            q,
            'drop the leading zeros, or write it as a quoted string',
          );
          kind = Tok.Invalid;
        }
      }
    } else if (hex) {
      let ok = word.length > 2;
      for (let i = 2; i < word.length && ok; i++) ok = isHex(word.charCodeAt(i));
      if (ok) kind = Tok.Number;
    } else if (FLOAT_RE.test(word)) {
      kind = Tok.Number;
    }
    this.kind = kind;
    this.end = this.pos = q;
    this.value = word;
  }

  private scanString(p: number, quote: number): void {
    const text = this.text;
    const len = this.len;
    // Fast path: most strings have no escapes and are one slice of the source.
    let f = p + 1;
    for (;;) {
      const c = f < len ? text.charCodeAt(f) : 10;
      if (c === quote) {
        this.value = text.slice(p + 1, f);
        this.finish(Tok.String, f + 1);
        return;
      }
      if (c === 10 || c === 0x5c) break;
      f++;
    }
    this.scanEscapedString(p, quote);
  }

  private scanEscapedString(p: number, quote: number): void {
    const text = this.text;
    const len = this.len;
    let q = p + 1;
    let segStart = q;
    let seg = '';
    let bytes: number[] | undefined;
    const flush = (to: number): void => {
      seg += text.slice(segStart, to);
    };
    const pushBytes = (s: string): void => {
      for (const b of utf8Encoder.encode(s)) bytes!.push(b);
    };
    const pushByte = (b: number): void => {
      if (b < 0x80 && bytes === undefined) {
        seg += String.fromCharCode(b);
        return;
      }
      if (bytes === undefined) bytes = [];
      pushBytes(seg);
      seg = '';
      bytes.push(b);
    };
    let terminated = false;
    while (q < len) {
      const c = text.charCodeAt(q);
      if (c === quote) {
        terminated = true;
        break;
      }
      if (c === 10) break;
      if (c !== 0x5c) {
        q++;
        continue;
      }
      flush(q);
      const escStart = q;
      q++;
      const e = q < len ? text.charCodeAt(q) : -1;
      q++;
      switch (e) {
        case 0x6e: seg += '\n'; break; // n
        case 0x74: seg += '\t'; break; // t
        case 0x72: seg += '\r'; break; // r
        case 0x61: seg += '\x07'; break; // a
        case 0x62: seg += '\b'; break; // b
        case 0x66: seg += '\f'; break; // f
        case 0x76: seg += '\v'; break; // v
        case 0x5c: seg += '\\'; break;
        case 0x27: seg += "'"; break;
        case 0x22: seg += '"'; break;
        case 0x3f: seg += '?'; break;
        case 0x78: case 0x58: { // \xH or \xHH
          let n = 0;
          let digits = 0;
          while (digits < 2 && q < len && isHex(text.charCodeAt(q))) {
            n = n * 16 + parseInt(text[q]!, 16);
            q++;
            digits++;
          }
          if (digits === 0) this.error('invalid-escape', 'invalid escape `\\x`: expected 1 or 2 hex digits after it', escStart, q);
          else pushByte(n);
          break;
        }
        case 0x75: case 0x55: { // \uXXXX, \UXXXXXXXX
          const want = e === 0x75 ? 4 : 8;
          let n = 0;
          let digits = 0;
          while (digits < want && q < len && isHex(text.charCodeAt(q))) {
            n = n * 16 + parseInt(text[q]!, 16);
            q++;
            digits++;
          }
          const esc = e === 0x75 ? '\\u' : '\\U';
          if (digits < want) {
            this.error('invalid-escape', `invalid escape \`${text.slice(escStart, q)}\`: \`${esc}\` needs exactly ${want} hex digits`, escStart, q);
          } else if (n > 0x10ffff) {
            this.error('invalid-escape', `invalid escape \`${text.slice(escStart, q)}\`: beyond the last Unicode code point U+10FFFF`, escStart, q);
          } else {
            seg += String.fromCodePoint(n);
          }
          break;
        }
        default:
          if (e >= 0x30 && e <= 0x37) { // \o, \oo, \ooo
            let n = e - 0x30;
            let digits = 1;
            while (digits < 3 && q < len && isOctal(text.charCodeAt(q))) {
              n = n * 8 + (text.charCodeAt(q) - 0x30);
              q++;
              digits++;
            }
            if (n > 0xff) this.error('invalid-escape', `invalid escape \`${text.slice(escStart, q)}\`: an octal escape is one byte, at most \\377`, escStart, q);
            else pushByte(n);
          } else if (e === -1 || e === 10) {
            q--; // leave the line break (or end of file) to end the string
            this.error('invalid-escape', 'invalid escape: `\\` at the end of the line', escStart, escStart + 1);
          } else {
            const d = describeChar(e);
            const what = d.startsWith('`') ? `invalid escape \`\\${d.slice(1, d.indexOf('`', 1))}\`` : `invalid escape: \`\\\` followed by ${d}`;
            this.error('invalid-escape', what, escStart, q, 'valid escapes: \\n \\t \\r \\" \\\' \\\\ \\xHH \\ooo \\uXXXX \\UXXXXXXXX');
          }
      }
      segStart = q;
    }
    flush(q);
    if (bytes !== undefined) {
      pushBytes(seg);
      const arr = Uint8Array.from(bytes);
      try {
        seg = utf8Decoder.decode(arr);
      } catch {
        // Not UTF-8: keep one character per byte so a bytes field still gets every byte.
        seg = '';
        for (let i = 0; i < arr.length; i++) seg += String.fromCharCode(arr[i]!);
      }
    }
    this.value = seg;
    if (terminated) {
      this.finish(Tok.String, q + 1);
    } else {
      const q0 = quote === 0x22 ? '"' : "'";
      this.error('syntax-error', `unterminated string: expected a closing \`${q0}\` before the end of the line`, p, q);
      this.finish(Tok.String, q);
    }
  }

  /**
   * Reads an extension or Any type name after the current `[` token: `[pkg.ext]`, `[type.googleapis.com/a.B]`.
   * Returns the name with its brackets, spaces inside removed; the next `advance()` reads on after the `]`. The
   * name must fit on one line.
   */
  readBracketName(): { name: string; ok: boolean; endLine: number; endCol: number } {
    const text = this.text;
    const len = this.len;
    let p = this.pos;
    let name = '';
    let ok = false;
    let spaced = false;
    while (p < len) {
      const c = text.charCodeAt(p);
      if (c === 0x5d) {
        ok = name.length > 0;
        if (ok) p++;
        break;
      }
      if (c === 32 || c === 9) {
        p++;
        spaced = true;
      } else if (isIdentPart(c) || c === 0x2e || c === 0x2f || c === 0x2d || c === 0x7e || c === 0x25) {
        // Spaces may surround `.` and `/`, but cannot separate two words: `[foo bar]` is an error.
        const sep = c === 0x2e || c === 0x2f;
        const prev = name.charCodeAt(name.length - 1);
        if (spaced && !sep && name.length > 0 && prev !== 0x2e && prev !== 0x2f) break;
        spaced = false;
        name += text[p];
        p++;
      } else {
        break;
      }
    }
    this.pos = p;
    // Pretend the name was one token ending here, so spans and "previous token" bookkeeping stay right.
    this.start = this.end = p;
    this.tokLine = this.line;
    this.tokCol = p - this.lineStart + 1;
    return { name: '[' + name + ']', ok, endLine: this.line, endCol: this.tokCol };
  }
}
