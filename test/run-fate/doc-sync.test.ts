/** docs/run-support.md is generated from the run-fate table (npm run run-support) and must not go stale; docs/rules.md
 * documents the rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { renderRunSupport } from '../../scripts/run-support-lib.js';
import { RUN_IGNORED, RUN_REFUSED } from '../../src/config/run-fate/rule-ids.js';

test('docs/run-support.md matches the run-fate table', () => {
  assert.equal(readFileSync(join(REPO, 'docs', 'run-support.md'), 'utf8'), renderRunSupport(), 'docs/run-support.md is stale: run `npm run run-support`');
});

test('docs/rules.md documents the run-fate rules with their severity and examples', () => {
  const doc = readFileSync(join(REPO, 'docs', 'rules.md'), 'utf8');
  for (const [id, severity] of [
    [RUN_REFUSED, 'error'],
    [RUN_IGNORED, 'warning'],
  ] as const) {
    const section = doc.split(/^### /m).find((h) => (h.split('\n')[0] ?? '') === `\`${id}\``);
    assert.ok(section !== undefined, `docs/rules.md has no heading for ${id}`);
    assert.match(section, new RegExp(`\\*\\*${severity}\\*\\*`));
    assert.match(section, /Bad/);
    assert.match(section, /Good/);
  }
});
