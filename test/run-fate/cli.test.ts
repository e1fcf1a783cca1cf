/**
 * The run-fate table through the real binary: `meshctl run` refuses what it cannot enforce (exit 1, file:line, every
 * refusal at once, nothing listening), warns once of what it does not act on and serves, holds reloads and CDS
 * updates to the same table, and `meshctl validate --target run` reports exactly what run reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { freePort, spawnCli } from '../proxy/cli-helpers.js';
import { writeTemp } from '../proxy/helpers.js';
import { until } from '../upstream/helpers.js';
import { CLUSTER_TYPE, startRestControlPlane, staticClusterJson } from '../discovery/control-plane.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = `                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
const EXT_AUTHZ = `                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      http_service: { server_uri: { uri: "http://127.0.0.1:1", cluster: authz, timeout: 1s } }`;

/** One listener on `port` answering 200 "ok" itself; `filters` before the router, `hcmExtra` at the HCM's indentation. */
function config(port: number, o: { filters?: string; hcmExtra?: string; chainExtra?: string } = {}): string {
  return `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": ${HCM}
                stat_prefix: main
${o.hcmExtra ?? ''}
                http_filters:
${o.filters ?? ''}
${ROUTER}
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: ok } } }]
${o.chainExtra ?? ''}`;
}

const RUN_FLAGS = ['--admin-address', '127.0.0.1:0', '--no-access-log'];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Polls an async condition (bounded: 10 s). */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const REFUSED: readonly { readonly what: string; readonly extra: Parameters<typeof config>[1]; readonly line: number; readonly message: RegExp }[] = [
  { what: 'ext_authz', extra: { filters: EXT_AUTHZ }, line: 13, message: /HTTP filter `envoy\.filters\.http\.ext_authz`: external authorization is not built/ },
  {
    what: 'jwt_authn',
    extra: { filters: `                  - name: envoy.filters.http.jwt_authn\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication }` },
    line: 13,
    message: /HTTP filter `envoy\.filters\.http\.jwt_authn`/,
  },
  {
    what: 'oauth2',
    extra: { filters: `                  - name: envoy.filters.http.oauth2\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.oauth2.v3.OAuth2 }` },
    line: 13,
    message: /HTTP filter `envoy\.filters\.http\.oauth2`: OAuth2 is not built/,
  },
  { what: 'an unknown HTTP filter', extra: { filters: '                  - name: acme.filters.http.sso' }, line: 13, message: /HTTP filter `acme\.filters\.http\.sso`: meshctl run does not implement this HTTP filter/ },
  {
    what: 'an unknown network filter',
    extra: { chainExtra: '        - filter_chain_match: { server_names: [b.example] }\n          filters: [{ name: acme.filters.network.firewall }]\n' },
    line: 22,
    message: /network filter `acme\.filters\.network\.firewall`/,
  },
];

for (const r of REFUSED) {
  test(`run refuses ${r.what}: exit 1 with file:line, nothing listens`, async () => {
    const port = await freePort();
    const file = writeTemp('refused.yaml', config(port, r.extra));
    const res = await runCli(['run', file, ...RUN_FLAGS], { timeoutMs: 20_000 });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /error\[run-refused\]: meshctl run does not support /);
    assert.match(res.stderr, r.message);
    assert.match(res.stderr, new RegExp(`--> ${escape(file)}:${r.line}:\\d+`));
    assert.match(res.stderr, /has 1 error; not starting/);
    assert.doesNotMatch(res.stderr, /listener main on/);
    assert.equal(await listening(port), false, 'nothing listens on the listener port');
  });
}

test('run lists every refusal at once, not only the first', async () => {
  const port = await freePort();
  const jwt = `                  - name: envoy.filters.http.jwt_authn\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication }`;
  const file = writeTemp('two.yaml', config(port, { filters: `${EXT_AUTHZ}\n${jwt}` }));
  const res = await runCli(['run', file, ...RUN_FLAGS], { timeoutMs: 20_000 });
  assert.equal(res.code, 1, res.stderr);
  assert.equal(count(res.stderr, 'error[run-refused]'), 2, res.stderr);
  assert.match(res.stderr, new RegExp(`--> ${escape(file)}:13:\\d+[\\s\\S]*--> ${escape(file)}:17:\\d+`));
  assert.match(res.stderr, /has 2 errors; not starting/);
});

test('is_optional: true: run starts without the filter, warns once with file:line, and serves', async () => {
  const file = writeTemp('optional.yaml', config(0, { filters: EXT_AUTHZ.replace('ext_authz\n', 'ext_authz\n                    is_optional: true\n') }));
  const cli = spawnCli(['run', file, ...RUN_FLAGS]);
  try {
    const [, port] = await cli.waitFor(/listener main on http:\/\/127\.0\.0\.1:(\d+)/);
    assert.deepEqual(await get(Number(port)), { status: 200, body: 'ok' });
    const err = cli.stderr();
    assert.equal(count(err, 'warning[run-ignored]'), 1, err);
    assert.match(err, /HTTP filter `envoy\.filters\.http\.ext_authz` is accepted but meshctl run does not act on it \(it is marked is_optional/);
    assert.match(err, new RegExp(`--> ${escape(file)}:13:\\d+`));
  } finally {
    cli.kill();
    await cli.exit();
  }
});

test('a field run does not act on: warned once at start-up, served; reloads say only what is new, and refuse a refused filter', async () => {
  const file = writeTemp('warned.yaml', config(0, { hcmExtra: '                via: edge' }));
  const cli = spawnCli(['run', file, ...RUN_FLAGS, '--no-watch']);
  try {
    const [, port] = await cli.waitFor(/listener main on http:\/\/127\.0\.0\.1:(\d+)/);
    assert.deepEqual(await get(Number(port)), { status: 200, body: 'ok' });
    const drain = '`via` (in HttpConnectionManager) is accepted but meshctl run does not act on it';
    assert.equal(count(cli.stderr(), drain), 1, cli.stderr());
    assert.match(cli.stderr(), new RegExp(`--> ${escape(file)}:11:17`));

    // The same config again: nothing new to say.
    cli.child.kill('SIGHUP');
    await until(() => count(cli.stderr(), `reloaded ${file}`) === 1, 10_000, 'first reload');
    assert.equal(count(cli.stderr(), drain), 1, cli.stderr());

    // A new warned field: only it is said.
    writeFileSync(file, config(0, { hcmExtra: '                via: edge\n                add_user_agent: true' }));
    cli.child.kill('SIGHUP');
    await until(() => count(cli.stderr(), `reloaded ${file}`) === 2, 10_000, 'second reload');
    await until(() => cli.stderr().includes('`add_user_agent` (in HttpConnectionManager) is accepted'), 5000, 'the new warning');
    assert.equal(count(cli.stderr(), drain), 1, cli.stderr());

    // A refused filter: the reload is refused with file:line, and the running config keeps serving.
    writeFileSync(file, config(0, { filters: EXT_AUTHZ }));
    cli.child.kill('SIGHUP');
    await until(() => cli.stderr().includes('error[run-refused]: meshctl run does not support HTTP filter `envoy.filters.http.ext_authz`'), 10_000, 'the refusal');
    assert.match(cli.stderr(), new RegExp(`reload of ${escape(file)} refused \\(1 error\\); still serving the previous config`));
    assert.deepEqual(await get(Number(port)), { status: 200, body: 'ok' });
  } finally {
    cli.kill();
    await cli.exit();
  }
});

test('validate --target run reports what run reports, in every format; without --target validate is unchanged', async () => {
  const port = await freePort();
  const file = writeTemp('same.yaml', config(port, { filters: EXT_AUTHZ, hcmExtra: '                via: edge' }));
  const run = await runCli(['run', file, ...RUN_FLAGS], { timeoutMs: 20_000 });
  assert.equal(run.code, 1, run.stderr);
  const pretty = await runCli(['validate', '--target', 'run', file]);
  assert.equal(pretty.code, 1, pretty.stderr);
  // run prints the validation report, then its own last line.
  assert.equal(run.stderr, `${pretty.stdout}meshctl: ${file} has 1 error; not starting\n`);
  assert.match(pretty.stdout, /warning\[run-ignored\][\s\S]*error\[run-refused\]/);

  const json = await runCli(['validate', '--target', 'run', '--format', 'json', file]);
  const parsed = JSON.parse(json.stdout) as { files: { diagnostics: { rule: string; severity: string; line: number }[] }[] };
  const diags = parsed.files[0]!.diagnostics.filter((d) => d.rule.startsWith('run-')).map((d) => [d.rule, d.severity, d.line]);
  assert.deepEqual(diags, [
    ['run-ignored', 'warning', 11],
    ['run-refused', 'error', 13],
  ]);

  const sarif = JSON.parse((await runCli(['validate', '--target', 'run', '--format', 'sarif', file])).stdout) as {
    runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[];
  };
  assert.deepEqual(
    sarif.runs[0]!.results.filter((x) => x.ruleId.startsWith('run-')).map((x) => [x.ruleId, x.level, x.locations[0]!.physicalLocation.region.startLine]),
    [
      ['run-ignored', 'warning', 11],
      ['run-refused', 'error', 13],
    ],
  );

  const github = await runCli(['validate', '--target', 'run', '--format', 'github', file]);
  assert.match(github.stdout, /::error file=[^,]*same\.yaml,line=13,[^\n]*run-refused/);
  assert.match(github.stdout, /::warning file=[^,]*same\.yaml,line=11,[^\n]*run-ignored/);

  const plain = await runCli(['validate', file]);
  assert.equal(plain.code, 0, plain.stdout);
  assert.doesNotMatch(plain.stdout, /run-refused|run-ignored/);

  const bad = await runCli(['validate', '--target', 'envoy', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown --target `envoy` \(expected run\)/);
});

test('xDS: a CDS cluster run cannot enforce is NACKed with error_detail naming it, the old cluster keeps serving; a warned field is logged once', async () => {
  const upstream = http.createServer((_req, res) => res.end('from-upstream'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upPort = (upstream.address() as AddressInfo).port;
  const cp = await startRestControlPlane();
  cp.snapshot.version = 1;
  cp.snapshot.clusters = [{ ...staticClusterJson('svc', upPort), connect_timeout: '1s' }];
  const file = writeTemp(
    'xds.yaml',
    config(0)
      .replace('direct_response: { status: 200, body: { inline_string: ok } }', 'route: { cluster: svc }')
      .concat(`  clusters:
    - name: xds
      connect_timeout: 1s
      load_assignment: { cluster_name: xds, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${cp.port} } } } }] }] }
dynamic_resources:
  cds_config:
    resource_api_version: V3
    api_config_source: { api_type: REST, transport_api_version: V3, cluster_names: [xds], refresh_delay: 0.05s }
`),
  );
  const cli = spawnCli(['run', file, ...RUN_FLAGS]);
  try {
    const [, port] = await cli.waitFor(/listener main on http:\/\/127\.0\.0\.1:(\d+)/);
    await eventually(async () => (await get(Number(port))).body === 'from-upstream', 'v1 served');

    // v2: the cluster wants a tap transport socket, which run cannot enforce.
    cp.snapshot.version = 2;
    cp.snapshot.clusters = [
      {
        ...staticClusterJson('svc', upPort),
        connect_timeout: '1s',
        transport_socket: {
          name: 'envoy.transport_sockets.tap',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tap.v3.Tap',
            common_config: { static_config: { match: { any_match: true }, output_config: { sinks: [{ file_per_tap: { path_prefix: '/tmp/t' } }] } } },
            transport_socket: { name: 'envoy.transport_sockets.raw_buffer' },
          },
        },
      },
    ];
    await until(() => cp.requests.some((r) => r.type_url === CLUSTER_TYPE && r.error_detail !== undefined), 10_000, 'CDS NACK');
    const nack = cp.requests.find((r) => r.type_url === CLUSTER_TYPE && r.error_detail !== undefined)!;
    assert.equal(nack.version_info, 'v1');
    assert.match(nack.error_detail!.message, /cluster svc: \[run-refused\] meshctl run does not support transport socket `envoy\.transport_sockets\.tap`/);
    assert.deepEqual(await get(Number(port)), { status: 200, body: 'from-upstream' });

    // v3: a field run does not act on; accepted, logged once however often it is polled.
    cp.snapshot.version = 3;
    cp.snapshot.clusters = [{ ...staticClusterJson('svc', upPort), connect_timeout: '1s', cleanup_interval: '7s' }];
    await until(() => cp.requests.some((r) => r.type_url === CLUSTER_TYPE && r.version_info === 'v3' && r.error_detail === undefined), 10_000, 'v3 ACK');
    const seen = cp.requests.length;
    await until(() => cp.requests.length > seen + 5, 10_000, 'more polls');
    assert.equal(count(cli.stderr(), 'xds: cluster svc: [run-ignored] `cleanup_interval` (in Cluster) is accepted but meshctl run does not act on it'), 1, cli.stderr());
    assert.deepEqual(await get(Number(port)), { status: 200, body: 'from-upstream' });
  } finally {
    cli.kill();
    await cli.exit();
    await cp.close();
    await new Promise((r) => upstream.close(r));
  }
});
