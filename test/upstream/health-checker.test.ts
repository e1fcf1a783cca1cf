import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrap, staticCluster, statusServer, until } from './helpers.js';
import { createClusterManager } from '../../src/upstream/cluster-manager.js';
import { HealthChecker, receivedInOrder, statusExpected, type CheckResult } from '../../src/upstream/health-checker.js';
import { HostSet } from '../../src/balancer/host-set.js';
import { RandomStreams, SeededRandom } from '../../src/balancer/random.js';
import { ManualClock } from '../../src/time/timers.js';
import type { HealthCheck } from '../../src/config/model.js';

const fast = (extra: Partial<HealthCheck>): HealthCheck => ({
  timeout: { seconds: 0, nanos: 500e6 },
  interval: { seconds: 0, nanos: 30e6 },
  no_traffic_interval: { seconds: 0, nanos: 30e6 },
  unhealthy_threshold: 2,
  healthy_threshold: 2,
  ...extra,
});

function realManager(cluster: ReturnType<typeof staticCluster>) {
  return createClusterManager(bootstrap(cluster), { random: new RandomStreams(3), clock: { now: () => performance.now() } });
}

test('HTTP health check against a real server: starts failed, first pass heals at once, a bad status fails at once, recovery needs healthy_threshold', async () => {
  const seen: { path?: string; host?: string }[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url, host: req.headers.host });
    res.statusCode = status;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const cm = realManager(staticCluster('api', [`127.0.0.1:${port}`], { health_checks: [fast({ http_health_check: { path: '/healthz', host: 'api.internal' } })] }));
  try {
    const c = cm.get('api')!;
    const host = c.hosts.hosts[0]!;
    assert.equal(host.health, 'unhealthy', 'hosts start FAILED_ACTIVE_HC');
    await cm.ready();
    assert.equal(host.health, 'healthy', 'first successful check marks healthy at once');
    assert.deepEqual(seen[0], { path: '/healthz', host: 'api.internal' });
    status = 503;
    await until(() => host.health === 'unhealthy', 5000, 'unhealthy on 503');
    const failuresAtFlip = c.healthChecker!.stats.failure;
    assert.equal(failuresAtFlip >= 1 && failuresAtFlip <= 2, true, 'a non-expected status fails without waiting for unhealthy_threshold');
    status = 200;
    const successes = c.healthChecker!.stats.success;
    await until(() => host.health === 'healthy', 5000, 'healthy again');
    assert.ok(c.healthChecker!.stats.success - successes >= 2, 'healthy_threshold 2 successes needed after the first check');
  } finally {
    await cm.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('HTTP health check: expected_statuses ranges replace the default 200; x-envoy-immediate-health-check-fail fails', async () => {
  assert.equal(statusExpected(200, undefined), true);
  assert.equal(statusExpected(204, undefined), false);
  assert.equal(statusExpected(204, [{ start: 200, end: 300 }]), true);
  assert.equal(statusExpected(300, [{ start: 200, end: 300 }]), false);
  let immediateFail = false;
  const server = http.createServer((_req, res) => {
    res.statusCode = 204;
    if (immediateFail) res.setHeader('x-envoy-immediate-health-check-fail', 'true');
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const cm = realManager(
    staticCluster('s', [`127.0.0.1:${port}`], { health_checks: [fast({ http_health_check: { path: '/', expected_statuses: [{ start: 200, end: 300 }] } })] }),
  );
  try {
    await cm.ready();
    const host = cm.get('s')!.hosts.hosts[0]!;
    assert.equal(host.health, 'healthy');
    immediateFail = true;
    await until(() => host.health === 'unhealthy', 5000, 'immediate fail header');
  } finally {
    await cm.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('TCP health check: connect-only passes; a stopped server fails after unhealthy_threshold; restarted on the same port passes again', async () => {
  let server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const cm = realManager(staticCluster('tcp', [`127.0.0.1:${port}`], { health_checks: [fast({ tcp_health_check: {} })] }));
  try {
    await cm.ready();
    const c = cm.get('tcp')!;
    const host = c.hosts.hosts[0]!;
    assert.equal(host.health, 'healthy');
    await new Promise((r) => server.close(r));
    await until(() => host.health === 'unhealthy', 5000, 'unhealthy after server stop');
    assert.ok(c.healthChecker!.stats.network_failure >= 2, 'needed unhealthy_threshold network failures');
    server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    await until(() => host.health === 'healthy', 5000, 'healthy after restart');
    // The balancer sees it: the only host is picked without panic.
    assert.equal(c.balancer.pick()?.address, `127.0.0.1:${port}`);
    assert.equal(c.balancer.lastPickInPanic, false);
  } finally {
    await cm.close();
    await new Promise((r) => server.close(() => r(undefined)));
  }
});

test('TCP health check with send/receive payloads (hex), receive blocks in order', async () => {
  assert.equal(receivedInOrder(Buffer.from('xxPONGyyOK'), [Buffer.from('PONG'), Buffer.from('OK')]), true);
  assert.equal(receivedInOrder(Buffer.from('OKxxPONG'), [Buffer.from('PONG'), Buffer.from('OK')]), false);
  let reply = 'PONG';
  const server = net.createServer((s) => {
    s.once('data', (d) => {
      if (d.toString() === 'PING') s.end(reply);
      else s.end('?');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const hex = (t: string) => Buffer.from(t).toString('hex');
  const cm = realManager(
    staticCluster('p', [`127.0.0.1:${port}`], { health_checks: [fast({ tcp_health_check: { send: { text: hex('PING') }, receive: [{ text: hex('PONG') }] } })] }),
  );
  try {
    await cm.ready();
    const host = cm.get('p')!.hosts.hosts[0]!;
    assert.equal(host.health, 'healthy');
    reply = 'NOPE';
    await until(() => host.health === 'unhealthy', 5000, 'wrong reply fails');
  } finally {
    await cm.close();
    await new Promise((r) => server.close(r));
  }
});

test('state machine (fake clock, scripted probe): unhealthy_threshold counts network failures; no_traffic_interval until traffic', () => {
  const clock = new ManualClock();
  const hosts = new HostSet([{ ip: '127.0.0.1', port: 1, weight: 1, priority: 0 }]);
  const script: CheckResult[] = ['healthy', 'network-failure', 'network-failure', 'network-failure', 'healthy', 'healthy'];
  const times: number[] = [];
  let traffic = false;
  const hc = new HealthChecker(
    hosts,
    [{ interval: { seconds: 1, nanos: 0 }, timeout: { seconds: 1, nanos: 0 }, unhealthy_threshold: 3, healthy_threshold: 2, tcp_health_check: {} }],
    {
      timers: clock,
      random: new SeededRandom(1),
      hadTraffic: () => traffic,
      cluster: 'c',
      probe: async () => {
        times.push(clock.now());
        return script.shift() ?? 'healthy';
      },
    },
  );
  const h = hosts.hosts[0]!;
  const flush = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return (async () => {
    await flush(0);
    assert.equal(h.health, 'healthy');
    await flush(1000);
    assert.deepEqual(times, [0], 'no traffic yet: next check at no_traffic_interval (60s default)');
    traffic = true; // the check at 60s sees traffic and schedules at `interval` from then on
    await flush(59_000);
    assert.deepEqual(times, [0, 60_000]);
    assert.equal(h.health, 'healthy', 'one network failure < unhealthy_threshold 3');
    await flush(1000);
    assert.equal(h.health, 'healthy');
    await flush(1000);
    assert.equal(h.health, 'unhealthy', 'third network failure');
    await flush(1000);
    assert.equal(h.health, 'unhealthy', 'one success < healthy_threshold 2');
    await flush(1000);
    assert.equal(h.health, 'healthy');
    hc.close();
    assert.equal(clock.pending, 0, 'closing cancels the timers');
  })();
});

test('a reload that changes the health check keeps passing hosts in service until their first new check', async () => {
  const srv = await statusServer(200);
  const cluster = (path: string) => staticCluster('r', [`127.0.0.1:${srv.port}`], { health_checks: [fast({ http_health_check: { path } })] });
  const cm = realManager(cluster('/a'));
  try {
    await cm.ready();
    const host = cm.get('r')!.hosts.hosts[0]!;
    assert.equal(host.health, 'healthy');
    cm.applyConfig(bootstrap(cluster('/b')));
    assert.equal(host.health, 'healthy', 'not reset to failed by the reload');
    srv.status = 500;
    await until(() => host.health === 'unhealthy', 5000, 'the new checker still fails it');
  } finally {
    await cm.close();
    await srv.close();
  }
});
