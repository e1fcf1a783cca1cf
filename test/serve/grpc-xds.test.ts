/**
 * A real xDS client nobody here wrote, @grpc/grpc-js-xds, as a proxyless gRPC client of `meshctl serve`: it resolves
 * `xds:///echo.local` through LDS (the listener's api_listener), RDS (the route config served apart from the
 * listener), CDS (clusters served as EDS clusters) and EDS (their load assignments), and its calls to two local gRPC
 * servers split as the route's weighted clusters say, within the tolerance of `meshctl simulate` on the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { BIN, REPO } from '../helpers/cli.js';
import { startServe, tempDir } from './serve-helpers.js';

const run = promisify(execFile);
const CALLS = 400;

async function echoServer(name: string): Promise<{ port: number; close(): void }> {
  const server = new grpc.Server();
  const raw = (b: Buffer): Buffer => b;
  server.addService(
    { Who: { path: '/meshctl.test.Echo/Who', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    { Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, close: () => server.forceShutdown() };
}

/** The route, twice: for gRPC as an api_listener, and on a socket listener so that `simulate` has traffic to replay. */
function config(ports: { blue: number; green: number }): string {
  const routeConfig = (indent: string): string =>
    `name: echo-routes
virtual_hosts:
  - name: echo
    domains: ["*"]
    routes:
      - match: { prefix: "" }
        route:
          weighted_clusters:
            clusters:
              - { name: blue, weight: 70 }
              - { name: green, weight: 30 }`
      .split('\n')
      .map((l, i) => (i === 0 ? l : indent + l))
      .join('\n');
  const hcm = '"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  const cluster = (name: string, port: number): string => `    - name: ${name}
      connect_timeout: 1s
      load_assignment:
        cluster_name: ${name}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }]`;
  return `static_resources:
  listeners:
    - name: echo.local
      api_listener:
        api_listener:
          ${hcm}
          stat_prefix: echo
          http_filters:
            - name: envoy.filters.http.router
              typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
          route_config:
            ${routeConfig('            ')}
    - name: echo-gateway
      address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                ${hcm}
                stat_prefix: echo
                route_config:
                  ${routeConfig('                  ')}
  clusters:
${cluster('blue', ports.blue)}
${cluster('green', ports.green)}
`;
}

interface SimCluster {
  name: string;
  share: number;
  expectedShare: number;
}

test('@grpc/grpc-js-xds resolves xds:///echo.local through meshctl serve and splits calls as the weighted clusters say', { timeout: 60_000 }, async () => {
  const blue = await echoServer('blue');
  const green = await echoServer('green');
  const dir = tempDir('serve-grpc');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config({ blue: blue.port, green: green.port }));
  const serve = await startServe(file);
  try {
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${serve.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc-proxyless-1', cluster: 'echo-clients', locality: {} },
    };
    const started = Date.now();
    const client = await run(process.execPath, [join(REPO, 'dist', 'test', 'serve', 'grpc-xds-client.js'), 'echo.local', String(CALLS)], {
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
      timeout: 45_000,
    }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
    const result = JSON.parse(client.stdout.trim().split('\n').pop() || '{}') as { counts?: Record<string, number>; error?: string };
    assert.equal(result.error, undefined, `client failed: ${result.error}\n${client.stderr}\nserve:\n${serve.cli.stderr()}`);
    const counts = result.counts!;
    process.stderr.write(`grpc-js-xds: ${CALLS} calls in ${Date.now() - started} ms: ${JSON.stringify(counts)}\n`);
    assert.equal((counts.blue ?? 0) + (counts.green ?? 0), CALLS);

    // The same file through `meshctl simulate`, with as many requests: its expected shares, and its own deviation.
    const sim = await run(process.execPath, [BIN, 'simulate', file, '-n', String(CALLS), '--listener', 'echo-gateway', '--format', 'json']);
    const report = JSON.parse(sim.stdout) as { listeners: { routes: { clusters: SimCluster[] }[] }[] };
    const clusters = report.listeners[0]!.routes[0]!.clusters;
    for (const c of clusters) {
      const p = c.expectedShare;
      // The binomial tolerance at this many calls (4 standard deviations), widened to what simulate itself deviated.
      const tolerance = Math.max(4 * Math.sqrt((p * (1 - p)) / CALLS), Math.abs(c.share - p));
      const real = (counts[c.name] ?? 0) / CALLS;
      assert.ok(Math.abs(real - p) <= tolerance, `${c.name}: ${real} of calls, simulate expects ${p} ± ${tolerance.toFixed(3)}`);
    }
    assert.deepEqual(clusters.map((c) => [c.name, c.expectedShare]), [['blue', 0.7], ['green', 0.3]]);

    // The control plane counted the client's ACKs of all four types and no NACK (the counters outlive the stream).
    const metrics = await (await fetch(`http://127.0.0.1:${serve.adminPort}/metrics`)).text();
    for (const t of ['lds', 'rds', 'cds', 'eds']) {
      assert.match(metrics, new RegExp(`^meshctl_xds_acks_total\\{type="${t}"\\} [1-9]`, 'm'), metrics);
      assert.match(metrics, new RegExp(`^meshctl_xds_nacks_total\\{type="${t}"\\} 0$`, 'm'), metrics);
    }
  } finally {
    await serve.stop();
    blue.close();
    green.close();
  }
});
