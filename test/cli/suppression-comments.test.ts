/**
 * A suppression comment that names no rule, or a directive word meshctl does not know, is a warning at its
 * line:column (issue 17, item 5): `--disable` refuses unknown ids, so a comment must not drop them silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

interface Report {
  files: { diagnostics: { rule: string; severity: string; line: number; column: number; message: string; hint?: string }[] }[];
}

async function diagnostics(name: string, text: string, extra: string[] = []): Promise<Report['files'][number]['diagnostics']> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-suppress-'));
  try {
    writeFileSync(join(dir, name), text);
    const r = await runCli(['validate', '--format', 'json', ...extra, join(dir, name)]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Report).files[0]!.diagnostics;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const YAML = `static_resources:
  clusters:
    # meshctl-disable-next-line no-such-rule, invalid-prot -- both typos
    - name: a
      connect_timeout: 1s
    # meshctl-disable invalid-port
    - name: b
      connect_timeout: 1s
    # meshctl-disable-next-line invalid-port
    - name: c
      connect_timeout: 1s
`;

test('YAML: unknown ids and a misspelt directive are warnings at their line:column, with a did-you-mean', async () => {
  const ds = (await diagnostics('c.yaml', YAML)).filter((d) => d.rule === 'unknown-suppression');
  assert.deepEqual(
    ds.map((d) => [d.severity, d.line, d.column]),
    [
      ['warning', 3, 33],
      ['warning', 3, 47],
      ['warning', 6, 7],
    ],
  );
  assert.match(ds[0]!.message, /unknown rule `no-such-rule` in a suppression comment/);
  assert.equal(ds[1]!.hint, 'did you mean `invalid-port`?');
  assert.match(ds[2]!.message, /`meshctl-disable` is not a meshctl directive/);
  assert.match(ds[2]!.hint ?? '', /meshctl-disable-next-line RULE/);
});

test('text-proto comments are read the same way; known ids give no warning', async () => {
  const ds = await diagnostics(
    'c.textproto',
    ['admin {', '  # meshctl-disable-next-line admin-exposd', '  address { socket_address { address: "127.0.0.1" port_value: 9901 } }', '}', ''].join('\n'),
  );
  assert.deepEqual(
    ds.map((d) => [d.rule, d.line, d.column, d.hint]),
    [['unknown-suppression', 2, 31, 'did you mean `admin-exposed`?']],
  );
});

test('unknown-suppression is a rule id like the others: --disable turns it off', async () => {
  const ds = await diagnostics('c.yaml', YAML, ['--disable', 'unknown-suppression']);
  assert.deepEqual(ds.filter((d) => d.rule === 'unknown-suppression'), []);
});
