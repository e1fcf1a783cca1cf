/**
 * fixtures/envoy-corpus: real Envoy v3 bootstraps written by others (sources and licences in its SOURCES.md), all of
 * which Envoy loads. Through the real CLI, each file must
 *  - validate with no error and no `unused-cluster` except the true problems listed in its `<file>.expected.json`
 *    (same shape as fixtures/invalid: rule, line, column, severity), asserted exactly;
 *  - convert to Envoy (`meshctl convert --to envoy`) into a file that validates with no error the original did not
 *    have;
 *  - survive YAML and JSON: its YAML form read back prints the JSON its own JSON form prints, and so does that JSON
 *    read back (in process, through the parser and emitters `convert` uses: a CLI process per step would cost ~30 s).
 * Files that still fail are listed in PENDING_ENVOY_API with the reason (a known gap: a filter whose fate run has
 * not decided); each must still fail, so the list stays exact and an entry goes as soon as its gap closes. Fields of
 * an API newer than meshctl's copy are `envoy-newer-api` warnings (proxy_protocol.yaml), not failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { parseConfig } from '../../src/config/parse.js';
import { emitConfig } from '../../src/config/convert.js';
import type { OutputFormat } from '../../src/config/model.js';

const DIR = join(FIXTURES, 'envoy-corpus');

/** Corpus file (relative to fixtures/envoy-corpus) → why it fails until meshctl reads Envoy's API as Envoy does. */
const PENDING_ENVOY_API: ReadonlyMap<string, string> = new Map([
  ['esp-v2/sidecar_backend-envoy_config.json', 'an HTTP filter named `com.google.espv2.filters.http.grpc_metadata_scrubber` with no typed_config: stock Envoy refuses a filter name it does not know, which validate does not report yet (the fate of every filter is issue 13), and the clusters ESPv2 filters use by default look unused'],
]);

interface Diag {
  rule: string;
  line: number;
  column: number;
  severity: string;
}

interface JsonReport {
  files: { file: string; diagnostics: Diag[] }[];
}

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p));
    else if (/\.(ya?ml|json)$/.test(name) && !name.endsWith('.expected.json')) out.push(p);
  }
  return out;
}

const files = corpusFiles(DIR);
const rel = (f: string): string => relative(DIR, f).split('\\').join('/');

/** What the corpus test holds a file to: its errors and its unused-cluster warnings. */
function judged(ds: readonly Diag[]): Diag[] {
  return ds.filter((d) => d.severity === 'error' || d.rule === 'unused-cluster').map(({ rule, line, column, severity }) => ({ rule, line, column, severity }));
}

async function validateAll(paths: readonly string[]): Promise<Map<string, Diag[]>> {
  const r = await runCli(['validate', '--format', 'json', ...paths], { timeoutMs: 120_000 });
  assert.equal(r.stderr, '', 'stderr');
  assert.ok(r.code === 0 || r.code === 1, `exit code ${r.code}`);
  const report = JSON.parse(r.stdout) as JsonReport;
  return new Map(report.files.map((f) => [f.file, f.diagnostics]));
}

/** Parse `text` as the file `name` and print it as `to`, as `meshctl convert` does. */
/**
 * Parse and print again. What meshctl wrote in its own YAML/JSON shape is read back in that shape (`from`), as
 * `meshctl convert --from yaml` would: the detector would take a file that names any `@type` for Envoy's.
 */
function reprint(text: string, name: string, to: OutputFormat, from?: 'yaml' | 'json'): string {
  const r = parseConfig(text, name, from !== undefined ? { from } : {});
  const fatal = r.diagnostics.find((d) => d.severity === 'error');
  assert.ok(r.config !== undefined && fatal === undefined, `${name} does not read back: ${fatal?.message ?? 'no config'}`);
  return emitConfig(r.config, to).text;
}

async function convert(to: string, file: string): Promise<string> {
  const r = await runCli(['convert', '--to', to, file]);
  assert.equal(r.code, 0, `convert --to ${to} ${file} exited ${r.code}: ${r.stderr.split('\n')[0] ?? ''}`);
  return r.stdout;
}

/** Run `work` over `items`, at most `limit` at a time (each is a CLI process; the machine has two cores). */
async function pool<T>(items: readonly T[], limit: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

interface Outcome {
  /** Why the file fails, or undefined when every check holds. */
  failure: string | undefined;
}

test('fixtures/envoy-corpus holds at least 40 configs, each listed in SOURCES.md', () => {
  assert.ok(files.length >= 40, `only ${files.length} corpus files`);
  const sources = readFileSync(join(DIR, 'SOURCES.md'), 'utf8');
  for (const f of files) assert.ok(sources.includes(`\`${rel(f)}\``), `${rel(f)} is not in SOURCES.md`);
  for (const p of PENDING_ENVOY_API.keys()) assert.ok(files.some((f) => rel(f) === p), `PENDING_ENVOY_API names ${p}, which is not in the corpus`);
});

test('fixtures/envoy-corpus: no error, no false unused-cluster, and round trips through Envoy, YAML and JSON', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'meshctl-corpus-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const original = await validateAll(files);
  const outcomes = new Map<string, Outcome>();
  const envoyOut = new Map<string, string>();

  await pool(files, 4, async (f) => {
    const key = rel(f);
    const problems: string[] = [];
    const got = judged(original.get(f) ?? []);
    const sidecar = `${f}.expected.json`;
    const expected = existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as Diag[]) : [];
    try {
      assert.deepEqual(got, expected);
    } catch {
      problems.push(`diagnostics ${JSON.stringify(got)} are not the expected ${JSON.stringify(expected)}`);
    }
    try {
      const envoy = join(tmp, `${key.replace(/[/.]/g, '_')}.envoy.yaml`);
      writeFileSync(envoy, await convert('envoy', f));
      envoyOut.set(f, envoy);
      const text = readFileSync(f, 'utf8');
      const json = reprint(text, f, 'json');
      assert.equal(reprint(reprint(text, f, 'yaml'), 'back.yaml', 'json', 'yaml'), json, 'the YAML round trip changed the model');
      assert.equal(reprint(json, 'back.json', 'json', 'json'), json, 'the JSON round trip changed the model');
    } catch (err) {
      problems.push((err as Error).message.split('\n')[0]!);
    }
    outcomes.set(f, { failure: problems.length > 0 ? problems.join('; ') : undefined });
  });

  // The Envoy form of every file, validated in one run: no error that the original did not have.
  const converted = [...envoyOut.values()];
  const again = converted.length > 0 ? await validateAll(converted) : new Map<string, Diag[]>();
  for (const [f, out] of envoyOut) {
    const before = new Set((original.get(f) ?? []).filter((d) => d.severity === 'error').map((d) => d.rule));
    const fresh = (again.get(out) ?? []).filter((d) => d.severity === 'error' && !before.has(d.rule));
    if (fresh.length > 0) {
      const o = outcomes.get(f)!;
      const why = `its Envoy form has new errors: ${fresh.map((d) => `${d.rule} ${d.line}:${d.column}`).join(', ')}`;
      outcomes.set(f, { failure: o.failure === undefined ? why : `${o.failure}; ${why}` });
    }
  }

  for (const f of files) {
    const key = rel(f);
    await t.test(key, () => {
      const { failure } = outcomes.get(f)!;
      const pending = PENDING_ENVOY_API.get(key);
      if (pending === undefined) assert.equal(failure, undefined, failure);
      else assert.notEqual(failure, undefined, `${key} now passes: remove it from PENDING_ENVOY_API (was: ${pending})`);
    });
  }
});
