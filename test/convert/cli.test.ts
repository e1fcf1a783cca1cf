/** `meshctl convert` through the real binary: formats, -o, stdin, and exit codes 0/1/2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { FIXTURES, runCli } from '../helpers/cli.js';

const FULL = join(FIXTURES, 'seed', 'full-example.textproto');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'meshctl-convert-'));
}

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+\(.+:\d+:\d+\)$/m, 'a stack trace leaked');
}

test('convert --to envoy prints an Envoy bootstrap and warns about what Envoy cannot hold', async () => {
  const r = await runCli(['convert', FULL, '--to', 'envoy']);
  assert.equal(r.code, 0, r.stderr);
  const doc = parseYamlText(r.stdout) as { static_resources: { listeners: Array<{ filter_chains: Array<Record<string, any>> }> } }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const chain = doc.static_resources.listeners[0]!.filter_chains[0]!;
  assert.equal(chain.filters[0].typed_config['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(chain.transport_socket.typed_config['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  // Reported as `meshctl validate` reports: header, then the position.
  assert.match(r.stderr, /^warning\[not-representable-in-envoy\]: .*discovery refresh service.*\n {2}--> .*full-example\.textproto:\d+:\d+$/m);
  assertNoStack(r.stderr);
});

test('convert -o writes the file (and only the file); the result converts back', async () => {
  const dir = tempDir();
  try {
    const out = join(dir, 'mesh.json');
    const r = await runCli(['convert', FULL, '--to', 'json', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const written = readFileSync(out, 'utf8');
    const stdout = await runCli(['convert', FULL, '--to', 'json']);
    assert.equal(written, stdout.stdout);
    assert.deepEqual(readdirSync(dir), ['mesh.json'], 'no temporary file left behind');
    const back = await runCli(['convert', out, '--to', 'textproto']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /connect_timeout: 0\.25s/);
    assert.match(back.stdout, /load_balancing_weight: 200/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convert - reads stdin; --from forces the input format', async () => {
  const input = 'cluster { name: "a" connect_timeout: 1s }\n';
  const r = await runCli(['convert', '-', '--from', 'textproto', '--to', 'yaml'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseYamlText(r.stdout), { static_resources: { clusters: [{ name: 'a', connect_timeout: '1s' }] } });
});

test('a syntax error: exit 1, file:line:column with a code frame, and OUTPUT is not touched', async () => {
  const dir = tempDir();
  try {
    const bad = join(dir, 'bad.textproto');
    writeFileSync(bad, 'static_resources {\n  clusters {\n    name: "a"\n    connect_timeout 0.25s\n  }\n');
    const out = join(dir, 'out.yaml');
    writeFileSync(out, 'previous: content\n');
    const r = await runCli(['convert', bad, '--to', 'yaml', '-o', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[syntax-error\]: .*\n {2}--> .*bad\.textproto:\d+:\d+$/m);
    assert.match(r.stderr, /^\s*>\s*\d+ \|.*$/m, 'a code frame line');
    assert.match(r.stderr, /\^/);
    assertNoStack(r.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'previous: content\n');
    assert.deepEqual(readdirSync(dir).sort(), ['bad.textproto', 'out.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing input file: exit 2 with a message naming it', async () => {
  const r = await runCli(['convert', join(FIXTURES, 'no-such-file.yaml'), '--to', 'json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no-such-file\.yaml/);
  assertNoStack(r.stderr);
});

test('usage errors exit 2: no --to, an unknown format, an unwritable output', async () => {
  const noTo = await runCli(['convert', FULL]);
  assert.equal(noTo.code, 2);
  assert.match(noTo.stderr, /--to/);
  const badTo = await runCli(['convert', FULL, '--to', 'xml']);
  assert.equal(badTo.code, 2);
  assert.match(badTo.stderr, /xml/);
  const unwritable = await runCli(['convert', FULL, '--to', 'json', '-o', join(FIXTURES, 'no-such-dir', 'x.json')]);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /cannot write .*x\.json/);
  assertNoStack(unwritable.stderr);
});
