import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { youngGenerationSizedByUser } from '../../src/app/young-generation.js';

const MODULE = fileURLToPath(new URL('../../src/app/young-generation.js', import.meta.url));

/**
 * A child node process allocates the way a busy proxy does (short-lived objects, some surviving a few rounds) and
 * prints its new space's size in MB. `hold` calls holdYoungGeneration() first, as `meshctl run` does.
 */
function newSpaceMb(hold: boolean, nodeArgs: string[] = []): number {
  const script = `
    import v8 from 'node:v8';
    import { holdYoungGeneration } from ${JSON.stringify(MODULE)};
    if (${hold}) holdYoungGeneration();
    const keep = [];
    for (let r = 0; r < 300; r++) {
      const a = [];
      for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 3) keep.shift();
    }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.space_size / 1048576));`;
  return Number(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
}

test('run holds the young generation at its start-up size under allocation; without it V8 grows it', () => {
  const held = newSpaceMb(true);
  const grown = newSpaceMb(false);
  assert.ok(held <= 4, `new space held at ${held} MB`);
  assert.ok(grown >= 4 * held, `without the hold the new space grew to ${grown} MB (held: ${held} MB)`);
});

test("a young generation sized on node's command line or in NODE_OPTIONS is the user's choice", () => {
  assert.equal(youngGenerationSizedByUser(['--max-semi-space-size=8'], undefined), true);
  assert.equal(youngGenerationSizedByUser([], '--max_semi_space_size=8 --enable-source-maps'), true);
  assert.equal(youngGenerationSizedByUser([], '--semi-space-growth-factor=2'), true);
  assert.equal(youngGenerationSizedByUser(['--enable-source-maps'], '--max-old-space-size=512'), false);
  // The user's flag wins: with a maximum of 8 MB per semi-space given to node, the hold does not apply.
  assert.ok(newSpaceMb(true, ['--max-semi-space-size=8']) > 4);
});
