/**
 * RE2's pattern syntax (https://github.com/google/re2/wiki/Syntax) read into a tree, the way RE2's parser
 * (re2/parse.cc) reads it under the options Envoy compiles `safe_regex` with (RE2's defaults: UTF-8 text, Perl
 * classes and flags, Unicode groups, `^`/`$` at the ends of the text unless `(?m)`, `.` not matching `\n` unless
 * `(?s)`, negated classes matching `\n`). What RE2 rejects is an error with its offset in the pattern; so is the one
 * construct RE2 has that cannot be run over JavaScript strings (`\C`, one byte of UTF-8).
 */
import { CodePointSet, MAX_CODE_POINT } from './charset.js';
import { foldClose, foldOrbit, unicodeGroup } from './unicode.js';

export type Assertion = 'text-start' | 'text-end' | 'line-start' | 'line-end' | 'word' | 'not-word';

export type Re2Node =
  | { readonly kind: 'chars'; readonly set: CodePointSet }
  | { readonly kind: 'assert'; readonly what: Assertion }
  | { readonly kind: 'capture'; readonly body: Re2Node }
  | { readonly kind: 'concat'; readonly items: readonly Re2Node[] }
  | { readonly kind: 'alt'; readonly items: readonly Re2Node[] }
  /** max -1: unbounded. */
  | { readonly kind: 'repeat'; readonly min: number; readonly max: number; readonly greedy: boolean; readonly body: Re2Node };

export interface Re2Tree {
  readonly root: Re2Node;
  /** Capturing groups, numbered 1… in the order of their `(`. */
  readonly captures: number;
}

export interface Re2Error {
  /** `unsupported`: a construct RE2 does not have (or meshctl cannot run); `invalid`: the pattern does not parse. */
  readonly kind: 'unsupported' | 'invalid';
  readonly message: string;
  /** Where in the pattern (a string index) the problem starts. */
  readonly offset: number;
  /** How to do without it, when there is more to say than "rewrite it without that construct". */
  readonly hint?: string;
}

type Re2Parse = { readonly ok: true; readonly tree: Re2Tree } | { readonly ok: false; readonly error: Re2Error };

interface Flags {
  /** (?i) */
  readonly fold: boolean;
  /** (?s) */
  readonly dotNl: boolean;
  /** (?m) */
  readonly multiLine: boolean;
  /** (?U) */
  readonly ungreedy: boolean;
}

/** RE2's limit on a counted repetition, and on nested counts multiplied together. */
const MAX_REPEAT = 1000;
/** Parenthesis depth beyond which the pattern is refused rather than recursed into. */
const MAX_DEPTH = 1000;

const PERL_CLASSES: Readonly<Record<string, CodePointSet>> = {
  d: CodePointSet.of(0x30, 0x39),
  s: CodePointSet.fromPairs([[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]),
  w: CodePointSet.fromPairs([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]),
};

/** RE2's ASCII classes, `[:name:]` inside a bracket expression (re2/perl_groups.cc). */
const POSIX_CLASSES: Readonly<Record<string, CodePointSet>> = {
  alnum: CodePointSet.fromPairs([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]),
  alpha: CodePointSet.fromPairs([[0x41, 0x5a], [0x61, 0x7a]]),
  ascii: CodePointSet.of(0x00, 0x7f),
  blank: CodePointSet.fromPairs([[0x09, 0x09], [0x20, 0x20]]),
  cntrl: CodePointSet.fromPairs([[0x00, 0x1f], [0x7f, 0x7f]]),
  digit: CodePointSet.of(0x30, 0x39),
  graph: CodePointSet.of(0x21, 0x7e),
  lower: CodePointSet.of(0x61, 0x7a),
  print: CodePointSet.of(0x20, 0x7e),
  punct: CodePointSet.fromPairs([[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]),
  space: CodePointSet.fromPairs([[0x09, 0x0d], [0x20, 0x20]]),
  upper: CodePointSet.of(0x41, 0x5a),
  word: CodePointSet.fromPairs([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]),
  xdigit: CodePointSet.fromPairs([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]),
};

const NOT_NEWLINE = CodePointSet.of(0x0a).negate();

interface RepeatToken {
  readonly start: number;
  /** Followed by `?` (`*?`). */
  readonly lazy: boolean;
}

class Re2SyntaxError extends Error {
  constructor(readonly problem: Re2Error) {
    super(problem.message);
    this.name = 'Re2SyntaxError';
  }
}

export function parseRe2(pattern: string): Re2Parse {
  try {
    return { ok: true, tree: new Parser(pattern).parse() };
  } catch (err) {
    if (err instanceof Re2SyntaxError) return { ok: false, error: err.problem };
    throw err;
  }
}

class Parser {
  private i = 0;
  private captures = 0;

  constructor(private readonly p: string) {}

  parse(): Re2Tree {
    const root = this.alternation({ fold: false, dotNl: false, multiLine: false, ungreedy: false }, 0, -1);
    return { root, captures: this.captures };
  }

  private fail(kind: Re2Error['kind'], message: string, offset: number, hint?: string): never {
    throw new Re2SyntaxError(hint === undefined ? { kind, message, offset } : { kind, message, offset, hint });
  }

  /** Alternatives up to the `)` closing the group opened at `open` (left for the caller) or, at the top, the end. */
  private alternation(outer: Flags, depth: number, open: number): Re2Node {
    if (depth > MAX_DEPTH) this.fail('invalid', 'expression nests too deeply', open);
    const p = this.p;
    // Flags set by `(?i)` and the like last to the end of the enclosing group, across `|` (re2/parse.cc).
    let flags = outer;
    const alternatives: Re2Node[] = [];
    let items: Re2Node[] = [];
    // The previous token, if it was a repetition operator: RE2 refuses `a**` and Perl's `a++`.
    let lastRepeat: RepeatToken | undefined;
    for (;;) {
      if (this.i >= p.length) {
        if (open >= 0) this.fail('invalid', 'unterminated group', open);
        break;
      }
      const start = this.i;
      const c = p[start]!;
      let repeat: RepeatToken | undefined;
      if (c === ')') {
        if (open < 0) this.fail('invalid', "unmatched ')'", start);
        break;
      } else if (c === '|') {
        alternatives.push(concat(items));
        items = [];
        this.i++;
      } else if (c === '(') {
        const r = this.group(flags, depth);
        if ('flags' in r) flags = r.flags;
        else items.push(r.node);
      } else if (c === '^' || c === '$') {
        const what: Assertion = c === '^' ? (flags.multiLine ? 'line-start' : 'text-start') : flags.multiLine ? 'line-end' : 'text-end';
        items.push({ kind: 'assert', what });
        this.i++;
      } else if (c === '.') {
        items.push({ kind: 'chars', set: flags.dotNl ? CodePointSet.ALL : NOT_NEWLINE });
        this.i++;
      } else if (c === '[') {
        items.push({ kind: 'chars', set: this.bracket(flags) });
      } else if (c === '*' || c === '+' || c === '?' || c === '{') {
        repeat = this.repetition(items, flags, lastRepeat);
      } else if (c === '\\') {
        this.escape(flags, items);
      } else {
        const cp = p.codePointAt(start)!;
        items.push(this.literal(cp, flags));
        this.i += cp > 0xffff ? 2 : 1;
      }
      lastRepeat = repeat;
    }
    alternatives.push(concat(items));
    return alternatives.length === 1 ? alternatives[0]! : { kind: 'alt', items: alternatives };
  }

  /**
   * A repetition operator at the cursor (`*`, `+?`, `{2,5}`…) applied to the last item; a `{` that starts no count
   * is a literal, as in RE2. Returns the operator's token when it was one.
   */
  private repetition(items: Re2Node[], flags: Flags, last: RepeatToken | undefined): RepeatToken | undefined {
    const p = this.p;
    const start = this.i;
    const c = p[start]!;
    const counts = c === '{' ? this.counts() : undefined;
    if (c === '{' && counts === undefined) {
      items.push(this.literal(0x7b, flags));
      this.i++;
      return undefined;
    }
    if (c !== '{') this.i++;
    const lazy = p[this.i] === '?';
    if (lazy) this.i++;
    if (last !== undefined) {
      if (c === '+' && !last.lazy) this.fail('unsupported', 'possessive quantifier (RE2 has no possessive quantifiers)', last.start);
      this.fail('invalid', `bad repetition operator \`${p.slice(last.start, this.i)}\``, last.start);
    }
    const [min, max] = counts ?? (c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1]);
    if (counts !== undefined) {
      const text = p.slice(start, this.i - (lazy ? 1 : 0));
      if (min > MAX_REPEAT || max > MAX_REPEAT) this.fail('invalid', `repeat count in \`${text}\` exceeds RE2's limit of ${MAX_REPEAT}`, start);
      if (max !== -1 && max < min) this.fail('invalid', `bad repeat range \`${text}\``, start);
    }
    const body = items.pop();
    if (body === undefined) this.fail('invalid', 'nothing to repeat', start);
    const node: Re2Node = { kind: 'repeat', min, max, greedy: lazy === flags.ungreedy, body };
    if ((min >= 2 || max >= 2) && repeatBudget(node, MAX_REPEAT) === 0) {
      this.fail('invalid', `nested repeat counts in \`${p.slice(start, this.i)}\` multiply past RE2's limit of ${MAX_REPEAT}`, start);
    }
    items.push(node);
    return { start, lazy };
  }

  private literal(cp: number, flags: Flags): Re2Node {
    return { kind: 'chars', set: flags.fold ? CodePointSet.fromPairs(foldOrbit(cp).map((o) => [o, o] as const)) : CodePointSet.of(cp) };
  }

  /** `{n}`, `{n,}` or `{n,m}` at the cursor (consumed), or undefined (nothing consumed) when it is not one. */
  private counts(): [number, number] | undefined {
    // RE2's ParseInteger: digits without a leading zero, below 10^8.
    const m = /^\{(0|[1-9]\d{0,7})(?:(,)(0|[1-9]\d{0,7})?)?\}/.exec(this.p.slice(this.i, this.i + 20));
    if (m === null) return undefined;
    this.i += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    return [min, max];
  }

  /** A group at the cursor: `(…)`, `(?P<name>…)`, `(?flags:…)`, or a flag setting `(?flags)`. */
  private group(flags: Flags, depth: number): { node: Re2Node } | { flags: Flags } {
    const p = this.p;
    const start = this.i;
    if (p[start + 1] !== '?') {
      this.i++;
      this.captures++;
      return { node: { kind: 'capture', body: this.closed(flags, depth, start) } };
    }
    const rest = p.slice(start + 2, start + 4);
    const unsupported = (what: string): never => this.fail('unsupported', what, start);
    if (rest.startsWith('=') || rest.startsWith('!')) unsupported(`look-ahead \`(?${rest[0]}\` (RE2 has no look-around)`);
    if (rest.startsWith('<=') || rest.startsWith('<!')) unsupported(`look-behind \`(?${rest}\` (RE2 has no look-around)`);
    if (rest.startsWith('>')) unsupported('atomic group `(?>` (RE2 has no atomic groups)');
    if (rest.startsWith('(')) unsupported('conditional `(?(` (RE2 has no conditionals)');
    if (rest.startsWith('#')) unsupported('comment group `(?#` (not RE2 syntax)');
    if (/^(?:R|\d|&|\+)/.test(rest)) unsupported('recursion `(?R)` (RE2 has no recursion)');
    if (rest === 'P=' || rest === 'P>') unsupported('named backreference `(?P=…)` (RE2 has no backreferences)');
    if (rest === 'P<' || rest.startsWith('<')) {
      const nameStart = start + (rest === 'P<' ? 4 : 3);
      const end = p.indexOf('>', nameStart);
      if (end < 0) this.fail('invalid', `invalid named capture group \`${p.slice(start)}\``, start);
      const name = p.slice(nameStart, end);
      // Since 2023 RE2 takes word characters of any script (letters, marks, digits, connectors) in a name.
      if (!/^[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]+$/u.test(name)) {
        this.fail('invalid', `invalid named capture group \`${p.slice(start, end + 1)}\``, start);
      }
      // A name may be used again: RE2 keeps the leftmost group of a name, as Perl does (RE2's own test
      // CapturingGroupNames; google/re2 issue 393). Names matter to no caller here; captures are numbered.
      this.i = end + 1;
      this.captures++;
      return { node: { kind: 'capture', body: this.closed(flags, depth, start) } };
    }
    // Flags: (?i) (?-s) (?im-sU) and the same with `:` opening a non-capturing group.
    let { fold, dotNl, multiLine, ungreedy } = flags;
    let negated = false;
    let sawFlag = false;
    for (let j = start + 2; ; j++) {
      const c = p[j];
      const bad = (): never => this.fail('invalid', `invalid or unsupported group \`${p.slice(start, j + 1)}\``, start);
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        sawFlag = true;
        if (c === 'i') fold = !negated;
        else if (c === 'm') multiLine = !negated;
        else if (c === 's') dotNl = !negated;
        else ungreedy = !negated;
      } else if (c === '-') {
        if (negated) bad();
        negated = true;
        sawFlag = false;
      } else if (c === ':' || c === ')') {
        if (negated && !sawFlag) bad();
        this.i = j + 1;
        const set: Flags = { fold, dotNl, multiLine, ungreedy };
        return c === ')' ? { flags: set } : { node: this.closed(set, depth, start) };
      } else bad();
    }
  }

  /** The body of a group whose `(…` has been read, and its `)`. */
  private closed(flags: Flags, depth: number, open: number): Re2Node {
    const body = this.alternation(flags, depth + 1, open);
    this.i++; // ')': alternation() returns at the end of the pattern only at the top level
    return body;
  }

  private escape(flags: Flags, items: Re2Node[]): void {
    const p = this.p;
    const start = this.i;
    const d = p[start + 1];
    if (d === undefined) this.fail('invalid', 'trailing backslash at end of pattern', start);
    const assertion: Assertion | undefined = d === 'b' ? 'word' : d === 'B' ? 'not-word' : d === 'A' ? 'text-start' : d === 'z' ? 'text-end' : undefined;
    if (assertion !== undefined) {
      items.push({ kind: 'assert', what: assertion });
      this.i += 2;
      return;
    }
    if (d === 'C') {
      this.fail('unsupported', '`\\C` (one byte of UTF-8): RE2 has it, but meshctl matches text, not bytes', start, 'match a whole character with `.` instead');
    }
    if (d === 'G' || d === 'Z') this.fail('unsupported', `\`\\${d}\` anchor (RE2 supports \\A and \\z)`, start);
    if (d === 'Q') {
      // Literal text up to \E or the end of the pattern.
      const end = p.indexOf('\\E', start + 2);
      const text = p.slice(start + 2, end < 0 ? p.length : end);
      for (const ch of text) items.push(this.literal(ch.codePointAt(0)!, flags));
      this.i = end < 0 ? p.length : end + 2;
      return;
    }
    const group = this.classEscape(flags);
    if (group !== undefined) {
      items.push({ kind: 'chars', set: group });
      return;
    }
    if (d === 'k' && /^[<{']/.test(p[start + 2] ?? '')) {
      this.fail('unsupported', 'named backreference `\\k<…>` (RE2 has no backreferences)', start);
    }
    // A lone \1…\7 (no octal digit after it), \8 and \9 would be backreferences elsewhere; RE2 has none.
    if (/[1-9]/.test(d) && (d > '7' || !/[0-7]/.test(p[start + 2] ?? ''))) {
      this.fail('unsupported', `backreference \`\\${d}\` (RE2 has no backreferences)`, start);
    }
    items.push(this.literal(this.escapedChar(), flags));
  }

  /** `\pL`, `\p{Greek}`, `\P{^Greek}`, `\d`, `\S`… at the cursor (consumed), folded under (?i); else undefined. */
  private classEscape(flags: Flags): CodePointSet | undefined {
    const p = this.p;
    const start = this.i;
    const d = p[start + 1];
    let set: CodePointSet;
    let negated: boolean;
    if (d === 'p' || d === 'P') {
      negated = d === 'P';
      let name: string;
      if (p[start + 2] === '{') {
        const end = p.indexOf('}', start + 3);
        if (end < 0) this.fail('invalid', `invalid character class range \`${p.slice(start)}\``, start);
        name = p.slice(start + 3, end);
        this.i = end + 1;
      } else {
        const cp = p.codePointAt(start + 2);
        if (cp === undefined) this.fail('invalid', 'missing Unicode class name after `\\p`', start);
        name = String.fromCodePoint(cp);
        this.i = start + 2 + name.length;
      }
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      const group = unicodeGroup(name);
      if (group === undefined) this.fail('invalid', `invalid character class range \`${p.slice(start, this.i)}\``, start);
      set = group;
    } else if (d !== undefined && d.toLowerCase() in PERL_CLASSES) {
      negated = d !== d.toLowerCase();
      set = PERL_CLASSES[d.toLowerCase()]!;
      this.i += 2;
    } else return undefined;
    // A negated group under (?i) leaves out everything that folds to a member (re2/parse.cc AddUGroup).
    if (flags.fold) set = foldClose(set);
    return negated ? set.negate() : set;
  }

  /** One escaped character (`\n`, `\x{263a}`, `\101`, `\.`…) at the cursor, consumed. RE2's ParseEscape. */
  private escapedChar(): number {
    const p = this.p;
    const start = this.i;
    const bad = (end: number): never => this.fail('invalid', `invalid escape sequence \`${p.slice(start, end)}\``, start);
    const d = p.codePointAt(start + 1)!;
    const ch = String.fromCodePoint(d);
    this.i = start + 1 + ch.length;
    if (d < 0x80 && !/[0-9A-Za-z]/.test(ch)) return d; // punctuation escapes itself
    if (ch >= '0' && ch <= '7') {
      // Octal: up to three digits; \1…\7 must have a second digit (one alone would be a backreference).
      const m = /^[0-7]{1,3}/.exec(p.slice(start + 1, start + 4))!;
      if (ch !== '0' && m[0].length === 1) bad(start + 2);
      this.i = start + 1 + m[0].length;
      return parseInt(m[0], 8);
    }
    if (ch === 'x') {
      if (p[this.i] === '{') {
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(this.i));
        if (m === null || parseInt(m[1]!, 16) > MAX_CODE_POINT) bad(m === null ? Math.min(p.length, this.i + 1) : this.i + m[0].length);
        this.i += m![0].length;
        return parseInt(m![1]!, 16);
      }
      const hex = p.slice(this.i, this.i + 2);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) bad(Math.min(p.length, this.i + 2));
      this.i += 2;
      return parseInt(hex, 16);
    }
    const simple: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, f: 0x0c, v: 0x0b };
    const code = simple[ch];
    if (code === undefined) bad(this.i);
    return code!;
  }

  /** A bracket expression `[…]` at the cursor, consumed. RE2's ParseCharClass. */
  private bracket(flags: Flags): CodePointSet {
    const p = this.p;
    const start = this.i;
    this.i++;
    const negated = p[this.i] === '^';
    if (negated) this.i++;
    const missing = (): never => this.fail('invalid', 'missing closing `]` of a character class', start);
    let set = CodePointSet.EMPTY;
    // A `]` right after `[` or `[^` is a member; so is `-` anywhere a range cannot start or end (Perl's rule).
    for (let first = true; this.i < p.length && (p[this.i] !== ']' || first); first = false) {
      if (p[this.i] === '[' && p[this.i + 1] === ':') {
        const close = p.indexOf(':]', this.i + 2);
        if (close >= 0) {
          const name = p.slice(this.i, close + 2);
          const m = /^\[:(\^?)([a-z]+):\]$/.exec(name);
          const cls = m === null ? undefined : POSIX_CLASSES[m[2]!];
          if (cls === undefined) this.fail('invalid', `unknown POSIX class \`${name}\``, this.i);
          const folded = flags.fold ? foldClose(cls) : cls;
          set = set.union(m![1] === '^' ? folded.negate() : folded);
          this.i = close + 2;
          continue;
        }
      }
      if (p[this.i] === '\\') {
        const group = this.classEscape(flags);
        if (group !== undefined) {
          set = set.union(group);
          continue;
        }
      }
      const rangeStart = this.i;
      const lo = this.bracketChar(missing);
      let hi = lo;
      if (p[this.i] === '-' && this.i + 1 < p.length && p[this.i + 1] !== ']') {
        this.i++;
        hi = this.bracketChar(missing);
        if (hi < lo) this.fail('invalid', `range out of order in character class \`${p.slice(rangeStart, this.i)}\``, rangeStart);
      }
      const range = CodePointSet.of(lo, hi);
      set = set.union(flags.fold ? foldClose(range) : range);
    }
    if (this.i >= p.length) missing();
    this.i++; // ']'
    return negated ? set.negate() : set;
  }

  private bracketChar(missing: () => never): number {
    const p = this.p;
    if (this.i >= p.length) missing();
    if (p[this.i] === '\\') {
      if (this.i + 1 >= p.length) this.fail('invalid', 'trailing backslash in character class', this.i);
      return this.escapedChar();
    }
    const cp = p.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

function concat(items: Re2Node[]): Re2Node {
  return items.length === 1 ? items[0]! : { kind: 'concat', items };
}

/**
 * RE2's RepetitionWalker: 1000 divided by each count on the way down (the maximum, or the minimum when unbounded),
 * the smallest result over all paths. Zero means the counts multiply past RE2's limit.
 */
function repeatBudget(node: Re2Node, budget: number): number {
  switch (node.kind) {
    case 'repeat': {
      const m = node.max < 0 ? node.min : node.max;
      return repeatBudget(node.body, m > 0 ? Math.floor(budget / m) : budget);
    }
    case 'capture':
      return repeatBudget(node.body, budget);
    case 'concat':
    case 'alt':
      return node.items.reduce((least, n) => Math.min(least, repeatBudget(n, budget)), budget);
    default:
      return budget;
  }
}
