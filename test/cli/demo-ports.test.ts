/**
 * `meshctl demo` (`npm start`) when a port it needs is taken: the error, the port and the flag that moves it, exit 2,
 * and none of the "Try: curl" lines (issue 17, item 2). The test holds the port itself and points the demo at it
 * with the demo's own flags, so it depends on no fixed port being free or taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { runCli } from '../helpers/cli.js';
import { freePort, spawnCli } from '../proxy/cli-helpers.js';

/** The quickstart listener's port (fixtures/quickstart/mesh.textproto); `--listen-port-offset` moves it. */
const QUICKSTART_LISTENER = 10000;

async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** Flags that put every demo socket on a port found free, except what `override` replaces. */
async function demoFlags(override: { upstream?: number; listener?: number; admin?: number }): Promise<string[]> {
  const [a, b, l, admin] = [override.upstream ?? (await freePort()), await freePort(), override.listener ?? (await freePort()), override.admin ?? (await freePort())];
  return ['demo', '--no-access-log', '--upstream-ports', `${a},${b}`, '--listen-port-offset', String(l - QUICKSTART_LISTENER), '--admin-address', `127.0.0.1:${admin}`];
}

for (const [what, flag, place] of [
  ['the admin server', '--admin-address', 'admin'],
  ["the demo's first echo upstream", '--upstream-ports', 'upstream'],
  ['listener example-listener', '--listen-port-offset', 'listener'],
] as const) {
  test(`a taken port for ${what}: the port, the flag, exit 2, no "Try:"`, async () => {
    const held = await holdPort();
    try {
      const r = await runCli(await demoFlags({ [place]: held.port }), { timeoutMs: 20_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${held.port} is in use, so ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot start`));
      assert.match(r.stderr, new RegExp(`stop what holds it, or move .*: meshctl demo ${flag} \\S+`));
      assert.doesNotMatch(r.stderr, /Try:|curl/);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.equal(r.stdout, '');
    } finally {
      await held.close();
    }
  });
}

test('with free ports the demo serves, and its "Try:" lines name the ports it listens on', async () => {
  const flags = await demoFlags({});
  const listenPort = QUICKSTART_LISTENER + Number(flags[flags.indexOf('--listen-port-offset') + 1]);
  const cli = spawnCli(flags);
  try {
    await cli.waitFor(/Ctrl-C stops the demo/);
    assert.match(cli.stderr(), new RegExp(`curl -s http://127\\.0\\.0\\.1:${listenPort}/hello`));
    const r = await request(`http://127.0.0.1:${listenPort}/hello`);
    assert.equal(r.statusCode, 200);
    assert.match(await r.body.text(), /"upstream":"upstream-[ab]"/);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exit();
  }
});
