/**
 * meshctl's RE2 translation (src/regex) against RE2 itself: Google's RE2 compiled to WebAssembly (the `re2-wasm`
 * package). fast-check writes patterns from RE2's grammar — literals, classes (POSIX, Perl, Unicode, negated, ranges),
 * groups (capturing, named, non-capturing, flag groups), alternation, repetition (greedy, lazy, counted), anchors,
 * `\Q…\E` — and strings over the same alphabet; for every pattern both must agree on whether it is accepted, and for
 * every accepted pattern on whether each string matches it in full (Envoy's safe_regex is RE2::FullMatch).
 *
 * The hand-written translator earns its place only while this agreement holds. re2-wasm carries RE2 as of 2021:
 * what RE2 learnt since (the `(?<name>` form, Unicode-word names) is left out of the generator and covered by the
 * table in re2.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { compileRe2 } from '../../src/regex/re2.js';

/** re2-wasm's embind class: RE2 itself, without the package's JavaScript-syntax translation in front of it. */
interface WrappedRe2 {
  ok(): boolean;
  match(input: string, start: number, groups: boolean): { index: number };
  delete(): void;
}
const { WrappedRE2 } = createRequire(import.meta.url)('re2-wasm/build/wasm/re2.js') as {
  WrappedRE2: new (pattern: string, ignoreCase: boolean, multiline: boolean, dotAll: boolean) => WrappedRe2;
};

/**
 * RE2's own verdict: undefined when it refuses the pattern, else whether each string matches it in full (\A(?:…)\z).
 * Every wrapped object is deleted: the module's heap is a fixed 16 MiB and embind objects are not garbage-collected.
 */
function re2Verdicts(pattern: string, strings: readonly string[]): boolean[] | undefined {
  const alone = new WrappedRE2(pattern, false, false, false);
  const ok = alone.ok();
  alone.delete();
  if (!ok) return undefined;
  const full = new WrappedRE2(`\\A(?:${pattern})\\z`, false, false, false);
  try {
    return strings.map((s) => full.match(s, 0, false).index >= 0);
  } finally {
    full.delete();
  }
}

/** What meshctl refuses on purpose although RE2 has it (documented in docs/rules.md). */
const MESHCTL_REFUSES = /\\C/;

const SEED = Number(process.env.MESHCTL_FC_SEED ?? 20261206);
const RUNS = Number(process.env.MESHCTL_FC_RUNS ?? 400);

const alphabet = ['a', 'b', 'A', 'B', '0', '7', '_', '-', '.', '/', ' ', 'é', 'Ω', 'ß', '\n'];
const atom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'A', 'Z', '0', '9', '_', '-', '/', 'é', 'Ω', '\\.', '\\-', '\\/', '\\\\', '\\n', '\\x41', '\\x{3A9}'),
  fc.constantFrom('.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\pL', '\\PL', '\\p{Greek}', '\\p{^Greek}', '\\pN', '\\p{Lu}'),
  fc.constantFrom('[a-c]', '[^a-c]', '[[:alpha:]]', '[[:^digit:]]', '[[:upper:]0-9]', '[\\d_]', '[^\\s]', '[a\\-z]', '[.]', '[\\p{Greek}a]'),
  fc.constantFrom('^', '$', '\\A', '\\z', '\\b', '\\B', '\\Qa.b\\E', '\\Q*\\E'),
  // Things RE2 refuses: backreferences, look-around, possessive quantifiers, bad escapes, unbalanced groups.
  fc.constantFrom('\\1', '(?=a)', '(?!a)', '(?<=a)', 'a++', '\\e', '\\C', '(', ')', '[', 'a{2,1}', '*', '(?P<n>a)(?P<n>b)'),
);
const { re: pattern } = fc.letrec<{ re: string; seq: string; item: string }>((tie) => ({
  re: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('seq'), fc.tuple(tie('seq'), tie('seq')).map(([x, y]) => `${x}|${y}`)),
  seq: fc.array(tie('item'), { minLength: 1, maxLength: 4 }).map((xs) => xs.join('')),
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    atom,
    fc.tuple(atom, fc.constantFrom('*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,}', '{2,}?')).map(([a, q]) => a + q),
    tie('re').map((r) => `(${r})`),
    tie('re').map((r) => `(?:${r})`),
    tie('re').map((r) => `(?P<g>${r})`),
    fc.tuple(fc.constantFrom('i', 's', 'U', '-i', 'i-s', 'is'), tie('re')).map(([f, r]) => `(?${f}:${r})`),
    fc.constantFrom('(?i)', '(?s)', '(?U)').chain((f) => tie('seq').map((s) => `${f}${s}`)),
  ),
}));
const subject = fc.array(fc.constantFrom(...alphabet), { maxLength: 8 }).map((cs) => cs.join(''));

test('translated patterns accept, refuse and match exactly as RE2 does (fast-check against re2-wasm)', () => {
  fc.assert(
    fc.property(pattern, fc.array(subject, { minLength: 4, maxLength: 12 }), (p, strings) => {
      const ours = compileRe2(p);
      const theirs = re2Verdicts(p, strings);
      if (MESHCTL_REFUSES.test(p) && theirs !== undefined) return !ours.ok;
      assert.equal(ours.ok, theirs !== undefined, `verdicts differ for /${p}/: meshctl ${ours.ok ? 'accepts' : `refuses (${ours.error.message})`}, RE2 ${theirs ? 'accepts' : 'refuses'}`);
      if (!ours.ok || theirs === undefined) return true;
      strings.forEach((s, i) => assert.equal(ours.regex.test(s), theirs[i], `/${p}/ on ${JSON.stringify(s)}: meshctl ${!theirs[i]}, RE2 ${theirs[i]}`));
      return true;
    }),
    { seed: SEED, numRuns: RUNS },
  );
});
