/** The CLI shell itself: help, version, usage errors and their exit codes, through the real binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

test('--help lists every command and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['validate', 'convert', 'simulate', 'run']) {
    assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), `help should list ${cmd}`);
  }
});

test('--version prints the package version', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('an unknown command is a usage error: exit 2, a message, no stack trace', async () => {
  const r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('an unknown option is a usage error: exit 2', async () => {
  const r = await runCli(['validate', '--no-such-flag', 'x.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});
