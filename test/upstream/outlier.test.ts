import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, manualManager, staticCluster } from './helpers.js';
import { HostSet } from '../../src/balancer/host-set.js';
import { SeededRandom } from '../../src/balancer/random.js';
import { ManualClock } from '../../src/time/timers.js';
import { OutlierDetector, outlierSettings } from '../../src/upstream/outlier-detector.js';
import type { Host } from '../../src/balancer/types.js';

const fail = { kind: 'response', status: 500 } as const;
const ok = { kind: 'response', status: 200 } as const;

function detector(n: number, od: Parameters<typeof outlierSettings>[0], overrides = {}) {
  const clock = new ManualClock();
  const hosts = new HostSet(Array.from({ length: n }, (_, i) => ({ ip: '127.0.0.1', port: 1000 + i, weight: 1, priority: 0 })));
  const events: string[] = [];
  const d = new OutlierDetector(hosts, outlierSettings(od, overrides), {
    clock,
    timers: clock,
    random: new SeededRandom(1),
    onEvent: (e) => events.push(`${e.action} ${e.host.port} @${e.at}`),
  });
  return { clock, hosts, d, events, h: (i: number) => hosts.hosts[i] as Host };
}

test('Envoy defaults: consecutive_5xx 5, interval 10s, base 30s, max 10%, gateway failure detected but not enforced', () => {
  const s = outlierSettings({});
  assert.equal(s.consecutive5xx, 5);
  assert.equal(s.consecutiveGatewayFailure, 5);
  assert.equal(s.intervalMs, 10_000);
  assert.equal(s.baseEjectionMs, 30_000);
  assert.equal(s.maxEjectionMs, 300_000);
  assert.equal(s.maxEjectionPercent, 10);
  assert.equal(s.enforcingConsecutive5xx, 100);
  assert.equal(s.enforcingConsecutiveGatewayFailure, 0);
});

test('five consecutive 5xx eject a host; a success in between resets the run', () => {
  const { d, h } = detector(10, {});
  for (let i = 0; i < 4; i++) d.onResult(h(0), fail);
  d.onResult(h(0), ok);
  for (let i = 0; i < 4; i++) d.onResult(h(0), fail);
  assert.equal(h(0).health, 'healthy');
  d.onResult(h(0), fail);
  assert.equal(h(0).health, 'unhealthy');
  assert.equal(d.stats.ejections_active, 1);
  assert.equal(d.stats.ejections_enforced_consecutive_5xx, 1);
});

test('ejection lasts base_ejection_time × times ejected, returned at an interval sweep (fake clock)', () => {
  const { d, h, clock, events } = detector(2, { max_ejection_percent: 50, consecutive_5xx: 2, interval: { seconds: 1, nanos: 0 }, base_ejection_time: { seconds: 5, nanos: 0 } });
  d.onResult(h(0), fail);
  d.onResult(h(0), fail);
  assert.equal(h(0).health, 'unhealthy');
  clock.advance(4000);
  assert.equal(h(0).health, 'unhealthy', 'still ejected before 5s');
  clock.advance(1000);
  assert.equal(h(0).health, 'healthy', 'back after 5s');
  // Second ejection right away: 2 × 5s.
  d.onResult(h(0), fail);
  d.onResult(h(0), fail);
  assert.equal(d.numEjections(h(0)), 2);
  clock.advance(9000);
  assert.equal(h(0).health, 'unhealthy', 'second ejection lasts 10s');
  clock.advance(1000);
  assert.equal(h(0).health, 'healthy');
  assert.deepEqual(events, ['eject 1000 @0', 'uneject 1000 @5000', 'eject 1000 @5000', 'uneject 1000 @15000']);
});

test('the back-off shrinks by one per healthy interval after un-ejection', () => {
  const { d, h, clock } = detector(2, { max_ejection_percent: 100, consecutive_5xx: 1, interval: { seconds: 1, nanos: 0 }, base_ejection_time: { seconds: 2, nanos: 0 } });
  d.onResult(h(0), fail); // backoff 1
  clock.advance(2000);
  d.onResult(h(0), fail); // backoff 2 → 4s
  clock.advance(4000);
  assert.equal(h(0).health, 'healthy');
  clock.advance(10_000); // healthy for many intervals: backoff decays to 0
  d.onResult(h(0), fail); // backoff 1 → 2s again
  clock.advance(2000);
  assert.equal(h(0).health, 'healthy');
});

test('max_ejection_percent: with Envoy’s 10% default, one of two hosts is not ejected (overflow counted)', () => {
  const { d, h } = detector(2, { consecutive_5xx: 1 });
  d.onResult(h(0), fail);
  assert.equal(h(0).health, 'healthy');
  assert.equal(d.stats.ejections_overflow, 1);
  assert.equal(d.stats.ejections_detected_consecutive_5xx, 1);
});

test('max_ejection_percent 50 of four hosts: two ejected, the third refused; alwaysEjectOneHost variant', () => {
  const { d, h } = detector(4, { consecutive_5xx: 1, max_ejection_percent: 50 });
  d.onResult(h(0), fail);
  d.onResult(h(1), fail);
  d.onResult(h(2), fail);
  assert.deepEqual([0, 1, 2, 3].map((i) => h(i).health), ['unhealthy', 'unhealthy', 'healthy', 'healthy']);
  assert.equal(d.stats.ejections_overflow, 1);
  const one = detector(2, { consecutive_5xx: 1 }, { alwaysEjectOneHost: true });
  one.d.onResult(one.h(0), fail);
  one.d.onResult(one.h(1), fail);
  assert.deepEqual([one.h(0).health, one.h(1).health], ['unhealthy', 'healthy']);
});

test('gateway failures: enforced only when enforcing_consecutive_gateway_failure is set; local-origin errors count as 503/504', () => {
  const off = detector(2, { max_ejection_percent: 100, consecutive_5xx: 100, consecutive_gateway_failure: 2 });
  off.d.onResult(off.h(0), { kind: 'connect-failure' });
  off.d.onResult(off.h(0), { kind: 'timeout' });
  assert.equal(off.h(0).health, 'healthy');
  assert.equal(off.d.stats.ejections_detected_consecutive_gateway_failure, 1);
  const on = detector(2, { max_ejection_percent: 100, consecutive_5xx: 100, consecutive_gateway_failure: 2, enforcing_consecutive_gateway_failure: 100 });
  on.d.onResult(on.h(0), { kind: 'reset' });
  on.d.onResult(on.h(0), { kind: 'response', status: 502 });
  assert.equal(on.h(0).health, 'unhealthy');
  // A 500 is a 5xx but not a gateway error: it breaks the gateway run.
  on.d.onResult(on.h(1), { kind: 'response', status: 503 });
  on.d.onResult(on.h(1), { kind: 'response', status: 500 });
  on.d.onResult(on.h(1), { kind: 'response', status: 503 });
  assert.equal(on.h(1).health, 'healthy');
});

test('split_external_local_origin_errors: connect failures count apart from upstream 5xx', () => {
  const { d, h } = detector(2, { max_ejection_percent: 100, consecutive_5xx: 2, split_external_local_origin_errors: true, consecutive_local_origin_failure: 3 });
  d.onResult(h(0), { kind: 'connect-failure' });
  d.onResult(h(0), { kind: 'connect-failure' });
  assert.equal(h(0).health, 'healthy', '2 local failures < 3, not counted as 5xx');
  d.onResult(h(0), { kind: 'connect-failure' });
  assert.equal(h(0).health, 'unhealthy');
  assert.equal(d.stats.ejections_enforced_consecutive_local_origin_failure, 1);
});

test('a removed host leaves the ejection count; through the cluster manager the data path drives ejection', () => {
  const { cm, clock } = manualManager(
    bootstrap(staticCluster('c', ['127.0.0.1:1', '127.0.0.1:2'], { outlier_detection: { max_ejection_percent: 50, base_ejection_time: { seconds: 30, nanos: 0 } } })),
  );
  const c = cm.get('c')!;
  const dead = c.hosts.hosts[0]!;
  for (let i = 0; i < 5; i++) {
    c.onAttemptStart(dead);
    c.onAttemptEnd(dead, { kind: 'connect-failure' }, 1);
  }
  assert.equal(dead.health, 'unhealthy');
  for (let i = 0; i < 20; i++) assert.equal(c.balancer.pick()!.address, '127.0.0.1:2');
  assert.equal(c.outlier!.stats.ejections_active, 1);
  clock.advance(30_000);
  assert.equal(dead.health, 'healthy');
  for (let i = 0; i < 5; i++) c.onAttemptEnd(dead, fail, 1);
  assert.equal(c.outlier!.stats.ejections_active, 1, 'ejected again');
  c.setEndpoints([{ ip: '127.0.0.1', port: 2, weight: 1, priority: 0 }]);
  assert.equal(c.outlier!.stats.ejections_active, 0);
});
