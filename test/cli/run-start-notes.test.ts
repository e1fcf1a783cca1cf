/**
 * The notes `run` prints at start-up hold for its flags (issue 17, items 3 and 8): privileged-port is about the port
 * the listener will bind after `--listen-port-offset`; dns-resolver says where DNS queries go, and `--dns-server`
 * replaces it with one line. Nothing here talks to a public resolver: validate does not resolve, and every run
 * points its DNS at a server this test starts on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { freePort, spawnCli } from '../proxy/cli-helpers.js';
import { startDnsServer } from '../discovery/dns-server.js';

function tempFile(name: string, text: string): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-notes-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The article's listener on port 80, answering by itself. */
const PORT_80 = `admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
static_resources:
  listeners:
    - name: web
      address: { socket_address: { address: 127.0.0.1, port_value: 80 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: web
                route_config:
                  virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, direct_response: { status: 200 } }] }]
`;

test('validate notes port 80; run --listen-port-offset that lands at or above 1024 does not', async () => {
  const cfg = tempFile('web.yaml', PORT_80);
  try {
    const v = await runCli(['validate', cfg.file]);
    assert.equal(v.code, 0);
    assert.match(v.stderr + v.stdout, /info\[privileged-port\]: listener `web` binds port 80/);
    const port = await freePort();
    const cli = spawnCli(['run', cfg.file, '--no-access-log', '--no-watch', '--listen-port-offset', String(port - 80)]);
    try {
      await cli.waitFor(new RegExp(`listener web on http://127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(cli.stderr(), /privileged-port|CAP_NET_BIND_SERVICE/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exit();
    }
  } finally {
    cfg.remove();
  }
});

test('run --listen-port-offset that leaves the port below 1024 notes the port it will bind', async () => {
  const cfg = tempFile('web.yaml', PORT_80);
  try {
    // 192.0.2.1 (TEST-NET-1) is on no interface: the bind fails after the notes, so no socket is opened on port 180.
    const cli = spawnCli(['run', cfg.file, '--no-access-log', '--no-watch', '--listen-port-offset', '100', '--listen-address', '192.0.2.1']);
    const code = await cli.exit();
    assert.equal(code, 2, cli.stderr());
    assert.match(cli.stderr(), /info\[privileged-port\]: listener `web` binds port 180, which needs root or CAP_NET_BIND_SERVICE \(port_value 80 \+ --listen-port-offset 100\)/);
    assert.doesNotMatch(cli.stderr(), /binds port 80\b/);
  } finally {
    cfg.remove();
  }
});

function dnsConfig(nameserver: string, listenPort: number): string {
  return `dns_query {
  name: "example.service.local"
  nameservers: ["${nameserver}"]
}
admin { address { socket_address { address: "127.0.0.1" port_value: 0 } } }
static_resources {
  clusters {
    cluster {
      name: "dns-cluster"
      type: STRICT_DNS
      connect_timeout: 0.25s
      load_assignment {
        cluster_name: "dns-cluster"
        endpoints { address { socket_address { address: "example.service.local" port_value: 9 } } }
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
            route_config { virtual_hosts { name: "all" domains: ["*"] routes { match { prefix: "/" } route { cluster: "dns-cluster" } } } }
          }
        }
      }
    }
  }
}
`;
}

test("validate says where the article's DNS snippet sends queries, and names --dns-server", async () => {
  const r = await runCli(['validate', 'fixtures/seed/dns-query.textproto']);
  assert.equal(r.code, 0);
  const out = r.stdout + r.stderr;
  assert.match(out, /info\[dns-resolver\]: DNS queries would go to `8\.8\.8\.8` \(dns_query\.nameservers\), a resolver outside this network/);
  assert.match(out, /--> fixtures\/seed\/dns-query\.textproto:3:3/);
  assert.match(out, /meshctl run --dns-server IP\[:PORT\]/);
  const withCluster = tempFile('dns.textproto', dnsConfig('8.8.8.8', 1));
  try {
    const c = await runCli(['validate', withCluster.file]);
    assert.match(c.stdout + c.stderr, /DNS queries of cluster `dns-cluster` go to `8\.8\.8\.8` \(dns_query\.nameservers\)/);
  } finally {
    withCluster.remove();
  }
});

test('run prints where DNS queries go at start-up; with --dns-server, that server instead', async () => {
  const configured = await startDnsServer();
  const override = await startDnsServer();
  const cfg = tempFile('dns.textproto', dnsConfig(`127.0.0.1:${configured.port}`, await freePort()));
  try {
    const plain = spawnCli(['run', cfg.file, '--no-access-log', '--no-watch']);
    try {
      await plain.waitFor(/listener l on/);
      assert.match(plain.stderr(), new RegExp(`info\\[dns-resolver\\]: DNS queries of cluster \`dns-cluster\` go to \`127\\.0\\.0\\.1:${configured.port}\``));
      assert.doesNotMatch(plain.stderr(), /outside this network/);
    } finally {
      plain.child.kill('SIGTERM');
      await plain.exit();
    }
    const flagged = spawnCli(['run', cfg.file, '--no-access-log', '--no-watch', '--dns-server', `127.0.0.1:${override.port}`]);
    try {
      await flagged.waitFor(/listener l on/);
      assert.match(flagged.stderr(), new RegExp(`meshctl: DNS queries go to 127\\.0\\.0\\.1:${override.port} \\(--dns-server\\), not to the nameservers the config names`));
      assert.doesNotMatch(flagged.stderr(), /dns-resolver/);
    } finally {
      flagged.child.kill('SIGTERM');
      await flagged.exit();
    }
  } finally {
    cfg.remove();
    await configured.close();
    await override.close();
  }
});
