/**
 * An endpoint's `health_check_config` through `meshctl run`: Envoy sends active health checks to its `port_value` on
 * the endpoint's address, with its `hostname` as the Host header, over the cluster's http_health_check.host. Here
 * the data port answers the health path 503 and a separate health port answers 200, so the endpoint is healthy only
 * when the checks go where the config says.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeTemp } from './helpers.js';
import { freePort, oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

const children: RunningCli[] = [];
const servers: http.Server[] = [];
after(() => {
  for (const c of children) c.kill();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function server(handler: http.RequestListener, ip = '127.0.0.1'): Promise<number> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, ip, () => r()));
  return (s.address() as AddressInfo).port;
}

function yaml(dataPort: number, hcConfig: string, adminPort: number, moreEndpoints = ''): string {
  return (
    `admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } } }\n` +
    oneListenerYaml({
      routes: '                        - match: { prefix: "/" }\n                          route: { cluster: svc }',
      clusters: {},
      clustersYaml: `    - name: svc
      connect_timeout: 1s
      health_checks:
        - timeout: 1s
          interval: 0.1s
          no_traffic_interval: 0.1s
          unhealthy_threshold: 1
          healthy_threshold: 1
          http_health_check: { path: /healthz, host: cluster-wide.example }
      load_assignment:
        cluster_name: svc
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: ${dataPort} } }
${hcConfig}${moreEndpoints}`,
    })
  );
}

async function healthFlags(adminPort: number, port?: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/clusters`)).text();
  return new RegExp(`svc::127\\.0\\.0\\.1:${port ?? '\\d+'}::health_flags::(\\S+)`).exec(text)?.[1] ?? '(none)';
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('health_check_config: checks go to its port_value with its hostname as Host; without it, to the data port', async () => {
  const dataHosts: string[] = [];
  const dataPort = await server((req, res) => {
    if (req.url === '/healthz') {
      dataHosts.push(req.headers.host ?? '');
      return void res.writeHead(503).end('not here');
    }
    res.end('data');
  });
  const healthHosts: string[] = [];
  const healthPort = await server((req, res) => {
    healthHosts.push(req.headers.host ?? '');
    res.writeHead(req.url === '/healthz' ? 200 : 404).end();
  });

  const adminA = await freePort();
  const withIt = spawnCli([
    'run',
    writeTemp('hc-config.yaml', yaml(dataPort, `                  health_check_config: { port_value: ${healthPort}, hostname: per-endpoint.example }\n`, adminA)),
    '--no-access-log',
    '--no-watch',
  ]);
  children.push(withIt);
  await withIt.waitFor(/listener \S+ on/);
  await until(async () => healthHosts.length >= 2, 5000, 'health checks on the health port');
  assert.equal(await healthFlags(adminA), 'healthy');
  assert.deepEqual([...new Set(healthHosts)], ['per-endpoint.example'], 'the endpoint\'s hostname wins over the cluster\'s host');
  assert.equal(dataHosts.length, 0, 'no health check reached the data port');
  withIt.kill();

  // The same cluster without health_check_config: the checks go to the data port (503) and the host fails them.
  const adminB = await freePort();
  const without = spawnCli(['run', writeTemp('hc-none.yaml', yaml(dataPort, '', adminB)), '--no-access-log', '--no-watch']);
  children.push(without);
  await without.waitFor(/listener \S+ on/);
  await until(async () => (await healthFlags(adminB)).includes('failed_active_hc'), 5000, 'the data port to fail the check');
  assert.deepEqual([...new Set(dataHosts)], ['cluster-wide.example']);
});

test('health_check_config: `address` sends the checks to another IP; disable_active_health_check leaves the endpoint unchecked and healthy', async () => {
  const failing = (req: http.IncomingMessage, res: http.ServerResponse): void => void res.writeHead(req.url === '/healthz' ? 503 : 200).end('data');
  const [dataA, dataB] = [await server(failing), await server(failing)];
  let checksOn2 = 0;
  const healthOn2 = await server((_req, res) => {
    checksOn2++;
    res.end();
  }, '127.0.0.2');
  const admin = await freePort();
  const second = `              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: ${dataB} } }
                  health_check_config: { disable_active_health_check: true }
`;
  const cli = spawnCli([
    'run',
    writeTemp('hc-address.yaml', yaml(dataA, `                  health_check_config: { port_value: ${healthOn2}, address: { socket_address: { address: 127.0.0.2, port_value: 0 } } }\n`, admin, second)),
    '--no-access-log',
    '--no-watch',
  ]);
  children.push(cli);
  await cli.waitFor(/listener \S+ on/);
  await until(async () => checksOn2 >= 2, 5000, 'checks on 127.0.0.2');
  assert.equal(await healthFlags(admin, dataA), 'healthy', 'checked on 127.0.0.2, which answers 200');
  assert.equal(await healthFlags(admin, dataB), 'healthy', 'never checked, so never failed');
});
