/** Protobuf's strict text format, feature by feature, with exact values and positions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SList, SMessage } from '../../src/config/syntax.js';
import { at, onlyScalar, parseOk, path, scalar } from './util.js';

test('an empty document, or one holding only comments and blanks, is an empty message', () => {
  assert.deepEqual(parseOk('').fields, []);
  const t = parseOk('\n  # only a comment\n\n');
  assert.deepEqual(t.fields, []);
  assert.deepEqual(t.trailingComments, ['only a comment']);
});

test('comments: leading whole-line comments, same-line trailing comments, comments before `}`', () => {
  const t = parseOk(['# one', '#two', 'a: 1 # after a', '', '# lead b', 'b {', '  c: 2;  #   after c  ', '  # inside b, at the end', '}', '# doc end'].join('\n'));
  assert.deepEqual(path(t, 'a').comments, { leading: ['one', 'two'], trailing: 'after a' });
  assert.deepEqual(path(t, 'b').comments, { leading: ['lead b'] });
  assert.deepEqual(path(t, 'b', 'c').comments, { trailing: '  after c' });
  assert.deepEqual((path(t, 'b').value as SMessage).trailingComments, ['inside b, at the end']);
  assert.deepEqual(t.trailingComments, ['doc end']);
  // A comment on a line of its own after a field is not that field's trailing comment.
  const t2 = parseOk('a: 1\n# for b\nb: 2');
  assert.equal(path(t2, 'a').comments, undefined);
  assert.deepEqual(path(t2, 'b').comments, { leading: ['for b'] });
});

test('double- and single-quoted strings with every escape', () => {
  const s = onlyScalar(String.raw`s: "a\nb\tc\rd\\e\"f\'g\?h\a\b\f\v"`);
  assert.equal(s.value, 'a\nb\tc\rd\\e"f\'g?h\x07\b\f\v');
  assert.equal(s.style, 'string');
  assert.equal(onlyScalar(String.raw`s: 'it\'s "x"'`).value, 'it\'s "x"');
  assert.equal(onlyScalar(String.raw`s: "\x41\x4a\x4B\x7"`).value, 'AJK\x07');
  assert.equal(onlyScalar(String.raw`s: "\101\0\12\1234"`).value, 'A\0\nS4');
  assert.equal(onlyScalar(String.raw`s: "\u00e9\u20AC\U0001F600"`).value, 'é€😀');
  // Byte escapes spell UTF-8: \303\251 is é, \xe2\x82\xac is €.
  assert.equal(onlyScalar(String.raw`s: "caf\303\251 \xe2\x82\xac"`).value, 'café €');
  // Bytes that are not UTF-8 keep one character per byte.
  assert.equal(onlyScalar(String.raw`s: "\xff\x00"`).value, '\xff\x00');
  // Non-ASCII text is taken as is.
  assert.equal(onlyScalar('s: "naïve ☃"').value, 'naïve ☃');
});

test('adjacent strings concatenate, across lines and quote styles; raw keeps the source text', () => {
  const t = parseOk('s: "ab" \'cd\'\n   "ef"\nn: 1');
  const s = scalar(path(t, 's').value);
  assert.equal(s.value, 'abcdef');
  assert.equal(s.raw, '"ab" \'cd\'\n   "ef"');
  assert.equal(at(s.span), '1:4-2:8');
  assert.equal(at(path(t, 's').span), '1:1-2:8');
  // …but a quoted name at the start of the next line starts a new field.
  const t2 = parseOk('"@type": "x"\n"a-b" { c: 1 }');
  assert.deepEqual(t2.fields.map((f) => f.name), ['@type', 'a-b']);
  assert.equal(scalar(path(t2, '@type').value).value, 'x');
});

test('`{…}` and `<…>` messages, with or without `:`', () => {
  const t = parseOk('a { x: 1 }\nb: { x: 2 }\nc < x: 3 >\nd: <x: 4>\ne {}\nf <>');
  assert.deepEqual(t.fields.map((f) => [f.name, f.value.kind]), [
    ['a', 'message'], ['b', 'message'], ['c', 'message'], ['d', 'message'], ['e', 'message'], ['f', 'message'],
  ]);
  assert.equal(scalar(path(t, 'c', 'x').value).value, 3);
  assert.equal(at(path(t, 'c').value.span), '3:3-3:11');
  assert.equal(at(path(t, 'd').span), '4:1-4:10');
  assert.deepEqual((path(t, 'f').value as SMessage).fields, []);
});

test('`;` and `,` separators, fields on one line', () => {
  const t = parseOk('a: 1; b: 2, c: "x"; d { e: 1, f: 2; }, g: 3');
  assert.deepEqual(t.fields.map((f) => f.name), ['a', 'b', 'c', 'd', 'g']);
  assert.deepEqual((path(t, 'd').value as SMessage).fields.map((f) => f.name), ['e', 'f']);
  // The separator is not part of the field's span.
  assert.equal(at(path(t, 'a').span), '1:1-1:5');
});

test('repeated fields: written repeatedly, and as `[a, b]` lists of scalars and of messages', () => {
  const t = parseOk('r: 1\nr: 2\nl: [1, "two", THREE, 4.5,]\nm: [{x: 1}, <x: 2>]\nn [{x: 3}]\ne: []');
  assert.equal(t.fields.filter((f) => f.name === 'r').length, 2);
  const l = path(t, 'l').value as SList;
  assert.deepEqual(l.items.map((i) => [scalar(i).style, scalar(i).value]), [
    ['number', 1], ['string', 'two'], ['bare', 'THREE'], ['number', 4.5],
  ]);
  assert.equal(at(l.span), '3:4-3:27');
  assert.deepEqual(l.items.map((i) => at(i.span)), ['3:5-3:6', '3:8-3:13', '3:15-3:20', '3:22-3:25']);
  const m = path(t, 'm').value as SList;
  assert.deepEqual(m.items.map((i) => i.kind), ['message', 'message']);
  assert.equal(at(m.items[1]!.span), '4:13-4:19');
  assert.equal((path(t, 'n').value as SList).items.length, 1);
  assert.deepEqual((path(t, 'e').value as SList).items, []);
});

test('enum names and booleans are bare identifiers; true/false are style bool', () => {
  const t = parseOk('lb_policy: ROUND_ROBIN\na: true\nb: False\nc: t\nd: null');
  assert.deepEqual(t.fields.map((f) => [scalar(f.value).style, scalar(f.value).value]), [
    ['bare', 'ROUND_ROBIN'], ['bool', true], ['bool', false], ['bare', 't'], ['null', null],
  ]);
});

test('numbers in every notation: decimal, hex, octal, floats, exponents, `f` suffix, negatives', () => {
  const cases: [string, number][] = [
    ['0', 0], ['42', 42], ['0x1F', 31], ['0XfF', 255], ['017', 15], ['00', 0],
    ['1.5', 1.5], ['1.', 1], ['.5', 0.5], ['1e3', 1000], ['1E-2', 0.01], ['2.5e+2', 250], ['.5e1', 5],
    ['1.5f', 1.5], ['2F', 2], ['1e2f', 100], ['-7', -7], ['-0x10', -16], ['-017', -15], ['-2.5e-1', -0.25],
  ];
  for (const [raw, value] of cases) {
    const s = onlyScalar(`n: ${raw}`);
    assert.deepEqual([s.style, s.value, s.raw], ['number', value, raw], raw);
    assert.equal(at(s.span), `1:4-1:${4 + raw.length}`, raw);
  }
  // A space between the sign and the number is allowed; raw drops it, the span covers both.
  const s = onlyScalar('n: - 5');
  assert.deepEqual([s.value, s.raw, at(s.span)], [-5, '-5', '1:4-1:7']);
});

test('large uint64 values keep every digit in raw', () => {
  const s = onlyScalar('n: 18446744073709551615');
  assert.equal(s.style, 'number');
  assert.equal(s.raw, '18446744073709551615');
  assert.equal(BigInt(s.raw), 2n ** 64n - 1n);
  assert.equal(onlyScalar('n: 0xFFFFFFFFFFFFFFFF').raw, '0xFFFFFFFFFFFFFFFF');
  assert.equal(onlyScalar('n: -9223372036854775808').raw, '-9223372036854775808');
});

test('inf, -inf, nan, -nan, infinity stay identifiers (style bare), sign included', () => {
  for (const raw of ['inf', '-inf', 'nan', '-nan', 'infinity', '-Infinity', 'NaN', 'INF']) {
    const s = onlyScalar(`f: ${raw}`);
    assert.deepEqual([s.style, s.value, s.raw, at(s.span)], ['bare', raw, raw, `1:4-1:${4 + raw.length}`]);
  }
});

test("the dialect's unquoted durations and other digit-led words are style bare", () => {
  for (const raw of ['0.25s', '5s', '10s', '250ms', '1m30s', '1h', '-1.5s', '5xx']) {
    const s = onlyScalar(`d: ${raw}`);
    assert.deepEqual([s.style, s.value, s.raw], ['bare', raw, raw], raw);
  }
});

test('Any-expansion and extension field names keep their brackets', () => {
  const t = parseOk(
    'typed_config {\n  [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {\n    stat_prefix: "x"\n  }\n}\n[pkg.ext]: 5\n[ my.ext . sub ] { }',
  );
  const any = (path(t, 'typed_config').value as SMessage).fields[0]!;
  assert.equal(any.name, '[type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager]');
  assert.equal(at(any.keySpan), '2:3-2:106');
  assert.equal(scalar(path(any.value, 'stat_prefix').value).value, 'x');
  assert.equal(scalar(path(t, '[pkg.ext]').value).value, 5);
  assert.equal(at(path(t, '[pkg.ext]').span), '6:1-6:13');
  assert.equal(t.fields[2]!.name, '[my.ext.sub]');
});

test('field spans run from the name to the end of the value; key spans cover the name', () => {
  const t = parseOk('  name : "x"\nblock {\n  a: 1\n}\n');
  const name = path(t, 'name');
  assert.equal(at(name.keySpan), '1:3-1:7');
  assert.equal(at(name.span), '1:3-1:13');
  assert.equal(at(name.value.span), '1:10-1:13');
  assert.equal(at(path(t, 'block').span), '2:1-4:2');
  assert.equal(at(path(t, 'block').value.span), '2:7-4:2');
  assert.equal(at(t.span), '1:1-5:1');
});

test('CRLF line endings, tabs, a byte-order mark and form feeds are whitespace', () => {
  const t = parseOk('\uFEFFa: 1\r\n\tb {\r\n\t\tc: "x"\f}\r\n');
  assert.equal(at(path(t, 'b', 'c').span), '3:3-3:9');
  assert.equal(scalar(path(t, 'a').value).value, 1);
});

test('nesting up to the depth limit (100) is fine', () => {
  const text = 'a {'.repeat(100) + '}'.repeat(100);
  let node = parseOk(text).fields[0]!;
  let depth = 1;
  while (node.value.kind === 'message' && node.value.fields.length > 0) {
    node = node.value.fields[0]!;
    depth++;
  }
  assert.equal(depth, 100);
});

test('a generated 2,000-cluster config reads into 2,000 cluster fields', () => {
  const one = (i: number): string =>
    `clusters {\n  name: "c${i}"\n  connect_timeout: 0.25s\n  load_assignment { endpoints { lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: ${1000 + i} } } } } } }\n}\n`;
  const text = 'static_resources {\n' + Array.from({ length: 2000 }, (_, i) => one(i)).join('') + '}\n';
  const t = parseOk(text);
  const clusters = (path(t, 'static_resources').value as SMessage).fields;
  assert.equal(clusters.length, 2000);
  assert.equal(scalar(path(clusters[1999]!.value, 'name').value).value, 'c1999');
  assert.equal(path(clusters[1999]!.value, 'name').keySpan.line, 2 + 1999 * 5 + 1);
});
