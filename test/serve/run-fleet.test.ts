/**
 * A fleet: `meshctl serve` feeds two `meshctl run` processes over gRPC ADS. Each run has a static listener (each on
 * its own port) whose routes come over RDS (`routes`, from the served file's listener) and go to clusters only the
 * control plane defines (CDS; their endpoints come as EDS). A good edit of the served file — endpoints, clusters or
 * the route — reaches both runs within a second; a broken one reaches neither (serve prints the error with
 * file:line:column and keeps serving the last good version); traffic through both runs never fails meanwhile.
 * Each change is one entry of CHANGES.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnCli, type RunningCli } from '../proxy/cli-helpers.js';
import { backend, body, runConfig, saveFile, servedConfig, startServe, tempDir, until, type RunningServe } from './serve-helpers.js';

interface Fleet {
  readonly serve: RunningServe;
  readonly runs: { cli: RunningCli; port: number }[];
  readonly backends: Record<string, number>;
  readonly file: string;
}

/** Requests through every run until stopped: any answer that is not a backend's name is a failure. */
function steadyTraffic(fleet: Fleet): { stop(): Promise<{ total: number; failures: string[] }> } {
  let running = true;
  let total = 0;
  const failures: string[] = [];
  const names = new Set(Object.keys(fleet.backends));
  const loops = fleet.runs.map(async (r) => {
    while (running) {
      try {
        const b = await body(r.port);
        if (!names.has(b)) failures.push(b);
      } catch (err) {
        failures.push((err as Error).message);
      }
      total++;
      await new Promise((res) => setTimeout(res, 5));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { total, failures };
    },
  };
}

/** Both runs answer from `name` now (the first request after an ACK already goes to the new endpoints). */
async function allAnswer(fleet: Fleet, name: string): Promise<boolean> {
  const answers = await Promise.all(fleet.runs.map((r) => body(r.port)));
  return answers.every((a) => a === name);
}

interface Change {
  readonly name: string;
  /** The served file's new text. */
  readonly text: (b: Record<string, number>) => string;
  /** What both runs answer after the change. */
  readonly answer: string;
}

/** Good edits, in order; each starts from the one before. */
const CHANGES: readonly Change[] = [
  { name: 'endpoint moves to green', text: (b) => servedConfig([b.green!]), answer: 'green' },
  { name: 'a second cluster appears and svc moves back to blue', text: (b) => servedConfig([b.blue!], { spare: b.green! }), answer: 'blue' },
  { name: 'the route moves to the spare cluster (RDS)', text: (b) => servedConfig([b.blue!], { spare: b.green!, route: 'spare' }), answer: 'green' },
];

test('meshctl serve feeds two meshctl runs over ADS: good edits reach both within a second, a broken one reaches neither, no request fails', { timeout: 90_000 }, async () => {
  const blue = await backend('blue');
  const green = await backend('green');
  const backends = { blue: blue.port, green: green.port };
  const dir = tempDir('serve-fleet');
  const file = join(dir, 'fleet.yaml');
  writeFileSync(file, servedConfig([blue.port]));
  const serve = await startServe(file);
  const runs: Fleet['runs'] = [];
  let traffic: ReturnType<typeof steadyTraffic> | undefined;
  try {
    for (const node of ['run-1', 'run-2']) {
      const port = await freePort();
      const cfg = join(dir, `${node}.yaml`);
      writeFileSync(cfg, runConfig(node, port, serve.xdsPort, 'fleet'));
      const cli = spawnCli(['run', cfg, '--admin-address', '127.0.0.1:0', '--no-access-log']);
      runs.push({ cli, port });
    }
    for (const r of runs) await r.cli.waitFor(/listener ingress on/);
    const fleet: Fleet = { serve, runs, backends, file };
    await until(() => allAnswer(fleet, 'blue'), 10_000, 'both runs to serve svc from blue');
    const st = await serve.status();
    assert.deepEqual(st.streams.map((s) => s.node.id).sort(), ['run-1', 'run-2']);
    for (const s of st.streams) {
      assert.equal(s.kind, 'ads');
      assert.equal(s.types.cds?.acked_version, '1', JSON.stringify(s));
      assert.equal(s.types.eds?.acked_version, '1', JSON.stringify(s));
      assert.deepEqual(s.types.eds?.subscribed, ['svc']);
      assert.equal(s.types.rds?.acked_version, '1', JSON.stringify(s));
      assert.deepEqual(s.types.rds?.subscribed, ['routes']);
    }

    traffic = steadyTraffic(fleet);
    for (const change of CHANGES) {
      const was = (await serve.status()).config.versions;
      saveFile(file, change.text(backends));
      // Reached = both runs ACKed the new version of every type that moved (a run ACKs after applying).
      const ms = await until(async () => {
        const st = await serve.status();
        const moved = Object.keys(st.config.versions).filter((t) => st.config.versions[t]!.version !== was[t]!.version && t in st.streams[0]!.types);
        return moved.length > 0 && st.streams.every((s) => moved.every((t) => s.types[t]?.acked_version === st.config.versions[t]!.version));
      }, 5000, `${change.name}: both runs ACK`);
      const answered = await until(() => allAnswer(fleet, change.answer), 5000, `${change.name}: both runs answer ${change.answer}`);
      process.stderr.write(`${change.name}: both runs ACKed ${ms} ms after the save, answered ${change.answer} ${answered} ms later\n`);
      assert.ok(ms <= 1000, `${change.name}: took ${ms} ms to reach both runs`);
    }
    const before = await serve.status();

    // A broken edit: a STATIC endpoint that is not an IP. Refused with file:line:column, pushed to nobody.
    const last = CHANGES[CHANGES.length - 1]!;
    saveFile(file, last.text(backends).replace(/address: 127\.0\.0\.1, port_value: \d+/, 'address: not-an-ip, port_value: 1'));
    await serve.cli.waitFor(/reload of .* refused/, 5000);
    await serve.cli.waitFor(new RegExp(`error\\[.*\\n *--> ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`), 5000);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(await allAnswer(fleet, last.answer));
    const after = await serve.status();
    assert.equal(after.config.rejected?.errors !== undefined && after.config.rejected.errors > 0, true);
    assert.deepEqual(after.config.versions, before.config.versions, 'a refused edit moves no version');
    for (const s of after.streams) assert.equal(s.types.cds?.pushes, before.streams.find((b) => b.stream === s.stream)!.types.cds?.pushes);

    const { total, failures } = await traffic.stop();
    traffic = undefined;
    assert.deepEqual(failures, [], `${failures.length} of ${total} requests failed`);
    assert.ok(total >= 10, `only ${total} requests were sent`);
  } finally {
    await traffic?.stop();
    for (const r of runs) {
      r.cli.child.kill('SIGTERM');
      await r.cli.exit();
    }
    await serve.stop();
    blue.server.close();
    green.server.close();
  }
});
