/**
 * schemas/envoy-api/ is what `npm run envoy-api` writes from the protos @grpc/grpc-js-xds ships: regenerated here in
 * memory and compared file by file, so a new copy of the API (or a change to the generator) cannot go unnoticed.
 * Also: the tables the judge keys by message and field name what the descriptors really have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyApiDeps, generateEnvoyApi } from '../../scripts/envoy-api-gen-lib.js';
import { CLUSTER_NAME_FIELDS, RUNTIME_CLUSTER_FIELDS, RUNTIME_CLUSTER_TYPES } from '../../src/config/envoy-api/cluster-refs.js';
import { EnvoyApi, envoyApi } from '../../src/config/envoy-api/descriptors.js';
import { REPO } from '../helpers/cli.js';

const DIR = join(REPO, 'schemas', 'envoy-api');
const STALE = 'stale: run `npm run envoy-api` and commit schemas/envoy-api/';
const { deps, source } = envoyApiDeps();
const generated = generateEnvoyApi(deps, source);

test('schemas/envoy-api/ holds exactly the generated files', () => {
  assert.deepEqual(readdirSync(DIR).sort(), [...generated.keys()].sort(), STALE);
  for (const [name, text] of generated) assert.equal(readFileSync(join(DIR, name), 'utf8'), text, `${name}: ${STALE}`);
});

test('the generated descriptors load with the run-time loader and keep the validation rules', () => {
  const api = new EnvoyApi((file) => generated.get(file)!);
  const cluster = api.message('envoy.config.cluster.v3.Cluster')!;
  assert.deepEqual(cluster.field('name')!.rules, { string: { min_len: 1 } });
  assert.equal(cluster.field('connectTimeout'), cluster.field('connect_timeout'));
  assert.equal(cluster.field('lb_policy')!.type.kind, 'enum');
  const hc = api.message('envoy.config.core.v3.HealthCheck')!;
  assert.deepEqual(
    hc.oneofs.map((o) => [o.name, o.required]),
    [['health_checker', true]],
  );
  assert.equal(api.index.bootstrapFields.includes('layered_runtime'), true);
  // Only the packages the input reaches are read.
  assert.ok(api.index.packages.length > 200);
});

test('every field the cluster-reference tables name is a string field of Envoy\'s API', () => {
  const api = envoyApi();
  for (const key of [...Object.keys(CLUSTER_NAME_FIELDS), ...RUNTIME_CLUSTER_FIELDS]) {
    const at = key.lastIndexOf('.');
    const m = api.message(key.slice(0, at));
    assert.ok(m !== undefined, `${key}: no message ${key.slice(0, at)}`);
    const f = m.field(key.slice(at + 1));
    assert.ok(f !== undefined && f.name === key.slice(at + 1), `${key}: no field`);
    if (key in CLUSTER_NAME_FIELDS) assert.equal(f.typeName, 'string', key);
  }
  for (const t of RUNTIME_CLUSTER_TYPES) assert.ok(api.message(t) !== undefined, `${t}: no message`);
});
