/**
 * Hostile config files through the real CLI: what a pull request can feed a CI job. Each ends in a clear message
 * naming the file (with line:column where there is one) and exit 1 (the config is bad) or 2 (it cannot be read),
 * never a stack trace or an internal error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { billionLaughs } from './fuzz-lib.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshctl-hardening-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function noCrash(r: { stdout: string; stderr: string; code: number | null }, what: string): void {
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(all, /^\s+at .+:\d+:\d+\)?$/m, `${what}: a stack trace\n${all.slice(0, 2000)}`);
  assert.doesNotMatch(all, /internal error|FATAL ERROR|TypeError|RangeError|Maximum call stack/, `${what}\n${all.slice(0, 2000)}`);
  assert.ok(r.code === 1 || r.code === 2, `${what}: exit ${r.code}\n${all.slice(0, 2000)}`);
}

function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('a 100 MB config: file-too-large, exit 1, for validate and convert', async () => {
  const p = join(dir, 'huge.yaml');
  const fd = openSync(p, 'w');
  writeSync(fd, 'admin: {}\n# ');
  ftruncateSync(fd, 100 * 1024 * 1024);
  closeSync(fd);
  for (const args of [['validate', p], ['convert', p, '--to', 'json']]) {
    const r = await runCli(args);
    noCrash(r, args[0]!);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /huge\.yaml/);
    assert.match(r.stdout + r.stderr, /100\.0 MiB|at most/);
  }
  rmSync(p);
});

test('10,000 levels of nesting through the CLI: nesting-too-deep with file:line:column, exit 1', async () => {
  const cases: Array<[string, string]> = [
    ['deep.textproto', 'admin ' + '{ a '.repeat(10_000) + '}'.repeat(10_000)],
    ['deep.json', '{"admin":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
    ['deep.yaml', 'admin: ' + '['.repeat(10_000) + ']'.repeat(10_000)],
  ];
  for (const [name, text] of cases) {
    const p = write(name, text);
    const r = await runCli(['validate', '--format', 'json', p]);
    noCrash(r, name);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as unknown;
    const text2 = JSON.stringify(report);
    assert.match(text2, /nesting-too-deep/, `${name}: ${text2.slice(0, 500)}`);
    const pretty = await runCli(['validate', p]);
    noCrash(pretty, `${name} (pretty)`);
    assert.match(pretty.stdout + pretty.stderr, new RegExp(`${name}:1:\\d+`));
  }
});

test('YAML billion laughs through the CLI: alias-expansion, exit 1, promptly', async () => {
  const input = billionLaughs(10, 10, 'cluster');
  const p = write('laughs.yaml', input.text);
  const r = await runCli(['validate', p], { timeoutMs: 20_000 });
  noCrash(r, 'billion laughs');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /alias-expansion|aliases expand/);
  assert.match(r.stdout, /laughs\.yaml:\d+:\d+/);
});

test('invalid UTF-8 bytes in a config file: diagnostics with a position, no crash', async () => {
  const bytes = Buffer.concat([
    Buffer.from('cluster {\n  name: "a'),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
    Buffer.from('"\n}\n'),
    Buffer.from([0x80, 0x81, 0x00, 0x0a]),
  ]);
  for (const name of ['bad.textproto', 'bad.yaml', 'bad.json']) {
    const p = write(name, bytes);
    const r = await runCli(['validate', p]);
    noCrash(r, name);
    assert.match(r.stdout + r.stderr, new RegExp(`${name.replace('.', '\\.')}:\\d+:\\d+`));
    const c = await runCli(['convert', p, '--to', 'yaml']);
    noCrash(c, `${name} convert`);
  }
});

test('NUL bytes and a lone surrogate escape survive validate and convert', async () => {
  const p = write('nul.textproto', 'cluster {\n  name: "a\\x00b\\uD800"\n  connect_timeout: 0.25s\n}\n\u0000\n');
  const r = await runCli(['validate', p]);
  noCrash(r, 'nul');
  assert.match(r.stdout, /nul\.textproto:5:1/);
});

test('prototype-named fields (__proto__, constructor) are unknown fields, not a crash', async () => {
  const p = write('proto.yaml', 'constructor: {}\n__proto__: {admin: 1}\nstatic_resources:\n  toString: 1\n');
  const r = await runCli(['validate', '--format', 'json', p]);
  assert.doesNotMatch(r.stderr, /internal error|TypeError/);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const out = JSON.stringify(JSON.parse(r.stdout));
  assert.match(out, /unknown-field/);
  assert.match(out, /constructor/);
});

test('a directory and a missing file: exit 2 naming the path', async () => {
  for (const p of [dir, join(dir, 'missing.yaml')]) {
    const r = await runCli(['validate', p]);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    if (p === dir) {
      // A directory is expanded to the configs inside it; an empty directory is a usage error.
      assert.ok(r.code === 1 || r.code === 2, r.stderr);
    } else {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /missing\.yaml/);
    }
  }
});

test('retry_back_off with max_interval but no base_interval: a diagnostic, not an internal error', async () => {
  const p = write(
    'backoff.yaml',
    'static_resources:\n  listeners:\n  - name: l\n    address: {socket_address: {address: 127.0.0.1, port_value: 8080}}\n    filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n          stat_prefix: l\n          route_config:\n            virtual_hosts:\n            - name: v\n              domains: ["*"]\n              routes:\n              - match: {prefix: /}\n                route: {cluster: a, retry_policy: {retry_back_off: {max_interval: 0.5s, __proto__: 1s}}}\n  clusters: [{name: a, connect_timeout: 1s}]\n',
  );
  const r = await runCli(['validate', p]);
  assert.doesNotMatch(r.stderr, /internal error|TypeError/, r.stderr);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
});
