/**
 * A cluster's alt_stat_name through `meshctl run`: Envoy names the cluster's stats by it and logs it as
 * %UPSTREAM_CLUSTER% (%UPSTREAM_CLUSTER_RAW% stays the name); /clusters?format=json shows it as observability_name.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeTemp } from './helpers.js';
import { freePort, oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

const children: RunningCli[] = [];
let upstream: http.Server | undefined;
after(() => {
  for (const c of children) c.kill();
  upstream?.close();
});

test('alt_stat_name names the cluster\'s stats, its %UPSTREAM_CLUSTER% and its observability_name', async () => {
  upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as AddressInfo).port;
  const adminPort = await freePort();
  const yaml =
    `admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } } }\n` +
    oneListenerYaml({
      hcmExtra: `                access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: ACCESS_LOG
                      log_format: { text_format_source: { inline_string: "%UPSTREAM_CLUSTER% %UPSTREAM_CLUSTER_RAW%\\n" } }`,
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: backend-v2 }`,
      clusters: { 'backend-v2': port },
      clusterExtra: { 'backend-v2': '      alt_stat_name: backend\n' },
    });
  const file = writeTemp('alt-stat-name.yaml', yaml);
  const log = join(dirname(file), 'access.log');
  const cfg = readFileSync(file, 'utf8').replace('ACCESS_LOG', log);
  const cli = spawnCli(['run', writeTemp('alt-stat-name.yaml', cfg), '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  const res = await fetch(`http://127.0.0.1:${m[1]}/`);
  assert.equal(await res.text(), 'ok');

  const stats = await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text();
  assert.match(stats, /^cluster\.backend\.upstream_rq_total: 1$/m);
  assert.doesNotMatch(stats, /^cluster\.backend-v2\./m);
  const clusters = (await (await fetch(`http://127.0.0.1:${adminPort}/clusters?format=json`)).json()) as { cluster_statuses: { name: string; observability_name: string }[] };
  assert.deepEqual(clusters.cluster_statuses.map((c) => [c.name, c.observability_name]), [['backend-v2', 'backend']]);
  for (let i = 0; i < 50 && !readLog(log).includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readLog(log), 'backend backend-v2\n');
});

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
