/** `validate --disable`: one value per flag, so the natural `--disable RULE FILE` order works (issue 17, item 1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

const WARN = 'fixtures/invalid/unused-cluster.yaml';
const BAD = 'fixtures/invalid/route-unknown-cluster.yaml';

interface Summary {
  summary: { files: number; errors: number; warnings: number };
}

async function summary(args: string[]): Promise<{ code: number | null; s: Summary['summary'] }> {
  const r = await runCli(['validate', '--format', 'json', ...args]);
  assert.equal(r.stderr, '', `stderr of ${args.join(' ')}`);
  const { files, errors, warnings } = (JSON.parse(r.stdout) as Summary).summary;
  return { code: r.code, s: { files, errors, warnings } };
}

test('--disable RULE FILE: the file is validated, the rule is off', async () => {
  const r = await summary(['--disable', 'unused-cluster', WARN]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.s, { files: 1, errors: 0, warnings: 0 });
});

test('--disable=a,b, repeated --disable, and --disable after the files all turn the rules off', async () => {
  for (const args of [
    ['--disable=unused-cluster,route-unknown-cluster', WARN, BAD],
    ['--disable', 'unused-cluster', '--disable', 'route-unknown-cluster', WARN, BAD],
    ['--disable', 'unused-cluster,route-unknown-cluster', WARN, BAD],
    [WARN, BAD, '--disable', 'unused-cluster,route-unknown-cluster'],
  ]) {
    const r = await summary(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.deepEqual(r.s, { files: 2, errors: 0, warnings: 0 }, args.join(' '));
  }
  // Only the rule named is off: the other file's error still counts.
  const one = await summary(['--disable', 'unused-cluster', WARN, BAD]);
  assert.equal(one.code, 1);
  assert.ok(one.s.errors > 0);
  assert.equal(one.s.warnings, 0);
});

test('an unknown rule is still a usage error with a did-you-mean, in either order', async () => {
  for (const args of [
    ['validate', '--disable', 'unused-clustr', WARN],
    ['validate', WARN, '--disable=unused-clustr'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /unknown rule `unused-clustr` \(did you mean `unused-cluster`\?\)/);
    assert.equal(r.stdout, '');
  }
});

test('the old space-separated form says how to write it instead of "no such file"', async () => {
  const r = await runCli(['validate', '--disable', 'unused-cluster', 'route-unknown-cluster', WARN]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /`route-unknown-cluster` is a rule id, not a file: .*--disable a,b/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
