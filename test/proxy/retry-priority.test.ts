/**
 * retry_priority `envoy.retry_priorities.previous_priorities` through `meshctl run`: a cluster whose priority 0 hosts
 * answer 503 and whose priority 1 host answers 200. Priority 0 is healthy (nothing checks it), so the cluster's own
 * load sends every attempt there; with previous_priorities a retry leaves the priorities already tried.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeTemp } from './helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

const children: RunningCli[] = [];
const servers: http.Server[] = [];

after(() => {
  for (const ch of children) ch.kill();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A host answering `status` with its name, counting its requests. */
async function host(name: string, status: number): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const s = http.createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(name);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as { port: number }).port, hits: () => hits };
}

function yaml(p0: number[], p1: number, retryPolicy: string): string {
  const ep = (port: number): string => `{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }`;
  return oneListenerYaml({
    routes: `                        - match: { prefix: "/" }
                          route:
                            cluster: tiers
                            retry_policy:
${retryPolicy}`,
    clusters: {},
    clustersYaml: `    - name: tiers
      connect_timeout: 1s
      load_assignment:
        cluster_name: tiers
        endpoints:
          - { priority: 0, lb_endpoints: [${p0.map(ep).join(', ')}] }
          - { priority: 1, lb_endpoints: [${ep(p1)}] }
`,
  });
}

function retryPolicy(numRetries: number, updateFrequency?: number): string {
  const rp =
    updateFrequency === undefined
      ? ''
      : `
                              retry_priority:
                                name: envoy.retry_priorities.previous_priorities
                                typed_config:
                                  "@type": type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig
                                  update_frequency: ${updateFrequency}`;
  return `                              retry_on: 5xx
                              num_retries: ${numRetries}${rp}`;
}

async function run(text: string): Promise<number> {
  const cli = spawnCli(['run', writeTemp('retry-priority.yaml', text), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return Number(m[1]);
}

async function status(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  await res.arrayBuffer();
  return res.status;
}

test('previous_priorities: the retry goes to priority 1 when priority 0 failed; without it every attempt stays on priority 0', async () => {
  const [a, b, backup] = [await host('p0-a', 503), await host('p0-b', 503), await host('p1', 200)];
  const without = await run(yaml([a.port, b.port], backup.port, retryPolicy(2)));
  for (let i = 0; i < 4; i++) assert.equal(await status(without), 503);
  assert.equal(backup.hits(), 0, 'the cluster\'s own load keeps every attempt on priority 0');
  assert.equal(a.hits() + b.hits(), 12);

  const withIt = await run(yaml([a.port, b.port], backup.port, retryPolicy(2, 1)));
  for (let i = 0; i < 4; i++) assert.equal(await status(withIt), 200);
  assert.equal(backup.hits(), 4, 'each request: one attempt on priority 0, its retry on priority 1');
  assert.equal(a.hits() + b.hits(), 12 + 4);
});

test('previous_priorities update_frequency 2: the first two attempts use the cluster\'s load, the third leaves priority 0', async () => {
  const [a, b, backup] = [await host('p0-a', 503), await host('p0-b', 503), await host('p1', 200)];
  const oneRetry = await run(yaml([a.port, b.port], backup.port, retryPolicy(1, 2)));
  assert.equal(await status(oneRetry), 503, 'two attempts, both on priority 0');
  assert.equal(backup.hits(), 0);
  const twoRetries = await run(yaml([a.port, b.port], backup.port, retryPolicy(2, 2)));
  assert.equal(await status(twoRetries), 200);
  assert.equal(backup.hits(), 1);
  assert.equal(a.hits() + b.hits(), 4);
});
