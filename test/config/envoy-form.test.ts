/**
 * A dialect file's Envoy form (what `convert --to envoy` writes) is judged by Envoy's descriptors too, through the
 * real CLI: a value that breaks a constraint of Envoy's protos which no meshctl rule checks is an error at the
 * dialect's own line and column; one a meshctl rule already reports is not reported twice; the dialect's fixtures
 * and the article's snippets stay clean; a file too big for the judgement's time budget gets a note.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { ENVOY_FORM_MAX_RESOURCES } from '../../src/validate/envoy-form.js';

interface Reported {
  rule: string;
  severity: string;
  line: number;
  column: number;
  message: string;
}

async function validate(files: string[]): Promise<Map<string, Reported[]>> {
  const r = await runCli(['validate', '--format', 'json', ...files]);
  assert.equal(r.stderr, '');
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}`);
  const out = new Map<string, Reported[]>();
  for (const f of (JSON.parse(r.stdout) as { files: { file: string; diagnostics: Reported[] }[] }).files) out.set(f.file, f.diagnostics);
  return out;
}

interface Mutation {
  readonly name: string;
  readonly base: string;
  /** The inserted line goes after the first line containing this. */
  readonly after: string;
  readonly line: string;
  /** The text in the inserted line the error must point at. */
  readonly at: string;
  readonly rule: string;
}

/** Constraints from Envoy's protos (protoc-gen-validate) that no meshctl rule checks. */
const BREAKING: readonly Mutation[] = [
  {
    name: 'dns-refresh-rate.textproto',
    base: 'seed/full-example.textproto',
    after: 'connect_timeout: 0.25s',
    line: '      dns_refresh_rate: 0.0005s',
    at: '0.0005s',
    rule: 'envoy-duration-rule', // Cluster.dns_refresh_rate: duration gt 1ms
  },
  {
    name: 'headers-kb.textproto',
    base: 'seed/full-example.textproto',
    after: 'codec: "http2"',
    line: '              max_request_headers_kb: 9000',
    at: '9000',
    rule: 'envoy-number-rule', // HttpConnectionManager.max_request_headers_kb: uint32 gt 0, lte 8192
  },
  {
    name: 'outlier.textproto',
    base: 'seed/full-example.textproto',
    after: 'connect_timeout: 0.25s',
    line: '      outlier_detection { enforcing_consecutive_5xx: 150 }',
    at: '150',
    rule: 'envoy-number-rule', // OutlierDetection.enforcing_consecutive_5xx: uint32 lte 100
  },
  {
    name: 'outlier.yaml',
    base: 'valid/basic.yaml',
    after: 'lb_policy: ROUND_ROBIN',
    line: '      outlier_detection: { enforcing_consecutive_5xx: 150 }',
    at: '150',
    rule: 'envoy-number-rule',
  },
  {
    name: 'header-key.yaml',
    base: 'valid/basic.yaml',
    after: 'domains: ["api.example.com"',
    line: '                      request_headers_to_add: [ { header: { key: "", value: x } } ]',
    at: '""',
    rule: 'envoy-string-rule', // HeaderValue.key: string min_len 1
  },
  {
    name: 'headers-kb.yaml',
    base: 'valid/basic.yaml',
    after: 'stat_prefix: ingress_http',
    line: '                max_request_headers_kb: 0',
    at: '0',
    rule: 'envoy-number-rule',
  },
];

/** Constraints a meshctl rule checks already: its diagnostic stands, Envoy's is not added beside it. */
const COVERED: readonly (Mutation & { readonly meshctlRule: string })[] = [
  {
    name: 'choice-count.textproto',
    base: 'seed/full-example.textproto',
    after: 'connect_timeout: 0.25s',
    line: '      least_request_lb_config { choice_count: 1 }',
    at: 'choice_count',
    rule: 'envoy-number-rule',
    meshctlRule: 'invalid-cluster-config',
  },
  {
    name: 'ring-size.yaml',
    base: 'valid/basic.yaml',
    after: 'lb_policy: ROUND_ROBIN',
    line: '      ring_hash_lb_config: { minimum_ring_size: 9000000 }',
    at: 'minimum_ring_size',
    rule: 'envoy-number-rule',
    meshctlRule: 'invalid-cluster-config',
  },
];

function mutate(dir: string, m: Mutation): { file: string; line: number; column: number } {
  const lines = readFileSync(join(FIXTURES, m.base), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(m.after));
  assert.ok(i >= 0, `${m.base} has no line with ${m.after}`);
  lines.splice(i + 1, 0, m.line);
  const file = join(dir, m.name);
  writeFileSync(file, lines.join('\n'));
  return { file, line: i + 2, column: m.line.indexOf(m.at) + 1 };
}

test('envoy form: a broken Envoy constraint no meshctl rule checks is an error at the dialect line:column', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-envoy-form-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases = BREAKING.map((m) => ({ m, ...mutate(dir, m) }));
  const covered = COVERED.map((m) => ({ m, ...mutate(dir, m) }));
  const reports = await validate([...cases, ...covered].map((c) => c.file));
  for (const c of cases) {
    const got = (reports.get(c.file) ?? []).filter((d) => d.severity === 'error');
    assert.deepEqual(
      got.map((d) => ({ rule: d.rule, line: d.line, column: d.column })),
      [{ rule: c.m.rule, line: c.line, column: c.column }],
      `${c.m.name}: ${JSON.stringify(got)}`,
    );
    assert.match(got[0]!.message, /in the Envoy form/);
  }
  for (const c of covered) {
    const got = (reports.get(c.file) ?? []).filter((d) => d.severity === 'error');
    assert.deepEqual(
      got.map((d) => ({ rule: d.rule, line: d.line })),
      [{ rule: c.m.meshctlRule, line: c.line }],
      `${c.m.name}: ${JSON.stringify(got)}`,
    );
  }
});

test('envoy form: the dialect fixtures and the article snippets have nothing Envoy refuses', async () => {
  const dirs = ['textproto', 'seed', 'quickstart', 'valid'];
  const files = dirs.flatMap((d) => readdirSync(join(FIXTURES, d)).map((f) => join(FIXTURES, d, f)));
  assert.ok(files.length >= 10);
  const reports = await validate(files);
  assert.equal(reports.size, files.length);
  for (const [file, diagnostics] of reports) {
    assert.deepEqual(diagnostics.filter((d) => d.rule.startsWith('envoy-') && d.rule !== 'envoy-placement'), [], file);
  }
});

test('envoy form: a file past the size budget gets a note that its Envoy form was not judged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-envoy-form-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const n = Math.ceil(ENVOY_FORM_MAX_RESOURCES / 2) + 1;
  const lines = ['static_resources:', '  listeners:', '    - name: l', '      address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }'];
  lines.push('      filter_chains:', '        - filters:', '            - name: envoy.filters.network.http_connection_manager', '              typed_config:');
  lines.push('                route_config:', '                  virtual_hosts:', '                    - name: all', '                      domains: ["*"]', '                      routes:');
  for (let i = 0; i < n; i++) lines.push(`                        - { match: { prefix: "/c${i}/" }, route: { cluster: c${i} } }`);
  lines.push('  clusters:');
  // the first cluster holds a value Envoy refuses, which the note says was not looked for
  const outlier = (i: number): string => (i === 0 ? ', outlier_detection: { enforcing_consecutive_5xx: 150 }' : '');
  for (let i = 0; i < n; i++) {
    lines.push(`    - { name: c${i}, connect_timeout: 1s${outlier(i)}, load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9000 } } } } ] } ] } }`);
  }
  const file = join(dir, 'big.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  const got = (await validate([file])).get(file) ?? [];
  assert.deepEqual(got.filter((d) => d.rule.startsWith('envoy-')).map((d) => [d.rule, d.severity]), [['envoy-form-not-judged', 'info']]);
});
