/**
 * The wire codec (config/envoy-api/wire.ts) writes what Envoy's own .proto files say: messages it encodes from the
 * compact descriptors are decoded by protobufjs from the real protos @grpc/grpc-js-xds ships, and back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envoyApiDeps, loadEnvoyRoot } from '../../scripts/envoy-api-gen-lib.js';
import { WireCodec, WireError } from '../../src/config/envoy-api/wire.js';

const root = loadEnvoyRoot(envoyApiDeps().deps);
const codec = new WireCodec();

function realDecode(type: string, bytes: Uint8Array): Record<string, unknown> {
  const T = root.lookupType(type);
  return T.toObject(T.decode(bytes), { enums: String, longs: Number }) as Record<string, unknown>;
}

test('a Cluster encoded from JSON decodes with the real protos: enums, durations, wrappers, nested and repeated messages', () => {
  const cluster = {
    name: 'c',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: '0.25s',
    lb_policy: 'LEAST_REQUEST',
    per_connection_buffer_limit_bytes: 1000,
    circuit_breakers: { thresholds: [{ priority: 'HIGH', max_connections: 7 }] },
    metadata: { filter_metadata: { team: { owner: 'mesh', tier: 2, tags: ['a', true, null] } } },
  };
  const bytes = codec.encode('envoy.config.cluster.v3.Cluster', cluster);
  assert.deepEqual(realDecode('envoy.config.cluster.v3.Cluster', bytes), {
    name: 'c',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: { nanos: 250_000_000 },
    lb_policy: 'LEAST_REQUEST',
    per_connection_buffer_limit_bytes: { value: 1000 },
    circuit_breakers: { thresholds: [{ priority: 'HIGH', max_connections: { value: 7 } }] },
    metadata: {
      filter_metadata: {
        // protobufjs's built-in google.protobuf.Value has camelCase field names.
        team: {
          fields: {
            owner: { stringValue: 'mesh' },
            tier: { numberValue: 2 },
            tags: { listValue: { values: [{ stringValue: 'a' }, { boolValue: true }, { nullValue: 'NULL_VALUE' }] } },
          },
        },
      },
    },
  });
  assert.deepEqual(codec.decode('envoy.config.cluster.v3.Cluster', bytes), cluster);
});

test('an Any inside a Listener (the HTTP connection manager) is encoded as its named type, and read back', () => {
  const listener = {
    name: 'l',
    address: { socket_address: { address: '127.0.0.1', port_value: 8080 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'x',
              rds: { route_config_name: 'r', config_source: { ads: {} } },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
              stream_idle_timeout: '1.5s',
            },
          },
        ],
      },
    ],
  };
  const bytes = codec.encode('envoy.config.listener.v3.Listener', listener);
  const real = realDecode('envoy.config.listener.v3.Listener', bytes) as { filter_chains: { filters: { typed_config: { type_url: string; value: Uint8Array } }[] }[] };
  const any = real.filter_chains[0]!.filters[0]!.typed_config;
  assert.equal(any.type_url, listener.filter_chains[0]!.filters[0]!.typed_config['@type']);
  const hcm = realDecode('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', any.value);
  assert.equal(hcm.stat_prefix, 'x');
  assert.deepEqual(hcm.stream_idle_timeout, { seconds: 1, nanos: 500_000_000 });
  assert.deepEqual(codec.decode('envoy.config.listener.v3.Listener', bytes), listener);
});

test('a value with no place in the message is refused with its path', () => {
  assert.throws(() => codec.encode('envoy.config.cluster.v3.Cluster', { name: 'c', no_such_field: 1 }), (e: unknown) => e instanceof WireError && /Cluster\.no_such_field/.test(e.message));
  assert.throws(() => codec.encode('envoy.config.cluster.v3.Cluster', { lb_policy: 'FASTEST' }), /not a value of/);
  assert.throws(() => codec.encode('envoy.config.cluster.v3.Cluster', { connect_timeout: '5 minutes' }), /duration/);
});
