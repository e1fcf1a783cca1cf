/**
 * `meshctl run --workers N` stops as fast as one process when idle. Each worker holds an IPC channel to the primary;
 * a worker that kept it open after draining lived on until the primary's deadline killed it (drain timeout + 2 s),
 * so an idle `--workers 2` took 12 s to stop where one process takes well under a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, freePort, oneListenerYaml } from '../proxy/cli-helpers.js';

const ROUTES = '                        - { match: { prefix: / }, direct_response: { status: 200 } }';

test('--workers 2: SIGTERM on an idle proxy stops it in under 2 s, with exit status 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-workers-'));
  const file = join(dir, 'config.yaml');
  const [listen, admin] = [await freePort(), await freePort()];
  writeFileSync(
    file,
    `admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${admin} } } }\n` +
      oneListenerYaml({ routes: ROUTES, clusters: { unused: listen } }).replace('port_value: 0 }', `port_value: ${listen} }`),
  );
  const cli = spawnCli(['run', file, '--workers', '2', '--listen-address', '127.0.0.1']);
  await cli.waitFor(/2 workers serving/, 20_000);
  const t0 = performance.now();
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `stopped after ${Math.round(ms)} ms`);
});
