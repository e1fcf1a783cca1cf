/** Syntax errors: exact positions, "expected X, found Y" messages, recovery to report several, never a throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagLine, parse } from './util.js';

/** The diagnostics of a text as `span ruleId message` lines. */
function errors(text: string): string[] {
  const r = parse(text);
  if (r.diagnostics.some((d) => d.severity === 'error')) assert.equal(r.tree, undefined, 'no tree when there are errors');
  return r.diagnostics.map(diagLine);
}

test('an unclosed message names the message and where it was opened, at the end of file', () => {
  assert.deepEqual(errors('static_resources {\n  clusters {\n    name: "x"\n'), [
    '4:1-4:2 syntax-error expected `}` to close `clusters` opened at 2:3, found end of file',
    '4:1-4:2 syntax-error expected `}` to close `static_resources` opened at 1:1, found end of file',
  ]);
  const r = parse('a {\n  b: 1\n');
  assert.deepEqual(r.diagnostics[0]!.related?.map((x) => [x.message, x.span.line, x.span.column]), [['`a` opened here', 1, 1]]);
});

test('the partial option returns the recovered tree', () => {
  const r = parse('a { b: 1\nc: 2', true);
  assert.equal(r.diagnostics.length, 1);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['a']);
});

test('mismatched and stray closing brackets', () => {
  assert.deepEqual(errors('a: 1\n}'), ['2:1-2:2 syntax-error unexpected `}`: there is no open `{` to close']);
  assert.deepEqual(errors('b { c: < d: 1 } }'), ['1:15-1:16 syntax-error expected `>` to close `c` opened at 1:5, found `}`']);
  assert.deepEqual(errors('d { e: 3 >'), ['1:10-1:11 syntax-error expected `}` to close `d` opened at 1:1, found `>`']);
  assert.deepEqual(errors('a { b: 1 ]\n}'), ['1:10-1:11 syntax-error expected a field name, found `]`']);
});

test('unclosed lists', () => {
  assert.deepEqual(errors('a: [1, 2'), ['1:9-1:10 syntax-error expected `]` to close the list of `a` opened at 1:4, found end of file']);
  // A field name at the start of the next line: the `]` was forgotten; the next field still reads.
  const r = parse('domains: ["a"\nname: "x"', true);
  assert.deepEqual(r.diagnostics.map(diagLine), ['2:1-2:5 syntax-error expected `]` to close the list of `domains` opened at 1:10, found `name`']);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['domains', 'name']);
  assert.deepEqual(errors('m { a: [1, }'), ['1:12-1:13 syntax-error expected `]` to close the list of `a` opened at 1:8, found `}`']);
});

test('missing separators in a list', () => {
  assert.deepEqual(errors('a: [1 2]'), ['1:7-1:8 syntax-error expected `,` or `]` after an element of `a`, found number `2`']);
  assert.deepEqual(errors('a: [{x: 1} {x: 2}]'), ['1:12-1:13 syntax-error expected `,` or `]` after an element of `a`, found `{`']);
  assert.deepEqual(errors('a: [1, :]'), ['1:8-1:9 syntax-error expected a list element or `]`, found `:`']);
});

test('missing values and colons', () => {
  assert.deepEqual(errors('a: }'), ['1:4-1:5 syntax-error expected a value for `a`, found `}`']);
  assert.deepEqual(errors('a:'), ['1:3-1:4 syntax-error expected a value for `a`, found end of file']);
  assert.deepEqual(errors('port_value 80'), ['1:12-1:14 syntax-error expected `:` between `port_value` and its value, found number `80`']);
  assert.deepEqual(errors('enabled\nport: 5'), ['2:1-2:5 syntax-error expected `:` or `{` after `enabled`, found `port`']);
  assert.deepEqual(errors('a: 1 ; : 2'), ['1:8-1:9 syntax-error expected a field name, found `:`']);
  assert.deepEqual(errors('a: -x'), ['1:5-1:6 syntax-error expected a number after `-`, found `x`']);
  assert.deepEqual(errors('{ a: 1 }\nb: 2'), ['1:1-1:2 syntax-error expected a field name, found `{`']);
});

test('unterminated strings stop at the end of the line; the next line still reads', () => {
  const r = parse('a: "abc\nb: 1', true);
  assert.deepEqual(r.diagnostics.map(diagLine), ['1:4-1:8 syntax-error unterminated string: expected a closing `"` before the end of the line']);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['a', 'b']);
  assert.deepEqual(errors("a: 'abc"), ["1:4-1:8 syntax-error unterminated string: expected a closing `'` before the end of the line"]);
});

test('invalid escapes: unknown, short \\x \\u \\U, out of range, backslash at the end of the line', () => {
  assert.deepEqual(errors('a: "x\\qy"'), ['1:6-1:8 invalid-escape invalid escape `\\q`']);
  assert.deepEqual(errors('a: "\\x"'), ['1:5-1:7 invalid-escape invalid escape `\\x`: expected 1 or 2 hex digits after it']);
  assert.deepEqual(errors('a: "\\u12"'), ['1:5-1:9 invalid-escape invalid escape `\\u12`: `\\u` needs exactly 4 hex digits']);
  assert.deepEqual(errors('a: "\\U0011FFFF"'), ['1:5-1:15 invalid-escape invalid escape `\\U0011FFFF`: beyond the last Unicode code point U+10FFFF']);
  assert.deepEqual(errors('a: "\\400"'), ['1:5-1:9 invalid-escape invalid escape `\\400`: an octal escape is one byte, at most \\377']);
  assert.deepEqual(errors('a: "tail\\'), [
    '1:9-1:10 invalid-escape invalid escape: `\\` at the end of the line',
    '1:4-1:10 syntax-error unterminated string: expected a closing `"` before the end of the line',
  ]);
  assert.deepEqual(errors('a: "\\é"'), ['1:5-1:7 invalid-escape invalid escape `\\é`']);
  assert.deepEqual(errors('a: "\\\x07"'), ['1:5-1:7 invalid-escape invalid escape: `\\` followed by U+0007']);
  assert.equal(parse('a: "\\q"').diagnostics[0]!.severity, 'error');
});

test('looking ahead past a string (to tell a quoted field name) reports nothing twice', () => {
  assert.deepEqual(errors('a: "x"\n"b" "c\\q"'), ['2:7-2:9 invalid-escape invalid escape `\\q`']);
  assert.deepEqual(errors('a: "x"\n"b" @'), ['2:5-2:6 syntax-error unexpected character `@`']);
  const r = parse('a: "x"\n"b" "c"', true);
  assert.equal(r.tree?.fields.length, 1);
});

test('unknown characters, NUL bytes and lone surrogates are reported, not fatal', () => {
  assert.deepEqual(errors('a: 1 @ b: 2'), ['1:6-1:7 syntax-error unexpected character `@`']);
  assert.deepEqual(errors('a: 1 @@$ b: 2'), ['1:6-1:9 syntax-error unexpected characters starting with `@`']);
  assert.deepEqual(errors('a: 1\0b: 2'), ['1:5-1:6 syntax-error unexpected character U+0000']);
  assert.deepEqual(errors('a: 1 \uDC00'), ['1:6-1:7 syntax-error unexpected character U+DC00']);
  assert.deepEqual(errors('a: .'), ['1:4-1:5 syntax-error unexpected character `.`']);
  assert.deepEqual(errors('a: é'), ['1:4-1:5 syntax-error unexpected character `é` (U+00E9)']);
  // Inside strings they are just characters.
  assert.deepEqual(errors('a: "\0\uD800"'), []);
  const r = parse('a: 1 @ b: 2', true);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['a', 'b']);
});

test('`//` comments are an error with a hint, and are skipped like comments', () => {
  const r = parse('// c\na: 1', true);
  assert.deepEqual(r.diagnostics.map(diagLine), ['1:1-1:3 syntax-error unexpected `//`: text format comments start with `#`']);
  assert.match(r.diagnostics[0]!.hint ?? '', /#/);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['a']);
});

test('malformed numbers and extension names', () => {
  assert.deepEqual(errors('a: 08'), ['1:4-1:6 syntax-error invalid number `08`: a leading 0 makes it octal, which has no digits 8 or 9']);
  assert.deepEqual(errors('[foo.bar: 1'), ['1:9-1:10 syntax-error expected `]` to close the field name `[foo.bar` opened at 1:1, found `:`']);
  assert.deepEqual(errors('[foo.bar\nx: 1'), ['1:9-1:10 syntax-error expected `]` to close the field name `[foo.bar` opened at 1:1, found end of line']);
  assert.deepEqual(errors('[]: 1'), ['1:2-1:3 syntax-error expected an extension or type name after `[` at 1:1, found `]`']);
  assert.deepEqual(errors('[a b]: 1'), ['1:4-1:5 syntax-error expected `]` to close the field name `[a` opened at 1:1, found `b`']);
});

test('several errors in one pass, each once', () => {
  assert.deepEqual(errors('a { b: 1\nc: [1 2]\nd: "x\\q"\ne: @\n}\n}'), [
    '2:7-2:8 syntax-error expected `,` or `]` after an element of `c`, found number `2`',
    '3:6-3:8 invalid-escape invalid escape `\\q`',
    '4:4-4:5 syntax-error unexpected character `@`',
    '6:1-6:2 syntax-error unexpected `}`: there is no open `{` to close',
  ]);
});

test('nesting deeper than 100 levels is `nesting-too-deep`, once, and reading goes on after it', () => {
  const r = parse('a {'.repeat(101) + '}'.repeat(101) + '\nz: 1', true);
  assert.deepEqual(r.diagnostics.map(diagLine), [
    '1:303-1:304 nesting-too-deep messages and lists nested more than 100 levels deep; this `{` is level 101',
  ]);
  assert.deepEqual(r.tree?.fields.map((f) => f.name), ['a', 'z']);
  const lists = parse('a: ' + '['.repeat(101) + ']'.repeat(101));
  assert.deepEqual(lists.diagnostics.map((d) => [d.ruleId, d.span.column]), [['nesting-too-deep', 104]]);
});

test('pathological inputs end with a bounded number of diagnostics and no stack overflow', () => {
  const deep = parse('a {'.repeat(200_000));
  assert.equal(deep.diagnostics[0]!.ruleId, 'nesting-too-deep');
  assert.ok(deep.diagnostics.length <= 4, `${deep.diagnostics.length} diagnostics`);
  const noise = parse('@ '.repeat(1000));
  assert.equal(noise.diagnostics.length, 101);
  assert.match(noise.diagnostics[100]!.message, /too many errors \(100\)/);
  const brackets = parse(']'.repeat(5000) + '>'.repeat(5000));
  assert.ok(brackets.diagnostics.length <= 101);
});
