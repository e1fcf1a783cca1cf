/**
 * `simulate` with a hash policy: when a few request keys decide the split, the report says the chi-square test does
 * not apply, and why, instead of a bare `χ²=6604 p=0`; with many keys the test counts keys, not requests (issue 17,
 * item 7). Through the real CLI, in the table and in JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { oneListenerYaml } from '../proxy/cli-helpers.js';
import type { ClusterReport, SimReport } from '../../src/simulate/report-types.js';

/** One route to a three-endpoint cluster of `policy`, hashing on x-user. */
function config(policy: string): string {
  return oneListenerYaml({
    routes: '                        - { match: { prefix: / }, route: { cluster: c, hash_policy: [{ header: { header_name: x-user } }] } }',
    clusters: {},
  }).replace(
    '  clusters:\n',
    `  clusters:
    - name: c
      connect_timeout: 1s
      lb_policy: ${policy}
      load_assignment:
        cluster_name: c
        endpoints: [{ lb_endpoints: [
          { endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } } },
          { endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 80 } } } },
          { endpoint: { address: { socket_address: { address: 10.0.0.3, port_value: 80 } } } } ] }]
`,
  );
}

async function simulate(policy: string, args: string[]): Promise<{ table: string; cluster: ClusterReport }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-hashfit-'));
  try {
    const file = join(dir, 'ring.yaml');
    writeFileSync(file, config(policy));
    const table = await runCli(['simulate', file, '-n', '3000', ...args]);
    assert.equal(table.code, 0, table.stderr);
    const json = await runCli(['simulate', file, '-n', '3000', '--format', 'json', ...args]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as SimReport;
    return { table: table.stdout, cluster: report.listeners[0]!.routes[0]!.clusters[0]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const users = (n: number): string[] => Array.from({ length: n }, (_, i) => ['--header', `x-user:user-${i}`]).flat();

test('RING_HASH with three users: the report says the chi-square test does not apply, and why', async () => {
  const { table, cluster } = await simulate('RING_HASH', users(3));
  assert.match(table, /cluster c {2}RING_HASH {2}3000 requests {2}χ² n\/a \(hash keys\)/);
  assert.match(table, /χ² does not apply: only 3 distinct hash keys chose the endpoints, .*the keys, not the weights, decide the split/);
  assert.doesNotMatch(table, /χ²=/);
  assert.equal(cluster.chiSquare, null);
  assert.equal(cluster.pValue, null);
  assert.equal(cluster.chiSquareSamples, 'hash-keys');
  assert.equal(cluster.hashKeys, 3);
  assert.match(cluster.chiSquareNote ?? '', /^χ² does not apply: only 3 distinct hash keys/);
});

test('MAGLEV with many users: the test counts the keys, and the report says so', async () => {
  const { table, cluster } = await simulate('MAGLEV', users(90));
  assert.equal(cluster.chiSquareSamples, 'hash-keys');
  assert.equal(cluster.hashKeys, 90);
  assert.equal(cluster.degreesOfFreedom, 2);
  assert.ok(cluster.pValue !== null && cluster.pValue !== undefined && cluster.pValue > 0.001, `p = ${cluster.pValue}`);
  assert.match(cluster.chiSquareNote ?? '', /χ² over 90 distinct hash keys, not requests/);
  assert.match(table, /χ²=\d+\.\d\d df=2 p=\S+ over 90 hash keys/);
});

test('a policy the hash does not steer keeps the test over requests', async () => {
  const { table, cluster } = await simulate('ROUND_ROBIN', users(3));
  assert.equal(cluster.chiSquareSamples, 'requests');
  assert.equal(cluster.hashKeys, null);
  assert.equal(cluster.chiSquareNote, null);
  assert.match(table, /χ²=\d+\.\d\d df=2 p=/);
  assert.doesNotMatch(table, /hash keys/);
});
