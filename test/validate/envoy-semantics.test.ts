/**
 * Verdicts that follow Envoy's semantics rather than a stricter reading of the config (fixtures/envoy-semantics, each
 * through the real CLI): an inline route_config's name is not a key; a load assignment's cluster_name matters only
 * on EDS clusters; CLUSTER_PROVIDED belongs to clusters that bring their own load balancer; ConfigSource.ads is a
 * message (`ads: {}`), which `convert --to envoy` writes and which an Envoy file must not write as `ads: true`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';

const DIR = join(FIXTURES, 'envoy-semantics');

interface Diag {
  rule: string;
  severity: string;
  line: number;
  column: number;
}

async function validate(file: string): Promise<{ code: number | null; diagnostics: Diag[] }> {
  const r = await runCli(['validate', '--format', 'json', file]);
  assert.equal(r.stderr, '', 'stderr');
  const report = JSON.parse(r.stdout) as { files: { diagnostics: Diag[] }[] };
  const diagnostics = report.files.flatMap((f) => f.diagnostics.map(({ rule, severity, line, column }) => ({ rule, severity, line, column })));
  return { code: r.code, diagnostics };
}

/** The diagnostics of the given rules, as `rule severity line:column`. */
function only(ds: readonly Diag[], ...rules: string[]): string[] {
  return ds.filter((d) => rules.includes(d.rule)).map((d) => `${d.rule} ${d.severity} ${d.line}:${d.column}`);
}

test('two inline route configurations may share a name (Envoy does not key them by it)', async () => {
  const r = await validate(join(DIR, 'shared-inline-route-config-name.yaml'));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.code, 0);
});

test('a name an rds looks up is a key: two route configurations with it are ambiguous', async () => {
  const r = await validate(join(FIXTURES, 'invalid', 'duplicate-route-config-name.yaml'));
  assert.deepEqual(only(r.diagnostics, 'duplicate-route-config-name'), ['duplicate-route-config-name error 28:19']);
});

test('load_assignment.cluster_name on a LOGICAL_DNS cluster: a warning, since Envoy never reads it there', async () => {
  const r = await validate(join(DIR, 'load-assignment-name-dns.yaml'));
  assert.deepEqual(only(r.diagnostics, 'load-assignment-name-mismatch'), ['load-assignment-name-mismatch warning 24:7']);
  assert.equal(r.code, 0);
});

test('load_assignment.cluster_name on an EDS cluster is checked against the EDS service name: an error', async () => {
  const r = await validate(join(FIXTURES, 'invalid', 'load-assignment-name-mismatch.yaml'));
  assert.deepEqual(only(r.diagnostics, 'load-assignment-name-mismatch'), [
    'load-assignment-name-mismatch warning 27:9',
    'load-assignment-name-mismatch error 38:9',
  ]);
});

test('CLUSTER_PROVIDED on a dynamic forward proxy cluster is right; leaving it out is what Envoy refuses', async () => {
  const r = await validate(join(DIR, 'dynamic-forward-proxy.yaml'));
  // `first` (CLUSTER_PROVIDED) passes; `second` (the default ROUND_ROBIN) is pointed at by its name.
  assert.deepEqual(only(r.diagnostics, 'invalid-cluster-config'), ['invalid-cluster-config error 36:5']);
});

test('CLUSTER_PROVIDED on a STRICT_DNS cluster stays an error (it provides no load balancer)', async () => {
  const r = await validate(join(DIR, 'cluster-provided-strict-dns.yaml'));
  assert.deepEqual(only(r.diagnostics, 'invalid-cluster-config'), ['invalid-cluster-config error 7:5']);
  assert.equal(r.code, 1);
});

test('`ads: {}` is accepted; `ads: true` in an Envoy file is the error Envoy gives', async () => {
  const ok = await validate(join(DIR, 'ads-message.yaml'));
  assert.deepEqual(ok.diagnostics, []);
  const bad = await validate(join(DIR, 'ads-true.yaml'));
  assert.deepEqual(only(bad.diagnostics, 'envoy-invalid-value'), ['envoy-invalid-value error 8:22']);
  assert.equal(bad.code, 1);
});

test("the dialect's `ads: true` converts to Envoy's `ads: {}`, and the output validates clean", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-ads-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(DIR, 'ads-shorthand.textproto');
  assert.deepEqual((await validate(src)).diagnostics, []);
  for (const [to, name, written] of [
    ['envoy', 'out.yaml', /^\s+ads: \{\}$/m],
    ['envoy-json', 'out.json', /"ads": \{\}/],
  ] as const) {
    const c = await runCli(['convert', '--to', to, src]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, written);
    assert.doesNotMatch(c.stdout, /ads["']?:\s*true/);
    const out = join(dir, name);
    writeFileSync(out, c.stdout);
    const again = await validate(out);
    assert.deepEqual(again.diagnostics.filter((d) => d.severity === 'error'), [], `${to} output re-validated`);
  }
  // The shorthand is a dialect note (rule `dialect-shorthand`, off by default), not a problem.
  const settings = join(dir, 'settings.yaml');
  writeFileSync(settings, 'rules:\n  dialect-shorthand: info\n');
  const notes = await runCli(['validate', '--format', 'json', '--config', settings, src]);
  assert.equal(notes.code, 0, notes.stderr);
  const report = JSON.parse(notes.stdout) as { files: { diagnostics: Diag[] }[] };
  assert.deepEqual(only(report.files[0]!.diagnostics, 'dialect-shorthand'), ['dialect-shorthand info 4:16']);
});
