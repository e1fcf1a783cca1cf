/**
 * `meshctl run` through the real CLI binary: refusing bad configs, the article's full example (TLS, HTTP/2, weighted
 * endpoints mapped to local servers), the live split against `simulate`, reload while requests flow, drain on
 * SIGTERM, Prometheus output, and `prometheus-config`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { endpointMapper, isLoopback, mappedEndpoints, parseMapping } from '../../src/app/map-endpoint.js';
import { readConfigFile } from '../../src/config/index.js';
import { runSimulation } from '../../src/simulate/engine.js';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { destroyAgent, get, h2get, makeCert } from './helpers.js';
import { freePort, spawnCli, type RunningCli } from './cli-helpers.js';
import { parseExposition } from './exposition.js';

let a: EchoServer;
let b: EchoServer;
let c: EchoServer;
let d: EchoServer;
const children: RunningCli[] = [];

before(async () => {
  a = await startEchoServer({ name: 'a' });
  b = await startEchoServer({ name: 'b' });
  c = await startEchoServer({ name: 'c' });
  d = await startEchoServer({ name: 'd' });
});

after(async () => {
  for (const ch of children) ch.kill();
  for (const s of [a, b, c, d]) await s.close();
  destroyAgent();
});

function yamlConfig(opts: { routes?: string; clusterName?: string; ports?: number[]; weights?: number[]; extraHcm?: string }): string {
  const ports = opts.ports ?? [a.port, b.port];
  const weights = opts.weights ?? ports.map(() => 1);
  const name = opts.clusterName ?? 'echo';
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: ingress_http
                codec_type: AUTO
${opts.extraHcm ?? ''}
                route_config:
                  name: local
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
${opts.routes ?? `                        - match: { prefix: "/" }
                          route: { cluster: ${name} }`}
  clusters:
    - name: ${name}
      connect_timeout: 1s
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
${ports.map((p, i) => `              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }\n                load_balancing_weight: ${weights[i]}`).join('\n')}
`;
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-run-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function startRun(args: string[], cwd?: string, accessLog?: string): Promise<{ cli: RunningCli; port: number; admin: number }> {
  const log = accessLog !== undefined ? ['--access-log', accessLog] : ['--no-access-log'];
  const cli = spawnCli(['run', '--admin-address', '127.0.0.1:0', ...log, ...args], cwd ? { cwd } : {});
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  const ad = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(m[1]), admin: Number(ad[1]) };
}

test('run refuses a config with errors: exit 1, diagnostics printed as validate prints them', async () => {
  const file = tempFile('bad.yaml', yamlConfig({ routes: `                        - match: { prefix: "/" }\n                          route: { cluster: nowhere }` }));
  const r = await runCli(['run', file]);
  assert.equal(r.code, 1);
  const v = await runCli(['validate', file]);
  assert.equal(v.code, 1);
  // The same report (validate prints it on stdout; run on stderr, then a line saying it did not start).
  assert.ok(r.stderr.includes(v.stdout.trim()), `run stderr:\n${r.stderr}\nvalidate stdout:\n${v.stdout}`);
  assert.match(r.stderr, /not starting/);
  const missing = await runCli(['run', join(tmpdir(), 'meshctl-no-such-file.yaml')]);
  assert.equal(missing.code, 2);
});

test("the article's full example runs with --map-endpoint: TLS, HTTP/2, both weighted endpoints", async (t) => {
  const cert = makeCert();
  if (cert === undefined) return t.skip('openssl not available');
  const dir = cert.dir;
  // The article's discovery service (polled at 127.0.0.1:8081) is played by a server of this test on a port of its
  // own: whatever else listens on 8081 must not answer for it. It names the same two endpoints, already on loopback.
  const polls: string[] = [];
  const discovery = http.createServer((req, res) => {
    polls.push(req.url ?? '');
    const endpoints = [
      { address: '127.0.0.1', port: a.port, weight: 100 },
      { address: '127.0.0.1', port: b.port, weight: 200 },
    ];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ endpoints }));
  });
  await new Promise<void>((r) => discovery.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => discovery.close(() => r())));
  const article = readFileSync(join(FIXTURES, 'seed', 'full-example.textproto'), 'utf8');
  const url = 'service_url: "http://127.0.0.1:8081/cluster/example-cluster"';
  assert.equal(article.split(url).length, 2, 'the article polls its discovery service at 127.0.0.1:8081');
  const discoveryPort = (discovery.address() as AddressInfo).port;
  writeFileSync(join(dir, 'full-example.textproto'), article.replace(url, `service_url: "http://127.0.0.1:${discoveryPort}/cluster/example-cluster"`));
  const maps = [`10.244.0.2:8080=127.0.0.1:${a.port}`, `10.244.0.3:8080=127.0.0.1:${b.port}`];
  // Never contact 10.x: every endpoint of the config must map to loopback before anything starts.
  const parsed = await readConfigFile(join(dir, 'full-example.textproto'));
  const mapped = mappedEndpoints(parsed.config!, endpointMapper(maps.map(parseMapping)));
  assert.equal(mapped.length, 2);
  for (const m of mapped) assert.ok(isLoopback(m.to.split(':')[0]!), `${m.from} maps to ${m.to}`);
  // The listen port is chosen here (80 + offset); a port found free can be taken by a parallel test before meshctl
  // binds it, so a start that fails with EADDRINUSE tries another port.
  let started: Awaited<ReturnType<typeof startRun>> | undefined;
  let listenPort = 0;
  for (let attempt = 0; started === undefined; attempt++) {
    listenPort = await freePort();
    try {
      started = await startRun(
        ['full-example.textproto', '--listen-address', '127.0.0.1', '--listen-port-offset', String(listenPort - 80), ...maps.flatMap((m) => ['--map-endpoint', m])],
        dir,
      );
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
  const { cli, port } = started;
  assert.equal(port, listenPort);
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  const seen = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const r = await h2get(session, `/article/${i}`);
    assert.equal(r.status, 200);
    const up = (JSON.parse(r.body) as { upstream: string }).upstream;
    seen.set(up, (seen.get(up) ?? 0) + 1);
  }
  session.close();
  assert.equal(seen.get('a'), 10);
  assert.equal(seen.get('b'), 20);
  assert.ok(polls.length >= 1 && polls.every((u) => u === '/cluster/example-cluster'), `discovery polls: ${polls.join(' ')}`);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('the live split for the article weights equals what simulate predicts for the same config and seed', async () => {
  const file = tempFile('split.yaml', yamlConfig({ clusterName: 'example-cluster', weights: [100, 200] }));
  const seed = 7;
  const n = 300;
  const { cli, port } = await startRun([file, '--seed', String(seed)]);
  const live = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await get(port, `/split/${i}`);
    assert.equal(r.status, 200);
    const up = (JSON.parse(r.body) as { upstream: string }).upstream;
    live.set(up, (live.get(up) ?? 0) + 1);
  }
  const parsed = await readConfigFile(file);
  const sim = await runSimulation(parsed.config!, { requests: n, seed });
  const eps = sim.listeners[0]!.routes[0]!.clusters[0]!.endpoints;
  const predicted = new Map(eps.map((e) => [e.address, e.count]));
  assert.equal(live.get('a'), predicted.get(`127.0.0.1:${a.port}`));
  assert.equal(live.get('b'), predicted.get(`127.0.0.1:${b.port}`));
  assert.equal((live.get('a') ?? 0) + (live.get('b') ?? 0), n);
  assert.ok(Math.abs((live.get('b') ?? 0) / n - 2 / 3) < 0.02);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

/** Two clusters of weighted endpoints behind one weighted_clusters route: a weighted round robin and a weighted least
 * request (which draws from its random stream on every pick). */
function twoClusterConfig(): string {
  const endpoints = (eps: [EchoServer, number][]): string =>
    eps
      .map(([s, w]) => `              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${s.port} } } }\n                load_balancing_weight: ${w}`)
      .join('\n');
  const clusterYaml = (name: string, policy: string, eps: [EchoServer, number][]): string => `
    - name: ${name}
      connect_timeout: 1s
      lb_policy: ${policy}
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
${endpoints(eps)}`;
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: ingress_http
                route_config:
                  name: local
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route:
                            weighted_clusters:
                              clusters:
                                - { name: left, weight: 1 }
                                - { name: right, weight: 2 }
  clusters:${clusterYaml('left', 'ROUND_ROBIN', [[a, 1], [b, 3]])}${clusterYaml('right', 'LEAST_REQUEST', [[c, 2], [d, 1]])}
`;
}

test('two clusters: `run --seed N` sends each request to exactly the endpoint `simulate --seed N` predicts', async () => {
  const file = tempFile('two-clusters.yaml', twoClusterConfig());
  const seed = 11;
  const n = 240;
  const sim = await runCli(['simulate', file, '--seed', String(seed), '-n', String(n), '--format', 'json']);
  assert.equal(sim.code, 0, sim.stderr);
  const report = JSON.parse(sim.stdout) as { listeners: { routes: { clusters: { name: string; endpoints: { address: string; count: number }[] }[] }[] }[] };
  const predicted = new Map<string, number>();
  for (const cl of report.listeners[0]!.routes[0]!.clusters) for (const e of cl.endpoints) predicted.set(e.address, e.count);
  const { cli, port } = await startRun([file, '--seed', String(seed)]);
  const byName = new Map([a, b, c, d].map((s) => [s.name, `127.0.0.1:${s.port}`]));
  const live = new Map<string, number>([...byName.values()].map((addr) => [addr, 0]));
  // Sequentially, as the simulator sends them: no request is in flight when the next is picked.
  for (let i = 0; i < n; i++) {
    const r = await get(port, '/');
    assert.equal(r.status, 200);
    const addr = byName.get((JSON.parse(r.body) as { upstream: string }).upstream)!;
    live.set(addr, live.get(addr)! + 1);
  }
  assert.deepEqual(live, predicted);
  // Every endpoint took part, so the comparison covers both clusters' streams.
  for (const [addr, count] of live) assert.ok(count > 0, `${addr} got no request`);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('reload with a bad and then a good config while requests flow: zero failed requests', async () => {
  const file = tempFile('reload.yaml', yamlConfig({}));
  const { cli, port } = await startRun([file]);
  let failed = 0;
  const reasons: string[] = [];
  let sawNew = false;
  let stop = false;
  let sent = 0;
  const worker = async (): Promise<void> => {
    // Bounded: stops on the flag or after 3,000 requests per worker.
    for (let i = 0; i < 3000 && !stop; i++) {
      sent++;
      try {
        const r = await get(port, `/load/${i}`);
        if (r.status !== 200) {
          failed++;
          if (reasons.length < 5) reasons.push(`${r.status} ${r.body.slice(0, 120)}`);
        }
        if (r.headers['x-generation'] === 'two') sawNew = true;
      } catch (err) {
        failed++;
        if (reasons.length < 5) reasons.push(String(err));
      }
    }
  };
  const load = Promise.all([worker(), worker(), worker(), worker()]);
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(file, 'static_resources: {{{ this is not yaml\n');
  cli.child.kill('SIGHUP');
  await cli.waitFor(/reload of .* refused/);
  writeFileSync(
    file,
    yamlConfig({
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: echo }
                          response_headers_to_add: [{ header: { key: x-generation, value: two } }]`,
    }),
  );
  cli.child.kill('SIGHUP');
  await cli.waitFor(/reloaded /);
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await load;
  assert.ok(sent > 50, `only ${sent} requests were sent`);
  assert.equal(failed, 0, `${failed} of ${sent} failed; first: ${reasons.join(' | ')}; proxy log: ${cli.stderr().slice(-600)}`);
  assert.equal(sawNew, true);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('a config file seen empty while it is rewritten is not served: the proxy keeps its listeners, then takes the new file', async () => {
  const file = tempFile('truncated.yaml', yamlConfig({}));
  const { cli, port } = await startRun([file]);
  // What `cat new.yaml > file` or an editor's in-place save looks like to the watcher: first an empty file.
  writeFileSync(file, '');
  // A watch event can be lost on a machine under heavy load (inotify queue); a second save is what a user would do.
  const empty = /is empty \(still being written\?\); waiting for the next change/;
  await cli.waitFor(empty, 5000).catch(() => {
    writeFileSync(file, '');
    return cli.waitFor(empty);
  });
  assert.equal((await get(port, '/still-here')).status, 200);
  assert.doesNotMatch(cli.stderr(), /reloaded/);
  writeFileSync(
    file,
    yamlConfig({
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: echo }
                          response_headers_to_add: [{ header: { key: x-generation, value: two } }]`,
    }),
  );
  await cli.waitFor(/reloaded /);
  assert.equal((await get(port, '/new')).headers['x-generation'], 'two');
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('SIGTERM drains: a request in flight completes, new connections are refused, exit 0; the access log has it', async () => {
  const file = tempFile('drain.yaml', yamlConfig({}));
  const logFile = file.replace(/drain\.yaml$/, 'access.log');
  const { cli, port } = await startRun([file, '--drain-timeout', '5s'], undefined, logFile);
  const slow = get(port, '/delay/600');
  await new Promise((r) => setTimeout(r, 150));
  cli.child.kill('SIGTERM');
  await cli.waitFor(/draining/);
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(await cli.exit(), 0);
  await assert.rejects(get(port, '/after'));
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry.path, '/delay/600');
  assert.equal(entry.response_code, 200);
  assert.equal(entry.response_flags, '-');
  assert.equal(entry.upstream_cluster, 'echo');
});

test('Prometheus exposition (/stats/prometheus and the config metrics_path) parses with Envoy names and tags', async () => {
  const text = readFileSync(join(FIXTURES, 'quickstart', 'mesh.textproto'), 'utf8')
    .replace(/port_value: 10000/, 'port_value: 0')
    .replace(/port_value: 18080/, `port_value: ${a.port}`)
    .replace(/port_value: 18081/, `port_value: ${b.port}`);
  const file = tempFile('mesh.textproto', text);
  const { cli, port, admin } = await startRun([file]);
  for (let i = 0; i < 9; i++) assert.equal((await get(port, `/p/${i}`)).status, 200);
  await get(port, '/status/503');
  for (const path of ['/stats/prometheus', '/metrics']) {
    const r = await get(admin, path);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/plain; version=0\.0\.4/);
    const fams = parseExposition(r.body);
    const total = fams.get('envoy_cluster_upstream_rq_total');
    assert.equal(total?.type, 'counter');
    assert.deepEqual(total?.samples, [{ name: 'envoy_cluster_upstream_rq_total', labels: { envoy_cluster_name: 'example-cluster' }, value: 10 }]);
    const xx = fams.get('envoy_cluster_upstream_rq_xx')!.samples;
    assert.equal(xx.find((s) => s.labels.envoy_response_code_class === '2')?.value, 9);
    assert.equal(xx.find((s) => s.labels.envoy_response_code_class === '5')?.value, 1);
    const code = fams.get('envoy_cluster_upstream_rq')!.samples.find((s) => s.labels.envoy_response_code === '503');
    assert.equal(code?.value, 1);
    const hist = fams.get('envoy_cluster_upstream_rq_time')!;
    assert.equal(hist.type, 'histogram');
    assert.equal(hist.samples.find((s) => s.name === 'envoy_cluster_upstream_rq_time_count')?.value, 10);
    assert.equal(hist.samples.find((s) => s.name === 'envoy_cluster_upstream_rq_time_bucket' && s.labels.le === '+Inf')?.value, 10);
    const cx = fams.get('envoy_http_downstream_rq_total')!.samples[0]!;
    assert.deepEqual(cx.labels, { envoy_http_conn_manager_prefix: 'ingress_http' });
    assert.ok(fams.has('envoy_listener_downstream_cx_total'));
  }
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('prometheus-config writes the scrape config from the article', async () => {
  const r = await runCli(['prometheus-config', join(FIXTURES, 'seed', 'prometheus.textproto')]);
  assert.equal(r.code, 0, r.stderr);
  const y = parseYaml(r.stdout) as { scrape_configs: Record<string, unknown>[] };
  assert.deepEqual(y.scrape_configs, [
    { job_name: 'example-job', scrape_interval: '10s', metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:8080'] }] },
  ]);
});
