/**
 * The fixtures/invalid corpus: every file is validated by the real CLI (`--format json --check-files`) and its
 * diagnostics (rule, line, column, severity) must equal its sidecar `<file>.expected.json` exactly. Every rule has at
 * least one fixture. MESHCTL_UPDATE_FIXTURES=1 rewrites the sidecars (review the diff before committing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { RULES } from '../../src/validate/index.js';
import { makeCertDir } from './certs.js';

const DIR = join(FIXTURES, 'invalid');
const UPDATE = process.env.MESHCTL_UPDATE_FIXTURES === '1';

interface Expected {
  rule: string;
  line: number;
  column: number;
  severity: string;
}

const configs = readdirSync(DIR)
  .filter((f) => /\.(textproto|yaml|json)$/.test(f) && !f.endsWith('.expected.json') && !f.endsWith('.meshctl.yaml'))
  .sort();

let certDir = '';

interface JsonReport {
  files: { file: string; diagnostics: Expected[] }[];
}

function settingsFor(name: string): string | undefined {
  const p = join(DIR, name.replace(/\.(textproto|yaml|json)$/, '.meshctl.yaml'));
  return existsSync(p) ? p : undefined;
}

test('fixtures/invalid: each file gives exactly its expected diagnostics', async (t) => {
  certDir = makeCertDir();
  t.after(() => rmSync(certDir, { recursive: true, force: true }));
  // One CLI run over every file without its own settings (one process is much faster than forty), then one run per
  // file that has a `<name>.meshctl.yaml`.
  const byFile = new Map<string, Expected[]>();
  const collect = async (files: string[], extra: string[]): Promise<void> => {
    const r = await runCli(['validate', '--format', 'json', '--check-files', '--base-dir', certDir, ...extra, ...files.map((f) => join(DIR, f))]);
    assert.equal(r.stderr, '', 'stderr');
    assert.ok(r.code === 0 || r.code === 1, `exit code ${r.code}`);
    const report = JSON.parse(r.stdout) as JsonReport;
    for (const f of report.files) {
      byFile.set(f.file, f.diagnostics.map((d) => ({ rule: d.rule, line: d.line, column: d.column, severity: d.severity })));
    }
  };
  await collect(configs.filter((f) => settingsFor(f) === undefined), []);
  for (const f of configs) {
    const s = settingsFor(f);
    if (s !== undefined) await collect([f], ['--config', s]);
  }
  for (const name of configs) {
    await t.test(name, () => {
      const got = byFile.get(join(DIR, name));
      assert.ok(got !== undefined, `no report for ${name}`);
      const sidecar = join(DIR, `${name}.expected.json`);
      if (UPDATE) writeFileSync(sidecar, JSON.stringify(got, null, 2) + '\n');
      const expected = JSON.parse(readFileSync(sidecar, 'utf8')) as Expected[];
      assert.deepEqual(got, expected);
    });
  }
});

test('fixtures/invalid: every rule has a fixture that shows it, named after the rule', () => {
  const shown = new Set<string>();
  for (const name of configs) {
    const sidecar = join(DIR, `${name}.expected.json`);
    if (!existsSync(sidecar)) continue;
    for (const d of JSON.parse(readFileSync(sidecar, 'utf8')) as Expected[]) shown.add(d.rule);
  }
  for (const rule of RULES) {
    assert.ok(shown.has(rule.id), `no fixture shows rule ${rule.id}`);
    assert.ok(
      configs.some((f) => f.replace(/(-\d+)?\.(textproto|yaml|json)$/, '') === rule.id),
      `no fixture named fixtures/invalid/${rule.id}[-N].{textproto,yaml}`,
    );
  }
});

test('fixtures/valid: every config validates without a diagnostic', async () => {
  const r = await runCli(['validate', '--format', 'json', join(FIXTURES, 'valid')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { summary: { files: number; errors: number; warnings: number; infos: number }; files: { diagnostics: { rule: string }[] }[] };
  assert.ok(report.summary.files >= 2);
  // The one note a valid config gets: where its DNS clusters' queries go (dns-resolver).
  const notes = report.files.flatMap((f) => f.diagnostics.map((d) => d.rule)).filter((rule) => rule !== 'dns-resolver');
  assert.deepEqual({ ...report.summary, files: 0, infos: 0 }, { files: 0, errors: 0, warnings: 0, infos: 0 });
  assert.deepEqual(notes, []);
});
