/** Format detection, file reading and the input limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, readConfigFile, detectFormat, ConfigReadError, codeFrame, SourceFile } from '../../src/config/index.js';

test('detectFormat: extension first, then content; Envoy shape recognised', () => {
  for (const ext of ['textproto', 'pbtxt', 'txtpb', 'txt', 'conf']) assert.equal(detectFormat(`a.${ext}`, 'admin: {}'), 'textproto');
  assert.equal(detectFormat('a.yaml', 'admin: {}'), 'yaml');
  assert.equal(detectFormat('a.yml', 'admin: {}'), 'yaml');
  assert.equal(detectFormat('a.json', '{}'), 'json');
  assert.equal(detectFormat('a.yaml', 'x:\n  "@type": type.googleapis.com/x'), 'envoy');
  // Top-level keys that make an Envoy Bootstrap and not meshctl's own shape (an Envoy-only field, a JSON name).
  assert.equal(detectFormat('a.json', '{"static_resources": {"listeners": []}, "layered_runtime": {}}'), 'envoy');
  assert.equal(detectFormat('a.json', '{"staticResources": {"listeners": [{"typedConfig": {}}]}}'), 'envoy');
  assert.equal(detectFormat('a.yaml', 'node: {id: a}\nlayered_runtime:\n  layers: []\n'), 'envoy');
  // Keys both shapes have: meshctl's shape, as before (its dialect stays readable).
  assert.equal(detectFormat('a.json', '{"static_resources": {"listeners": [{"typed_config": {}}]}}'), 'json');
  // A key Envoy's Bootstrap does not have: meshctl's shape.
  assert.equal(detectFormat('a.yaml', 'static_resources: {}\nhttp_server: {}\nlayered_runtime: {}\n'), 'yaml');
  assert.equal(detectFormat('-', 'static_resources {\n  clusters { name: "a" }\n}'), 'textproto');
  assert.equal(detectFormat('-', '# c\ncluster {'), 'textproto');
  assert.equal(detectFormat('-', 'static_resources:\n  clusters:\n  - name: a\n'), 'yaml');
  assert.equal(detectFormat('-', 'admin: {address: {}}\n'), 'yaml');
  assert.equal(detectFormat('-', '{\n  "admin": {}\n}'), 'json');
  assert.equal(detectFormat('-', 'static_resources:\n  listeners:\n  - filter_chains: [{filters: [{typed_config: {}}]}]\n'), 'yaml');
  assert.equal(detectFormat('-', '# an Envoy bootstrap\nadmin: {}\noverload_manager: {}\n'), 'envoy');
});

test('--from overrides detection', () => {
  const r = parseConfig('admin { access_log_path: "x" }', 'a.yaml', { from: 'textproto' });
  assert.equal(r.format, 'textproto');
  assert.equal(r.config!.admin!.access_log_path, 'x');
  const y = parseConfig('admin:\n  access_log_path: x\n', 'a.textproto', { from: 'yaml' });
  assert.equal(y.config!.admin!.access_log_path, 'x');
});

test('readConfigFile: missing file and directory reject with ConfigReadError naming the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-parse-'));
  try {
    const missing = join(dir, 'nope.yaml');
    await assert.rejects(readConfigFile(missing), (err: unknown) => {
      assert.ok(err instanceof ConfigReadError);
      assert.match(err.message, /nope\.yaml/);
      assert.match(err.message, /no such file/);
      return true;
    });
    mkdirSync(join(dir, 'sub.yaml'));
    await assert.rejects(readConfigFile(join(dir, 'sub.yaml')), ConfigReadError);
    const ok = join(dir, 'ok.yml');
    writeFileSync(ok, 'admin: {access_log_path: /dev/null}\n');
    const r = await readConfigFile(ok);
    assert.equal(r.source.name, ok);
    assert.equal(r.config!.admin!.access_log_path, '/dev/null');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('limits: file size, nesting depth and resource count give clear diagnostics', async () => {
  const big = parseConfig('admin: {}\n' + '#'.repeat(2000), 'big.yaml', { maxBytes: 1000 });
  assert.equal(big.config, undefined);
  assert.equal(big.diagnostics[0]!.ruleId, 'file-too-large');
  assert.match(big.diagnostics[0]!.message, /big\.yaml is 2\.0 KiB; meshctl reads configs of at most 1000 bytes/);

  const dir = mkdtempSync(join(tmpdir(), 'meshctl-parse-'));
  try {
    const f = join(dir, 'big.json');
    writeFileSync(f, '{"admin": {}}' + ' '.repeat(5000));
    const r = await readConfigFile(f, { maxBytes: 4096 });
    assert.deepEqual(r.diagnostics.map((d) => d.ruleId), ['file-too-large']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const deep = parseConfig('{"admin": {"unknown": ' + '['.repeat(500) + ']'.repeat(500) + '}}', 'deep.json');
  assert.equal(deep.config, undefined);
  assert.equal(deep.diagnostics[0]!.ruleId, 'nesting-too-deep');

  const many = parseConfig(`static_resources:\n  clusters:\n${'  - name: c\n'.repeat(30)}`, 'm.yaml', { maxResources: 20 });
  assert.ok(many.diagnostics.some((d) => d.ruleId === 'too-many-resources' && d.severity === 'error'));
});

test('diagnostics come out in file order', () => {
  const r = parseConfig('node: {idd: x}\nadmin: {x: 1}\nstatic_resources: {clusters: [{name: c, type: NOPE}]}\n', 'o.yaml');
  const lines = r.diagnostics.map((d) => d.span.line);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  assert.equal(lines.length, 3);
});

test('codeFrame: the line with a caret under the span, neighbours with line numbers, tabs expanded', () => {
  const src = new SourceFile('f.yaml', 'a: 1\nlb_policy: ROUND_ROBBIN\nc: 3\n');
  const span = { file: 'f.yaml', line: 2, column: 12, endLine: 2, endColumn: 24 };
  assert.equal(
    codeFrame(src, span),
    ['  1 | a: 1', '> 2 | lb_policy: ROUND_ROBBIN', '    |            ^^^^^^^^^^^^', '  3 | c: 3'].join('\n'),
  );
  const tabs = new SourceFile('t.textproto', 'x {\n\tname:\t"a"\n}');
  const frame = codeFrame(tabs, { file: 't', line: 2, column: 8, endLine: 2, endColumn: 11 }, { linesAbove: 0, linesBelow: 0 });
  assert.equal(frame, ['> 2 |     name:   "a"', `    | ${' '.repeat(12)}^^^`].join('\n'));
  const coloured = codeFrame(src, span, { color: true });
  assert.match(coloured, /\u001b\[31;1m/);
  assert.doesNotMatch(codeFrame(src, span), /\u001b/);
  // A span at the end of the file still gets one caret.
  const end = codeFrame(src, { file: 'f', line: 4, column: 1, endLine: 4, endColumn: 1 });
  assert.match(end, /\^/);
});

test('codeFrame: a minified line shows a window around the span, the caret still under it', () => {
  const before = '{"a":1,'.repeat(2000);
  const text = `${before}"lb_policy":"ROUND_ROBBIN",${'"z":2,'.repeat(2000)}"end":0}`;
  const src = new SourceFile('min.json', text);
  const column = before.length + 13; // 1-based: `"lb_policy":` is 12 characters
  const frame = codeFrame(src, { file: 'min.json', line: 1, column, endLine: 1, endColumn: column + 14 });
  const [shown, marker] = frame.split('\n') as [string, string];
  assert.ok(shown.length < 200, `frame line is ${shown.length} characters`);
  assert.match(shown, /^> 1 \| …/);
  assert.match(shown, /…$/);
  // The caret sits under the value's first character, as it would on the whole line.
  const caret = marker.indexOf('^');
  assert.equal(shown.slice(caret, caret + 14), '"ROUND_ROBBIN"');
  assert.equal(marker.slice(caret).trimEnd(), '^'.repeat(14));
  // A span at the line's very end keeps the window inside the line (no trailing mark).
  const end = codeFrame(src, { file: 'min.json', line: 1, column: text.length, endLine: 1, endColumn: text.length + 1 });
  assert.match(end.split('\n')[0]!, /0}$/);
  assert.equal(end.split('\n')[0]![end.split('\n')[1]!.indexOf('^')], '}');
});

test('codeFrame: a multi-line span marks every line, long ones are elided', () => {
  const text = Array.from({ length: 20 }, (_, i) => `line${i + 1}`).join('\n');
  const src = new SourceFile('m', text);
  const frame = codeFrame(src, { file: 'm', line: 3, column: 1, endLine: 14, endColumn: 7 });
  assert.match(frame, /> {1,2}3 \| line3/);
  assert.match(frame, /⋮/);
  assert.match(frame, /> 14 \| line14/);
  assert.doesNotMatch(frame, /line8/);
});
