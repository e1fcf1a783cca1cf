/**
 * The .proto is the single source of truth: the generated model types, the precompiled descriptor the decoder loads
 * and the JSON Schema for editors must all be what `npm run schemas` would write now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAll } from '../../scripts/schema-gen-lib.js';
import { buildSchema, loadSchema } from '../../src/config/descriptor.js';
import { REPO } from '../helpers/cli.js';

const generated = generateAll(join(REPO, 'schemas', 'meshctl.proto'));
const STALE = 'stale: run `npm run schemas` and commit the three outputs';

test('src/config/model.generated.ts matches schemas/meshctl.proto', () => {
  assert.equal(readFileSync(join(REPO, 'src', 'config', 'model.generated.ts'), 'utf8'), generated.modelTs, STALE);
});

test('schemas/meshctl.descriptor.json matches schemas/meshctl.proto', () => {
  assert.equal(readFileSync(join(REPO, 'schemas', 'meshctl.descriptor.json'), 'utf8'), generated.descriptor, STALE);
});

test('schemas/meshctl.schema.json is not stale', () => {
  assert.equal(readFileSync(join(REPO, 'schemas', 'meshctl.schema.json'), 'utf8'), generated.jsonSchema, STALE);
});

test('the decoder resolves every field of the descriptor to a known kind', () => {
  const schema = buildSchema(JSON.parse(generated.descriptor));
  assert.ok(schema.messages.size > 50);
  for (const m of schema.messages.values()) {
    for (const f of m.fields.values()) assert.notEqual(f.value.kind, 'json', `${m.name}.${f.name} (${f.typeName}) has no decoder`);
  }
  assert.equal(loadSchema().message('Cluster').fields.get('lb_policy')?.value.kind, 'enum');
  assert.equal(loadSchema().message('LbEndpoint').fields.get('load_balancing_weight')?.value.kind, 'wrapper');
});
