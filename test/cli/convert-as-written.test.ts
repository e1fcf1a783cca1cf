/**
 * YAML conversion keeps what the source wrote (issue 17, item 9): a key tagged `!ignore` stays tagged in YAML output
 * (Envoy's YAML loader leaves such keys out, so an untagged `defs:` would be refused), formats that cannot tag it
 * leave it out with a note; and `active_request_bias` keeps the runtime key it was written with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const CONFIG = `# anchors live under an ignored key, as Envoy's examples do
!ignore defs:
  timeouts: &timeouts
    connect_timeout: 1s
static_resources:
  clusters:
    - name: c
      <<: *timeouts
      type: STATIC
      lb_policy: LEAST_REQUEST
      least_request_lb_config:
        active_request_bias: { runtime_key: upstream.lr.bias, default_value: 1.5 }
      load_assignment:
        cluster_name: c
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
  listeners:
    - name: l
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                !ignore note: a key Envoy leaves out
                stat_prefix: l
                route_config: { virtual_hosts: [{ name: a, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: c } }] }] }
`;

function withFile<T>(text: string, fn: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-written-'));
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, text);
  return fn(file, dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('validate: keys tagged !ignore are not fields, as for Envoy (no unknown-field)', async () => {
  await withFile(CONFIG, async (file) => {
    const r = await runCli(['validate', '--format', 'json', file]);
    assert.equal(r.code, 0, r.stdout);
    const report = JSON.parse(r.stdout) as { files: { diagnostics: { rule: string }[] }[] };
    assert.deepEqual(report.files[0]!.diagnostics.map((d) => d.rule), []);
  });
});

test('convert --to yaml keeps !ignore keys tagged, and its output reads back the same', async () => {
  await withFile(CONFIG, async (file, dir) => {
    const r = await runCli(['convert', file, '--to', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^!ignore defs:\n {2}timeouts:\n {4}connect_timeout: 1s$/m);
    assert.match(r.stdout, /^ +!ignore note: "?a key Envoy leaves out"?$/m);
    assert.doesNotMatch(r.stdout, /^defs:/m);
    assert.doesNotMatch(r.stderr, /ignored-keys-dropped/);
    const again = join(dir, 'again.yaml');
    writeFileSync(again, r.stdout);
    const back = await runCli(['convert', again, '--to', 'yaml']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, r.stdout);
  });
});

test('JSON, text-proto and Envoy outputs leave !ignore keys out, with a note', async () => {
  await withFile(CONFIG, async (file) => {
    for (const to of ['json', 'envoy-json', 'textproto', 'envoy']) {
      const r = await runCli(['convert', file, '--to', to]);
      assert.equal(r.code, 0, `${to}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /defs|a key Envoy leaves out/, to);
      assert.match(r.stderr, /info\[ignored-keys-dropped\]: .* leaves out the keys tagged `!ignore`/, to);
    }
  });
});

test('active_request_bias keeps the runtime key it was written with, in every format', async () => {
  await withFile(CONFIG, async (file) => {
    const expected: Record<string, RegExp> = {
      yaml: /active_request_bias:\n\s+default_value: 1\.5\n\s+runtime_key: upstream\.lr\.bias/,
      envoy: /active_request_bias:\n\s+default_value: 1\.5\n\s+runtime_key: upstream\.lr\.bias/,
      json: /"active_request_bias": \{\s+"default_value": 1\.5,\s+"runtime_key": "upstream\.lr\.bias"\s+\}/,
      'envoy-json': /"active_request_bias": \{\s+"default_value": 1\.5,\s+"runtime_key": "upstream\.lr\.bias"\s+\}/,
      textproto: /active_request_bias \{\s+default_value: 1\.5\s+runtime_key: "upstream\.lr\.bias"\s+\}/,
    };
    for (const [to, re] of Object.entries(expected)) {
      const r = await runCli(['convert', file, '--to', to]);
      assert.equal(r.code, 0, `${to}: ${r.stderr}`);
      assert.match(r.stdout, re, to);
      assert.doesNotMatch(r.stdout, /upstream\.least_request\.active_request_bias/, to);
    }
  });
});
