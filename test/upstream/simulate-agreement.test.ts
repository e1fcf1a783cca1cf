import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from '../../src/proxy/index.js';
import type { Bootstrap } from '../../src/config/model.js';
import { runCli } from '../helpers/cli.js';
import { runLoad } from './e2e-helpers.js';
import { until } from './helpers.js';

/** An upstream answering its name, with a switchable /healthz. */
async function upstream(name: string) {
  const state = { name, port: 0, healthy: true, server: undefined as http.Server | undefined };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.statusCode = state.healthy ? 200 : 503;
      res.end();
      return;
    }
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  state.server = server;
  return state;
}

function configFor(ports: number[], weights: number[]): Bootstrap {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      clusters: [
        {
          name: 'svc',
          lb_policy: 'ROUND_ROBIN',
          load_assignment: {
            cluster_name: 'svc',
            endpoints: [
              {
                lb_endpoints: ports.map((p, i) => ({
                  endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
                  load_balancing_weight: weights[i]!,
                })),
              },
            ],
          },
          health_checks: [
            {
              timeout: { seconds: 1, nanos: 0 },
              interval: { seconds: 0, nanos: 50e6 },
              no_traffic_interval: { seconds: 0, nanos: 50e6 },
              unhealthy_threshold: 1,
              healthy_threshold: 1,
              http_health_check: { path: '/healthz' },
            },
          ],
        },
      ],
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    stat_prefix: 'ingress',
                    route_config: { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'svc' } }] }] },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  } as Bootstrap;
}

interface SimEndpoint {
  address: string;
  expectedShare: number;
  share: number;
}

async function simulate(file: string, n: number, unhealthy: string[]): Promise<Map<string, number>> {
  const args = ['simulate', file, '-n', String(n), '--format', 'json', ...unhealthy.flatMap((u) => ['--unhealthy', u])];
  const r = await runCli(args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { listeners: { routes: { clusters: { name: string; endpoints: SimEndpoint[] }[] }[] }[] };
  const eps = doc.listeners[0]!.routes[0]!.clusters.find((c) => c.name === 'svc')!.endpoints;
  return new Map(eps.map((e) => [e.address, e.share]));
}

async function adminClusters(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/clusters`);
  return res.text();
}

test('a failing active health check takes a host out of the live split exactly as `simulate --unhealthy` predicts, and back in', async () => {
  const ups = [await upstream('A'), await upstream('B'), await upstream('C')];
  const weights = [1, 2, 3];
  const config = configFor(
    ups.map((u) => u.port),
    weights,
  );
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-sim-'));
  const file = join(dir, 'mesh.json');
  writeFileSync(file, JSON.stringify(config));
  const byName = new Map(ups.map((u) => [u.name, `127.0.0.1:${u.port}`]));
  const c = byName.get('C')!;
  ups[2]!.healthy = false;
  const proxy = await startProxy(config, { seed: 1 });
  try {
    const admin = proxy.admin!.port;
    const flagLine = `svc::${c}::health_flags::`;
    await until(() => proxy.clusterStatuses()[0]!.hosts.every((h) => h.address === c ? h.health !== 'healthy' : h.health === 'healthy'), 10_000, 'C failed, A and B healthy');
    const text = await adminClusters(admin);
    assert.ok(text.includes(flagLine) && !text.includes(flagLine + 'healthy\n'), `/clusters shows C unhealthy:\n${text}`);

    const measure = async (n: number): Promise<Map<string, number>> => {
      const r = await runLoad(proxy.listeners[0]!.port, { concurrency: 4, min: n, max: n, maxMs: 60_000, stop: () => true });
      assert.equal(r.failed, 0, r.failures.join(' | '));
      return new Map([...byName].map(([name, addr]) => [addr, (r.byBody.get(name) ?? 0) / n]));
    };
    const n = 600;
    const liveDown = await measure(n);
    const simDown = await simulate(file, n, [c]);
    assert.equal(liveDown.get(c), 0, 'no traffic to the failed host');
    for (const [addr, share] of simDown) {
      assert.ok(Math.abs((liveDown.get(addr) ?? 0) - share) < 0.03, `${addr}: live ${liveDown.get(addr)} vs simulate ${share}`);
    }

    // C passes again: it rejoins the balancer, /clusters shows it healthy, and the split matches a healthy simulation.
    ups[2]!.healthy = true;
    await until(() => proxy.clusterStatuses()[0]!.hosts.every((h) => h.health === 'healthy'), 10_000, 'C healthy again');
    assert.ok((await adminClusters(admin)).includes(flagLine + 'healthy\n'));
    const liveUp = await measure(n);
    const simUp = await simulate(file, n, []);
    for (const [addr, share] of simUp) {
      assert.ok(Math.abs((liveUp.get(addr) ?? 0) - share) < 0.03, `${addr}: live ${liveUp.get(addr)} vs simulate ${share}`);
    }
    assert.ok((simUp.get(c) ?? 0) > 0.4, 'C carries half the weight when healthy');
  } finally {
    await proxy.close(0);
    for (const u of ups) {
      u.server!.closeAllConnections();
      await new Promise((r) => u.server!.close(r));
    }
  }
});
