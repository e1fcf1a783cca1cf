/**
 * The fast YAML/JSON reader must give exactly the tree the `yaml`-package reader gives, or give up so that reader
 * runs. Checked over every YAML/JSON fixture, every fixture printed in each YAML/JSON output format, and inputs
 * built to sit on the edge of the subset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from '../../src/config/yaml-reader.js';
import { readYamlFast } from '../../src/config/yaml-fast-path.js';
import { SourceFile } from '../../src/config/source.js';
import { readConfigFile } from '../../src/config/index.js';
import { emitConfig } from '../../src/config/convert.js';
import { FIXTURES } from '../helpers/cli.js';

function compare(name: string, text: string): 'fast' | 'fallback' {
  const src = new SourceFile(name, text);
  const json = name.endsWith('.json');
  const fast = readYamlFast(src, { json, maxDepth: 200 });
  const full = readYaml(src, { json, noFastPath: true });
  if (fast === undefined) {
    // The default reader then returns the full reader's answer.
    assert.deepEqual(readYaml(src, { json }), full, name);
    return 'fallback';
  }
  assert.deepEqual(full.diagnostics, [], `${name}: the fast path accepted what the full reader rejects`);
  assert.deepEqual(fast, full.tree, name);
  return 'fast';
}

function filesIn(dir: string, re: RegExp): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

test('fixtures: the fast path reads them, identically', () => {
  const files = [
    ...filesIn(join(FIXTURES, 'envoy'), /\.(ya?ml|json)$/),
    ...filesIn(join(FIXTURES, 'valid'), /\.(ya?ml|json)$/),
    ...filesIn(join(FIXTURES, 'quickstart'), /\.(ya?ml|json)$/),
  ];
  assert.ok(files.length >= 8);
  const used = files.map((f) => compare(f, readFileSync(f, 'utf8')));
  assert.ok(used.filter((u) => u === 'fast').length >= files.length - 1, 'plain fixtures stay on the fast path');
});

test('every fixture printed as YAML, JSON and Envoy reads identically on both paths', async () => {
  const files = [
    ...filesIn(join(FIXTURES, 'seed'), /\.textproto$/),
    ...filesIn(join(FIXTURES, 'envoy'), /\.(ya?ml|json)$/),
    ...filesIn(join(FIXTURES, 'textproto'), /\.textproto$/),
  ];
  let fast = 0;
  for (const f of files) {
    const r = await readConfigFile(f);
    if (r.config === undefined) continue;
    for (const to of ['yaml', 'json', 'envoy', 'envoy-json'] as const) {
      const out = emitConfig(r.config, to);
      if (compare(`${f}.${to.endsWith('json') ? 'json' : 'yaml'}`, out.text) === 'fast') fast++;
    }
  }
  assert.ok(fast > files.length * 3);
});

test('edge inputs: either identical or handed to the full reader', () => {
  const cases: Record<string, string> = {
    comments: '# a\nadmin: # b\n  # c\n  access_log_path: x # d\n  # e\n# f\n',
    quoting: `a: 'it''s'\nb: "q\\"\\u00e9\\n"\nc: "#not a comment"\nd: x#y\n`,
    numbers: 'a: -1.5e3\nb: 0x1F\nc: 0o17\nd: .inf\ne: -.Inf\nf: .nan\ng: 007\nh: +3\ni: 1_000\nj: 0.25s\n',
    scalars: 'a: true\nb: False\nc: ~\nd: null\ne: yes\nf: 2001:db8::1\ng: http://x/y?z=1\n',
    flow: 'a: {b: [1, "2", {c: d}], e: []}\nf: [ ]\ng: {}\n',
    json: '{\n  "a": {"b": [1, 2.5, true, null, "x"]},\n  "c": "d"\n}\n',
    jsonCompact: '{"a":{"b":[1,2]},"c":"d"}',
    nestedSeq: 'a:\n- - 1\n  - 2\n- - 3\nb:\n  - x\n  -   y\n',
    seqAtKeyIndent: 'a:\n- b: 1\n  c: 2\n-   d: 3\n',
    anchors: 'a: &x {b: 1}\nc: *x\n',
    merge: 'a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n',
    blockScalar: 'a: |\n  line one\n  # not a comment\nb: 1\n',
    multiLinePlain: 'a: one\n  two\nb: 1\n',
    nullValues: 'a:\nb: ~\nc: {d: }\n',
    tabs: 'a:\n\tb: 1\n',
    crlf: 'a: 1\r\nb: 2\r\n',
    duplicate: 'a: 1\na: 2\n',
    trailingComma: '{"a": 1,}\n',
    multiDoc: 'a: 1\n---\nb: 2\n',
    directive: '%YAML 1.2\n---\na: 1\n',
    badIndent: 'a:\n    b: 1\n  c: 2\n',
    emptyFile: '',
    onlyComments: '# nothing\n',
    topList: '- a\n',
    tag: 'a: !!str 1\n',
    questionKey: '? a\n: b\n',
    colonInFlow: 'a: [b:c, "d:e"]\n',
    keyTypes: '"@type": x\n1: a\n',
    deepFlow: `a: ${'['.repeat(30)}${']'.repeat(30)}\n`,
  };
  const fastOnes: string[] = [];
  for (const [name, text] of Object.entries(cases)) {
    if (compare(`${name}.${name.startsWith('json') ? 'json' : 'yaml'}`, text) === 'fast') fastOnes.push(name);
  }
  // The common shapes must not fall back (or the fast path is pointless).
  for (const n of ['comments', 'quoting', 'numbers', 'scalars', 'flow', 'json', 'jsonCompact', 'nestedSeq', 'seqAtKeyIndent']) {
    assert.ok(fastOnes.includes(n), `${n} should be read by the fast path`);
  }
});
