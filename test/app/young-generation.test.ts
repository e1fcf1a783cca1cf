import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { youngGenerationSizedByUser } from '../../src/app/young-generation.js';
import { BIN } from '../helpers/cli.js';

const MODULE = fileURLToPath(new URL('../../src/app/young-generation.js', import.meta.url));

/**
 * A child node process allocates the way a busy proxy does (short-lived objects, some surviving a few rounds) and
 * prints its new space's size in MB. `hold` calls holdYoungGeneration() first, as `meshctl run` does.
 */
function newSpaceMb(hold: boolean, nodeArgs: string[] = []): number {
  const script = `
    import v8 from 'node:v8';
    import { holdYoungGeneration } from ${JSON.stringify(MODULE)};
    if (${hold}) holdYoungGeneration();
    const keep = [];
    for (let r = 0; r < 300; r++) {
      const a = [];
      for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 3) keep.shift();
    }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.space_size / 1048576));`;
  return Number(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
}

test('run holds the young generation at its start-up size under allocation; without it V8 grows it', () => {
  const held = newSpaceMb(true);
  const grown = newSpaceMb(false);
  assert.ok(held <= 4, `new space held at ${held} MB`);
  assert.ok(grown >= 4 * held, `without the hold the new space grew to ${grown} MB (held: ${held} MB)`);
});

test("a young generation sized on node's command line or in NODE_OPTIONS is the user's choice", () => {
  assert.equal(youngGenerationSizedByUser(['--max-semi-space-size=8'], undefined), true);
  assert.equal(youngGenerationSizedByUser([], '--max_semi_space_size=8 --enable-source-maps'), true);
  assert.equal(youngGenerationSizedByUser([], '--semi-space-growth-factor=2'), true);
  assert.equal(youngGenerationSizedByUser(['--enable-source-maps'], '--max-old-space-size=512'), false);
  // The user's flag wins: with a maximum of 8 MB per semi-space given to node, the hold does not apply.
  assert.ok(newSpaceMb(true, ['--max-semi-space-size=8']) > 4);
});

/**
 * `meshctl run` through the real CLI: the new space's size once the proxy serves (a preloaded module reports it
 * after 2 s). `nodeOptions` as NODE_OPTIONS.
 */
async function runNewSpaceMb(nodeOptions: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-young-'));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(
    probe,
    `import v8 from 'node:v8';
setTimeout(() => {
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stderr.write('NEW_SPACE ' + ns.space_size / 1048576 + '\\n');
}, 2000).unref();
`,
  );
  const cfg = join(dir, 'mesh.yaml');
  writeFileSync(
    cfg,
    `static_resources:
  listeners:
    - name: l
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: l
                route_config: { virtual_hosts: [{ name: a, domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }] }
                http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
`,
  );
  const child = spawn(process.execPath, ['--import', probe, BIN, 'run', cfg, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch'], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let err = '';
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no report; stderr: ${err}`)), 20_000);
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        const m = /NEW_SPACE ([\d.]+)/.exec(err);
        if (m !== null) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
  } finally {
    child.kill('SIGKILL');
  }
}

test('meshctl run holds the new space from its first line: the proxy\'s modules and config do not grow it', async () => {
  const held = await runNewSpaceMb('');
  assert.ok(held <= 3, `new space ${held} MB once run serves`);
  // The same start with the young generation sized by the user (so not held) grows it.
  const grown = await runNewSpaceMb('--max-semi-space-size=16');
  assert.ok(grown > held, `with the user's sizing the new space is ${grown} MB (held: ${held} MB)`);
});
