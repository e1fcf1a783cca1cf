/** docs/run-support.md is generated from the run-fate table (npm run run-support) and must not go stale. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { renderRunSupport } from '../../scripts/run-support-lib.js';

test('docs/run-support.md matches the run-fate table', () => {
  assert.equal(readFileSync(join(REPO, 'docs', 'run-support.md'), 'utf8'), renderRunSupport(), 'docs/run-support.md is stale: run `npm run run-support`');
});
