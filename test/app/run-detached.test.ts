/**
 * `meshctl run` started as a service manager starts it: no terminal, stdin from /dev/null, its own process group. With
 * health-checked clusters start-up waits for the first health-check round (cluster warming); every upstream timer is
 * unref'd, so before the fix nothing held node's event loop in that wait and the process ended with status 0 before it
 * listened (6 of 8 starts on this machine). Every start must now listen, serve, and stop only when told.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { BIN, REPO } from '../helpers/cli.js';
import { get, destroyAgent } from '../proxy/helpers.js';

let up: EchoServer;
let file: string;

before(async () => {
  up = await startEchoServer({ name: 'up' });
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-detached-'));
  file = join(dir, 'hc.yaml');
  writeFileSync(
    file,
    `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: ingress_http
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: echo }
  clusters:
    - name: echo
      type: STATIC
      connect_timeout: 1s
      health_checks:
        - timeout: 1s
          interval: 2s
          unhealthy_threshold: 2
          healthy_threshold: 1
          http_health_check: { path: /health }
      load_assignment:
        cluster_name: echo
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${up.port} } } }
`,
  );
});

after(async () => {
  await up.close();
  destroyAgent();
});

interface Started {
  readonly port: number;
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Starts the binary detached, with stdin on /dev/null and no pipes but stderr; resolves once it announces a listener. */
function startDetached(): Promise<Started> {
  const devNull = openSync('/dev/null', 'r');
  const child = spawn(process.execPath, [BIN, 'run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch'], {
    cwd: REPO,
    detached: true,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: [devNull, 'ignore', 'pipe'],
  });
  closeSync(devNull);
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => clearTimeout(guard));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        resolve({
          port: Number(m[1]),
          stop: async () => {
            child.kill('SIGTERM');
            return { code: await exited, stderr };
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`meshctl run exited (status ${code}) before it listened; stderr:\n${stderr}`)));
  });
}

test('run started detached with health-checked clusters listens every time, serves, and stops only when told', async () => {
  for (let i = 0; i < 10; i++) {
    const p = await startDetached();
    const r = await get(p.port, `/try/${i}`);
    assert.equal(r.status, 200, `start ${i}: ${r.body}`);
    const end = await p.stop();
    assert.equal(end.code, 0, `start ${i}: stderr:\n${end.stderr}`);
    assert.match(end.stderr, /meshctl: stopped/);
  }
});
