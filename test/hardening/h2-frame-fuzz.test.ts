/**
 * meshctl's own HTTP/2 codec reads bytes from anyone who connects: no sequence of frames may crash the proxy or stop
 * it serving others. fast-check sends random frame sequences (every frame type, flag bits, stream ids, payload sizes,
 * some header blocks valid HPACK) after the connection preface, each on a connection of its own, to one `meshctl run`;
 * afterwards the same process must still answer HTTP/2 and HTTP/1.1 requests, and must never have logged an internal
 * error. Seeded (MESHCTL_FC_SEED) and bounded (MESHCTL_FC_RUNS, default 150).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { H2_PREFACE, frame } from './http-helpers.js';
import { HpackEncoder } from '../../src/http/h2/hpack.js';
import { h2get, writeTemp } from '../proxy/helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from '../proxy/cli-helpers.js';

const RUNS = Number(process.env.MESHCTL_FC_RUNS ?? 150);
const SEED = Number(process.env.MESHCTL_FC_SEED ?? 20261207);

let upstream: http.Server | undefined;
let cli: RunningCli | undefined;
after(() => {
  cli?.kill();
  upstream?.closeAllConnections();
  upstream?.close();
});

/** A valid request header block (fresh encoder: no dynamic-table references the proxy has not seen). */
function requestBlock(path: string): Buffer {
  const f = [':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'x', 'content-type', 'text/plain'];
  return new HpackEncoder().encode(f, f.length / 2);
}

const frameArb = fc.record({
  type: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(0xfa)),
  flags: fc.oneof(fc.constantFrom(0, 1, 4, 5, 8, 0x20, 0x25), fc.integer({ min: 0, max: 255 })),
  stream: fc.constantFrom(0, 1, 1, 3, 3, 5, 2, 0x7fffffff),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.constantFrom(requestBlock('/a'), requestBlock('/b').subarray(0, 7), Buffer.alloc(4), Buffer.alloc(8), Buffer.alloc(6)),
    fc.integer({ min: 0, max: 0x7fffffff }).map((n) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    }),
  ),
});

/** Sends one sequence on its own connection; resolves when the proxy closes it or shortly after the last byte. */
function play(port: number, frames: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    };
    const timer = setTimeout(done, 150);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('data', () => undefined);
    sock.write(Buffer.concat([H2_PREFACE, frame(4, 0, 0), ...frames]));
  });
}

test('random HTTP/2 frame sequences never crash meshctl run or stop it serving', { timeout: 240_000 }, async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', () => r()));
  const yaml = oneListenerYaml({
    routes: '                        - match: { prefix: "/" }\n                          route: { cluster: up }',
    clusters: { up: (upstream.address() as AddressInfo).port },
  });
  cli = spawnCli(['run', writeTemp('h2-fuzz.yaml', yaml), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);

  await fc.assert(
    fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 12 }), async (frames) => {
      await play(port, frames.map((f) => frame(f.type, f.flags, f.stream, f.payload)));
      assert.equal(cli!.child.exitCode, null, `meshctl exited after ${JSON.stringify(frames.map((f) => [f.type, f.flags, f.stream, f.payload.length]))}`);
    }),
    { numRuns: RUNS, seed: SEED },
  );

  // Still serving, both protocols.
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    assert.equal((await h2get(session, '/after')).status, 200);
  } finally {
    session.destroy();
  }
  const res = await fetch(`http://127.0.0.1:${port}/after`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.doesNotMatch(cli.stderr(), /internal error|stopped by/i);
});
