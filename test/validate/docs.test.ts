/** docs/rules.md documents every validation rule with its severity, a bad example and a good one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { RULES } from '../../src/validate/index.js';
import { CONSTRAINT_RULE_IDS, JUDGE_RULE_IDS, UNMODELED_FIELD } from '../../src/config/envoy-api/rule-ids.js';

test('docs/rules.md: a section per rule with its default severity, Bad and Good', () => {
  const doc = readFileSync(join(REPO, 'docs', 'rules.md'), 'utf8');
  const sections = new Map<string, string>();
  const parts = doc.split(/^### /m).slice(1);
  for (const p of parts) {
    const m = /^`([a-z0-9-]+)`/.exec(p);
    if (m !== null) sections.set(m[1]!, p);
  }
  for (const rule of RULES) {
    const s = sections.get(rule.id);
    assert.ok(s !== undefined, `docs/rules.md has no section for ${rule.id}`);
    assert.match(s, new RegExp(`\\*\\*${rule.severity}`), `${rule.id}: default severity ${rule.severity} not stated`);
    assert.match(s, /Bad/, `${rule.id}: no bad example`);
    assert.match(s, /Good/, `${rule.id}: no good example`);
  }
});

test("docs/rules.md: every rule id of Envoy's judgement has a heading with its severity", () => {
  const doc = readFileSync(join(REPO, 'docs', 'rules.md'), 'utf8');
  const headings = doc.split(/^### /m).slice(1);
  for (const id of [...JUDGE_RULE_IDS, ...CONSTRAINT_RULE_IDS, UNMODELED_FIELD]) {
    const section = headings.find((h) => (h.split('\n')[0] ?? '').includes(`\`${id}\``));
    assert.ok(section !== undefined, `docs/rules.md has no heading for ${id}`);
    assert.match(section, /\*\*(error|warning|info)\*\*/, `${id}: no severity`);
    assert.match(section, /Bad/, `${id}: no bad example`);
  }
});
