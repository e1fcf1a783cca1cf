/**
 * The gRPC xDS stack loads only when a config asks for gRPC xDS: `meshctl validate`, and `meshctl run` of a config
 * without it, never resolve @grpc/grpc-js, the xDS transports or the descriptor-driven wire codec (start-up of small
 * runs does not pay for them); a bootstrap with an ADS config does. Every module the real CLI resolves is recorded by
 * a module-resolution hook registered with `node --import`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from '../helpers/cli.js';
import { moduleTraceHook } from '../helpers/module-trace.js';
import { freePort } from '../proxy/cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'meshctl-lazy-'));
const REGISTER = moduleTraceHook();

const GRPC_STACK = ['@grpc/grpc-js', 'discovery/xds-grpc.js', 'config/envoy-api/wire.js', 'discovery/xds-messages.js', 'node_modules/protobufjs/'];

/** Runs the CLI with the hook; for `run`, stops it once it serves. Returns the resolved module URLs. */
async function trace(name: string, args: string[], stopWhen?: RegExp): Promise<string[]> {
  const file = join(dir, `${name}.trace`);
  writeFileSync(file, '');
  const child = spawn(process.execPath, ['--import', REGISTER, BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, MESHCTL_TRACE: file, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (stopWhen?.test(err)) child.kill('SIGTERM');
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(deadline);
  assert.ok(stopWhen === undefined || stopWhen.test(err), `never saw ${String(stopWhen)}:\n${err}`);
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

const loaded = (urls: readonly string[], part: string): boolean => urls.some((u) => u.includes(part));

function config(adminPort: number, xds: boolean, cpPort = 1): string {
  const file = join(dir, xds ? 'xds.json' : 'plain.json');
  writeFileSync(
    file,
    JSON.stringify({
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
      ...(xds
        ? {
            dynamic_resources: {
              // No control plane answers: start-up waits only this long.
              cds_config: { ads: {}, initial_fetch_timeout: '0.2s' },
              ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
            },
          }
        : {}),
      static_resources: {
        clusters: [
          {
            name: 'xds',
            type: 'STATIC',
            connect_timeout: '1s',
            load_assignment: { cluster_name: 'xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cpPort } } } }] }] },
          },
        ],
      },
    }),
  );
  return file;
}

test('the gRPC xDS stack loads only for a config with gRPC xDS: not for validate, not for run without it', async () => {
  const plain = config(await freePort(), false);
  const validate = await trace('validate', ['validate', plain]);
  assert.ok(loaded(validate, 'validate/'), 'the trace sees the modules validate loads');
  for (const m of GRPC_STACK) assert.ok(!loaded(validate, m), `validate loaded ${m}`);
  const run = await trace('run-plain', ['run', plain], /admin on http/);
  for (const m of GRPC_STACK) assert.ok(!loaded(run, m), `run without xDS loaded ${m}`);
  const withXds = await trace('run-xds', ['run', config(await freePort(), true, await freePort())], /admin on http/);
  for (const m of GRPC_STACK) assert.ok(loaded(withXds, m), `run with gRPC ADS did not load ${m}`);
});
