/**
 * Two rough edges of issue 17 fixed on main before this branch (items 4 and 6), held by tests through the real CLI:
 * the tcp_proxy hint names the modelled type once, and the strict-format text-proto fixture validates cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

interface Report {
  files: { diagnostics: { rule: string; severity: string; line: number; message: string; hint?: string }[] }[];
}

test('fixtures/envoy/extensions.yaml: the tcp_proxy hint names HttpConnectionManager once', async () => {
  const r = await runCli(['validate', '--format', 'json', 'fixtures/envoy/extensions.yaml']);
  assert.equal(r.code, 0, r.stderr);
  const ds = (JSON.parse(r.stdout) as Report).files[0]!.diagnostics;
  const tcp = ds.find((d) => d.rule === 'unmodeled-extension' && /TcpProxy/.test(d.message));
  assert.ok(tcp !== undefined, 'the tcp_proxy filter is reported');
  assert.equal(tcp.hint, 'meshctl models HttpConnectionManager here');
  // No hint anywhere repeats a type name (`A / A`).
  for (const d of ds) assert.doesNotMatch(d.hint ?? '', /\b(\w+) \/ \1\b/, d.hint);
});

test('fixtures/textproto/strict-format.textproto validates with no errors or warnings', async () => {
  const r = await runCli(['validate', '--format', 'json', 'fixtures/textproto/strict-format.textproto']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ds = (JSON.parse(r.stdout) as Report).files[0]!.diagnostics;
  assert.deepEqual(
    ds.filter((d) => d.severity !== 'info').map((d) => `${d.rule}:${d.line}`),
    [],
  );
});
