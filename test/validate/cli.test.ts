/** `meshctl validate` through the real CLI: formats, exit codes, options, suppressions, globs, TLS file checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { FIXTURES, REPO, runCli } from '../helpers/cli.js';
import { makeCertDir } from './certs.js';

// Paths relative to the repository (runCli's working directory), as users type them.
const FULL = join(FIXTURES, 'seed', 'full-example.textproto');
const BAD = 'fixtures/invalid/route-unknown-cluster.yaml';
const WARN = 'fixtures/invalid/unused-cluster.yaml';

interface JsonDiag {
  rule: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hint?: string;
}
interface JsonReport {
  version: number;
  summary: { files: number; errors: number; warnings: number; infos: number };
  files: { file: string; format: string; errors: number; warnings: number; infos: number; diagnostics: JsonDiag[] }[];
}

async function json(args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<{ code: number | null; report: JsonReport; stderr: string }> {
  const r = await runCli(['validate', '--format', 'json', ...args], opts);
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    assert.fail(`meshctl validate ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'meshctl-validate-'));
}

test("the article's full example: warnings, no errors; --check-files reports its absent TLS files", async () => {
  const plain = await json([FULL]);
  assert.equal(plain.code, 0);
  assert.equal(plain.report.summary.errors, 0);
  assert.ok(plain.report.summary.warnings >= 1);
  assert.ok(plain.report.files[0]!.diagnostics.some((d) => d.rule === 'envoy-placement' && /filter_chains/.test(d.message)));
  const dir = tempDir();
  try {
    const files = await json(['--check-files', FULL], { cwd: dir });
    assert.equal(files.code, 1);
    const missing = files.report.files[0]!.diagnostics.filter((d) => d.rule === 'tls-file-missing');
    assert.deepEqual(missing.map((d) => /`(tls\.\w+)`/.exec(d.message)?.[1]).sort(), ['tls.crt', 'tls.key']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pretty: code frame with a caret, hint, summary line; no colour without a TTY or under NO_COLOR', async () => {
  const r = await runCli(['validate', BAD, WARN]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /error\[route-unknown-cluster\]: route sends traffic to cluster `backnd`/);
  assert.match(r.stdout, /--> .*route-unknown-cluster\.yaml:18:36/);
  assert.match(r.stdout, /> 18 \| +route: \{ cluster: backnd \}/);
  assert.match(r.stdout, /\| +\^{15}/);
  assert.match(r.stdout, /hint: did you mean `backend`\?/);
  assert.match(r.stdout, /^2 errors, 1 warning in 2 files$/m);
  assert.doesNotMatch(r.stdout, /\u001b\[/);
});

test('pretty: colour when forced, but never with NO_COLOR or --no-color', async () => {
  const forced = await runCli(['validate', BAD], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
  assert.match(forced.stdout, /\u001b\[/);
  const noColorEnv = await runCli(['validate', BAD], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
  assert.doesNotMatch(noColorEnv.stdout, /\u001b\[/);
  const flag = await runCli(['validate', '--no-color', BAD], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
  assert.doesNotMatch(flag.stdout, /\u001b\[/);
});

test('json: the documented shape', async () => {
  const { code, report } = await json([BAD, WARN]);
  assert.equal(code, 1);
  assert.equal(report.version, 1);
  assert.deepEqual(report.summary, { files: 2, errors: 2, warnings: 1, infos: 0 });
  const f = report.files[0]!;
  assert.ok(f.format === 'yaml' || f.format === 'envoy', f.format);
  assert.equal(f.errors, 2);
  const d = f.diagnostics[0]!;
  assert.deepEqual(Object.keys(d), ['rule', 'severity', 'message', 'line', 'column', 'endLine', 'endColumn', 'hint']);
  assert.deepEqual([d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn], ['route-unknown-cluster', 'error', 18, 36, 18, 51]);
});

test('sarif: valid against the published SARIF 2.1.0 schema, with rules and relative locations', async () => {
  const r = await runCli(['validate', '--format', 'sarif', BAD, WARN, FULL]);
  assert.equal(r.code, 1);
  const log = JSON.parse(r.stdout) as {
    version: string;
    runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[];
  };
  const schema = JSON.parse(readFileSync(join(REPO, 'test', 'validate', 'schemas', 'sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>;
  // The schema is draft-04 (`id`); Ajv 8 reads the same keywords under `$id`.
  delete schema.$schema;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);
  assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
  assert.equal(log.version, '2.1.0');
  const run = log.runs[0]!;
  const res = run.results.find((x) => x.ruleId === 'route-unknown-cluster')!;
  assert.equal(res.level, 'error');
  assert.equal(run.tool.driver.rules[res.ruleIndex]!.id, 'route-unknown-cluster');
  assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uri, 'fixtures/invalid/route-unknown-cluster.yaml');
  assert.equal(res.locations[0]!.physicalLocation.region.startLine, 18);
  assert.ok(run.results.some((x) => x.level === 'note'));
});

test('github: one workflow command per diagnostic', async () => {
  const r = await runCli(['validate', '--format', 'github', BAD, WARN]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.equal(
    lines[0],
    '::error file=fixtures/invalid/route-unknown-cluster.yaml,line=18,col=36,endLine=18,endColumn=51,title=route-unknown-cluster::route sends traffic to cluster `backnd`, which is not defined (did you mean `backend`?)',
  );
  assert.match(lines[2]!, /^::warning file=fixtures\/invalid\/unused-cluster\.yaml,line=27,col=7,.*title=unused-cluster::/);
  assert.equal(lines[3], '2 errors, 1 warning in 2 files');
});

test('exit codes: 0 with only warnings, 1 with errors, --strict, --max-warnings', async () => {
  assert.equal((await runCli(['validate', WARN])).code, 0);
  assert.equal((await runCli(['validate', BAD])).code, 1);
  const strict = await runCli(['validate', '--strict', WARN]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /--strict/);
  assert.equal((await runCli(['validate', '--max-warnings', '0', WARN])).code, 1);
  assert.equal((await runCli(['validate', '--max-warnings', '1', WARN])).code, 0);
  // An info note is not a warning.
  assert.equal((await runCli(['validate', '--strict', join(FIXTURES, 'invalid', 'privileged-port.textproto')])).code, 0);
});

test('exit 2 for usage and I/O errors, with a message', async () => {
  const missing = await runCli(['validate', 'no/such/file.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no\/such\/file\.yaml/);
  const glob = await runCli(['validate', 'fixtures/nothing-here/*.yaml']);
  assert.equal(glob.code, 2);
  assert.match(glob.stderr, /no files match/);
  const format = await runCli(['validate', '--format', 'xml', WARN]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /unknown --format `xml`/);
  const rule = await runCli(['validate', '--disable', 'unused-clustr', '--', WARN]);
  assert.equal(rule.code, 2);
  assert.match(rule.stderr, /did you mean `unused-cluster`/);
  assert.equal((await runCli(['validate', '--max-warnings', 'many', WARN])).code, 2);
});

test('--disable turns rules off (comma separated or repeated, before or after the files)', async () => {
  const a = await json(['--disable', 'unused-cluster', '--disable', 'route-unknown-cluster', BAD, WARN]);
  assert.equal(a.code, 0);
  assert.equal(a.report.summary.errors + a.report.summary.warnings, 0);
  const b = await json([BAD, '--disable', 'route-unknown-cluster,unused-cluster']);
  assert.equal(b.code, 0);
  const c = await json([WARN, '--disable', 'route-unknown-cluster', BAD]);
  assert.equal(c.report.summary.files, 2);
  assert.equal(c.report.summary.warnings, 1);
});

test('.meshctl.yaml in the current directory: rules off and severities changed; --config names another', async () => {
  const dir = tempDir();
  try {
    cpSync(join(REPO, WARN), join(dir, 'a.yaml'));
    writeFileSync(join(dir, '.meshctl.yaml'), 'rules:\n  unused-cluster: error\n');
    const up = await json(['a.yaml'], { cwd: dir });
    assert.equal(up.code, 1);
    assert.equal(up.report.files[0]!.diagnostics[0]!.severity, 'error');
    writeFileSync(join(dir, 'quiet.yaml'), 'rules:\n  unused-cluster: off\n');
    const off = await json(['--config', 'quiet.yaml', 'a.yaml'], { cwd: dir });
    assert.equal(off.code, 0);
    assert.equal(off.report.summary.warnings, 0);
    writeFileSync(join(dir, '.meshctl.yaml'), 'rules:\n  unused-clustr: off\n');
    const typo = await runCli(['validate', 'a.yaml'], { cwd: dir });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /\.meshctl\.yaml: unknown rule `unused-clustr` \(did you mean `unused-cluster`\?\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inline `# meshctl-disable-next-line RULE` in YAML and text-proto', async () => {
  const dir = tempDir();
  try {
    const yaml = readFileSync(join(REPO, WARN), 'utf8').replace('    - name: spare', '    # meshctl-disable-next-line unused-cluster -- kept for the failover drill\n    - name: spare');
    writeFileSync(join(dir, 'a.yaml'), yaml);
    const y = await json([join(dir, 'a.yaml')]);
    assert.equal(y.report.summary.warnings, 0);
    // Another rule's id does not silence it.
    writeFileSync(join(dir, 'b.yaml'), yaml.replace('unused-cluster --', 'duplicate-domain --'));
    assert.equal((await json([join(dir, 'b.yaml')])).report.summary.warnings, 1);
    const tp = readFileSync(join(FIXTURES, 'invalid', 'static-cluster-needs-ip.textproto'), 'utf8').replace(
      '          endpoint {',
      '          # meshctl-disable-next-line static-cluster-needs-ip\n          endpoint {',
    );
    writeFileSync(join(dir, 'c.textproto'), tp);
    const t = await json([join(dir, 'c.textproto')]);
    assert.deepEqual(t.report.files[0]!.diagnostics.map((d) => d.rule), []);
    assert.equal(t.code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('globs and directories expand to files', async () => {
  const star = await json(['fixtures/invalid/duplicate-*.yaml']);
  assert.deepEqual(
    star.report.files.map((f) => f.file),
    ['duplicate-cluster-name', 'duplicate-domain', 'duplicate-listener-address', 'duplicate-listener-name', 'duplicate-route-config-name', 'duplicate-virtual-host-name'].map(
      (n) => `fixtures/invalid/${n}.yaml`,
    ),
  );
  const deep = await json(['fixtures/**/weighted-cluster-weights?2.yaml', 'fixtures/valid/*.{yaml,textproto}']);
  assert.deepEqual(deep.report.files.map((f) => f.file), ['fixtures/invalid/weighted-cluster-weights-2.yaml', 'fixtures/valid/basic.yaml', 'fixtures/valid/weighted.textproto']);
  const dir = await json(['fixtures/valid']);
  assert.equal(dir.report.summary.files, deep.report.summary.files - 1);
});

test('--check-files: a valid certificate and matching key pass', async () => {
  const certs = makeCertDir();
  try {
    const cfg = readFileSync(join(FIXTURES, 'invalid', 'tls-key-mismatch.yaml'), 'utf8').replace('other.key', 'good.key');
    writeFileSync(join(certs, 'ok.yaml'), cfg);
    const r = await json(['--check-files', 'ok.yaml'], { cwd: certs });
    assert.equal(r.code, 0);
    assert.deepEqual(r.report.files[0]!.diagnostics, []);
  } finally {
    rmSync(certs, { recursive: true, force: true });
  }
});

test("all five of the article's snippets validate without errors", async () => {
  const { code, report } = await json(['fixtures/seed']);
  assert.equal(code, 0);
  assert.equal(report.summary.files, 5);
  assert.equal(report.summary.errors, 0);
  // The lone tls_context fragment and the top-level cluster are placement warnings.
  const placement = report.files.flatMap((f) => f.diagnostics.filter((d) => d.rule === 'envoy-placement').map(() => f.file)).sort();
  assert.deepEqual(placement, ['fixtures/seed/full-example.textproto', 'fixtures/seed/tls-context.textproto', 'fixtures/seed/weighted-cluster.textproto']);
});
