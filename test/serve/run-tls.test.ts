/**
 * `meshctl run` reaches its control plane through the control-plane cluster's transport socket, as Envoy's gRPC
 * client does: an UpstreamTlsContext on the xds cluster means TLS with that context's CA and client certificate.
 * Before, run dialled the control plane in cleartext whatever the cluster said.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnCli } from '../proxy/cli-helpers.js';
import { pki } from '../helpers/pki.js';
import { backend, body, runConfig, servedConfig, startServe, tempDir, until } from './serve-helpers.js';

/** The xds cluster's transport socket: verify the control plane with `ca`, present `cert`/`key` when given. */
function tlsSocket(ca: string, client?: { cert: string; key: string }): string {
  const certs = client === undefined ? '' : `\n            tls_certificates: [{ certificate_chain: { filename: ${client.cert} }, private_key: { filename: ${client.key} } }]`;
  return `      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          common_tls_context:
            validation_context: { trusted_ca: { filename: ${ca} } }${certs}
`;
}

test('run takes routes, clusters and endpoints over TLS with a client certificate from a control plane that requires one', { timeout: 60_000 }, async (t) => {
  const dir = tempDir('run-tls');
  const certs = pki(dir);
  if (certs === undefined) return t.skip('openssl not available');
  const other = pki(tempDir('run-tls-other'))!;
  const blue = await backend('blue');
  const file = join(dir, 'served.yaml');
  writeFileSync(file, servedConfig([blue.port]));
  const serve = await startServe(file, ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--client-ca', certs.ca]);
  const runs: ReturnType<typeof spawnCli>[] = [];
  try {
    const port = await freePort();
    const good = join(dir, 'good.yaml');
    writeFileSync(good, runConfig('tls-good', port, serve.xdsPort, 'fleet', tlsSocket(certs.ca, { cert: certs.clientCert, key: certs.clientKey })));
    runs.push(spawnCli(['run', good, '--admin-address', '127.0.0.1:0', '--no-access-log']));
    await runs[0]!.waitFor(/listener ingress on/);
    await until(async () => (await body(port).catch(() => '')) === 'blue', 10_000, 'the run to route to blue');
    const st = await serve.status();
    const stream = st.streams.find((s) => s.node.id === 'tls-good');
    assert.ok(stream !== undefined, JSON.stringify(st.streams));
    assert.equal(stream.types.rds?.acked_version, '1');

    // A control plane whose certificate the cluster's CA did not sign is never talked to: the handshake fails, the
    // stream is retried, and serve sees no stream from that node.
    const wrongCa = join(dir, 'wrong-ca.yaml');
    writeFileSync(wrongCa, runConfig('tls-wrong-ca', await freePort(), serve.xdsPort, 'fleet', tlsSocket(other.ca, { cert: certs.clientCert, key: certs.clientKey })));
    runs.push(spawnCli(['run', wrongCa, '--admin-address', '127.0.0.1:0', '--no-access-log']));
    await runs[1]!.waitFor(/xds grpc: 127\.0\.0\.1:\d+: stream ended \([^)]*(certificate|self.signed|verify)/i);
    // Without a client certificate, the control plane refuses the handshake.
    const noCert = join(dir, 'no-cert.yaml');
    writeFileSync(noCert, runConfig('tls-no-cert', await freePort(), serve.xdsPort, 'fleet', tlsSocket(certs.ca)));
    runs.push(spawnCli(['run', noCert, '--admin-address', '127.0.0.1:0', '--no-access-log']));
    await runs[2]!.waitFor(/xds grpc: 127\.0\.0\.1:\d+: stream ended/);
    const ids = (await serve.status()).streams.map((s) => s.node.id);
    assert.deepEqual(ids, ['tls-good']);
  } finally {
    for (const r of runs) r.kill();
    await Promise.all(runs.map((r) => r.exit().catch(() => undefined)));
    await serve.stop();
    blue.server.close();
  }
});

test('google_grpc ADS: run dials target_uri itself (through --map-endpoint), over TLS with ssl_credentials (root_certs, client certificate)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir('run-google-grpc');
  const certs = pki(dir);
  if (certs === undefined) return t.skip('openssl not available');
  const blue = await backend('blue');
  const file = join(dir, 'served.yaml');
  writeFileSync(file, servedConfig([blue.port]));
  const serve = await startServe(file, ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--client-ca', certs.ca]);
  let run: ReturnType<typeof spawnCli> | undefined;
  try {
    const port = await freePort();
    const google = `{ google_grpc: { target_uri: "203.0.113.7:18000", stat_prefix: xds, channel_credentials: { ssl_credentials: { root_certs: { filename: ${certs.ca} }, private_key: { filename: ${certs.clientKey} }, cert_chain: { filename: ${certs.clientCert} } } }, call_credentials: [{ access_token: not-sent }] } }`;
    const cfg = join(dir, 'google.yaml');
    writeFileSync(cfg, runConfig('google-grpc', port, serve.xdsPort, 'fleet', '', google));
    // The target is an address of the config's world (TEST-NET-3), mapped to the local control plane as endpoints are.
    run = spawnCli(['run', cfg, '--admin-address', '127.0.0.1:0', '--no-access-log', '--map-endpoint', `203.0.113.7:18000=127.0.0.1:${serve.xdsPort}`]);
    await run.waitFor(/listener ingress on/);
    await until(async () => (await body(port).catch(() => '')) === 'blue', 10_000, 'the run to route to blue');
    assert.deepEqual((await serve.status()).streams.map((s) => s.node.id), ['google-grpc']);
    // What the channel would add that run does not send is said at start.
    assert.match(run.stderr(), /xds: google_grpc call_credentials are not sent/);
  } finally {
    run?.kill();
    await run?.exit().catch(() => undefined);
    await serve.stop();
    blue.server.close();
  }
});
