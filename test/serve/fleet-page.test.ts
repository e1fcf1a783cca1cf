/**
 * `meshctl serve`'s /topology page in a real headless browser (Debian's chromium driven by playwright-core): two xDS
 * clients connect — a `meshctl run` over ADS and a hand-written gRPC client — and the page, without reloading, lists
 * both nodes (id, cluster, address) with the versions each ACKed against the ones served; after a good edit of the
 * served file the run ACKs the new versions, the hand-written node NACKs the new CDS with an error_detail the page
 * shows, and the drawing of the served config gains the endpoint the edit added. Skipped with a reason where chromium
 * is not installed (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnCli, type RunningCli } from '../proxy/cli-helpers.js';
import { runConfig, saveFile, servedConfig, startServe, tempDir, until, type RunningServe } from './serve-helpers.js';
import { ADS, TYPES, XdsTestClient, type Json, type TestStream } from './xds-test-client.js';

const CHROMIUM = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();

interface FleetRow {
  node: string;
  cluster: string;
  address: string;
  types: Record<string, { state: string; acked: string; text: string }>;
}

interface FleetView {
  rows: FleetRow[];
  nacks: { node: string; type: string; detail: string }[];
  served: string;
  graph: string;
}

/** What the page shows now (page code as a string: the tests compile without the DOM's types). */
const READ = `(() => ({
  rows: [...document.querySelectorAll('#fleet-body tr')].map((tr) => ({
    node: tr.querySelector('[data-k=node]').textContent,
    cluster: tr.querySelector('[data-k=cluster]').textContent,
    address: tr.querySelector('[data-k=address]').textContent,
    types: Object.fromEntries([...tr.querySelectorAll('td[data-type]')].map((td) => [td.getAttribute('data-type'), { state: td.getAttribute('data-state'), acked: td.getAttribute('data-acked'), text: td.textContent }])),
  })),
  nacks: [...document.querySelectorAll('#nacks-body tr')].map((tr) => ({ node: tr.getAttribute('data-node'), type: tr.getAttribute('data-type'), detail: tr.querySelector('[data-k=error_detail]').textContent })),
  served: document.getElementById('served').textContent,
  graph: document.getElementById('graph').textContent,
}))()`;

test('serve: /topology in headless chromium shows both nodes, their ACKed versions, a NACK and an edit, without reloading', { timeout: 120_000 }, async (t) => {
  if (CHROMIUM === '') return t.skip('chromium is not installed (Debian package `chromium`; .ci/run installs it)');
  const { chromium } = await import('playwright-core');
  const dir = tempDir('serve-fleet-page');
  const file = join(dir, 'mesh.yaml');
  // Endpoints that take no traffic here: the page is about what the nodes were sent and accepted.
  const [first, added] = [await freePort(), await freePort()];
  writeFileSync(file, servedConfig([first], { timeout: '1s' }));
  let serve: RunningServe | undefined;
  let run: RunningCli | undefined;
  let client: XdsTestClient | undefined;
  let stream: TestStream | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    serve = await startServe(file);
    const admin = `http://127.0.0.1:${serve.adminPort}`;
    // Node 1: a meshctl run (ACKs what it applied).
    const runCfg = join(dir, 'run.yaml');
    writeFileSync(runCfg, runConfig('run-a', await freePort(), serve.xdsPort, 'edge-fleet'));
    run = spawnCli(['run', runCfg, '--admin-address', '127.0.0.1:0', '--no-access-log']);
    // Node 2: a hand-written client on CDS only; it ACKs version 1 and will NACK what comes next.
    client = new XdsTestClient(`127.0.0.1:${serve.xdsPort}`);
    stream = client.stream(ADS);
    const node: Json = { id: 'probe-b', cluster: 'probes', user_agent_name: 'hand-written' };
    stream.send({ node, type_url: TYPES.cds });
    const cds1 = await stream.next();
    assert.equal(cds1.version_info, '1');
    stream.send({ node, type_url: TYPES.cds, version_info: '1', response_nonce: String(cds1.nonce) });
    await until(async () => {
      const st = await serve!.status();
      return st.streams.length === 2 && st.streams.every((s) => s.types.cds?.acked_version === '1') && st.streams.some((s) => s.types.rds?.acked_version === '1');
    }, 15_000, 'both nodes to ACK version 1');

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${admin}/topology`);
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('updated')", undefined, { timeout: 10_000 });
    await page.evaluate('window.mark = 42');
    const view = async (): Promise<FleetView> => (await page.evaluate(READ)) as FleetView;

    const status = await serve.status();
    let v = await view();
    assert.deepEqual(v.rows.map((r) => r.node).sort(), ['probe-b', 'run-a']);
    for (const s of status.streams) {
      const row = v.rows.find((r) => r.node === s.node.id)!;
      assert.equal(row.cluster, s.node.cluster);
      assert.equal(row.address, s.peer, `${s.node.id}: the stream's peer address`);
      assert.match(row.address, /127\.0\.0\.1:\d+/);
      for (const [type, ts] of Object.entries(s.types)) {
        assert.equal(row.types[type]?.acked, ts.acked_version, `${s.node.id} ${type}`);
        assert.equal(row.types[type]?.state, 'current', `${s.node.id} ${type}: ${JSON.stringify(row.types[type])}`);
      }
    }
    assert.equal(v.rows.find((r) => r.node === 'run-a')!.cluster, 'edge-fleet');
    assert.equal(v.rows.find((r) => r.node === 'probe-b')!.types.rds?.state, 'none', 'probe-b did not subscribe to RDS');
    assert.match(v.served, /cds v1 \(1\) · eds v1 \(1\) · lds v1 \(1\) · rds v1 \(1\)/);
    assert.deepEqual(v.nacks, []);
    assert.ok(v.graph.includes(`127.0.0.1:${first}`), 'the served endpoint is drawn');
    assert.ok(!v.graph.includes(`127.0.0.1:${added}`));

    // A good edit: svc gets a second endpoint (EDS v2) and a longer connect timeout (CDS v2).
    saveFile(file, servedConfig([first, added], { timeout: '3s' }));
    const cds2 = await stream.next(10_000);
    assert.equal(cds2.version_info, '2');
    const detail = 'svc: connect_timeout 3s is longer than probe-b allows';
    stream.send({ type_url: TYPES.cds, version_info: '1', response_nonce: String(cds2.nonce), error_detail: { code: 3, message: detail } });

    const ms = await until(async () => {
      v = await view();
      const a = v.rows.find((r) => r.node === 'run-a');
      const b = v.rows.find((r) => r.node === 'probe-b');
      return a?.types.cds?.acked === '2' && a.types.eds?.acked === '2' && b?.types.cds?.state === 'nacked' && v.graph.includes(`127.0.0.1:${added}`);
    }, 10_000, 'the page to show the edit');
    process.stderr.write(`fleet page showed the edit ${ms} ms after the NACK was sent\n`);
    const a = v.rows.find((r) => r.node === 'run-a')!;
    const b = v.rows.find((r) => r.node === 'probe-b')!;
    assert.equal(a.types.cds!.state, 'current');
    assert.equal(a.types.rds!.acked, '1', 'the routes did not change: RDS stays at v1');
    assert.equal(a.types.rds!.state, 'current');
    assert.equal(b.types.cds!.acked, '1', 'probe-b still has v1');
    assert.match(b.types.cds!.text, /^NACK v2 \(has v1\)$/);
    assert.deepEqual(v.nacks, [{ node: 'probe-b', type: 'cds', detail }]);
    assert.match(v.served, /cds v2 \(1\) · eds v2 \(1\) · lds v1 \(1\) · rds v1 \(1\)/);
    // The same as /status says.
    const after = await serve.status();
    assert.equal(after.streams.find((s) => s.node.id === 'probe-b')!.types.cds!.nacked?.error_detail, detail);

    assert.equal(await page.evaluate('window.mark'), 42, 'no reload');
    for (const u of requested) assert.ok(u === `${admin}/topology` || u === `${admin}/topology/graph` || u === `${admin}/status`, `requested ${u}`);
    assert.ok(requested.includes(`${admin}/topology/graph`), 'the drawing was fetched again after the edit');
    const shot = join(dir, 'fleet.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, `screenshot is ${statSync(shot).size} bytes`);
  } finally {
    await browser.close();
    stream?.close();
    client?.close();
    if (run !== undefined) {
      run.child.kill('SIGTERM');
      await run.exit();
    }
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
