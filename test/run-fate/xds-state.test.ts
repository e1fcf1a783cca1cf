/** xDS resources held to the run-fate table in XdsState (the class every transport uses): NACK or log once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdsState, type ResourceMap, type XdsSink } from '../../src/discovery/xds-core.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, type XdsKind } from '../../src/config/envoy-api/xds-protocol.js';

function state(): { s: XdsState; log: string[]; applied: Partial<Record<XdsKind, number>> } {
  const log: string[] = [];
  const applied: Partial<Record<XdsKind, number>> = {};
  const sink: XdsSink = {
    names: () => ['a'],
    apply: async <K extends XdsKind>(kind: K, _resources: ResourceMap<K>) => {
      applied[kind] = (applied[kind] ?? 0) + 1;
    },
  };
  return { s: new XdsState({ id: 'n', cluster: 'c' }, sink, (l) => log.push(l)), log, applied };
}

test('EDS: an endpoint field run does not act on is accepted and logged once, however often it comes', async () => {
  const { s, log, applied } = state();
  const cla = {
    '@type': ENDPOINT_TYPE,
    cluster_name: 'a',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9000 } }, additional_addresses: [{ address: { socket_address: { address: '127.0.0.2', port_value: 9000 } } }] } }] }],
  };
  for (const v of ['1', '2', '3']) {
    const ack = await s.onResponse({ version_info: v, type_url: ENDPOINT_TYPE, nonce: v, resources: [cla] });
    assert.equal(ack.error_detail, undefined);
  }
  assert.equal(applied.EDS, 3);
  const fate = log.filter((l) => l.includes('run-ignored'));
  assert.equal(fate.length, 1, log.join('\n'));
  assert.match(fate[0]!, /^xds: load assignment a: \[run-ignored\] `additional_addresses` \(in Endpoint\) is accepted but meshctl run does not act on it/);
});

test('CDS: a cluster with an element run cannot enforce is NACKed with the element named, and nothing is applied', async () => {
  const { s, applied } = state();
  const ok = { '@type': CLUSTER_TYPE, name: 'a', type: 'STATIC', connect_timeout: '1s' };
  await s.onResponse({ version_info: '1', type_url: CLUSTER_TYPE, nonce: 'n1', resources: [ok] });
  const nack = await s.onResponse({
    version_info: '2',
    type_url: CLUSTER_TYPE,
    nonce: 'n2',
    resources: [ok, { '@type': CLUSTER_TYPE, name: 'b', type: 'STATIC', connect_timeout: '1s', transportSocket: { name: 'acme.transport_sockets.vpn' } }],
  });
  assert.equal(nack.version_info, '1');
  assert.equal(nack.response_nonce, 'n2');
  assert.match(nack.error_detail!.message, /cluster b: \[run-refused\] meshctl run does not support transport socket `acme\.transport_sockets\.vpn`/);
  assert.equal(applied.CDS, 1, 'only v1 was applied');
  assert.equal(s.stats('CDS').update_rejected, 1);
});
