import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, manualManager, staticCluster } from './helpers.js';
import { CircuitBreaker, breakerLimits } from '../../src/upstream/circuit-breaker.js';
import type { Host } from '../../src/balancer/types.js';

test('static cluster: hosts from load_assignment, mapped endpoints, balancer picks among them', () => {
  const { cm } = manualManager(bootstrap(staticCluster('web', ['10.244.0.2:8080', '10.244.0.3:8080'])), {
    mapEndpoint: (ip, port) => (ip === '10.244.0.2' ? { ip: '127.0.0.1', port: 18080 } : { ip: '127.0.0.1', port: 18081 }),
  });
  const c = cm.get('web');
  assert.ok(c);
  assert.deepEqual(c.hosts.hosts.map((h) => h.address), ['127.0.0.1:18080', '127.0.0.1:18081']);
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) seen.add(c.balancer.pick()!.address);
  assert.deepEqual([...seen].sort(), ['127.0.0.1:18080', '127.0.0.1:18081']);
  assert.equal(cm.get('nope'), undefined);
});

test('onAttemptStart/End keep activeRequests, never below zero', () => {
  const { cm } = manualManager(bootstrap(staticCluster('c', ['127.0.0.1:1'])));
  const c = cm.get('c')!;
  const h = c.hosts.hosts[0]!;
  c.onAttemptStart(h);
  c.onAttemptStart(h);
  assert.equal(h.activeRequests, 2);
  c.onAttemptEnd(h, { kind: 'response', status: 200 }, 1);
  c.onAttemptEnd(h, { kind: 'response', status: 200 }, 1);
  c.onAttemptEnd(h, { kind: 'response', status: 200 }, 1);
  assert.equal(h.activeRequests, 0);
});

test('circuit breakers: Envoy defaults 1024/1024/1024/3, first DEFAULT thresholds entry wins', () => {
  const d = breakerLimits({ name: 'x' });
  assert.deepEqual([d.connections, d.pending, d.requests, d.retries], [1024, 1024, 1024, 3]);
  const l = breakerLimits({
    name: 'x',
    circuit_breakers: { thresholds: [{ priority: 'HIGH', max_requests: 1 }, { max_requests: 2 }, { max_requests: 9 }] },
  });
  assert.equal(l.requests, 2);
  assert.equal(l.connections, 1024);
});

test('circuit breaker overflow: refused at the limit, counted, and free again after release', () => {
  const { cm } = manualManager(
    bootstrap(staticCluster('c', ['127.0.0.1:1'], { circuit_breakers: { thresholds: [{ max_requests: 2, max_retries: 1 }] } })),
  );
  const c = cm.get('c')!;
  assert.equal(c.tryAcquire('requests'), true);
  assert.equal(c.tryAcquire('requests'), true);
  assert.equal(c.tryAcquire('requests'), false);
  assert.equal(c.tryAcquire('requests'), false);
  assert.equal(c.breaker.overflowCount('requests'), 2);
  assert.equal(c.breaker.isOpen('requests'), true);
  c.release('requests');
  assert.equal(c.tryAcquire('requests'), true);
  assert.equal(c.tryAcquire('retries'), true);
  assert.equal(c.tryAcquire('retries'), false);
  assert.equal(c.breaker.overflowCount('retries'), 1);
});

test('retry budget overrides max_retries: max(min_retry_concurrency, budget% of active+pending)', () => {
  const b = new CircuitBreaker(
    breakerLimits({ name: 'x', circuit_breakers: { thresholds: [{ max_retries: 100, retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 1 } }] } }),
  );
  assert.equal(b.limit('retries'), 1);
  for (let i = 0; i < 6; i++) b.tryAcquire('requests');
  assert.equal(b.limit('retries'), 3);
  assert.ok(b.tryAcquire('retries') && b.tryAcquire('retries') && b.tryAcquire('retries'));
  assert.equal(b.tryAcquire('retries'), false);
});

test('hot reload keeps hosts that stay (health flags, activeRequests), adds and removes others and clusters', () => {
  const cfg1 = bootstrap(
    staticCluster('a', ['127.0.0.1:1', '127.0.0.1:2'], { outlier_detection: { max_ejection_percent: 100, consecutive_5xx: 1 } }),
    staticCluster('gone', ['127.0.0.1:9']),
  );
  const { cm } = manualManager(cfg1);
  const a = cm.get('a')!;
  const h1 = a.hosts.hosts[0] as Host;
  a.onAttemptStart(h1);
  a.onAttemptStart(h1);
  a.onAttemptEnd(h1, { kind: 'response', status: 500 }, 1);
  assert.equal(h1.health, 'unhealthy', 'ejected after one 5xx');
  cm.applyConfig(
    bootstrap(
      staticCluster('a', ['127.0.0.1:1', '127.0.0.1:3'], { outlier_detection: { max_ejection_percent: 100, consecutive_5xx: 1 } }),
      staticCluster('new', ['127.0.0.1:4']),
    ),
  );
  assert.equal(cm.get('a'), a, 'same cluster object');
  assert.deepEqual(a.hosts.hosts.map((h) => h.address), ['127.0.0.1:1', '127.0.0.1:3']);
  assert.equal(a.hosts.hosts[0], h1, 'same host object');
  assert.equal(h1.health, 'unhealthy');
  assert.equal(h1.activeRequests, 1);
  assert.equal(cm.get('gone'), undefined);
  assert.ok(cm.get('new'));
  assert.deepEqual([...cm.clusters()].map((c) => c.name).sort(), ['a', 'new']);
});

test('reload with a changed lb_policy rebuilds the balancer over the same hosts', () => {
  const { cm } = manualManager(bootstrap(staticCluster('a', ['127.0.0.1:1', '127.0.0.1:2'])));
  const a = cm.get('a')!;
  const before = a.balancer;
  cm.applyConfig(bootstrap(staticCluster('a', ['127.0.0.1:1', '127.0.0.1:2'], { lb_policy: 'RANDOM' })));
  assert.notEqual(a.balancer, before);
  assert.ok(a.balancer.pick());
});

test('upsertCluster / removeCluster (CDS)', () => {
  const { cm } = manualManager(bootstrap());
  cm.upsertCluster(staticCluster('x', ['127.0.0.1:5']));
  assert.equal(cm.get('x')!.hosts.hosts.length, 1);
  cm.upsertCluster(staticCluster('x', ['127.0.0.1:5', '127.0.0.1:6']));
  assert.equal(cm.get('x')!.hosts.hosts.length, 2);
  cm.removeCluster('x');
  assert.equal(cm.get('x'), undefined);
});

test('envoyHealthFlags names why a host is out, as Envoy’s /clusters does', async () => {
  const { envoyHealthFlags } = await import('../../src/upstream/health-flags.js');
  const { cm } = manualManager(
    bootstrap(staticCluster('c', ['127.0.0.1:1', '127.0.0.1:2'], { outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 100 } })),
  );
  const c = cm.get('c')!;
  const [h1, h2] = c.hosts.hosts as [Host, Host];
  assert.equal(envoyHealthFlags(h1), 'healthy');
  c.onAttemptEnd(h1, { kind: 'response', status: 503 }, 1);
  assert.equal(envoyHealthFlags(h1), '/failed_outlier_check');
  c.hosts.setHealthFlag(h1, 'active-hc', true);
  assert.equal(envoyHealthFlags(h1), '/failed_active_hc/failed_outlier_check');
  c.setEndpoints([
    { ip: '127.0.0.1', port: 1, weight: 1, priority: 0 },
    { ip: '127.0.0.1', port: 2, weight: 1, priority: 0, health: 'degraded' },
  ]);
  assert.equal(envoyHealthFlags(h2), '/degraded_eds_health');
});

test('upstreamClusterStats reports breaker, outlier and membership numbers under Envoy names, by how they merge', async () => {
  const { upstreamClusterStats, clusterManagerStats } = await import('../../src/upstream/stats.js');
  const { cm } = manualManager(
    bootstrap(
      staticCluster('c', ['127.0.0.1:1', '127.0.0.1:2'], {
        outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 50 },
        circuit_breakers: { thresholds: [{ max_requests: 1, track_remaining: true }] },
      }),
    ),
  );
  const c = cm.get('c')!;
  c.tryAcquire('requests');
  c.onAttemptEnd(c.hosts.hosts[0]!, { kind: 'response', status: 500 }, 1);
  c.onAttemptEnd(c.hosts.hosts[1]!, { kind: 'response', status: 500 }, 1);
  const s = upstreamClusterStats(c, cm);
  // Cluster state (every worker holds a copy): merged by maximum.
  assert.equal(s.state['circuit_breakers.default.rq_open'], 1);
  assert.equal(s.state['outlier_detection.ejections_active'], 1);
  assert.equal(s.state['membership_total'], 2);
  assert.equal(s.state['membership_healthy'], 1);
  // This process's share: summed.
  assert.equal(s.gauges['circuit_breakers.default.remaining_rq'], 0);
  // The second host's ejection was refused by max_ejection_percent 50.
  assert.equal(s.counters['outlier_detection.ejections_detected_consecutive_5xx'], 2);
  assert.equal(s.counters['outlier_detection.ejections_consecutive_5xx'], 2);
  assert.equal(s.counters['outlier_detection.ejections_enforced_consecutive_5xx'], 1);
  assert.equal(s.counters['outlier_detection.ejections_enforced_total'], 1);
  assert.equal(s.counters['outlier_detection.ejections_total'], 1);
  assert.equal(s.counters['outlier_detection.ejections_overflow'], 1);
  assert.equal(s.counters['outlier_detection.ejections_enforced_success_rate'], 0);
  assert.equal(s.counters['health_check.attempt'], undefined, 'no health_check block without a health check');
  assert.deepEqual(clusterManagerStats(cm).state, { 'cluster_manager.active_clusters': 1 });
});
