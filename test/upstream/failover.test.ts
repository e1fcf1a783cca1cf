import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy } from '../../src/proxy/index.js';
import { Upstream, failoverConfig, runLoad } from './e2e-helpers.js';
import { until } from './helpers.js';

test('kill one of two upstreams under ≥2,000 requests: zero failed client requests, the dead host ejected, traffic back after restart', async () => {
  const a = new Upstream('A');
  const b = new Upstream('B');
  await a.start();
  await b.start();
  const proxy = await startProxy(failoverConfig([a.port, b.port]), { seed: 1 });
  const hostA = `127.0.0.1:${a.port}`;
  const healthOf = (addr: string) => proxy.clusterStatuses().find((c) => c.name === 'svc')?.hosts.find((h) => h.address === addr)?.health;
  let phase: 'before' | 'killed' | 'ejected' | 'restarted' | 'recovered' = 'before';
  let hitsAtRestart = 0;
  let killing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  try {
    const port = proxy.listeners[0]!.port;
    const load = runLoad(port, {
      concurrency: 8,
      min: 2000,
      max: 40_000,
      maxMs: 30_000,
      stop: () => phase === 'recovered',
      onProgress: (r) => {
        const n = r.ok + r.failed;
        if (phase === 'before' && n >= 500) {
          phase = 'killed';
          killing = a.kill();
        } else if (phase === 'killed' && (healthOf(hostA) ?? 'healthy') !== 'healthy') {
          phase = 'ejected';
          restarting = killing!.then(() => a.start()).then(() => {
            hitsAtRestart = a.hits;
            phase = 'restarted';
          });
        } else if (phase === 'restarted' && a.hits > hitsAtRestart + 50 && healthOf(hostA) === 'healthy') {
          phase = 'recovered';
        }
      },
    });
    const r = await load;
    await restarting;
    assert.equal(phase, 'recovered', `the run ended in phase ${phase} (A hits ${a.hits}, health ${healthOf(hostA)})`);
    assert.ok(r.ok + r.failed >= 2000, `at least 2,000 requests (${r.ok + r.failed})`);
    assert.equal(r.failed, 0, `failed client requests: ${r.failures.join(' | ')}`);
    assert.ok((r.byBody.get('A') ?? 0) > 0 && (r.byBody.get('B') ?? 0) > 0);
  } finally {
    await proxy.close(0);
    await a.kill();
    await b.kill();
  }
});

test('circuit-breaker overflow through the proxy: max_requests 1 with a slow upstream answers 503 at once and counts it', async () => {
  const { default: http } = await import('node:http');
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let arrived = 0;
  const server = http.createServer(async (_req, res) => {
    arrived++;
    await gate;
    res.end('slow');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const proxy = await startProxy(failoverConfig([port], { circuit_breakers: { thresholds: [{ max_requests: 1 }] } }));
  try {
    const lp = proxy.listeners[0]!.port;
    const first = fetch(`http://127.0.0.1:${lp}/`);
    // Wait until the first request is at the upstream, holding the breaker's only slot.
    await until(() => arrived === 1, 5000, 'first request upstream');
    const second = await fetch(`http://127.0.0.1:${lp}/`);
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('x-envoy-overloaded'), 'true');
    await second.text();
    release();
    assert.equal((await first).status, 200);
  } finally {
    release();
    await proxy.close(0);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
