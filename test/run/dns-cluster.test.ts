/**
 * `meshctl run` with a STRICT_DNS cluster and the article's `dns_query`, answered by a DNS server this test starts on
 * 127.0.0.1: `--dns-server` replaces the config's nameservers, the proxy waits for the first (slow) answer before it
 * takes traffic, and the very first request reaches the upstream the name resolves to. The config's own nameserver,
 * which in the article is a public resolver, is here a decoy on 127.0.0.1 that answers with a wrong address: if the
 * override failed, the test would see the decoy queried (and the request fail) without any packet leaving loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startDnsServer } from '../discovery/dns-server.js';
import { spawnCli, freePort } from '../proxy/cli-helpers.js';
import { startEchoServer } from '../../src/app/echo-server.js';

function config(listenPort: number, adminPort: number, upstreamPort: number, nameserver: string): string {
  return `# The article's DNS discovery, with a cluster that uses it.
dns_query {
  name: "example.service.local"
  nameservers: ["${nameserver}"]
}
admin { address { socket_address { address: "127.0.0.1" port_value: ${adminPort} } } }
static_resources {
  clusters {
    cluster {
      name: "dns-cluster"
      type: STRICT_DNS
      connect_timeout: 0.25s
      load_assignment {
        cluster_name: "dns-cluster"
        endpoints { address { socket_address { address: "example.service.local" port_value: ${upstreamPort} } } }
      }
    }
  }
  listeners {
    listener {
      name: "l"
      address { socket_address { address: "127.0.0.1" port_value: ${listenPort} } }
      filter_chains {
        filters {
          name: "envoy.http_connection_manager"
          typed_config {
            stat_prefix: "ingress"
            route_config {
              virtual_hosts {
                name: "all"
                domains: ["*"]
                routes { match { prefix: "/" } route { cluster: "dns-cluster" } }
              }
            }
          }
        }
      }
    }
  }
}
`;
}

test('run resolves a STRICT_DNS cluster through --dns-server and serves the first request', async () => {
  const dns = await startDnsServer();
  const decoy = await startDnsServer();
  decoy.a.set('example.service.local', [{ address: '127.0.0.9', ttl: 30 }]);
  const echo = await startEchoServer({ name: 'resolved', host: '127.0.0.1' });
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-dns-'));
  const file = join(dir, 'mesh.textproto');
  writeFileSync(file, config(listenPort, adminPort, echo.port, `127.0.0.1:${decoy.port}`));
  dns.a.set('example.service.local', [{ address: '127.0.0.1', ttl: 30 }]);
  // A slow nameserver: the listener must not take traffic before the cluster has its first answer.
  dns.delayMs = 400;
  const cli = spawnCli(['run', file, '--no-access-log', '--no-watch', '--dns-server', `127.0.0.1:${dns.port}`]);
  try {
    await cli.waitFor(/listener l on http:\/\/127\.0\.0\.1:\d+/);
    const r = await request(`http://127.0.0.1:${listenPort}/first`);
    const body = await r.body.text();
    assert.equal(r.statusCode, 200, body);
    assert.match(body, /"upstream":"resolved"/);
    assert.ok(dns.queries.some((q) => q.endsWith(' example.service.local')), `queries: ${dns.queries.join(', ')}`);
    assert.deepEqual(decoy.queries, [], "the config's own nameserver is never asked");
    const clusters = await (await request(`http://127.0.0.1:${adminPort}/clusters`)).body.text();
    assert.match(clusters, new RegExp(`dns-cluster::127\\.0\\.0\\.1:${echo.port}::health_flags::healthy`));
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exit();
    await echo.close();
    await dns.close();
    await decoy.close();
  }
});

test('run --dns-server rejects something that is not an IP address: exit 2', async () => {
  const cli = spawnCli(['run', 'fixtures/quickstart/mesh.textproto', '--dns-server', 'dns.example:53']);
  assert.equal(await cli.exit(), 2);
  assert.match(cli.stderr(), /--dns-server expects an IP address/);
});
