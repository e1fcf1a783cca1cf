import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../upstream/helpers.js';
import { createClusterManager } from '../../src/upstream/cluster-manager.js';
import { RandomStreams } from '../../src/balancer/random.js';
import type { Bootstrap } from '../../src/config/model.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, cla, edsCluster, startGrpcControlPlane, startRestControlPlane, staticClusterJson } from './control-plane.js';
import { decodeDiscoveryResponse, encodeDiscoveryResponse } from '../../src/discovery/xds-messages.js';
import type { DeltaDiscoveryRequestJson, DiscoveryRequestJson, DiscoveryResponseJson } from '../../src/config/envoy-api/xds-protocol.js';
import { xdsPlan } from '../../src/discovery/xds.js';

const controlCluster = (port: number) => ({
  name: 'xds',
  load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
});

const hostsOf = (cm: ReturnType<typeof createClusterManager>, name: string) =>
  cm.get(name)?.hosts.hosts.map((h) => h.address).join(',') ?? '(none)';

const apiNames = (cm: ReturnType<typeof createClusterManager>) =>
  [...cm.clusters()].filter((c) => c.origin === 'api').map((c) => c.name).sort().join(',');

function manager(config: Bootstrap) {
  return createClusterManager(config, { random: new RandomStreams(1), clock: { now: () => performance.now() } });
}

test('xdsPlan reads dynamic_resources: REST cds_config, ADS over gRPC, EDS-only static clusters', () => {
  assert.equal(xdsPlan({}), undefined);
  const rest = xdsPlan({ dynamic_resources: { cds_config: { api_config_source: { api_type: 'REST', cluster_names: ['cp'] } } } });
  assert.equal(rest?.transport, 'rest');
  assert.deepEqual(rest?.control, { cluster: 'cp' });
  const ads = xdsPlan({
    dynamic_resources: { cds_config: { ads: {} }, ads_config: { api_type: 'AGGREGATED_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'cp' } }] } },
  });
  assert.equal(ads?.transport, 'grpc');
  assert.deepEqual(ads?.kinds, ['CDS', 'EDS']);
  const edsOnly = xdsPlan({
    dynamic_resources: { ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'cp' } }] } },
    static_resources: { clusters: [{ name: 'e', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } }] },
  });
  assert.deepEqual(edsOnly?.kinds, ['EDS']);
  assert.equal(edsOnly?.transport, 'grpc');
});

test('xDS REST-JSON: clusters and endpoints added and removed by the control plane; ACK by version+nonce; NACK keeps the old state', async () => {
  const cp = await startRestControlPlane();
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a', 'a'), staticClusterJson('svc-b', 7001)];
  cp.snapshot.endpoints = [cla('a', 6001, 6002)];
  const cm = manager({
    static_resources: { clusters: [controlCluster(cp.port)] },
    dynamic_resources: { cds_config: { api_config_source: { api_type: 'REST', cluster_names: ['xds'], refresh_delay: { seconds: 0, nanos: 30e6 } } } },
  });
  try {
    await cm.ready();
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:6001,127.0.0.1:6002', 5000, 'EDS endpoints');
    assert.equal(hostsOf(cm, 'svc-b'), '127.0.0.1:7001');
    assert.equal(apiNames(cm), 'svc-a,svc-b');
    const eds = cp.requests.find((r) => r.type_url === ENDPOINT_TYPE)!;
    assert.deepEqual(eds.resource_names, ['a']);
    assert.equal(eds.node?.id, 'meshctl');
    const firstCds = cp.requests.find((r) => r.type_url === CLUSTER_TYPE)!;
    assert.equal(firstCds.version_info, '');
    await until(() => cp.requests.some((r) => r.type_url === CLUSTER_TYPE && r.version_info === 'v1' && r.response_nonce !== ''), 5000, 'CDS ACK');

    // v2: svc-b removed, svc-c added, a's endpoints change.
    cp.snapshot.version = 2;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a'), edsCluster('svc-c', 'c')];
    cp.snapshot.endpoints = [cla('a', 6002, 6003), cla('c', 6100)];
    const a = cm.get('svc-a')!;
    const stays = a.hosts.hosts.find((h) => h.port === 6002);
    await until(() => apiNames(cm) === 'svc-a,svc-c' && hostsOf(cm, 'svc-c') === '127.0.0.1:6100', 5000, 'v2 applied');
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:6002,127.0.0.1:6003', 5000, 'a follows');
    assert.equal(cm.get('svc-a'), a, 'the cluster object stays');
    assert.equal(a.hosts.hosts.find((h) => h.port === 6002), stays, 'a host that stays keeps its state');

    // v3 is invalid (a cluster without a name, an endpoint on port 0): NACKed, v2 stays in force.
    cp.snapshot.version = 3;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a'), { type: 'STATIC' }];
    cp.snapshot.endpoints = [cla('a', 0), cla('c', 6100)];
    await until(
      () => cp.requests.some((r) => r.type_url === CLUSTER_TYPE && r.version_info === 'v2' && r.error_detail !== undefined),
      5000,
      'CDS NACK',
    );
    await until(() => cp.requests.some((r) => r.type_url === ENDPOINT_TYPE && r.version_info === 'v2' && r.error_detail !== undefined), 5000, 'EDS NACK');
    const nack = cp.requests.find((r) => r.type_url === ENDPOINT_TYPE && r.error_detail !== undefined)!;
    assert.match(nack.error_detail!.message, /load assignment a: \[invalid-port\] port 0/);
    assert.equal(apiNames(cm), 'svc-a,svc-c');
    assert.equal(hostsOf(cm, 'svc-a'), '127.0.0.1:6002,127.0.0.1:6003');
    assert.ok(cm.xdsSession()!.state.stats('CDS').update_rejected >= 1 && cm.xdsSession()!.state.stats('EDS').update_rejected >= 1);
    assert.equal(cm.xdsSession()!.state.version('CDS'), 'v2');

    // The control plane fixes it: v4 accepted, error_detail gone.
    cp.snapshot.version = 4;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a')];
    cp.snapshot.endpoints = [cla('a', 6004)];
    await until(() => apiNames(cm) === 'svc-a' && hostsOf(cm, 'svc-a') === '127.0.0.1:6004', 5000, 'v4 applied');
    assert.equal(cm.get('svc-c'), undefined);
  } finally {
    await cm.close();
    await cp.close();
  }
});

test('gRPC wire codec: resources survive encode → decode with Envoy field numbers (durations, wrappers, enums, Any)', () => {
  const cluster = {
    name: 'c',
    type: 'EDS',
    connect_timeout: '0.250s',
    lb_policy: 'LEAST_REQUEST',
    outlier_detection: { consecutive_5xx: 3, base_ejection_time: '2s', max_ejection_percent: 50 },
    circuit_breakers: { thresholds: [{ max_requests: 7 }] },
    eds_cluster_config: { eds_config: { ads: {} }, service_name: 'svc' },
  };
  const buf = encodeDiscoveryResponse({ version_info: '9', type_url: CLUSTER_TYPE, nonce: 'n', resources: [{ '@type': CLUSTER_TYPE, ...cluster }] });
  const back = decodeDiscoveryResponse(buf) as DiscoveryResponseJson;
  assert.equal(back.version_info, '9');
  assert.deepEqual(back.resources![0], { '@type': CLUSTER_TYPE, ...cluster });
  // Byte-level check: DiscoveryResponse.resources is field 2, an Any whose type_url is field 1 and value field 2;
  // Cluster.name is field 1 (tag 0x0a) in Envoy's proto.
  const one = encodeDiscoveryResponse({ resources: [{ '@type': CLUSTER_TYPE, name: 'c' }] });
  assert.ok(one.subarray(one.length - 5).equals(Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x63])), one.toString('hex'));
  // ClusterLoadAssignment.endpoints is field 2, LbEndpoint.load_balancing_weight field 4 (a UInt32Value).
  const claBuf = encodeDiscoveryResponse({ resources: [{ '@type': ENDPOINT_TYPE, cluster_name: 'x', endpoints: [{ lb_endpoints: [{ load_balancing_weight: 5 }] }] }] });
  assert.ok(claBuf.includes(Buffer.from([0x22, 0x02, 0x08, 0x05])), 'weight as UInt32Value in field 4');
  // A listener whose connection manager sits in an Any inside a filter's typed_config decodes whole.
  const hcm = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  const listener = {
    name: 'l',
    address: { socket_address: { address: '127.0.0.1', port_value: 8080 } },
    filter_chains: [{ filters: [{ name: 'hcm', typed_config: { '@type': hcm, stat_prefix: 's', rds: { route_config_name: 'r', config_source: { ads: {}, initial_fetch_timeout: '1s' } } } }] }],
  };
  const lt = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const lback = decodeDiscoveryResponse(encodeDiscoveryResponse({ resources: [{ '@type': lt, ...listener }] })) as DiscoveryResponseJson;
  assert.deepEqual(lback.resources![0], { '@type': lt, ...listener });
});

const sotwRequests = (cp: { requests: readonly { delta?: boolean }[] }): DiscoveryRequestJson[] =>
  cp.requests.filter((r) => r.delta !== true) as unknown as DiscoveryRequestJson[];

test('xDS gRPC ADS: CDS + EDS over a stream, pushes add/remove clusters and endpoints, ACK by version+nonce, NACK keeps state', async () => {
  const cp = await startGrpcControlPlane();
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a', 'a')];
  cp.snapshot.endpoints = [cla('a', 5001, 5002)];
  const cm = manager({
    node: { id: 'sidecar-1', cluster: 'mesh' },
    static_resources: { clusters: [controlCluster(cp.port)] },
    dynamic_resources: { cds_config: { ads: {} }, ads_config: { api_type: 'AGGREGATED_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] } },
  });
  try {
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:5001,127.0.0.1:5002', 5000, 'ADS endpoints');
    assert.equal(sotwRequests(cp)[0]!.node?.id, 'sidecar-1');
    assert.equal(sotwRequests(cp)[0]!.type_url, CLUSTER_TYPE);
    await until(() => sotwRequests(cp).some((r) => r.type_url === ENDPOINT_TYPE && r.version_info === 'v1' && r.response_nonce !== ''), 5000, 'EDS ACK');
    assert.ok(sotwRequests(cp).some((r) => r.type_url === CLUSTER_TYPE && r.version_info === 'v1' && r.response_nonce !== ''), 'CDS ACK');

    // Add a cluster: the client subscribes to its EDS name on the same stream.
    cp.snapshot.version = 2;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a'), edsCluster('svc-b', 'b')];
    cp.snapshot.endpoints = [cla('a', 5002), cla('b', 5100)];
    cp.push(CLUSTER_TYPE);
    await until(() => hostsOf(cm, 'svc-b') === '127.0.0.1:5100', 5000, 'svc-b endpoints');
    assert.ok(sotwRequests(cp).some((r) => r.type_url === ENDPOINT_TYPE && r.resource_names.join() === 'a,b'));
    cp.push(ENDPOINT_TYPE);
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:5002', 5000, 'a lost 5001');

    // An invalid EDS update: NACK with the previous version and this nonce; endpoints unchanged.
    const nonce = cp.pushRaw(ENDPOINT_TYPE, 'v3', [cla('a', 0)]);
    await until(() => sotwRequests(cp).some((r) => r.response_nonce === nonce), 5000, 'NACK');
    const nack = sotwRequests(cp).find((r) => r.response_nonce === nonce)!;
    assert.equal(nack.version_info, 'v2');
    assert.ok(nack.error_detail && nack.error_detail.message.length > 0);
    assert.equal(hostsOf(cm, 'svc-a'), '127.0.0.1:5002');
    // An invalid CDS update (a nameless cluster) keeps both clusters.
    const n2 = cp.pushRaw(CLUSTER_TYPE, 'v3', [{ type: 'EDS' }]);
    await until(() => sotwRequests(cp).some((r) => r.response_nonce === n2), 5000, 'CDS NACK');
    assert.equal(apiNames(cm), 'svc-a,svc-b');

    // Remove svc-b.
    cp.snapshot.version = 4;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a')];
    cp.push(CLUSTER_TYPE);
    await until(() => cm.get('svc-b') === undefined, 5000, 'svc-b removed');
    assert.equal(cm.xdsSession()!.state.version('CDS'), 'v4');
  } finally {
    await cm.close();
    await cp.close();
  }
});

test('xDS delta ADS: subscribe by name, removed_resources, NACK with error_detail, and a new stream announces initial_resource_versions', async () => {
  const cp = await startGrpcControlPlane();
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a', 'a'), edsCluster('svc-b', 'b')];
  cp.snapshot.endpoints = [cla('a', 5201), cla('b', 5301)];
  const cm = manager({
    static_resources: { clusters: [controlCluster(cp.port)] },
    dynamic_resources: { cds_config: { ads: {} }, ads_config: { api_type: 'AGGREGATED_DELTA_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] } },
  });
  const deltas = () => cp.requests.filter((r) => r.delta === true) as (DeltaDiscoveryRequestJson & { delta: true })[];
  try {
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:5201' && hostsOf(cm, 'svc-b') === '127.0.0.1:5301', 5000, 'delta endpoints');
    const firstEds = deltas().find((r) => r.type_url === ENDPOINT_TYPE)!;
    assert.deepEqual([...firstEds.resource_names_subscribe!].sort(), ['a', 'b']);
    assert.equal(deltas()[0]!.type_url, CLUSTER_TYPE);
    assert.deepEqual(deltas()[0]!.resource_names_subscribe ?? [], [], 'CDS: the legacy wildcard (no names)');
    // svc-b goes: the server sends removed_resources, the client drops the cluster and unsubscribes its endpoints.
    cp.snapshot.version = 2;
    cp.snapshot.clusters = [edsCluster('svc-a', 'a')];
    cp.push(CLUSTER_TYPE);
    await until(() => cm.get('svc-b') === undefined, 5000, 'svc-b removed');
    await until(() => deltas().some((r) => r.type_url === ENDPOINT_TYPE && (r.resource_names_unsubscribe ?? []).includes('b')), 5000, 'EDS unsubscribe');
    // A bad delta update: NACKed by nonce with error_detail; nothing changes.
    const nonce = cp.pushRaw(ENDPOINT_TYPE, 'v3', [cla('a', 0)]);
    await until(() => deltas().some((r) => r.response_nonce === nonce), 5000, 'delta NACK');
    const nack = deltas().find((r) => r.response_nonce === nonce)!;
    assert.match(nack.error_detail?.message ?? '', /load assignment a: \[invalid-port\]/);
    assert.equal(hostsOf(cm, 'svc-a'), '127.0.0.1:5201');
    // The stream breaks: the new one says which versions the client holds.
    const before = cp.requests.length;
    cp.dropStreams();
    await until(() => cp.requests.slice(before).some((r) => r.delta === true && r.type_url === ENDPOINT_TYPE), 10_000, 'reconnected');
    const again = cp.requests.slice(before).filter((r) => r.delta === true) as DeltaDiscoveryRequestJson[];
    // v2 only removed svc-b: svc-a was never resent, so the client still holds it at v1.
    assert.deepEqual(again.find((r) => r.type_url === CLUSTER_TYPE)!.initial_resource_versions, { 'svc-a': 'v1' });
    assert.deepEqual(again.find((r) => r.type_url === ENDPOINT_TYPE)!.initial_resource_versions, { a: 'v1' });
    assert.equal(hostsOf(cm, 'svc-a'), '127.0.0.1:5201', 'state kept across the reconnect');
  } finally {
    await cm.close();
    await cp.close();
  }
});

test('xDS per-type gRPC services: a cds_config / eds_config with its own api_config_source streams on StreamClusters and StreamEndpoints', async () => {
  const cp = await startGrpcControlPlane();
  cp.snapshot.version = 1;
  cp.snapshot.endpoints = [cla('a', 5401)];
  const grpcSource = { api_type: 'GRPC' as const, grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] };
  // The cluster CDS sends names ADS for its endpoints; this bootstrap has no ADS, so CDS's cluster says GRPC too.
  cp.snapshot.clusters = [{ ...edsCluster('svc-a', 'a'), eds_cluster_config: { eds_config: { api_config_source: grpcSource }, service_name: 'a' } }];
  const plan = xdsPlan({ static_resources: { clusters: [controlCluster(cp.port)] }, dynamic_resources: { cds_config: { api_config_source: grpcSource } } });
  assert.equal(plan?.aggregated, false);
  const cm = manager({ static_resources: { clusters: [controlCluster(cp.port)] }, dynamic_resources: { cds_config: { api_config_source: grpcSource } } });
  try {
    await until(() => hostsOf(cm, 'svc-a') === '127.0.0.1:5401', 5000, 'endpoints over StreamEndpoints');
    const methods = new Set(cp.requests.map((r) => `${r.type_url.slice(r.type_url.lastIndexOf('.') + 1)} ${r.method}`));
    assert.ok(methods.has('Cluster /envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters'), [...methods].join());
    assert.ok(methods.has('ClusterLoadAssignment /envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints'), [...methods].join());
    assert.ok(![...methods].some((m) => m.includes('Aggregated')));
  } finally {
    await cm.close();
    await cp.close();
  }
});
