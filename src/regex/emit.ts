/**
 * A parsed RE2 pattern as JavaScript RegExp source that means the same and keeps RE2's linear-time promise.
 *
 * The proxy runs V8 with `--enable-experimental-regexp-engine-on-excessive-backtracks` (re2.ts): a match that
 * backtracks too much is rerun on V8's linear-time engine. That engine takes only some RegExps (V8's
 * src/regexp/experimental/experimental-compiler.cc, CanBeHandled): no `i` or `u` flag, no look-around or
 * backreference, and no counted repetition above 16 — nested ones multiplied, where `x{n,}` counts n+1. So the
 * source uses no flags at all: case folding, Unicode classes and `.` are spelled out as code point sets
 * (charset.ts), and a count the engine would refuse is written out as copies (`x{2,4}` → `xx(?:x(?:x)?)?`).
 * What is left without the fallback: `(?m)` line anchors (look-around), and counts around a capturing group in a
 * regex_rewrite pattern (copies would renumber the groups) or whose copies would pass EXPANSION_LIMIT.
 */
import type { Assertion, Re2Node, Re2Tree } from './parse.js';

/** V8's kMaxReplicationFactor. */
const LINEAR_REPLICATION_LIMIT = 16;
/** Beyond this many characters of copies, a count stays a JavaScript count. */
const EXPANSION_LIMIT = 32_768;

const ASSERTIONS: Readonly<Record<Assertion, string>> = {
  'text-start': '^',
  'text-end': '$',
  // RE2's multi-line anchors see only \n; JavaScript's `m` flag would also take \r, U+2028 and U+2029.
  'line-start': '(?:^|(?<=\\n))',
  'line-end': '(?:$|(?=\\n))',
  word: '\\b', // ASCII word characters, as RE2's \b (JavaScript's without the `u` and `i` flags)
  'not-word': '\\B',
};

interface Piece {
  readonly src: string;
  /** What a quantifier or a neighbour may be attached to without parentheses. */
  readonly shape: 'atom' | 'sequence' | 'alternation' | 'assertion';
}

/** JavaScript RegExp source (to compile without flags); with `captures`, RE2's capturing groups keep their numbers. */
export function toJsSource(tree: Re2Tree, captures: boolean): string {
  return emit(tree.root, captures, 1).src;
}

function emit(node: Re2Node, captures: boolean, replication: number): Piece {
  switch (node.kind) {
    case 'chars': {
      const src = node.set.toJs();
      // A code point above U+FFFF is two code units: a quantifier must take both.
      return { src, shape: node.set.single !== undefined && node.set.single > 0xffff ? 'sequence' : 'atom' };
    }
    case 'assert':
      return { src: ASSERTIONS[node.what], shape: node.what.startsWith('line') ? 'atom' : 'assertion' };
    case 'capture': {
      const body = emit(node.body, captures, replication);
      return captures ? { src: `(${body.src})`, shape: 'atom' } : body;
    }
    case 'concat':
      return {
        src: node.items.map((n) => {
          const p = emit(n, captures, replication);
          return p.shape === 'alternation' ? `(?:${p.src})` : p.src;
        }).join(''),
        shape: 'sequence',
      };
    case 'alt':
      return { src: node.items.map((n) => emit(n, captures, replication).src).join('|'), shape: 'alternation' };
    case 'repeat':
      return { src: repeat(node, captures, replication), shape: 'sequence' };
  }
}

function repeat(node: Extract<Re2Node, { kind: 'repeat' }>, captures: boolean, replication: number): string {
  const { min, max, greedy } = node;
  const lazy = greedy ? '' : '?';
  const local = max < 0 ? min + 1 : max;
  const native = (): string => {
    const q = max < 0 ? (min === 0 ? '*' : min === 1 ? '+' : `{${min},}`) : min === 0 && max === 1 ? '?' : min === max ? `{${min}}` : `{${min},${max}}`;
    return atom(emit(node.body, captures, replication * local)) + q + lazy;
  };
  const linear = min <= LINEAR_REPLICATION_LIMIT && (max < 0 || max <= LINEAR_REPLICATION_LIMIT) && replication * local <= LINEAR_REPLICATION_LIMIT;
  if (linear || (captures && hasCapture(node.body))) return native();
  // Copies of the body; `*` and `?` replicate nothing, so the body keeps the surrounding factor.
  const body = atom(emit(node.body, captures, replication));
  const size = body.length * (max < 0 ? min + 1 : max);
  if (size > EXPANSION_LIMIT) return native();
  let optional = '';
  if (max < 0) optional = `${body}*${lazy}`;
  else for (let k = max - min; k > 0; k--) optional = `(?:${body}${optional})?${lazy}`;
  return `(?:${body.repeat(min)}${optional})`;
}

function atom(p: Piece): string {
  return p.shape === 'atom' ? p.src : `(?:${p.src})`;
}

function hasCapture(node: Re2Node): boolean {
  switch (node.kind) {
    case 'capture':
      return true;
    case 'repeat':
      return hasCapture(node.body);
    case 'concat':
    case 'alt':
      return node.items.some(hasCapture);
    default:
      return false;
  }
}
