/**
 * `meshctl graph` through the real binary: dot and mermaid output held to golden files (MESHCTL_UPDATE_GOLDEN=1
 * rewrites them; review the diff), the SVG and HTML checked for every element by name, the shares the simulator
 * expects and the problems the validator found, and docs/full-example.svg held to what the command draws today.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, REPO, runCli } from '../helpers/cli.js';

const UPDATE = process.env.MESHCTL_UPDATE_GOLDEN === '1';
const GOLDEN = join(REPO, 'test', 'graph', 'golden');

/** Fixture (relative to the repo, as the title prints it) → golden base name and the exit code it must give. */
const FIXTURES: readonly { file: string; golden: string; code: number }[] = [
  { file: 'fixtures/seed/full-example.textproto', golden: 'full-example', code: 0 },
  { file: 'fixtures/quickstart/mesh.textproto', golden: 'quickstart', code: 0 },
  { file: 'test/graph/fixtures/weighted-mirror.yaml', golden: 'weighted-mirror', code: 0 },
  { file: 'fixtures/invalid/route-unknown-cluster.yaml', golden: 'route-unknown-cluster', code: 1 },
];

for (const f of FIXTURES) {
  for (const [format, ext] of [['dot', 'dot'], ['mermaid', 'mmd']] as const) {
    test(`graph --format ${format}: ${f.file} matches its golden file`, async () => {
      const r = await runCli(['graph', f.file, '--format', format]);
      assert.equal(r.code, f.code, r.stderr);
      const golden = join(GOLDEN, `${f.golden}.${ext}`);
      if (UPDATE) writeFileSync(golden, r.stdout);
      assert.equal(r.stdout, readFileSync(golden, 'utf8'));
    });
  }
}

/** The text Graphviz drew in an SVG: every <text> element's content, entities decoded. */
function svgTexts(svg: string): string[] {
  const decode = (s: string): string =>
    s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]!));
}

test('graph --format svg: every listener, virtual host, route, cluster and endpoint is drawn with its facts and shares', async () => {
  const r = await runCli(['graph', 'test/graph/fixtures/weighted-mirror.yaml', '--format', 'svg']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^<svg /);
  const texts = svgTexts(r.stdout);
  for (const expected of [
    'listener edge',
    '127.0.0.1:10080',
    'codec HTTP1',
    'virtual host shop',
    'route canary "v2" #1',
    'route items <&> \\d',
    'regex ^/items/\\d+$',
    'cluster cart-v1',
    'LEAST_REQUEST',
    'cluster cart-v2',
    'cluster cart-shadow',
    'endpoint 127.0.0.1:9001',
    'endpoint 127.0.0.1:9002',
    'endpoint 127.0.0.1:9003',
    'endpoint 127.0.0.1:9011',
    'endpoint 127.0.0.1:9021',
    'locality eu-west/b',
    'priority 1',
    // Route → cluster from the weights, cluster → endpoint from the balancer (3:1 in priority 0; priority 1 idle).
    'weight 90 · 90%',
    'weight 10 · 10%',
    'mirror 25%',
    '75%',
    '25%',
    '0%',
  ]) {
    assert.ok(texts.includes(expected), `${JSON.stringify(expected)} not drawn; drawn: ${JSON.stringify(texts)}`);
  }
});

test('graph -o FILE.html: one self-contained page with the graph inline, the problems marked and listed, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-graph-'));
  try {
    const out = join(dir, 'mesh.html');
    const r = await runCli(['graph', 'fixtures/invalid/route-unknown-cluster.yaml', '-o', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /route-unknown-cluster/);
    assert.match(r.stderr, /2 errors, drawn on the graph/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    // Self-contained: nothing is fetched (no src= or href= to anything, no @import or url()).
    assert.doesNotMatch(html, /\bsrc=|<link\b|@import|url\(/);
    assert.doesNotMatch(html, /href="(?!#)/);
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
    const texts = svgTexts(svg);
    for (const name of ['listener main', 'virtual host all', 'route 0', 'route 1', 'cluster backend', 'endpoint 127.0.0.1:9000', 'missing cluster backnd', 'missing cluster missing']) {
      assert.ok(texts.includes(name), `${name} not drawn`);
    }
    // The dangling edges carry the rule id and are drawn red; the healthy edge is not.
    assert.equal(texts.filter((t) => t === '✖ route-unknown-cluster').length, 2);
    // Graphviz writes a comment before each element: split there, keep the edges.
    const edges = svg.split('\n<!-- ').filter((part) => part.includes('class="edge"'));
    assert.equal(edges.length, 7);
    const red = edges.filter((e) => e.includes('stroke="#c62828"'));
    assert.equal(red.length, 2, 'two red edges');
    for (const e of red) assert.match(e, /route&#45;unknown&#45;cluster/);
    // Hover details: the full message with its line.
    // (Graphviz writes `-` as `&#45;` in SVG text.)
    assert.match(svg, /xlink:title="100%&#10;error route&#45;unknown&#45;cluster \(line 18:36\): route sends traffic to cluster `backnd`, which is not defined"/);
    // The problems table lists both, with positions.
    assert.match(html, /<td>18:36<\/td><td>error<\/td><td><code>route-unknown-cluster<\/code><\/td>/);
    assert.match(html, /<td>24:37<\/td><td>error<\/td>/);
    assert.match(html, /weight 1 · 50%/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('graph: the format follows the -o extension; usage and I/O errors exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-graph-'));
  try {
    const out = join(dir, 'mesh.mmd');
    const r = await runCli(['graph', 'fixtures/quickstart/mesh.textproto', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(GOLDEN, 'quickstart.mmd'), 'utf8'));
    // stdin, with the format named: the same graph under the name `<stdin>`.
    const piped = await runCli(['graph', '-', '--from', 'textproto', '--format', 'dot'], { input: readFileSync(join(REPO, 'fixtures/quickstart/mesh.textproto'), 'utf8') });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, readFileSync(join(GOLDEN, 'quickstart.dot'), 'utf8').replace('label="fixtures/quickstart/mesh.textproto"', 'label="<stdin>"'));
    const missing = await runCli(['graph', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
    const badFormat = await runCli(['graph', 'fixtures/quickstart/mesh.textproto', '--format', 'png']);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /svg, html, dot, mermaid/);
    const unwritable = await runCli(['graph', 'fixtures/quickstart/mesh.textproto', '-o', join(dir, 'no-such-dir', 'x.svg')]);
    assert.equal(unwritable.code, 2);
    assert.match(unwritable.stderr, /cannot write/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/full-example.svg is what `meshctl graph fixtures/seed/full-example.textproto` draws today', async () => {
  const r = await runCli(['graph', 'fixtures/seed/full-example.textproto', '--format', 'svg']);
  assert.equal(r.code, 0, r.stderr);
  const doc = join(REPO, 'docs', 'full-example.svg');
  if (UPDATE) writeFileSync(doc, r.stdout);
  assert.equal(readFileSync(doc, 'utf8'), r.stdout, 'regenerate with MESHCTL_UPDATE_GOLDEN=1 node scripts/run-tests.mjs graph');
});

test('Graphviz is loaded only to draw: validate and graph --format dot never load @viz-js/viz, svg does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-graph-'));
  try {
    // A module hook that names every module Node loads from @viz-js/viz or src/graph/ on stderr.
    // The hooks run on their own thread: a synchronous write, or a line may be lost when the process exits at once.
    writeFileSync(join(dir, 'hooks.mjs'), "import { writeSync } from 'node:fs';\nexport async function load(url, ctx, next) { if (/viz-js|\\/graph\\//.test(url)) writeSync(2, 'LOADED ' + url + '\\n'); return next(url, ctx); }\n");
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(dir, 'hooks.mjs')}`)});\n`);
    const loaded = (args: string[]): string[] => {
      const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), BIN, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.ok(r.status === 0, r.stderr);
      return r.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
    };
    assert.deepEqual(loaded(['validate', 'fixtures/quickstart/mesh.textproto']), []);
    const dot = loaded(['graph', 'fixtures/quickstart/mesh.textproto', '--format', 'dot']);
    assert.ok(dot.some((l) => l.includes('/graph/model.js')), 'the hook sees the graph modules');
    assert.ok(!dot.some((l) => l.includes('viz-js')), dot.join('\n'));
    assert.ok(loaded(['graph', 'fixtures/quickstart/mesh.textproto', '--format', 'svg']).some((l) => l.includes('viz-js')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
