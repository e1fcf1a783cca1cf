/**
 * `upstream_rq_retry_success` in Envoy's meaning: a retried request whose last answer is one the retry policy would
 * not retry (Envoy's RetryStateImpl counts it when a retry was armed and the new answer needs none). A request whose
 * retries all ended in a retriable answer (here 409 under `retriable-4xx`) is not a success, whatever its status
 * class.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { cluster, config, destroyAgent, get, routeTo } from './helpers.js';
import { fakeClusterManagerFactory } from './fakes.js';

let a: EchoServer;
let b: EchoServer;
const running: RunningProxy[] = [];

before(async () => {
  a = await startEchoServer({ name: 'a' });
  b = await startEchoServer({ name: 'b' });
});

after(async () => {
  for (const p of running) await p.close(0);
  await a.close();
  await b.close();
  destroyAgent();
});

async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('upstream_rq_retry_success: not counted when the retries end in a retriable 4xx; counted for a retry that succeeds', async () => {
  const p = await startProxy(
    config({
      clusters: [cluster('conflict', [a.port, b.port]), cluster('flaky', [await deadPort(), a.port])],
      routes: [
        routeTo('conflict', '/status', { retry_policy: { retry_on: 'retriable-4xx', num_retries: 1 } }),
        routeTo('flaky', '/', { retry_policy: { retry_on: 'connect-failure', num_retries: 2 } }),
      ],
    }),
    { clusterManagerFactory: fakeClusterManagerFactory(() => undefined) },
  );
  running.push(p);
  const port = p.listeners[0]!.port;
  // 409 on both tries: retried once, still the retriable answer at the end.
  assert.equal((await get(port, '/status/409')).status, 409);
  const c = p.stats().counters;
  assert.equal(c['cluster.conflict.upstream_rq_retry'], 1);
  assert.equal(c['cluster.conflict.upstream_rq_retry_success'] ?? 0, 0, 'a retry that got 409 again did not succeed');
  // A refused connection retried onto a live host: each such retry is a success.
  for (let i = 0; i < 6; i++) assert.equal((await get(port, `/r${i}`)).status, 200);
  const after6 = p.stats().counters;
  assert.ok((after6['cluster.flaky.upstream_rq_retry'] ?? 0) >= 1, 'some requests met the dead host first');
  assert.equal(after6['cluster.flaky.upstream_rq_retry_success'], after6['cluster.flaky.upstream_rq_retry']);
});
