/**
 * `meshctl run` as an xDS client, through the real CLI: a bootstrap that names only the control plane (ADS over gRPC,
 * state of the world and delta; REST-JSON too) gets its listener (LDS), routes (RDS), clusters (CDS) and endpoints
 * (EDS) from a grpc-js control plane this test runs on 127.0.0.1, and serves them. A route update moves traffic
 * without failing the requests in flight; a bad resource is NACKed with error_detail naming it and the rule, and the
 * old version keeps serving; a new listener without its route configuration does not take connections until RDS
 * delivers it, or until its initial_fetch_timeout ends the wait. /config_dump and /clusters?format=json show it in
 * Envoy's shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, freePort } from '../proxy/cli-helpers.js';
import { pki } from '../helpers/pki.js';
import {
  CLUSTER_TYPE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  cla,
  edsCluster,
  rdsListener,
  routeConfig,
  startGrpcControlPlane,
  startRestControlPlane,
  staticClusterJson,
  type GrpcControlPlane,
} from '../discovery/control-plane.js';

/** An upstream that answers its name, after `delay` ms when the path says `/slow`. */
async function backend(name: string): Promise<{ port: number; slowSeen(): number; close(): Promise<void> }> {
  let slow = 0;
  const server = http.createServer((req, res) => {
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    };
    if (req.url?.startsWith('/slow')) {
      slow++;
      setTimeout(send, 600);
    } else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    slowSeen: () => slow,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** `xdsCluster`: more fields of the control-plane cluster (its transport_socket). */
function bootstrap(apiType: string, cpPort: number, adminPort: number, extra: Record<string, unknown> = {}, xdsCluster: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-xds-'));
  const file = join(dir, 'bootstrap.json');
  const grpc = apiType !== 'REST';
  writeFileSync(
    file,
    JSON.stringify({
      node: { id: 'edge-1', cluster: 'edge' },
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
      dynamic_resources: grpc
        ? {
            lds_config: { ads: {}, resource_api_version: 'V3' },
            cds_config: { ads: {}, resource_api_version: 'V3' },
            ads_config: { api_type: apiType, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
          }
        : {
            lds_config: { resource_api_version: 'V3', api_config_source: { api_type: 'REST', transport_api_version: 'V3', cluster_names: ['xds'], refresh_delay: '0.1s' } },
            cds_config: { resource_api_version: 'V3', api_config_source: { api_type: 'REST', transport_api_version: 'V3', cluster_names: ['xds'], refresh_delay: '0.1s' } },
          },
      static_resources: {
        clusters: [
          {
            name: 'xds',
            type: 'STATIC',
            connect_timeout: '1s',
            ...(grpc
              ? {
                  typed_extension_protocol_options: {
                    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                      explicit_http_config: { http2_protocol_options: {} },
                    },
                  },
                }
              : {}),
            load_assignment: { cluster_name: 'xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cpPort } } } }] }] },
            ...xdsCluster,
          },
        ],
      },
      ...extra,
    }),
  );
  return file;
}

async function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function until(what: string, ms: number, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // Not there yet (connection refused while a listener is warming).
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const refused = async (port: number): Promise<boolean> => {
  try {
    await fetch(`http://127.0.0.1:${port}/`);
    return false;
  } catch {
    return true;
  }
};

type Json = Record<string, unknown>;

async function adminJson(port: number, path: string): Promise<Json> {
  return (await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as Json;
}

function configOf(dump: Json, type: string): Json {
  return (dump.configs as Json[]).find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${type}`)!;
}

function nackFor(cp: GrpcControlPlane, typeUrl: string): { message: string } | undefined {
  for (const r of cp.requests) if (r.type_url === typeUrl && r.error_detail !== undefined) return r.error_detail;
  return undefined;
}

for (const apiType of ['GRPC', 'DELTA_GRPC'] as const) {
  test(`run over ${apiType === 'GRPC' ? 'SotW' : 'delta'} ADS: LDS+RDS+CDS+EDS serve; a route update moves traffic with no failed request; a bad cluster is NACKed and the old one serves; config_dump and clusters in Envoy's shapes`, async () => {
    const [a, b] = await Promise.all([backend('a'), backend('b')]);
    const cp = await startGrpcControlPlane();
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    cp.snapshot.version = 1;
    cp.snapshot.clusters = [edsCluster('svc-a'), edsCluster('svc-b')];
    cp.snapshot.endpoints = [cla('svc-a', a.port), cla('svc-b', b.port)];
    cp.snapshot.listeners = [rdsListener('ingress', listenPort, 'routes')];
    cp.snapshot.routes = [routeConfig('routes', 'svc-a')];
    const run = spawnCli(['run', bootstrap(apiType, cp.port, adminPort)]);
    try {
      await run.waitFor(/listener ingress on http:\/\/127\.0\.0\.1:\d+/, 20_000);
      assert.deepEqual(await get(listenPort), { status: 200, body: 'a' });
      assert.equal(cp.requests[0]!.node?.id, 'edge-1');
      if (apiType === 'DELTA_GRPC') {
        const eds = cp.requests.find((r) => r.type_url.endsWith('ClusterLoadAssignment'));
        assert.ok(eds?.delta && eds.resource_names_subscribe?.includes('svc-a'), 'EDS subscribed by name');
      }

      // Route update under load: slow requests in flight on svc-a finish there; every request succeeds.
      const inflight = Array.from({ length: 5 }, () => get(listenPort, '/slow'));
      // In flight means routed and at the upstream: on a loaded machine 150 ms is not always enough for that.
      await until('the slow requests at svc-a', 5000, () => a.slowSeen() >= 5);
      cp.snapshot.version = 2;
      cp.snapshot.routes = [routeConfig('routes', 'svc-b')];
      cp.push(ROUTE_TYPE);
      const during: Promise<{ status: number; body: string }>[] = [];
      let moved = false;
      const deadline = Date.now() + 5000;
      while (!moved && Date.now() < deadline) {
        const r = get(listenPort);
        during.push(r);
        moved = (await r).body === 'b';
      }
      assert.ok(moved, 'the route update reached the proxy');
      for (const r of await Promise.all(inflight)) assert.deepEqual(r, { status: 200, body: 'a' }, 'in-flight requests finish on the old route');
      for (const r of await Promise.all(during)) assert.equal(r.status, 200);
      await until('RDS ACK of v2', 3000, () => cp.requests.some((r) => r.type_url === ROUTE_TYPE && r.response_nonce !== '' && (r.delta || r.version_info === 'v2') && r.error_detail === undefined));

      // A bad CDS update: svc-b turned STATIC with a host name, and an ORIGINAL_DST cluster with ROUND_ROBIN.
      cp.pushRaw(CLUSTER_TYPE, 'v3', [
        edsCluster('svc-a'),
        staticClusterJson('svc-b', b.port, 'backend.local'),
        { name: 'od', type: 'ORIGINAL_DST', lb_policy: 'ROUND_ROBIN', connect_timeout: '1s' },
      ]);
      await until('CDS NACK', 5000, () => nackFor(cp, CLUSTER_TYPE) !== undefined);
      const detail = nackFor(cp, CLUSTER_TYPE)!.message;
      assert.match(detail, /cluster od: \[invalid-cluster-config\] .*ORIGINAL_DST/);
      assert.match(detail, /cluster svc-b: \[static-cluster-needs-ip\] .*backend\.local/);
      if (apiType === 'GRPC') {
        const nack = cp.requests.find((r) => r.type_url === CLUSTER_TYPE && r.error_detail !== undefined)!;
        assert.equal(!nack.delta && nack.version_info, 'v1', 'a NACK carries the version still in force');
      }
      for (let i = 0; i < 5; i++) assert.deepEqual(await get(listenPort), { status: 200, body: 'b' }, 'the old svc-b keeps serving');

      // Envoy's xDS statistics.
      const st = new Map(((await adminJson(adminPort, '/stats?format=json')).stats as { name: string; value: number }[]).map((x) => [x.name, x.value]));
      assert.ok((st.get('cluster_manager.cds.update_rejected') ?? 0) >= 1, 'CDS rejection counted');
      assert.ok((st.get('listener_manager.lds.update_success') ?? 0) >= 1, 'LDS success counted');
      assert.equal(st.get('control_plane.connected_state'), 1);

      // Envoy's admin shapes.
      const dump = await adminJson(adminPort, '/config_dump');
      const clusters = configOf(dump, 'ClustersConfigDump');
      assert.equal(clusters.version_info, 'v1');
      const active = clusters.dynamic_active_clusters as Json[];
      assert.deepEqual(active.map((c) => (c.cluster as Json).name).sort(), ['svc-a', 'svc-b']);
      assert.equal((active[0]!.cluster as Json)['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
      assert.ok(typeof active[0]!.last_updated === 'string' && typeof active[0]!.version_info === 'string');
      assert.deepEqual((clusters.static_clusters as Json[]).map((c) => (c.cluster as Json).name), ['xds']);
      const listeners = configOf(dump, 'ListenersConfigDump');
      const dl = (listeners.dynamic_listeners as Json[])[0]!;
      assert.equal(dl.name, 'ingress');
      assert.equal(((dl.active_state as Json).listener as Json)['@type'], LISTENER_TYPE);
      const routes = configOf(dump, 'RoutesConfigDump');
      const dr = (routes.dynamic_route_configs as Json[])[0]!;
      assert.equal((dr.route_config as Json).name, 'routes');
      assert.equal((dr.route_config as Json)['@type'], ROUTE_TYPE);
      assert.equal(dr.version_info, 'v2');
      const cj = await adminJson(adminPort, '/clusters?format=json');
      const svcB = (cj.cluster_statuses as Json[]).find((c) => c.name === 'svc-b')!;
      assert.equal(svcB.added_via_api, true);
      assert.deepEqual((svcB.circuit_breakers as Json).thresholds, [{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 }]);
      const host = (svcB.host_statuses as Json[])[0]!;
      assert.deepEqual(host.address, { socket_address: { address: '127.0.0.1', port_value: b.port } });
      assert.deepEqual(host.health_status, { eds_health_status: 'HEALTHY' });
      assert.equal(host.weight, 1);
      const rqTotal = (host.stats as Json[]).find((s) => s.name === 'rq_total')!;
      assert.ok(Number(rqTotal.value) >= 5, JSON.stringify(host.stats));
    } finally {
      run.child.kill('SIGTERM');
      await run.exit();
      await cp.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
}

test('run over ADS: a new listener waits (unbound) for its route configuration; initial_fetch_timeout ends the wait; removing it closes it', async () => {
  const a = await backend('a');
  const cp = await startGrpcControlPlane();
  const [p1, p2, p3, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a')];
  cp.snapshot.endpoints = [cla('svc-a', a.port)];
  cp.snapshot.listeners = [rdsListener('first', p1, 'r1')];
  cp.snapshot.routes = [routeConfig('r1', 'svc-a')];
  const run = spawnCli(['run', bootstrap('AGGREGATED_GRPC', cp.port, adminPort)]);
  try {
    await run.waitFor(/listener first on/, 20_000);
    assert.equal((await get(p1)).body, 'a');

    // A second listener whose routes the control plane does not have yet: warming, not bound.
    cp.snapshot.version = 2;
    cp.snapshot.listeners = [rdsListener('first', p1, 'r1'), rdsListener('second', p2, 'r2')];
    cp.push(LISTENER_TYPE);
    await until('RDS subscription to r2', 5000, () => cp.requests.some((r) => r.type_url === ROUTE_TYPE && !r.delta && r.resource_names.includes('r2')));
    const dump = await adminJson(adminPort, '/config_dump');
    const second = (configOf(dump, 'ListenersConfigDump').dynamic_listeners as Json[]).find((l) => l.name === 'second')!;
    assert.ok(second.warming_state !== undefined && second.active_state === undefined, JSON.stringify(second));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await refused(p2), 'a warming listener takes no connection');
    assert.equal((await get(p1)).body, 'a', 'the other listener serves on');

    // Its routes arrive: it binds and serves.
    cp.snapshot.version = 3;
    cp.snapshot.routes = [routeConfig('r1', 'svc-a'), routeConfig('r2', 'svc-a')];
    cp.push(ROUTE_TYPE);
    await until('second listener serves', 5000, async () => (await get(p2)).body === 'a');

    // A third whose routes never come, with a 1 s initial_fetch_timeout: active after it, answering 404 (no route).
    cp.snapshot.version = 4;
    cp.snapshot.listeners = [rdsListener('first', p1, 'r1'), rdsListener('second', p2, 'r2'), rdsListener('third', p3, 'never', '1s')];
    const pushed = Date.now();
    cp.push(LISTENER_TYPE);
    await until('third listener active after its timeout', 6000, async () => (await get(p3)).status === 404);
    assert.ok(Date.now() - pushed >= 900, `active after ${Date.now() - pushed} ms, before its initial_fetch_timeout`);

    // LDS removes the second listener: it closes.
    cp.snapshot.version = 5;
    cp.snapshot.listeners = [rdsListener('first', p1, 'r1'), rdsListener('third', p3, 'never', '1s')];
    cp.push(LISTENER_TYPE);
    await until('second listener closed', 5000, () => refused(p2));
    assert.equal((await get(p1)).body, 'a');
  } finally {
    run.child.kill('SIGTERM');
    await run.exit();
    await cp.close();
    await a.close();
  }
});

test('run over REST-JSON: LDS and RDS polled like CDS and EDS; a listener with a negative timeout is NACKed on the next poll and the old one serves', async () => {
  const a = await backend('a');
  const cp = await startRestControlPlane();
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [staticClusterJson('svc-a', a.port)];
  const listener = rdsListener('rest', listenPort, 'rr');
  // REST: the connection manager's routes come over REST too.
  const hcm = ((listener.filter_chains as Json[])[0]!.filters as Json[])[0]!.typed_config as Json;
  hcm.rds = { route_config_name: 'rr', config_source: { api_config_source: { api_type: 'REST', cluster_names: ['xds'], refresh_delay: '0.1s' } } };
  cp.snapshot.listeners = [listener];
  cp.snapshot.routes = [routeConfig('rr', 'svc-a')];
  const run = spawnCli(['run', bootstrap('REST', cp.port, adminPort)]);
  try {
    await run.waitFor(/listener rest on/, 20_000);
    assert.equal((await get(listenPort)).body, 'a');
    assert.ok(cp.requests.some((r) => r.type_url === ROUTE_TYPE && r.resource_names.join() === 'rr'));
    // A listener whose connection manager has a bad duration: NACKed, the listener keeps serving.
    cp.snapshot.version = 2;
    const bad = structuredClone(listener);
    (((bad.filter_chains as Json[])[0]!.filters as Json[])[0]!.typed_config as Json).stream_idle_timeout = '-3s';
    cp.snapshot.listeners = [bad];
    await until('LDS NACK', 5000, () => cp.requests.some((r) => r.type_url === LISTENER_TYPE && r.error_detail !== undefined));
    const nack = cp.requests.find((r) => r.type_url === LISTENER_TYPE && r.error_detail !== undefined)!;
    assert.equal(nack.version_info, 'v1');
    assert.match(nack.error_detail!.message, /listener rest: \[[a-z-]+\] .*stream_idle_timeout/);
    assert.equal((await get(listenPort)).body, 'a');
  } finally {
    run.child.kill('SIGTERM');
    await run.exit();
    await cp.close();
    await a.close();
  }
});

test('run over REST-JSON behind HTTPS: the xds cluster\'s UpstreamTlsContext (CA, client certificate) is how run polls', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-xds-rest-tls-'));
  const certs = pki(dir);
  if (certs === undefined) return t.skip('openssl not available');
  const a = await backend('a');
  const cp = await startRestControlPlane({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), clientCa: readFileSync(certs.ca) });
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [staticClusterJson('svc-a', a.port)];
  const listener = rdsListener('tls-rest', listenPort, 'rr');
  const hcm = ((listener.filter_chains as Json[])[0]!.filters as Json[])[0]!.typed_config as Json;
  hcm.rds = { route_config_name: 'rr', config_source: { api_config_source: { api_type: 'REST', cluster_names: ['xds'], refresh_delay: '0.1s' } } };
  cp.snapshot.listeners = [listener];
  cp.snapshot.routes = [routeConfig('rr', 'svc-a')];
  const tlsSocket = {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        common_tls_context: {
          validation_context: { trusted_ca: { filename: certs.ca } },
          tls_certificates: [{ certificate_chain: { filename: certs.clientCert }, private_key: { filename: certs.clientKey } }],
        },
      },
    },
  };
  const run = spawnCli(['run', bootstrap('REST', cp.port, adminPort, {}, tlsSocket)]);
  try {
    await run.waitFor(/listener tls-rest on/, 20_000);
    assert.equal((await get(listenPort)).body, 'a');
    assert.ok(cp.requests.some((r) => r.type_url === LISTENER_TYPE));
  } finally {
    run.child.kill('SIGTERM');
    await run.exit();
    await cp.close();
    await a.close();
  }
});

test('run: a static listener whose routes come over RDS (config_source ads) in a cds_config-only bootstrap serves them from its first request', async () => {
  const [a, b] = await Promise.all([backend('a'), backend('b')]);
  const cp = await startGrpcControlPlane();
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a'), edsCluster('svc-b')];
  cp.snapshot.endpoints = [cla('svc-a', a.port), cla('svc-b', b.port)];
  cp.snapshot.routes = [routeConfig('static-routes', 'svc-b')];
  const file = bootstrap('GRPC', cp.port, adminPort);
  // No lds_config: the listener is the file's own; only its routes (and the clusters) come from the control plane.
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { dynamic_resources: Json; static_resources: Json };
  delete doc.dynamic_resources.lds_config;
  doc.static_resources.listeners = [rdsListener('edge', listenPort, 'static-routes')];
  writeFileSync(file, JSON.stringify(doc));
  const run = spawnCli(['run', file]);
  try {
    await run.waitFor(/listener edge on/, 20_000);
    assert.deepEqual(await get(listenPort), { status: 200, body: 'b' }, 'the first request already has its RDS routes');
    cp.snapshot.version = 2;
    cp.snapshot.routes = [routeConfig('static-routes', 'svc-a')];
    cp.push(ROUTE_TYPE);
    await until('route update', 5000, async () => (await get(listenPort)).body === 'a');
    const dump = await adminJson(adminPort, '/config_dump');
    assert.deepEqual((configOf(dump, 'ListenersConfigDump').static_listeners as Json[]).map((l) => (l.listener as Json).name), ['edge']);
    assert.deepEqual((configOf(dump, 'RoutesConfigDump').dynamic_route_configs as Json[]).map((r) => (r.route_config as Json).name), ['static-routes']);
  } finally {
    run.child.kill('SIGTERM');
    await run.exit();
    await cp.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('run over ADS: a listener update drains the old connections (a request in flight finishes, the idle keep-alive closes) and new ones get the new listener', async () => {
  const a = await backend('a');
  const cp = await startGrpcControlPlane();
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const withServerName = (name: string): Json => {
    const l = rdsListener('edge', listenPort, 'r');
    (((l.filter_chains as Json[])[0]!.filters as Json[])[0]!.typed_config as Json).server_name = name;
    return l;
  };
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [edsCluster('svc-a')];
  cp.snapshot.endpoints = [cla('svc-a', a.port)];
  cp.snapshot.listeners = [withServerName('edge-v1')];
  cp.snapshot.routes = [routeConfig('r', 'svc-a')];
  const run = spawnCli(['run', bootstrap('GRPC', cp.port, adminPort)]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const closed: string[] = [];
  /** A GET on the agent's one kept-alive connection; `socket` names the connection (its local port). */
  const req = (path: string): Promise<{ status: number; server: string; body: string; socket: string }> =>
    new Promise((resolve, reject) => {
      const r = http.get({ host: '127.0.0.1', port: listenPort, path, agent }, (res) => {
        const socket = String(res.socket.localPort);
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, server: String(res.headers.server), body, socket }));
      });
      r.on('socket', (s) => {
        const tagged = s as typeof s & { watched?: boolean };
        if (tagged.watched) return;
        tagged.watched = true;
        const note = (): void => {
          const port = String(s.localPort);
          s.once('close', () => closed.push(port));
        };
        if (s.localPort !== undefined) note();
        else s.once('connect', note);
      });
      r.on('error', reject);
    });
  try {
    await run.waitFor(/listener edge on/, 20_000);
    const first = await req('/');
    assert.equal(first.server, 'edge-v1');
    // A slow request in flight on the kept-alive connection, then the listener changes.
    const slow = req('/slow');
    await new Promise((r) => setTimeout(r, 150));
    cp.snapshot.version = 2;
    cp.snapshot.listeners = [withServerName('edge-v2')];
    cp.push(LISTENER_TYPE);
    const done = await slow;
    assert.equal(done.status, 200, 'the request in flight finished');
    assert.equal(done.body, 'a');
    await until('the old connection closed', 5000, () => closed.includes(first.socket));
    const next = await req('/');
    assert.equal(next.server, 'edge-v2', 'a new connection gets the new listener');
    assert.notEqual(next.socket, first.socket);
  } finally {
    agent.destroy();
    run.child.kill('SIGTERM');
    await run.exit();
    await cp.close();
    await a.close();
  }
});
