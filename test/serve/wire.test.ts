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
    connect_timeout: '0.250s',
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
              stream_idle_timeout: '1.500s',
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

test('bytes written by protobufjs from the real protos decode: packed repeated, int64 beyond 2^53 as text, signed durations, nanosecond timestamps', () => {
  const realEncode = (type: string, obj: Record<string, unknown>): Uint8Array => {
    const T = root.lookupType(type);
    return T.encode(T.fromObject(obj)).finish();
  };
  const retry = realEncode('envoy.config.route.v3.RetryPolicy', { retriable_status_codes: [503, 504], per_try_timeout: { seconds: 0, nanos: -500_000_000 } });
  // The real encoder packs the list: one length-delimited field 7, not two varints.
  assert.ok(Buffer.from(retry).includes(Buffer.from([0x3a, 0x04, 0xf7, 0x03, 0xf8, 0x03])), Buffer.from(retry).toString('hex'));
  assert.deepEqual(codec.decode('envoy.config.route.v3.RetryPolicy', retry), { retriable_status_codes: [503, 504], per_try_timeout: '-0.500s' });
  const range = realEncode('envoy.type.v3.Int64Range', { start: '-9007199254740993', end: 42 });
  assert.deepEqual(codec.decode('envoy.type.v3.Int64Range', range), { start: '-9007199254740993', end: 42 });
  const state = realEncode('envoy.admin.v3.UpdateFailureState', { last_update_attempt: { seconds: 1_700_000_000, nanos: 1_500 } });
  assert.deepEqual(codec.decode('envoy.admin.v3.UpdateFailureState', state), { last_update_attempt: '2023-11-14T22:13:20.000001500Z' });
});

test('JSON the codec encodes reads back with the real protos exactly: int64 text, timestamps before 1970, packed numbers', () => {
  const T = root.lookupType('envoy.type.v3.Int64Range');
  const range = T.toObject(T.decode(codec.encode('envoy.type.v3.Int64Range', { start: '9007199254740993', end: -3 })), { longs: String });
  assert.deepEqual(range, { start: '9007199254740993', end: '-3' });
  const state = realDecode('envoy.admin.v3.UpdateFailureState', codec.encode('envoy.admin.v3.UpdateFailureState', { last_update_attempt: '1969-12-31T23:59:59.250Z' }));
  assert.deepEqual(state.last_update_attempt, { seconds: -1, nanos: 250_000_000 });
  const retry = codec.encode('envoy.config.route.v3.RetryPolicy', { retriable_status_codes: [503, 504] });
  assert.deepEqual(Buffer.from(retry), Buffer.from([0x3a, 0x04, 0xf7, 0x03, 0xf8, 0x03]));
  assert.deepEqual(realDecode('envoy.config.route.v3.RetryPolicy', retry), { retriable_status_codes: [503, 504] });
});

test('decoding follows protobuf: a message field met twice merges, the last member of a oneof wins, unknown fields are skipped', () => {
  const first = codec.encode('envoy.config.cluster.v3.Cluster', { name: 'c', type: 'EDS', circuit_breakers: { thresholds: [{ priority: 'HIGH' }] } });
  const second = codec.encode('envoy.config.cluster.v3.Cluster', { cluster_type: { name: 'envoy.clusters.aggregate' }, circuit_breakers: { thresholds: [{ max_connections: 7 }] } });
  // Field 4000, varint 1: a field number Envoy's Cluster does not have.
  const unknown = Buffer.from([0x80, 0xfa, 0x01, 0x01]);
  assert.deepEqual(codec.decode('envoy.config.cluster.v3.Cluster', Buffer.concat([first, unknown, second])), {
    name: 'c',
    circuit_breakers: { thresholds: [{ priority: 'HIGH' }, { max_connections: 7 }] },
    cluster_type: { name: 'envoy.clusters.aggregate' },
  });
  // A map entry written without its value stands for the value's default (an empty Struct).
  const entry = Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x6b]);
  assert.deepEqual(codec.decode('envoy.config.core.v3.Metadata', entry), { filter_metadata: { k: {} } });
  assert.throws(() => codec.decode('envoy.config.cluster.v3.Cluster', first.subarray(0, first.length - 1)), WireError);
});

test('an Any of a type outside meshctl\'s copy of the API keeps its bytes both ways', () => {
  const filter = { name: 'custom', typed_config: { '@type': 'type.googleapis.com/example.v1.NotInEnvoy', value: Buffer.from([8, 1]).toString('base64') } };
  const bytes = codec.encode('envoy.config.listener.v3.Filter', filter);
  const real = realDecode('envoy.config.listener.v3.Filter', bytes) as { typed_config: { type_url: string; value: Uint8Array } };
  assert.deepEqual(Buffer.from(real.typed_config.value), Buffer.from([8, 1]));
  assert.deepEqual(codec.decode('envoy.config.listener.v3.Filter', bytes), filter);
  assert.throws(() => codec.encode('envoy.config.listener.v3.Filter', { typed_config: { '@type': 'type.googleapis.com/example.v1.NotInEnvoy', x: 1 } }), /unknown type/);
});
