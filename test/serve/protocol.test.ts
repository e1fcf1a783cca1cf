/**
 * The xDS protocol of `meshctl serve` (the real CLI) against a hand-written grpc-js client: SotW ADS (wildcard and
 * named subscriptions, ACK, NACK with error_detail shown by /status and `serve --status`, a push after an edit with
 * a new version of only the types that changed), delta ADS (only changed resources, removal), the per-type services
 * (stream and unary Fetch), the Prometheus page, and TLS with client certificates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { BIN, FIXTURES } from '../helpers/cli.js';
import { saveFile, startServe, tempDir } from './serve-helpers.js';
import { pki } from '../helpers/pki.js';
import { ADS, DELTA_ADS, TYPES, XdsTestClient, names, type Json } from './xds-test-client.js';

const run = promisify(execFile);

const HCM = '"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function config(o: { clusters: string[]; timeout?: string; prefix?: string }): string {
  const clusters = o.clusters.map(
    (name, i) => `    - name: ${name}
      connect_timeout: ${o.timeout ?? '1s'}
      load_assignment:
        cluster_name: ${name}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${9000 + i} } } } }] }]`,
  );
  return `static_resources:
  listeners:
    - name: edge
      address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                ${HCM}
                stat_prefix: edge
                route_config:
                  name: edge-routes
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "${o.prefix ?? '/'}" }
                          route: { cluster: ${o.clusters[0]} }
  clusters:
    - name: dns-one
      type: STRICT_DNS
      connect_timeout: 1s
      load_assignment:
        cluster_name: dns-one
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: 80 } } } }] }]
${clusters.join('\n')}
`;
}

const node = (id: string): Json => ({ id, cluster: 'proto-tests', user_agent_name: 'hand-written' });

test('SotW ADS: wildcard CDS and LDS, named EDS and RDS, ACK, NACK in /status and serve --status, a push after an edit', { timeout: 60_000 }, async () => {
  const dir = tempDir('serve-proto');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ clusters: ['a', 'b'] }));
  const serve = await startServe(file);
  const client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
  try {
    const s = client.stream(ADS);
    s.send({ node: node('sotw-1'), type_url: TYPES.cds });
    const cds = await s.next();
    assert.equal(cds.type_url, TYPES.cds);
    assert.equal(cds.version_info, '1');
    assert.deepEqual(names(cds), ['a', 'b', 'dns-one']);
    const clusters = cds.resources as Json[];
    const a = clusters.find((c) => c.name === 'a')!;
    assert.equal(a['@type'], TYPES.cds);
    // A STATIC cluster is served as EDS over ADS; its endpoints go to EDS.
    assert.equal(a.type, 'EDS');
    assert.deepEqual(a.eds_cluster_config, { eds_config: { ads: {}, resource_api_version: 'V3' } });
    assert.equal(a.load_assignment, undefined);
    assert.equal(a.connect_timeout, '1s');
    // Another type is served as it is.
    assert.equal(clusters.find((c) => c.name === 'dns-one')!.type, 'STRICT_DNS');
    s.send({ node: node('sotw-1'), type_url: TYPES.cds, version_info: '1', response_nonce: String(cds.nonce) });

    s.send({ type_url: TYPES.eds, resource_names: ['a'] });
    const eds = await s.next();
    assert.deepEqual(names(eds), ['a']);
    const cla = (eds.resources as Json[])[0]!;
    assert.deepEqual((cla.endpoints as Json[])[0]!.lb_endpoints, [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9000 } } } }]);
    s.send({ type_url: TYPES.eds, resource_names: ['a'], version_info: String(eds.version_info), response_nonce: String(eds.nonce) });

    s.send({ type_url: TYPES.lds });
    const lds = await s.next();
    assert.deepEqual(names(lds), ['edge']);
    const hcm = ((((lds.resources as Json[])[0]!.filter_chains as Json[])[0]!.filters as Json[])[0]!.typed_config) as Json;
    // The inline route config moved to RDS.
    assert.equal(hcm.route_config, undefined);
    assert.deepEqual(hcm.rds, { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'edge-routes' });
    s.send({ type_url: TYPES.lds, version_info: String(lds.version_info), response_nonce: String(lds.nonce) });

    s.send({ type_url: TYPES.rds, resource_names: ['edge-routes'] });
    const rds = await s.next();
    assert.deepEqual(names(rds), ['edge-routes']);
    // NACK the routes: the previous version (none) and the problem.
    s.send({ type_url: TYPES.rds, resource_names: ['edge-routes'], version_info: '', response_nonce: String(rds.nonce), error_detail: { code: 3, message: 'edge-routes: no thanks' } });
    // An ACK answers with nothing new.
    assert.equal(await s.quiet(300), true);

    const st = await serve.status();
    const mine = st.streams.find((x) => x.node.id === 'sotw-1')!;
    assert.equal(mine.node.cluster, 'proto-tests');
    assert.equal(mine.node.user_agent_name, 'hand-written');
    assert.equal(mine.types.cds!.acked_version, '1');
    assert.deepEqual(mine.types.cds!.subscribed, ['*']);
    assert.deepEqual(mine.types.eds!.subscribed, ['a']);
    assert.equal(mine.types.rds!.nacked?.error_detail, 'edge-routes: no thanks');
    assert.equal(mine.types.rds!.nacked?.version, '1');
    const text = await run(process.execPath, [BIN, 'serve', '--status', '--admin-address', `127.0.0.1:${serve.adminPort}`]);
    assert.match(text.stdout, /node "sotw-1" cluster "proto-tests" \(hand-written\)/);
    assert.match(text.stdout, /rds: NACKED v1: edge-routes: no thanks/);
    assert.match(text.stdout, /cds: ACKED v1/);
    const page = await (await fetch(`http://127.0.0.1:${serve.adminPort}/`)).text();
    assert.match(page, /node "sotw-1" cluster "proto-tests"/);
    assert.match(page, /\/topology \(the served config and the fleet, drawn\)/);

    // An edit of one cluster's timeout: CDS moves to v2 (all clusters: SotW), EDS/LDS/RDS do not move.
    saveFile(file, config({ clusters: ['a', 'b'], timeout: '3s' }));
    const cds2 = await s.next();
    assert.equal(cds2.type_url, TYPES.cds);
    assert.equal(cds2.version_info, '2');
    assert.equal((cds2.resources as Json[]).find((c) => c.name === 'a')!.connect_timeout, '3s');
    // A stale nonce (the first response's) is ignored: no answer.
    s.send({ type_url: TYPES.cds, version_info: '1', response_nonce: String(cds.nonce) });
    assert.equal(await s.quiet(300), true);
    s.send({ type_url: TYPES.cds, version_info: '2', response_nonce: String(cds2.nonce) });
    // A route edit reaches the named RDS subscription (v2).
    saveFile(file, config({ clusters: ['a', 'b'], timeout: '3s', prefix: '/api' }));
    const rds2 = await s.next();
    assert.equal(rds2.type_url, TYPES.rds);
    assert.equal(rds2.version_info, '2');

    const metrics = await (await fetch(`http://127.0.0.1:${serve.adminPort}/metrics`)).text();
    assert.match(metrics, /^meshctl_xds_nacks_total\{type="rds"\} 1$/m);
    assert.match(metrics, /^meshctl_xds_acks_total\{type="cds"\} 2$/m);
    assert.match(metrics, /^meshctl_xds_connected_streams\{kind="ads"\} 1$/m);
    assert.match(metrics, /^meshctl_xds_version\{type="cds"\} 2$/m);
    assert.match(metrics, /^meshctl_xds_config_reloads_total\{result="ok"\} 2$/m);
    try {
      execFileSync('promtool', ['check', 'metrics'], { input: metrics, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer; stdout?: Buffer };
      if (e.code === 'ENOENT') process.stderr.write('promtool not installed: /metrics not linted\n');
      else assert.fail(`promtool check metrics: ${e.stdout?.toString()}${e.stderr?.toString()}`);
    }
    s.close();
  } finally {
    client.close();
    await serve.stop();
  }
});

test('delta ADS: only changed resources are sent, removed ones are named, unsubscribe and resubscribe', { timeout: 60_000 }, async () => {
  const dir = tempDir('serve-delta');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ clusters: ['a', 'b'] }));
  const serve = await startServe(file);
  const client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
  try {
    const s = client.stream(DELTA_ADS);
    s.send({ node: node('delta-1'), type_url: TYPES.cds });
    const cds = await s.next();
    assert.deepEqual(names(cds), ['a', 'b', 'dns-one']);
    assert.equal(cds.system_version_info, '1');
    const versions = Object.fromEntries((cds.resources as Json[]).map((r) => [r.name, r.version]));
    s.send({ type_url: TYPES.cds, response_nonce: String(cds.nonce) });
    s.send({ type_url: TYPES.eds, resource_names_subscribe: ['a', 'b'] });
    const eds = await s.next();
    assert.deepEqual(names(eds), ['a', 'b']);
    s.send({ type_url: TYPES.eds, response_nonce: String(eds.nonce) });

    // Cluster b goes; a and dns-one are unchanged: CDS names b as removed and sends nothing else; EDS too.
    saveFile(file, config({ clusters: ['a'] }));
    const cds2 = await s.next();
    assert.equal(cds2.type_url, TYPES.cds);
    assert.deepEqual(cds2.resources ?? [], []);
    assert.deepEqual(cds2.removed_resources, ['b']);
    assert.equal(cds2.system_version_info, '2');
    const eds2 = await s.next();
    assert.equal(eds2.type_url, TYPES.eds);
    assert.deepEqual(eds2.removed_resources, ['b']);
    s.send({ type_url: TYPES.cds, response_nonce: String(cds2.nonce) });
    s.send({ type_url: TYPES.eds, response_nonce: String(eds2.nonce) });

    // One cluster changes: only it is sent, with a new version.
    saveFile(file, config({ clusters: ['a'], timeout: '2s' }));
    const cds3 = await s.next();
    assert.deepEqual(names(cds3), ['a']);
    assert.notEqual((cds3.resources as Json[])[0]!.version, versions.a);
    assert.equal(((cds3.resources as Json[])[0]!.resource as Json).connect_timeout, '2s');
    s.send({ type_url: TYPES.cds, response_nonce: String(cds3.nonce), error_detail: { code: 3, message: 'cluster a: too slow' } });

    // Unsubscribe from a's endpoints, then subscribe again: sent again.
    s.send({ type_url: TYPES.eds, resource_names_unsubscribe: ['a'] });
    assert.equal(await s.quiet(300), true);
    s.send({ type_url: TYPES.eds, resource_names_subscribe: ['a'] });
    assert.deepEqual(names(await s.next()), ['a']);

    const mine = (await serve.status()).streams.find((x) => x.node.id === 'delta-1')!;
    assert.equal(mine.kind, 'delta-ads');
    assert.equal(mine.types.cds!.acked_version, '2');
    assert.equal(mine.types.cds!.nacked?.error_detail, 'cluster a: too slow');
    assert.equal(mine.types.cds!.nacked?.version, '3');

    // A client that says what it has gets only what differs.
    const again = client.stream(DELTA_ADS);
    again.send({ node: node('delta-2'), type_url: TYPES.cds, initial_resource_versions: { 'dns-one': String(versions['dns-one']), gone: 'x' } });
    const first = await again.next();
    assert.deepEqual(names(first), ['a']);
    assert.deepEqual(first.removed_resources, ['gone']);
    again.close();
    s.close();
  } finally {
    client.close();
    await serve.stop();
  }
});

test('per-type services: ClusterDiscoveryService streams and fetches, ListenerDiscoveryService serves only listeners', { timeout: 60_000 }, async () => {
  const dir = tempDir('serve-pertype');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ clusters: ['a'] }));
  const serve = await startServe(file);
  const client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
  try {
    const cds = client.stream('/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters');
    cds.send({ node: node('cds-only') });
    const res = await cds.next();
    assert.equal(res.type_url, TYPES.cds);
    assert.deepEqual(names(res), ['a', 'dns-one']);
    const fetched = await client.unary('/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters', { node: node('fetcher'), resource_names: ['a'] });
    assert.deepEqual(names(fetched), ['a']);
    const lds = client.stream('/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners');
    lds.send({ node: node('lds-only'), type_url: TYPES.cds });
    assert.equal(await lds.quiet(300), true, 'a listener service does not serve clusters');
    lds.send({ node: node('lds-only'), type_url: TYPES.lds });
    assert.deepEqual(names(await lds.next()), ['edge']);
    const kinds = (await serve.status()).streams.map((x) => x.kind).sort();
    assert.deepEqual(kinds, ['cds', 'lds']);
    cds.close();
    lds.close();
  } finally {
    client.close();
    await serve.stop();
  }
});

test('TLS: xDS over TLS, and with --client-ca a client without a certificate is refused', { timeout: 60_000 }, async (t) => {
  const dir = tempDir('serve-tls');
  const certs = pki(dir);
  if (certs === undefined) return t.skip('openssl not available');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ clusters: ['a'] }));
  const serve = await startServe(file, ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--client-ca', certs.ca]);
  const ca = readFileSync(certs.ca);
  // The certificate names localhost too: TLS's server name is a host name, never an IP (RFC 6066).
  const sni = { 'grpc.ssl_target_name_override': 'localhost' };
  const withCert = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`, grpc.credentials.createSsl(ca, readFileSync(certs.clientKey), readFileSync(certs.clientCert)), sni);
  const without = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`, grpc.credentials.createSsl(ca), sni);
  try {
    assert.match(serve.cli.stderr(), /xDS \(gRPC, TLS, client certificates required\)/);
    const ok = withCert.stream(ADS);
    ok.send({ node: node('tls-1'), type_url: TYPES.cds });
    assert.deepEqual(names(await ok.next()), ['a', 'dns-one']);
    ok.close();
    const refused = without.stream(ADS);
    refused.send({ node: node('tls-2'), type_url: TYPES.cds });
    await assert.rejects(refused.next(), /UNAVAILABLE|handshake|certificate|closed/i);
  } finally {
    withCert.close();
    without.close();
    await serve.stop();
  }
});

test('serve: a config with errors is refused at start (exit 1, file:line:column); usage errors exit 2', async () => {
  const dir = tempDir('serve-bad');
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, config({ clusters: ['a'] }).replace('port_value: 9000', 'port_value: 99999'));
  const bad = await run(process.execPath, [BIN, 'serve', file, '--address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
  const usage = await run(process.execPath, [BIN, 'serve', file, '--tls-cert', 'x.pem']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((usage as { code: number }).code, 2);
  assert.match((usage as { stderr: string }).stderr, /--tls-cert and --tls-key go together/);
  const status = await run(process.execPath, [BIN, 'serve', '--status', '--admin-address', '127.0.0.1:1']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((status as { code: number }).code, 2);
  assert.match((status as { stderr: string }).stderr, /no meshctl serve answers at 127\.0\.0\.1:1/);
});

test("the article's dialect is served too: the quickstart text-proto as CDS, EDS, LDS and RDS in Envoy's form", { timeout: 60_000 }, async () => {
  const serve = await startServe(join(FIXTURES, 'quickstart', 'mesh.textproto'));
  const client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
  try {
    const s = client.stream(ADS);
    s.send({ node: node('article-1'), type_url: TYPES.cds });
    assert.deepEqual(names(await s.next()), ['example-cluster']);
    s.send({ type_url: TYPES.eds, resource_names: ['example-cluster'] });
    assert.deepEqual(names(await s.next()), ['example-cluster']);
    s.send({ type_url: TYPES.lds });
    const lds = await s.next();
    assert.deepEqual(names(lds), ['example-listener']);
    // The dialect's legacy filter name, in Envoy's form.
    const filter = (((lds.resources as Json[])[0]!.filter_chains as Json[])[0]!.filters as Json[])[0]!;
    assert.equal(filter.name, 'envoy.filters.network.http_connection_manager');
    s.send({ type_url: TYPES.rds, resource_names: ['example-route'] });
    assert.deepEqual(names(await s.next()), ['example-route']);
    s.close();
  } finally {
    client.close();
    await serve.stop();
  }
});

test('with --no-watch an edit waits for SIGHUP, which validates and pushes it', { timeout: 60_000 }, async () => {
  const dir = tempDir('serve-hup');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ clusters: ['a'] }));
  const serve = await startServe(file, ['--no-watch']);
  const client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
  try {
    const s = client.stream(ADS);
    s.send({ node: node('hup-1'), type_url: TYPES.cds });
    const first = await s.next();
    s.send({ type_url: TYPES.cds, version_info: '1', response_nonce: String(first.nonce) });
    saveFile(file, config({ clusters: ['a', 'b'] }));
    assert.equal(await s.quiet(500), true, 'no push without SIGHUP');
    serve.cli.child.kill('SIGHUP');
    const pushed = await s.next();
    assert.equal(pushed.version_info, '2');
    assert.deepEqual(names(pushed), ['a', 'b', 'dns-one']);
    s.close();
  } finally {
    client.close();
    await serve.stop();
  }
});
