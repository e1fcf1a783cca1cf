#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's built-in test runner.
// Node 20 has no glob support in `node --test`, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'dist', 'test');
const only = process.argv.slice(2);
const files = [];
(function walk(d) {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(relative(root, p));
  }
})(dir);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('run-tests: no test files found under dist/test (did the build run?)');
  process.exit(1);
}
const concurrency = process.env.MESHCTL_TEST_CONCURRENCY ?? '3';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...selected], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
