/**
 * What every command shares, through the real binary: one loader (the same diagnostics, as `meshctl validate` prints
 * them, from validate, run, simulate, convert and prometheus-config), one colour decision, and one way a usage error
 * ends (exit 2, one `meshctl:` line, no stack trace).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, FIXTURES, runCli, type CliResult } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'meshctl-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** A config whose only route goes to `cluster` (a listener on `port`, one cluster `backend`). */
function yamlConfig(opts: { cluster?: string; port?: number; spare?: boolean; tls?: boolean } = {}): string {
  const tls = opts.tls
    ? `
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              common_tls_context:
                tls_certificates:
                  - certificate_chain: { filename: missing.crt }
                    private_key: { filename: missing.key }`
    : '';
  const spare = opts.spare
    ? `
    - name: spare
      connect_timeout: 1s
      load_assignment:
        cluster_name: spare
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9001 } } }`
    : '';
  return `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: ${opts.port ?? 8080} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: main
                route_config:
                  name: routes
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: ${opts.cluster ?? 'backend'} }${tls}
  clusters:
    - name: backend
      connect_timeout: 1s
      load_assignment:
        cluster_name: backend
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9000 } } }${spare}
`;
}

const SYNTAX = file('syntax.textproto', 'static_resources {\n  clusters {\n    name: "a"\n    connect_timeout 0.25s\n  }\n}\n');
const SEMANTIC = file('semantic.yaml', yamlConfig({ cluster: 'backnd' }));

function inDir(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return runCli(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
}

/** `text` without its last line, and that line. */
function splitLast(text: string): [string, string] {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  const last = lines.pop()!;
  return [lines.join('\n') + '\n', last];
}

test('a syntax error: validate, run, simulate, convert and prometheus-config print the same report', async () => {
  const v = await inDir(['validate', SYNTAX]);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^error\[syntax-error\]: .*\n {2}--> syntax\.textproto:4:21$/m);
  assert.match(v.stdout, /^1 error, 0 warnings in 1 file$/m);
  const others: [string[], RegExp][] = [
    [['run', SYNTAX], /^meshctl: syntax\.textproto has 1 error; not starting$/],
    [['simulate', SYNTAX], /^meshctl: the config has errors; fix them \(see `meshctl validate`\) before simulating$/],
    [['convert', SYNTAX, '--to', 'yaml'], /^meshctl: syntax\.textproto: 1 error; nothing converted$/],
    [['prometheus-config', SYNTAX], /^meshctl: syntax\.textproto could not be read as a config$/],
  ];
  for (const [args, line] of others) {
    const r = await inDir(args);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stdout, '', args[0]);
    const [report, last] = splitLast(r.stderr);
    assert.equal(report, v.stdout, `${args[0]} prints validate's report`);
    assert.match(last, line);
  }
});

test('stdin (`-`) loads the same way: validate and convert report `<stdin>` alike; run refuses `-`', async () => {
  const text = 'static_resources {\n  clusters {\n';
  const v = await inDir(['validate', '-'], {}, text);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /--> <stdin>:3:1$/m);
  const c = await inDir(['convert', '-', '--to', 'json'], {}, text);
  assert.equal(c.code, 1);
  assert.equal(splitLast(c.stderr)[0], v.stdout);
  const r = await inDir(['run', '-'], {}, text);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^meshctl: run reads its config from a file/);
});

test('a semantic error: run and simulate refuse with validate\'s report; convert still converts', async () => {
  const v = await inDir(['validate', SEMANTIC]);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^error\[route-unknown-cluster\]: route sends traffic to cluster `backnd`/m);
  for (const args of [['run', SEMANTIC], ['simulate', SEMANTIC]]) {
    const r = await inDir(args);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.equal(splitLast(r.stderr)[0], v.stdout, `${args[0]} prints validate's report`);
  }
  // convert refuses only what it cannot read: turning a broken config into another format is how people fix it.
  const c = await inDir(['convert', SEMANTIC, '--to', 'textproto']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stderr, '');
  assert.match(c.stdout, /cluster: "backnd"/);
});

test('.meshctl.yaml in the current directory applies to run and simulate as to validate', async () => {
  const sub = mkdtempSync(join(dir, 'settings-'));
  writeFileSync(join(sub, 'a.yaml'), yamlConfig({ spare: true }));
  writeFileSync(join(sub, '.meshctl.yaml'), 'rules:\n  unused-cluster: error\n');
  const v = await runCli(['validate', 'a.yaml'], { cwd: sub });
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^error\[unused-cluster\]/m);
  for (const args of [['run', 'a.yaml'], ['simulate', 'a.yaml']]) {
    const r = await runCli(args, { cwd: sub });
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.equal(splitLast(r.stderr)[0], v.stdout);
  }
  writeFileSync(join(sub, '.meshctl.yaml'), 'rules:\n  unused-clustr: off\n');
  const typo = await runCli(['simulate', 'a.yaml'], { cwd: sub });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^meshctl: \.meshctl\.yaml: unknown rule `unused-clustr`/);
});

const ESC = /\u001b\[/;

test('colour: off on a pipe, on with FORCE_COLOR, off again with NO_COLOR or --no-color, for every command', async () => {
  const commands: [string[], 'stdout' | 'stderr'][] = [
    [['validate', SEMANTIC], 'stdout'],
    [['run', SEMANTIC], 'stderr'],
    [['simulate', SEMANTIC], 'stderr'],
    [['convert', SYNTAX, '--to', 'json'], 'stderr'],
  ];
  for (const [args, stream] of commands) {
    const pipe = await inDir(args, { NO_COLOR: undefined, FORCE_COLOR: undefined });
    assert.match(pipe[stream], /error\[/, `${args[0]} reports`);
    assert.doesNotMatch(pipe[stream], ESC, `${args[0]} on a pipe`);
    const forced = await inDir(args, { NO_COLOR: undefined, FORCE_COLOR: '1' });
    assert.match(forced[stream], ESC, `${args[0]} with FORCE_COLOR`);
    const noColor = await inDir(args, { NO_COLOR: '1', FORCE_COLOR: '1' });
    assert.doesNotMatch(noColor[stream], ESC, `${args[0]} with NO_COLOR`);
    const flag = await inDir([...args, '--no-color'], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    assert.doesNotMatch(flag[stream], ESC, `${args[0]} --no-color`);
  }
});

/** Runs the binary on a terminal (util-linux `script` gives it a pseudo-terminal); stdout and stderr both go there. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env }, encoding: 'utf8', timeout: 30_000 });
  return r.stdout;
}

const noScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status !== 0;

test('colour: on on a terminal, unless NO_COLOR or --no-color', { skip: noScript && 'util-linux `script` is not installed' }, () => {
  for (const args of [['validate', SEMANTIC], ['run', SEMANTIC], ['simulate', SEMANTIC], ['convert', SYNTAX, '--to', 'json']]) {
    const tty = onTerminal(args, {});
    assert.match(tty, /error/, `${args[0]} ran: ${tty}`);
    assert.match(tty, ESC, `${args[0]} on a terminal`);
    assert.doesNotMatch(onTerminal(args, { NO_COLOR: '1' }), ESC, `${args[0]} on a terminal with NO_COLOR`);
    assert.doesNotMatch(onTerminal([...args, '--no-color'], {}), ESC, `${args[0]} on a terminal with --no-color`);
  }
});

function assertUsageError(r: CliResult, what: string, message?: RegExp): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('meshctl: '));
  assert.equal(lines.length, 1, `${what}: one \`meshctl:\` line in\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a stack trace leaked`);
  assert.doesNotMatch(r.stderr, /internal error/, what);
  if (message) assert.match(lines[0]!, message, what);
}

test('every usage error exits 2 with one `meshctl:` line and no stack trace', async () => {
  const FULL = join(FIXTURES, 'seed', 'full-example.textproto');
  const QUICK = join(FIXTURES, 'quickstart', 'mesh.textproto');
  file('bad-replay.log', 'not a request\n');
  const cases: [string[], RegExp?][] = [
    [['frobnicate'], /^meshctl: unknown command 'frobnicate'/],
    [['validate', '--no-such-flag', SEMANTIC], /^meshctl: unknown option '--no-such-flag'/],
    [['validate'], /^meshctl: missing required argument 'files'/],
    [['convert', FULL], /--to/],
    [['convert', FULL, '--to', 'xml'], /xml/],
    [['validate', '--format', 'xml', SEMANTIC], /^meshctl: unknown --format `xml`/],
    [['validate', '--max-warnings', 'many', SEMANTIC], /--max-warnings/],
    [['validate', '--disable', 'unused-clustr', '--', SEMANTIC], /did you mean `unused-cluster`/],
    [['validate', 'nothing-here/*.yaml'], /no files match/],
    [['validate', 'no-such-file.yaml'], /^meshctl: cannot read no-such-file\.yaml: no such file$/],
    [['convert', 'no-such-file.yaml', '--to', 'json'], /^meshctl: cannot read no-such-file\.yaml: no such file$/],
    [['convert', FULL, '--to', 'json', '-o', join('no-such-dir', 'x.json')], /cannot write .*x\.json/],
    [['simulate', 'no-such-file.yaml'], /^meshctl: cannot read no-such-file\.yaml/],
    [['simulate', FULL, '-n', 'lots'], /--requests/],
    [['simulate', FULL, '--unhealthy', '10.244.0.9:8080'], /--unhealthy: no endpoint/],
    [['simulate', FULL, '--requests-file', 'none.log'], /none\.log/],
    [['simulate', FULL, '--requests-file', 'bad-replay.log'], /^meshctl: bad-replay\.log:1: /],
    [['run', 'no-such-file.yaml'], /^meshctl: cannot read no-such-file\.yaml/],
    [['run', '--workers', '0', QUICK], /--workers/],
    [['run', '--map-endpoint', 'nonsense', QUICK], /--map-endpoint/],
    [['run', '--dns-server', 'not-an-ip', QUICK], /--dns-server/],
    [['run', '--from', 'xml', QUICK], /--from/],
    [['prometheus-config', 'no-such-file.yaml'], /^meshctl: cannot read no-such-file\.yaml/],
    [['demo', '--config', 'no-such-file.yaml'], /^meshctl: cannot read no-such-file\.yaml/],
  ];
  for (const [args, message] of cases) assertUsageError(await inDir(args), args.join(' '), message);
});

test('run: a TLS file that cannot be read, and an address in use, are usage errors too', async () => {
  const tls = file('tls.yaml', yamlConfig({ tls: true, port: 0 }));
  const t = await inDir(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', tls]);
  assertUsageError(t, 'a missing key file', /^meshctl: listener main: cannot read .*missing\.(crt|key)/);

  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (busy.address() as net.AddressInfo).port;
    const cfg = file('busy.yaml', yamlConfig({ port }));
    const r = await inDir(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', cfg]);
    assertUsageError(r, 'an address in use', new RegExp(`^meshctl: cannot listen: .*EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
  } finally {
    await new Promise<void>((r) => busy.close(() => r()));
  }
});
