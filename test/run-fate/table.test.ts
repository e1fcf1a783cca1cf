/**
 * The run-fate table covers the model: every field of every message reachable from Bootstrap in the descriptor has
 * a decided fate (a new field cannot be added without one), and the table names no field the model does not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELD_FATES } from '../../src/config/run-fate/fields.js';
import { EXTENSION_FATES, CHAIN_HTTP_FILTERS } from '../../src/config/run-fate/extensions.js';
import { envoyApi } from '../../src/config/envoy-api/descriptors.js';
import { UNMODELED_ENFORCED, UNMODELED_EXTENSIONS, UNMODELED_REFUSED } from '../../src/config/run-fate/unmodeled.js';
import { modelMessages } from '../../scripts/run-support-lib.js';

test('every field of the model, from Bootstrap down, has a fate in the table', () => {
  const missing: string[] = [];
  let fields = 0;
  for (const m of modelMessages()) {
    for (const f of m.fields.keys()) {
      fields++;
      if (!Object.hasOwn(FIELD_FATES, `${m.name}.${f}`)) missing.push(`${m.name}.${f}`);
    }
  }
  assert.deepEqual(missing, [], `decide the fate in meshctl run of: ${missing.join(', ')} (src/config/run-fate/fields.ts)`);
  assert.ok(fields > 300, `only ${fields} fields walked`);
});

test('the table names only fields the model has', () => {
  const known = new Set(modelMessages().flatMap((m) => [...m.fields.keys()].map((f) => `${m.name}.${f}`)));
  assert.deepEqual(Object.keys(FIELD_FATES).filter((k) => !known.has(k)), []);
});

test('every type an extension entry names is a message of Envoy\'s API, and no name or type is listed twice', () => {
  const seen = new Set<string>();
  for (const e of EXTENSION_FATES) {
    for (const t of e.types) {
      if (t.startsWith('envoy.api.v2.') || t.startsWith('envoy.config.filter.')) continue; // v2: not in the v3 copy
      assert.ok(envoyApi().message(t) !== undefined, `${t} is not in Envoy's API`);
    }
    for (const id of new Set([...e.names, ...e.types])) {
      assert.ok(!seen.has(`${e.kind} ${id}`), `${e.kind} ${id} is listed twice`);
      seen.add(`${e.kind} ${id}`);
    }
  }
  assert.ok(CHAIN_HTTP_FILTERS.every((e) => EXTENSION_FATES.includes(e)));
});

/** The Envoy message each model message the unmodeled entries name stands for. */
const ENVOY_MESSAGE: Readonly<Record<string, string>> = {
  FilterChainMatch: 'envoy.config.listener.v3.FilterChainMatch',
  Listener: 'envoy.config.listener.v3.Listener',
  CertificateValidationContext: 'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext',
  CommonTlsContext: 'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext',
  RouteMatch: 'envoy.config.route.v3.RouteMatch',
  RouteAction: 'envoy.config.route.v3.RouteAction',
  HttpConnectionManager: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  RetryPolicy: 'envoy.config.route.v3.RetryPolicy',
  Cluster: 'envoy.config.cluster.v3.Cluster',
  Bootstrap: 'envoy.config.bootstrap.v3.Bootstrap',
  HttpFilter: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  Http1ProtocolOptions: 'envoy.config.core.v3.Http1ProtocolOptions',
  'Endpoint.HealthCheckConfig': 'envoy.config.endpoint.v3.Endpoint.HealthCheckConfig',
  GrpcService: 'envoy.config.core.v3.GrpcService',
  HttpProtocolOptions: 'envoy.config.core.v3.HttpProtocolOptions',
};

test('the unmodeled entries name fields Envoy has and meshctl\'s model does not', () => {
  const model = new Set(modelMessages().flatMap((m) => [...m.fields.keys()].map((f) => `${m.name}.${f}`)));
  const envoyFields = [...Object.keys(UNMODELED_ENFORCED).filter((id) => !id.endsWith('_file')), ...Object.keys(UNMODELED_REFUSED), ...Object.keys(UNMODELED_EXTENSIONS)];
  for (const id of envoyFields) {
    // `Message.field`, or `Outer.Nested.field` for a nested message.
    const cut = id.lastIndexOf('.');
    const [message, field] = [id.slice(0, cut), id.slice(cut + 1)];
    const envoy = envoyApi().message(ENVOY_MESSAGE[message] ?? '');
    assert.ok(envoy?.field(field) !== undefined, `${id}: Envoy's ${ENVOY_MESSAGE[message] ?? message} has no field ${field}`);
    assert.ok(!model.has(id), `${id}: the model reads this field; its fate belongs in fields.ts`);
  }
});
