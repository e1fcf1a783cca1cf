/**
 * The RE2 translator on its own: one table of patterns with what RE2 makes of them (values it matches in full,
 * values it does not, or the error and where), regex_rewrite substitutions, and the linear-time fallback staying
 * available for every translation (V8's linear engine refuses the `i` and `u` flags and large counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRe2, compileRe2, compileRe2Rewrite } from '../../src/regex/re2.js';

type Row =
  | { readonly re: string; readonly matches: readonly string[]; readonly not: readonly string[] }
  | { readonly re: string; readonly error: 'unsupported' | 'invalid'; readonly at?: number; readonly says?: RegExp };

const rows: readonly Row[] = [
  // POSIX classes: inside a bracket expression only, ASCII, negatable.
  { re: '[[:alpha:]]+', matches: ['abcXYZ'], not: ['abc1', '', 'é'] },
  { re: '[[:^alpha:]]+', matches: ['123-', '\n'], not: ['a'] },
  { re: '[[:digit:][:upper:]_]+', matches: ['A1_'], not: ['a'] },
  { re: '[[:space:]]', matches: ['\v', '\t'], not: ['x'] },
  { re: '[[:punct:]]+', matches: ['!/:@[`{~'], not: ['a'] },
  { re: '[:alpha:]', matches: ['a', ':', 'p'], not: ['b'] }, // outside brackets: the class of `:alph`
  { re: '[[:nope:]]', error: 'invalid', at: 1, says: /unknown POSIX class/ },
  // Perl classes: ASCII in RE2; \s has no \v there.
  { re: '\\d+', matches: ['0123'], not: ['٣', 'x'] },
  { re: '\\s', matches: ['\t', '\n', '\f', '\r', ' '], not: ['\v', '\u00a0'] },
  { re: '\\w+', matches: ['a_1Z'], not: ['é', '-'] },
  { re: '\\D\\S\\W', matches: ['\na-'], not: ['1a-', 'a a', 'aa_'] },
  { re: '[\\d\\s]+', matches: ['1 2'], not: ['a'] },
  // Unicode classes: one-letter names, braces, negation three ways, scripts by long name only.
  { re: '\\pL+', matches: ['héllo', 'Ωμέγα', 'abc'], not: ['123', 'a1'] },
  { re: '\\p{L}\\p{Lu}', matches: ['aÉ'], not: ['aé'] },
  { re: '\\p{Greek}+', matches: ['Ωμέγα'], not: ['omega'] },
  { re: '\\PL+', matches: ['123', '\n'], not: ['a'] },
  { re: '\\P{Greek}+', matches: ['abc'], not: ['Ω'] },
  { re: '\\p{^Greek}', matches: ['a'], not: ['Ω'] },
  { re: '[\\pN\\p{Han}]+', matches: ['٣3漢'], not: ['a'] },
  { re: '\\pC', matches: ['\u0000', '\u200b'], not: ['\u0378'] }, // RE2's C leaves out the unassigned (Cn)
  { re: '\\p{Any}', matches: ['😀', 'a'], not: ['', 'ab'] },
  { re: '\\p{Foo}', error: 'invalid', at: 0, says: /invalid character class range `\\p\{Foo\}`/ },
  { re: '\\p{Grek}', error: 'invalid', at: 0 },
  { re: '\\p{Alphabetic}', error: 'invalid', at: 0 }, // a property JavaScript has and RE2 does not
  // Code points, not UTF-16 code units.
  { re: '.', matches: ['😀', 'a', '\r'], not: ['\n', 'ab'] },
  { re: '(?s).', matches: ['\n'], not: [''] },
  { re: '[^a]', matches: ['😀', '\n'], not: ['a'] },
  { re: '\\x{1F600}+', matches: ['😀😀'], not: ['\ud83d'] },
  // Flags: whole pattern, to the end of the group, scoped, cleared.
  { re: '(?i)/api/v[0-9]+', matches: ['/API/V2', '/api/v10'], not: ['/api/x'] },
  { re: '(?i)k', matches: ['K', 'k', '\u212a'], not: ['x'] }, // Kelvin sign folds with k in RE2
  { re: '(?i)ß', matches: ['ẞ'], not: ['ss'] },
  { re: '(?i)[a-c]+', matches: ['AbC'], not: ['d'] },
  { re: '(?i)[^k]', matches: ['x'], not: ['K', '\u212a'] },
  { re: 'a(?i)b', matches: ['ab', 'aB'], not: ['AB'] },
  { re: '(a(?i)b|c)d', matches: ['aBd', 'Cd'], not: ['aBD'] },
  { re: '(?i:a)b', matches: ['Ab'], not: ['AB'] },
  { re: '(?i)a(?-i)b', matches: ['Ab'], not: ['AB'] },
  { re: '(?m)^a$\\n^b$', matches: ['a\nb'], not: ['ab'] },
  { re: '^a$\\n^b$', matches: [], not: ['a\nb'] },
  { re: '(?sU)a.+b', matches: ['a\nxb'], not: ['ab'] },
  { re: '(?x)a b', error: 'invalid', at: 0, says: /invalid or unsupported group `\(\?x`/ },
  { re: '(?i-)a', error: 'invalid', at: 0 },
  // Anchors.
  { re: '\\A/x\\z', matches: ['/x'], not: ['/x/'] },
  { re: '^/x$', matches: ['/x'], not: ['/xy'] },
  { re: 'a$b', matches: [], not: ['ab', 'a$b'] },
  { re: '^*x', matches: ['x'], not: ['^x'] }, // RE2 lets an anchor be repeated
  { re: '\\bfoo\\b', matches: ['foo'], not: [] },
  { re: '\\Z', error: 'unsupported', at: 0 },
  { re: '\\G', error: 'unsupported', at: 0 },
  // \Q…\E: literal text, to \E or the end.
  { re: '\\Q.*+?\\E', matches: ['.*+?'], not: ['x'] },
  { re: '/\\Qa.b', matches: ['/a.b'], not: ['/axb'] },
  { re: '\\Qab\\E+', matches: ['abbb'], not: ['abab'] },
  // Groups: named the Python way and the .NET way, numbered, non-capturing.
  { re: '/users/(?P<id>[0-9]+)', matches: ['/users/42'], not: ['/users/x'] },
  { re: '(?<id>[0-9]+)-(?P<name>[a-z]+)', matches: ['7-ab'], not: ['7-'] },
  // RE2 takes a name twice (the leftmost group keeps it), unlike JavaScript, Go and Rust.
  { re: '(?P<n>a)(?P<n>b)', matches: ['ab'], not: ['a', 'ba'] },
  { re: '(?P<a-b>x)', error: 'invalid', at: 0 },
  { re: '(?P<1a>x)', matches: ['x'], not: [] },
  { re: '(?:ab)+|(c)', matches: ['abab', 'c'], not: ['abc'] },
  { re: '/x|/y', matches: ['/x', '/y'], not: ['/yz'] },
  { re: '', matches: [''], not: ['a'] },
  // Repetition: counts up to 1000 (nested ones multiplied), `{` that is not a count is a literal.
  { re: 'a{2,4}', matches: ['aa', 'aaaa'], not: ['a', 'aaaaa'] },
  { re: 'a{20}', matches: ['a'.repeat(20)], not: ['a'.repeat(19), 'a'.repeat(21)] },
  { re: '(ab){2,}?', matches: ['abababab'], not: ['ab'] },
  { re: '[0-9a-f]{32}', matches: ['0123456789abcdef0123456789abcdef'], not: ['0123456789abcdef'] },
  { re: '(x{1,20}y){2}', matches: ['xyxxxy'], not: ['xy'] },
  { re: 'a{,2}', matches: ['a{,2}'], not: ['aa'] },
  { re: 'a{01}', matches: ['a{01}'], not: ['a'] },
  { re: '{', matches: ['{'], not: [] },
  { re: 'a{1000}', matches: ['a'.repeat(1000)], not: ['a'] },
  { re: 'a{1001}', error: 'invalid', at: 1, says: /repeat count in `\{1001\}` exceeds RE2's limit of 1000/ },
  { re: '(a{10}){101}', error: 'invalid', at: 7, says: /nested repeat counts/ },
  { re: 'a{3,2}', error: 'invalid', at: 1, says: /bad repeat range/ },
  { re: '*a', error: 'invalid', at: 0, says: /nothing to repeat/ },
  { re: 'a**', error: 'invalid', at: 1, says: /bad repetition operator `\*\*`/ },
  // Escapes RE2 knows, and the ones it does not.
  { re: '\\x41\\101\\x{42}\\.\\-\\_', matches: ['AAB.-_'], not: [] },
  { re: '\\12\\0', matches: ['\n\0'], not: [] },
  { re: '[\\]a-]+', matches: [']a-'], not: ['b'] },
  { re: '\\e', error: 'invalid', at: 0, says: /invalid escape sequence `\\e`/ },
  { re: '\\u0041', error: 'invalid', at: 0 },
  { re: '[\\1]', error: 'invalid', at: 1 },
  { re: '[\\b]', error: 'invalid', at: 1 },
  { re: '\\', error: 'invalid', at: 0, says: /trailing backslash/ },
  // Structure.
  { re: '/items/([0-9]+$', error: 'invalid', at: 7, says: /^unterminated group$/ },
  { re: 'a)', error: 'invalid', at: 1 },
  { re: '[a-', error: 'invalid', at: 0, says: /missing closing `]`/ },
  { re: '[]a]', matches: [']', 'a'], not: ['b'] },
  { re: '[z-a]', error: 'invalid', at: 1, says: /range out of order/ },
  // What RE2 does not have.
  { re: '(a)\\1', error: 'unsupported', at: 3, says: /backreference `\\1`/ },
  { re: '(a)\\8', error: 'unsupported', at: 3 },
  { re: '(?P<n>a)\\k<n>', error: 'unsupported', at: 8, says: /named backreference/ },
  { re: '(?P<n>a)(?P=n)', error: 'unsupported', at: 8 },
  { re: 'x(?=y)', error: 'unsupported', at: 1, says: /look-ahead/ },
  { re: 'x(?!y)', error: 'unsupported', at: 1 },
  { re: '(?<=x)y', error: 'unsupported', at: 0, says: /look-behind/ },
  { re: '(?<!x)y', error: 'unsupported', at: 0 },
  { re: 'a++', error: 'unsupported', at: 1, says: /possessive/ },
  { re: 'a*+', error: 'unsupported', at: 1 },
  { re: 'a{2}+', error: 'unsupported', at: 1 },
  { re: '(?>a)', error: 'unsupported', at: 0, says: /atomic/ },
  { re: '(?(1)a|b)', error: 'unsupported', at: 0 },
  { re: '(?R)', error: 'unsupported', at: 0 },
  { re: '(?#note)', error: 'unsupported', at: 0 },
  // RE2 has \C (one byte) but text has no bytes to match it against.
  { re: '/\\C', error: 'unsupported', at: 1, says: /`\\C`/ },
];

for (const row of rows) {
  test(`RE2 ${JSON.stringify(row.re)}`, () => {
    const r = compileRe2(row.re);
    if ('error' in row) {
      assert.equal(r.ok, false, 'RE2 refuses it');
      const e = r.ok ? undefined : r.error;
      assert.equal(e?.kind, row.error);
      if (row.at !== undefined) assert.equal(e?.offset, row.at, e?.message);
      if (row.says !== undefined) assert.match(e!.message, row.says);
      assert.deepEqual(checkRe2(row.re), e, 'validate sees the same error');
      return;
    }
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(checkRe2(row.re), undefined);
    assert.equal(r.regex.flags, '', 'no flags: V8 can fall back to its linear-time engine');
    for (const v of row.matches) assert.ok(r.regex.test(v), `matches ${JSON.stringify(v)} in full`);
    for (const v of row.not) assert.ok(!r.regex.test(v), `does not match ${JSON.stringify(v)}`);
  });
}

test('regex_rewrite: RE2 substitution syntax (\\1, \\0, \\\\, a literal $), every match replaced', () => {
  const rewrite = (pattern: string, sub: string, path: string): string => {
    const r = compileRe2Rewrite(pattern, sub);
    assert.ok(r !== undefined, pattern);
    return path.replace(r.re, r.sub);
  };
  assert.equal(rewrite('^/api/(v[0-9]+)/(.*)$', '/\\2/\\1', '/api/v2/users/7'), '/users/7/v2');
  assert.equal(rewrite('x', '$1\\0$&', 'axbx'), 'a$1x$&b$1x$&');
  assert.equal(rewrite('a', '\\\\', 'ab'), '\\b');
  assert.equal(rewrite('(a)', '\\10', 'ab'), 'a0b', 'group 1, then a literal 0');
  assert.equal(rewrite('a', '[\\1]', 'ab'), 'ab', 'a group the pattern lacks: RE2 replaces nothing');
  assert.equal(rewrite('a', 'x\\qy', 'ab'), 'xb', 'RE2 stops at an escape it does not know');
  assert.equal(rewrite('(?i)/API', '/v2', '/api/Api'), '/v2/v2');
  assert.equal(rewrite('(?U)a+', '-', 'aaa'), '---', '(?U): each a on its own');
  assert.equal(rewrite('\\pL+', '*', 'héllo wörld'), '* *');
  assert.equal(rewrite('(a){3}', '<\\1>', 'aaaa'), '<a>a', 'a counted group keeps its number (the last repetition)');
  assert.equal(rewrite('(x){20}', '<\\1>', 'x'.repeat(20)), '<x>');
  assert.equal(compileRe2Rewrite('(a)\\1', 'x'), undefined, 'a pattern RE2 refuses rewrites nothing (validate reports it)');
});

test('every translation keeps V8 able to finish a hostile match in linear time', () => {
  // Each would backtrack exponentially on a plain V8 RegExp (minutes on this input); on RE2 it is one pass.
  // The translation must stay inside what V8's linear-time engine accepts: no `i` or `u` flag, no count above 16.
  const hostile = '/' + 'a'.repeat(28) + '!';
  for (const p of ['/(a+)+', '(?i)/(a+)+', '/(\\pL+)+', '/([a-z]{1,20})+', '/((a+)+)+', '/(\\w+\\s?)+', '/(?:a{2,}|b)+']) {
    const r = compileRe2(p);
    assert.ok(r.ok, p);
    const started = process.hrtime.bigint();
    assert.equal(r.regex.test(hostile), false, p);
    assert.ok(r.regex.test(hostile.slice(0, -1)), p);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // A hang bound, not a speed target.
    assert.ok(ms < 5_000, `${p}: matching took ${ms.toFixed(0)} ms`);
  }
});
