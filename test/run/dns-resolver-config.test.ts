/**
 * A STRICT_DNS cluster's resolver as Envoy configures it, through `meshctl run` (the real binary, no --dns-server
 * override): typed_dns_resolver_config (c-ares `resolvers`, over UDP, and over TCP with use_tcp_for_dns_lookups), the
 * deprecated dns_resolvers / use_tcp_for_dns_lookups, the bootstrap's typed_dns_resolver_config, and
 * dns_failure_refresh_rate. The nameserver is a DNS server this test starts on 127.0.0.1; it answers 127.0.0.x, where
 * this test's upstreams listen, and a changed answer is followed on the next refresh.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDnsServer, type TestDnsServer } from '../discovery/dns-server.js';
import { spawnCli, type RunningCli } from '../proxy/cli-helpers.js';
import { writeTemp } from '../proxy/helpers.js';

const NAME = 'svc.resolver.test';
let dns: TestDnsServer;
const upstreams: http.Server[] = [];
let upstreamPort = 0;
const children: RunningCli[] = [];

/** One upstream on 127.0.0.2 and one on 127.0.0.3, same port, each answering with its address. */
before(async () => {
  dns = await startDnsServer();
  for (const ip of ['127.0.0.2', '127.0.0.3']) {
    const s = http.createServer((_req, res) => res.end(ip));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(upstreamPort, ip, () => resolve());
    });
    upstreamPort = (s.address() as AddressInfo).port;
    upstreams.push(s);
  }
});

after(async () => {
  for (const c of children) c.kill();
  for (const s of upstreams) {
    s.closeAllConnections();
    s.close();
  }
  await dns?.close();
});

function yaml(clusterExtra: string, bootstrapExtra = ''): string {
  return `${bootstrapExtra}
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: main
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: "/" }, route: { cluster: svc } }]
  clusters:
    - name: svc
      type: STRICT_DNS
      connect_timeout: 1s
      dns_lookup_family: V4_ONLY
${clusterExtra}
      load_assignment:
        cluster_name: svc
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ${NAME}, port_value: ${upstreamPort} } } } }] }]
`;
}

function caresConfig(indent: string, tcp: boolean): string {
  return `${indent}typed_dns_resolver_config:
${indent}  name: envoy.network.dns_resolver.cares
${indent}  typed_config:
${indent}    "@type": type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig
${indent}    resolvers: [{ socket_address: { address: 127.0.0.1, port_value: ${dns.port} } }]
${indent}    dns_resolver_options: { use_tcp_for_dns_lookups: ${tcp}, no_default_search_domain: true }`;
}

/** Starts a proxy; `alone`: the earlier ones are stopped first (their refreshes would be counted too). */
async function start(config: string, alone = true): Promise<number> {
  if (alone) {
    for (const c of children.splice(0)) {
      c.kill();
      await c.exit();
    }
  }
  const cli = spawnCli(['run', writeTemp('dns.yaml', config), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return Number(m[1]);
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      // A request that never ends fails the test instead of hanging it.
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('no answer within 5 s'));
      })
      .on('error', reject);
  });
}

/** Polls until a request is answered by `ip` (bounded). */
async function reaches(port: number, ip: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await get(port);
    last = `${r.status} ${r.body}`;
    if (r.status === 200 && r.body === ip) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`requests never reached ${ip} within ${withinMs} ms (last: ${last})`);
}

test('typed_dns_resolver_config (c-ares resolvers, UDP): requests reach the answered host; a new answer is followed', async () => {
  dns.a.set(NAME, [{ address: '127.0.0.2' }]);
  const before = dns.queries.length;
  const tcpBefore = dns.tcpQueries.length;
  const port = await start(yaml(`      dns_refresh_rate: 0.3s\n${caresConfig('      ', false)}`));
  await reaches(port, '127.0.0.2', 5000);
  assert.ok(dns.queries.slice(before).includes(`A ${NAME}`), 'the configured resolver was asked');
  assert.equal(dns.tcpQueries.length, tcpBefore, 'over UDP');
  dns.a.set(NAME, [{ address: '127.0.0.3' }]);
  await reaches(port, '127.0.0.3', 5000);
});

test('use_tcp_for_dns_lookups: every query goes over TCP', async () => {
  dns.a.set(NAME, [{ address: '127.0.0.3' }]);
  const before = dns.queries.length;
  const tcpBefore = dns.tcpQueries.length;
  const port = await start(yaml(`      dns_refresh_rate: 0.3s\n${caresConfig('      ', true)}`));
  await reaches(port, '127.0.0.3', 5000);
  dns.a.set(NAME, [{ address: '127.0.0.2' }]);
  await reaches(port, '127.0.0.2', 5000);
  const all = dns.queries.slice(before);
  const tcp = dns.tcpQueries.slice(tcpBefore);
  assert.ok(tcp.length >= 2, `queries over TCP: ${tcp.length}`);
  assert.equal(tcp.length, all.length, 'none over UDP');
});

test('the deprecated dns_resolvers + use_tcp_for_dns_lookups, and the bootstrap typed_dns_resolver_config', async () => {
  dns.a.set(NAME, [{ address: '127.0.0.2' }]);
  const tcpBefore = dns.tcpQueries.length;
  const deprecated = await start(
    yaml(`      dns_refresh_rate: 0.3s\n      use_tcp_for_dns_lookups: true\n      dns_resolvers: [{ socket_address: { address: 127.0.0.1, port_value: ${dns.port} } }]`),
  );
  await reaches(deprecated, '127.0.0.2', 5000);
  assert.ok(dns.tcpQueries.length > tcpBefore, 'over TCP');
  const before = dns.queries.length;
  const boot = await start(yaml('      dns_refresh_rate: 0.3s', caresConfig('', false)), false);
  await reaches(boot, '127.0.0.2', 5000);
  assert.ok(dns.queries.length > before);
});

test('dns_failure_refresh_rate: after a failure the next query comes on its back-off, not dns_refresh_rate', async () => {
  dns.a.set(NAME, [{ address: '127.0.0.3' }]);
  dns.mode = 'servfail';
  try {
    const port = await start(
      yaml(`      dns_refresh_rate: 60s\n      dns_failure_refresh_rate: { base_interval: 0.2s, max_interval: 0.4s }\n${caresConfig('      ', false)}`),
    );
    assert.equal((await get(port)).status, 503, 'no host while the nameserver fails');
    dns.mode = 'ok';
    // dns_refresh_rate alone would wait 60 s.
    await reaches(port, '127.0.0.3', 4000);
  } finally {
    dns.mode = 'ok';
  }
});
