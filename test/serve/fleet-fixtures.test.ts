/**
 * fixtures/fleet/: the files the README's fleet section shows. `meshctl validate` judges all three clean (the Envoy
 * bootstrap included), and the sidecar really takes its clusters from `meshctl serve` of mesh.yaml (the control
 * plane's fixed port mapped to the test's with --map-endpoint).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { freePort, spawnCli } from '../proxy/cli-helpers.js';
import { startServe, until } from './serve-helpers.js';

const FLEET = join(FIXTURES, 'fleet');

test('fixtures/fleet: the Envoy bootstrap, the served mesh and the sidecar validate clean', async () => {
  const r = await runCli(['validate', join(FLEET, 'envoy-bootstrap.yaml'), join(FLEET, 'mesh.yaml'), join(FLEET, 'sidecar.yaml')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /0 errors, 0 warnings in 3 files/);
});

test('fixtures/fleet: the sidecar takes its clusters and endpoints from meshctl serve of mesh.yaml', { timeout: 60_000 }, async () => {
  const serve = await startServe(join(FLEET, 'mesh.yaml'));
  // The sidecar's listener port (10001) moved to a free one.
  const offset = (await freePort()) - 10001;
  const run = spawnCli(['run', join(FLEET, 'sidecar.yaml'), '--map-endpoint', `127.0.0.1:18000=127.0.0.1:${serve.xdsPort}`, '--listen-port-offset', String(offset), '--admin-address', '127.0.0.1:0', '--no-access-log']);
  try {
    await run.waitFor(/listener sidecar on/);
    await until(async () => {
      const st = await serve.status();
      const s = st.streams.find((x) => x.node.id === 'sidecar-1');
      return s?.types.cds?.acked_version === '1' && s.types.eds?.acked_version === '1';
    }, 10_000, 'the sidecar to ACK CDS and EDS');
    const st = await serve.status();
    assert.deepEqual(st.config.versions, {
      cds: { version: '1', resources: 2 },
      eds: { version: '1', resources: 2 },
      lds: { version: '1', resources: 1 },
      rds: { version: '1', resources: 1 },
    });
    assert.deepEqual(st.streams.find((x) => x.node.id === 'sidecar-1')!.types.eds!.subscribed, ['backend-v1', 'backend-v2']);
  } finally {
    run.child.kill('SIGTERM');
    await run.exit();
    await serve.stop();
  }
});
