import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer } from './dns-server.js';
import { until } from '../upstream/helpers.js';
import { createClusterManager } from '../../src/upstream/cluster-manager.js';
import { DnsDiscovery, dnsServersFor } from '../../src/discovery/dns.js';
import { RandomStreams } from '../../src/balancer/random.js';
import { ManualClock } from '../../src/time/timers.js';
import type { Bootstrap, Cluster } from '../../src/config/model.js';

function dnsCluster(name: string, host: string, extra: Partial<Cluster> = {}): Cluster {
  return {
    name,
    type: 'STRICT_DNS',
    dns_lookup_family: 'V4_ONLY',
    dns_refresh_rate: { seconds: 1, nanos: 0 },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: 8080 } } } }] }] },
    ...extra,
  };
}

/**
 * The article's bootstrap-level dns_query names a public resolver, which no test may contact. Where no query is sent
 * it stands as a documentation address (TEST-NET-1, never routed); where queries flow, a decoy server on 127.0.0.1.
 */
const articleDns = { name: 'example.service.local', nameservers: ['192.0.2.53'] };

function manager(config: Bootstrap, servers: string[]) {
  const clock = new ManualClock();
  const cm = createClusterManager(config, { random: new RandomStreams(1), clock, timers: clock, dnsServers: servers });
  return { cm, clock };
}

const addrs = (c: { hosts: { hosts: readonly { address: string }[] } }) => c.hosts.hosts.map((h) => h.address).sort();

test('nameserver choice: override first, then cluster dns_resolvers, cluster dns_query, bootstrap dns_query (no query sent)', () => {
  const boot: Bootstrap = { dns_query: articleDns };
  const c = dnsCluster('x', 'svc.test');
  assert.deepEqual(dnsServersFor(c, boot, ['127.0.0.1:5353']), ['127.0.0.1:5353']);
  assert.deepEqual(dnsServersFor(c, boot), ['192.0.2.53']);
  assert.deepEqual(dnsServersFor({ ...c, dns_query: { nameservers: ['127.0.0.9'] } }, boot), ['127.0.0.9']);
  assert.deepEqual(
    dnsServersFor({ ...c, dns_resolvers: [{ socket_address: { address: '127.0.0.8', port_value: 5300 } }] }, boot),
    ['127.0.0.8:5300'],
  );
  assert.equal(dnsServersFor(c, {}), undefined);
});

test('STRICT_DNS: every A record becomes a host, the set follows changed answers, an outage keeps the last good set', async () => {
  const dns = await startDnsServer();
  const decoy = await startDnsServer();
  decoy.a.set('svc.test', [{ address: '127.0.0.99' }]);
  dns.a.set('svc.test', [{ address: '127.0.0.2' }, { address: '127.0.0.3' }]);
  const { cm, clock } = manager(
    { dns_query: { ...articleDns, nameservers: [`127.0.0.1:${decoy.port}`] }, static_resources: { clusters: [dnsCluster('svc', 'svc.test')] } },
    [`127.0.0.1:${dns.port}`],
  );
  try {
    const c = cm.get('svc')!;
    const disc = c.discovery as DnsDiscovery;
    assert.deepEqual(disc.servers(), [`127.0.0.1:${dns.port}`]);
    assert.ok(!disc.servers().includes(`127.0.0.1:${decoy.port}`), "the config's nameserver is overridden");
    await cm.ready();
    assert.deepEqual(addrs(c), ['127.0.0.2:8080', '127.0.0.3:8080']);
    assert.equal(c.hosts.hosts[0]!.hostname, 'svc.test');

    // The answer changes: one host leaves, one joins; the host that stays is the same object.
    const kept = c.hosts.hosts.find((h) => h.address === '127.0.0.3:8080');
    dns.a.set('svc.test', [{ address: '127.0.0.3' }, { address: '127.0.0.4' }]);
    const q = dns.queries.length;
    clock.advance(999);
    assert.equal(dns.queries.length, q, 'no re-resolution before dns_refresh_rate');
    clock.advance(1);
    await until(() => addrs(c).join() === '127.0.0.3:8080,127.0.0.4:8080', 5000, 'host set follows DNS');
    assert.equal(c.hosts.hosts.find((h) => h.address === '127.0.0.3:8080'), kept);

    // Outage: SERVFAIL, then the server gone entirely. The hosts stay.
    dns.mode = 'servfail';
    const failures = disc.stats.update_failure;
    clock.advance(1000);
    await until(() => disc.stats.update_failure > failures, 5000, 'SERVFAIL seen');
    assert.deepEqual(addrs(c), ['127.0.0.3:8080', '127.0.0.4:8080']);
    dns.mode = 'ok';
    dns.a.set('svc.test', [{ address: '127.0.0.5' }]);
    clock.advance(1000);
    await until(() => addrs(c).join() === '127.0.0.5:8080', 5000, 'recovers after the outage');
    // NXDOMAIN is an answer (no records): it empties the cluster, as in Envoy.
    dns.a.delete('svc.test');
    clock.advance(1000);
    await until(() => c.hosts.hosts.length === 0, 5000, 'NXDOMAIN empties');
    assert.ok(disc.stats.update_empty >= 1);
    assert.ok(dns.queries.every((x) => x === 'A svc.test'), `only A queries for the name (V4_ONLY): ${dns.queries}`);
    assert.deepEqual(decoy.queries, [], "the config's own nameserver is never asked");
  } finally {
    await cm.close();
    await dns.close();
    await decoy.close();
  }
});

test('DNS server stopped: resolution fails and the last good hosts stay', async () => {
  const dns = await startDnsServer();
  dns.a.set('gone.test', [{ address: '127.0.0.7' }]);
  const { cm, clock } = manager({ static_resources: { clusters: [dnsCluster('g', 'gone.test')] } }, [`127.0.0.1:${dns.port}`]);
  try {
    await cm.ready();
    const c = cm.get('g')!;
    const disc = c.discovery as DnsDiscovery;
    assert.deepEqual(addrs(c), ['127.0.0.7:8080']);
    await dns.close();
    clock.advance(1000);
    await until(() => disc.stats.update_failure >= 1, 15_000, 'failure after the server stopped');
    assert.deepEqual(addrs(c), ['127.0.0.7:8080']);
  } finally {
    await cm.close();
  }
});

test('respect_dns_ttl: the record TTL sets the next refresh; LOGICAL_DNS keeps only the first address', async () => {
  const dns = await startDnsServer();
  dns.a.set('ttl.test', [{ address: '127.0.0.2', ttl: 30 }, { address: '127.0.0.3', ttl: 30 }]);
  const { cm, clock } = manager(
    {
      static_resources: {
        clusters: [dnsCluster('t', 'ttl.test', { respect_dns_ttl: true }), dnsCluster('l', 'ttl.test', { type: 'LOGICAL_DNS' })],
      },
    },
    [`127.0.0.1:${dns.port}`],
  );
  try {
    await cm.ready();
    assert.deepEqual(addrs(cm.get('t')!), ['127.0.0.2:8080', '127.0.0.3:8080']);
    assert.deepEqual(addrs(cm.get('l')!), ['127.0.0.2:8080']);
    const tDisc = cm.get('t')!.discovery as DnsDiscovery;
    const before = tDisc.stats.update_attempt;
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(tDisc.stats.update_attempt, before, 'TTL 30s, not dns_refresh_rate 1s');
    clock.advance(29_000);
    await until(() => tDisc.stats.update_attempt > before, 5000, 're-resolved after the TTL');
  } finally {
    await cm.close();
    await dns.close();
  }
});

test('AUTO family asks AAAA first and falls back to A (Envoy default)', async () => {
  const dns = await startDnsServer();
  dns.a.set('auto.test', [{ address: '127.0.0.2' }]);
  const { cm } = manager({ static_resources: { clusters: [dnsCluster('a', 'auto.test', { dns_lookup_family: 'AUTO' })] } }, [`127.0.0.1:${dns.port}`]);
  try {
    await cm.ready();
    assert.deepEqual(addrs(cm.get('a')!), ['127.0.0.2:8080']);
    assert.deepEqual(dns.queries.slice(0, 2), ['AAAA auto.test', 'A auto.test']);
  } finally {
    await cm.close();
    await dns.close();
  }
});
