/** The article's five snippets, verbatim in fixtures/seed/, read into the model with the article's values in place. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile, META, spanOf, keySpanOf, durationToMs } from '../../src/config/index.js';
import type { Bootstrap, Span } from '../../src/config/index.js';
import { FIXTURES } from '../helpers/cli.js';

const SEED = join(FIXTURES, 'seed');

async function seed(name: string): Promise<Bootstrap> {
  const r = await readConfigFile(join(SEED, name));
  assert.equal(r.format, 'textproto');
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
    `${name}: ${r.diagnostics.map((d) => d.message).join('; ')}`,
  );
  assert.ok(r.config);
  return r.config;
}

function at(span: Span | undefined): string {
  assert.ok(span, 'span present');
  return `${span.line}:${span.column}`;
}

test('every seed snippet parses without errors or warnings', async () => {
  const files = readdirSync(SEED).filter((f) => f.endsWith('.textproto'));
  assert.equal(files.length, 5);
  for (const f of files) {
    const r = await readConfigFile(join(SEED, f));
    assert.deepEqual(r.diagnostics, [], f);
    assert.ok(r.config, f);
  }
});

test('weighted cluster: weights 100 and 200 on the two endpoints, at their lines', async () => {
  const c = await seed('weighted-cluster.textproto');
  const cluster = c.static_resources?.clusters?.[0];
  assert.ok(cluster);
  assert.equal(cluster.name, 'example-cluster');
  assert.equal(durationToMs(cluster.connect_timeout!), 250);
  assert.equal(at(spanOf(cluster, 'connect_timeout')), '3:3');
  const la = cluster.load_assignment!;
  assert.equal(la.cluster_name, 'example-cluster');
  assert.equal(la.endpoints?.length, 1, 'shorthand endpoints share one locality');
  const lbs = la.endpoints![0]!.lb_endpoints!;
  assert.deepEqual(
    lbs.map((e) => [e.endpoint?.address?.socket_address?.address, e.endpoint?.address?.socket_address?.port_value, e.load_balancing_weight]),
    [
      ['10.244.0.2', 8080, 100],
      ['10.244.0.3', 8080, 200],
    ],
  );
  assert.equal(at(spanOf(lbs[0], 'load_balancing_weight')), '13:7');
  assert.equal(at(keySpanOf(lbs[1]!, 'load_balancing_weight')), '22:7');
  assert.equal(at(spanOf(lbs[1]!.endpoint!.address!.socket_address, 'address')), '18:11');
  assert.equal(at(spanOf(cluster)), '1:9');
});

test('full example: listener, HTTP/2 connection manager, route, TLS on the chain, refresh service', async () => {
  const c = await seed('full-example.textproto');
  const sr = c.static_resources!;
  assert.equal(sr.clusters?.length, 1);
  assert.deepEqual(sr.clusters![0]!.load_assignment!.endpoints![0]!.lb_endpoints!.map((e) => e.load_balancing_weight), [100, 200]);
  const l = sr.listeners![0]!;
  assert.equal(l.name, 'example-listener');
  assert.equal(l.address?.socket_address?.port_value, 80);
  assert.equal(at(spanOf(l.address!.socket_address, 'port_value')), '35:11');
  const chain = l.filter_chains![0]!;
  const f = chain.filters![0]!;
  assert.equal(f.name, 'envoy.http_connection_manager');
  const hcm = f.typed_config!;
  assert.equal(hcm.codec_type, 'HTTP2');
  assert.equal(hcm.transport_socket, undefined, 'moved to the chain');
  const vh = hcm.route_config!.virtual_hosts![0]!;
  assert.deepEqual(vh.domains, ['*']);
  assert.equal(vh.routes![0]!.match!.prefix, '/');
  assert.equal(vh.routes![0]!.route!.cluster, 'example-cluster');
  assert.equal(at(spanOf(vh.routes![0]!.route, 'cluster')), '54:23');
  const ts = chain.transport_socket!;
  assert.equal(ts.name, 'tls');
  const cert = ts.typed_config!.common_tls_context!.tls_certificates![0]!;
  assert.equal(cert.private_key?.filename, 'tls.key');
  assert.equal(cert.certificate_chain?.filename, 'tls.crt');
  assert.equal(at(spanOf(cert.private_key, 'filename')), '64:23');
  assert.equal(at(spanOf(chain, 'transport_socket')), '59:15');
  const rs = sr.service_cluster_discovery_refresh_service![0]!;
  assert.equal(rs.service_name, 'example-cluster-discovery');
  assert.equal(rs.service_url, 'http://127.0.0.1:8081/cluster/example-cluster');
  assert.equal(at(spanOf(rs, 'service_url')), '78:5');
});

test('dns_query, prometheus and tls_context snippets', async () => {
  const dns = await seed('dns-query.textproto');
  assert.deepEqual({ ...dns.dns_query }, { name: 'example.service.local', nameservers: ['8.8.8.8'] });
  assert.equal(at(spanOf(dns.dns_query, 'nameservers', 0)), '3:17');

  const prom = await seed('prometheus.textproto');
  const p = prom.http_server!.prometheus!;
  assert.equal(p.metrics_path, '/metrics');
  const job = p.scrape_configs![0]!;
  assert.equal(job.job_name, 'example-job');
  assert.deepEqual({ ...job.scrape_interval }, { seconds: 10, nanos: 0 });
  assert.equal(job.endpoints![0]!.address, '127.0.0.1:8080');
  assert.equal(at(spanOf(job.endpoints![0], 'address')), '8:9');

  const tls = await seed('tls-context.textproto');
  const cert = tls.tls_context!.common_tls_context!.tls_certificates![0]!;
  assert.equal(cert.private_key?.filename, 'tls.key');
  assert.equal(cert.certificate_chain?.filename, 'tls.crt');
  assert.ok(tls.tls_context![META], 'nodes carry META');
});
