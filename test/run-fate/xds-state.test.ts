/** xDS resources held to the run-fate table in XdsState (the class both transports use): NACK or log once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TYPE, ENDPOINT_TYPE, XdsState, type XdsSink } from '../../src/discovery/xds-core.js';
import type { Cluster, ClusterLoadAssignment } from '../../src/config/model.js';

function state(): { s: XdsState; log: string[]; applied: { clusters: Cluster[][]; clas: ClusterLoadAssignment[][] } } {
  const log: string[] = [];
  const applied = { clusters: [] as Cluster[][], clas: [] as ClusterLoadAssignment[][] };
  const sink: XdsSink = {
    applyClusters: (c) => void applied.clusters.push([...c]),
    applyAssignments: (c) => void applied.clas.push([...c]),
    edsNames: () => ['a'],
  };
  return { s: new XdsState({ id: 'n', cluster: 'c' }, sink, (l) => log.push(l)), log, applied };
}

test('EDS: an endpoint field run does not act on is accepted and logged once, however often it comes', () => {
  const { s, log, applied } = state();
  const cla = {
    cluster_name: 'a',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9000 } }, health_check_config: { port_value: 9001 } } }] }],
  };
  for (const v of ['1', '2', '3']) {
    const ack = s.onResponse({ version_info: v, type_url: ENDPOINT_TYPE, nonce: v, resources: [cla] });
    assert.equal(ack.error_detail, undefined);
  }
  assert.equal(applied.clas.length, 3);
  assert.deepEqual(log, [
    "xds: load assignment a: endpoints[0].lb_endpoints[0].endpoint.health_check_config: `health_check_config` (in Endpoint) is accepted but meshctl run does not act on it (health checks go to the endpoint's own address)",
  ]);
});

test('CDS: a cluster with an element run cannot enforce is NACKed with the element named, and nothing is applied', () => {
  const { s, applied } = state();
  const ok = { name: 'a', type: 'STATIC', connect_timeout: '1s' };
  s.onResponse({ version_info: '1', type_url: CLUSTER_TYPE, nonce: 'n1', resources: [ok] });
  const nack = s.onResponse({
    version_info: '2',
    type_url: CLUSTER_TYPE,
    nonce: 'n2',
    resources: [ok, { name: 'b', type: 'STATIC', connect_timeout: '1s', transportSocket: { name: 'acme.transport_sockets.vpn' } }],
  });
  assert.equal(nack.version_info, '1');
  assert.equal(nack.response_nonce, 'n2');
  assert.match(nack.error_detail!.message, /^cluster b: transport_socket: meshctl run does not support transport socket `acme\.transport_sockets\.vpn`/);
  assert.equal(applied.clusters.length, 1, 'only v1 was applied');
  assert.equal(s.stats.update_rejected, 1);
});
