/**
 * Envoy's judgement through the real CLI, on the Envoy fixtures (fixtures/envoy/): each change Envoy refuses, applied
 * to one of them, gives an error at the line it was made on (under the rule that names the problem); each change
 * Envoy accepts gives no error and no new warning. All mutated files are validated by one `meshctl validate
 * --format json` run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';

interface Edit {
  /** The first line containing this text is the one edited. */
  readonly find: string;
  /** Replace `find` on that line with this. */
  readonly replace?: string;
  /** Insert these lines after it (each prefixed with the found line's indentation). */
  readonly insert?: readonly string[];
  /** Delete the line. */
  readonly remove?: true;
  /** Delete this many lines after it. */
  readonly removeNext?: number;
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly edit: Edit;
  /** Refused: the rule expected, at the edited line (plus `offset`: an insertion's lines, the line after a removal). */
  readonly rule?: string;
  readonly offset?: number;
  readonly severity?: 'error' | 'warning';
}

/** Changes Envoy refuses. */
const REFUSED: readonly Case[] = [
  { name: 'unknown field at the top level', file: 'front-proxy.yaml', edit: { find: 'admin:', replace: 'stats_flush_intervall: 5s\nadmin:' }, rule: 'envoy-unknown-field' },
  { name: 'unknown field in a cluster', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connect_timout: 0.25s' }, rule: 'envoy-unknown-field' },
  { name: 'unknown field deep in a message (an endpoint address)', file: 'front-proxy.yaml', edit: { find: 'address: service1', replace: 'adress: service1' }, rule: 'envoy-unknown-field' },
  { name: 'unknown field inside typed_config', file: 'front-proxy.yaml', edit: { find: 'codec_type: AUTO', replace: 'codec_typ: AUTO' }, rule: 'envoy-unknown-field' },
  {
    name: 'unknown field inside a typed_config inside a typed_config (a compressor library)',
    file: 'front-proxy.yaml',
    edit: {
      find: 'http_filters:',
      insert: [
        '- name: envoy.filters.http.compressor',
        '  typed_config:',
        '    "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor',
        '    compressor_library:',
        '      name: gzip',
        '      typed_config:',
        '        "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip',
        '        compresion_level: BEST_SPEED',
      ],
    },
    rule: 'envoy-unknown-field',
    offset: 8,
  },
  { name: 'unknown field inside a TLS context', file: 'tls-listener.yaml', edit: { find: 'common_tls_context:', replace: 'common_tls_contxt:' }, rule: 'envoy-unknown-field' },
  { name: 'unknown field in JSON', file: 'routing.json', edit: { find: '"stat_prefix"', replace: '"stat_prefx"' }, rule: 'envoy-unknown-field' },
  { name: 'unknown @type', file: 'front-proxy.yaml', edit: { find: 'http.router.v3.Router', replace: 'http.router.v3.Routr' }, rule: 'envoy-unknown-type' },
  { name: 'unknown @type package', file: 'tls-listener.yaml', edit: { find: 'tls.v3.DownstreamTlsContext', replace: 'tls.v4.DownstreamTlsContext' }, rule: 'envoy-unknown-type' },
  { name: "a v2 API @type", file: 'front-proxy.yaml', edit: { find: 'envoy.extensions.filters.network.http_connection_manager.v3.', replace: 'envoy.config.filter.network.http_connection_manager.v2.' }, rule: 'envoy-unknown-type' },
  { name: 'unknown enum value', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', replace: 'lb_policy: ROUND_ROBBIN' }, rule: 'envoy-unknown-enum-value' },
  { name: 'unknown enum value inside typed_config', file: 'routing.yaml', edit: { find: 'codec_type: HTTP1', replace: 'codec_type: HTTP9' }, rule: 'envoy-unknown-enum-value' },
  { name: 'enum number not defined (defined_only)', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', replace: 'lb_policy: 42' }, rule: 'envoy-enum-rule' },
  { name: 'a word for a number', file: 'front-proxy.yaml', edit: { find: 'port_value: 8080', replace: 'port_value: eighty' }, rule: 'envoy-invalid-value' },
  { name: 'a number for a string', file: 'routing.yaml', edit: { find: 'stat_prefix: ingress', replace: 'stat_prefix: 42' }, rule: 'envoy-invalid-value' },
  { name: 'a YAML boolean for a string', file: 'routing.yaml', edit: { find: 'stat_prefix: ingress', replace: 'stat_prefix: yes' }, rule: 'envoy-invalid-value' },
  { name: 'a word for a boolean', file: 'tls-listener.yaml', edit: { find: 'use_remote_address: true', replace: 'use_remote_address: maybe' }, rule: 'envoy-invalid-value' },
  { name: 'a scalar for a message', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', insert: ['circuit_breakers: 5'] }, rule: 'envoy-invalid-value', offset: 1 },
  { name: 'a duration in milliseconds', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connect_timeout: 250ms' }, rule: 'envoy-invalid-value' },
  { name: 'a negative duration', file: 'routing.yaml', edit: { find: 'request_timeout: 60s', replace: 'request_timeout: -60s' }, rule: 'envoy-invalid-value' },
  { name: 'an integer out of its type (uint32)', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', insert: ['per_connection_buffer_limit_bytes: 5000000000'] }, rule: 'envoy-invalid-value', offset: 1 },
  { name: 'typed_config with fields and no @type', file: 'front-proxy.yaml', edit: { find: '"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager', remove: true }, rule: 'envoy-invalid-value' },
  { name: 'number constraint (uint32 lte: 65535)', file: 'front-proxy.yaml', edit: { find: 'port_value: 8080', replace: 'port_value: 70000' }, rule: 'envoy-number-rule' },
  { name: 'duration constraint (gt: 0s)', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connect_timeout: 0s' }, rule: 'envoy-duration-rule' },
  { name: 'string constraint (min_len: 1)', file: 'front-proxy.yaml', edit: { find: '- name: service1', replace: '- name: ""' }, rule: 'envoy-string-rule' },
  { name: 'string constraint (pattern)', file: 'routing.yaml', edit: { find: 'prefix: /checkout', replace: 'path_separated_prefix: /checkout/' }, rule: 'envoy-string-rule' },
  { name: 'string constraint (well_known_regex: HTTP header name)', file: 'routing.yaml', edit: { find: 'key: x-served-by', replace: 'key: "x-served\\nby"' }, rule: 'envoy-string-rule' },
  { name: 'repeated constraint (min_items: 1)', file: 'front-proxy.yaml', edit: { find: 'domains:', replace: 'domains: []', removeNext: 1 }, rule: 'envoy-repeated-rule' },
  { name: 'required message missing (a health check without thresholds)', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', insert: ['health_checks:', '- timeout: 1s', '  interval: 5s', '  tcp_health_check: {}'] }, rule: 'envoy-required', offset: 2 },
  // The route's `route:` is left empty (null: not set); the route, which starts three lines up, has no action.
  { name: 'oneof required (a route with no action)', file: 'front-proxy.yaml', edit: { find: 'cluster: service2', remove: true }, rule: 'envoy-oneof-required', offset: -3 },
  { name: 'a type URL without type.googleapis.com/', file: 'front-proxy.yaml', edit: { find: 'type.googleapis.com/envoy.extensions.filters.http.router', replace: 'envoy.extensions.filters.http.router' }, rule: 'envoy-unknown-type' },
  { name: 'two fields of one oneof', file: 'routing.yaml', edit: { find: 'path: /old-home', insert: ['prefix: /old'] }, rule: 'envoy-oneof-conflict', offset: 1 },
  { name: 'the same field by both names', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', insert: ['connectTimeout: 1s'] }, rule: 'duplicate-field', offset: 1 },
  { name: 'a wrapper with an unknown field', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', insert: ['per_connection_buffer_limit_bytes: {valu: 1}'] }, rule: 'envoy-unknown-field', offset: 1 },
  { name: 'a disallowed deprecated enum value', file: 'dynamic-ads.yaml', edit: { find: 'api_type: GRPC', replace: 'api_type: DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE' }, rule: 'envoy-deprecated-field' },
  { name: 'an xDS source names a cluster that is not defined', file: 'dynamic-ads.yaml', edit: { find: 'cluster_name: xds_cluster', replace: 'cluster_name: xds_clustr' }, rule: 'discovery-unknown-cluster' },
  {
    name: "a filter's gRPC service names a cluster that is not defined",
    file: 'front-proxy.yaml',
    edit: {
      find: 'http_filters:',
      insert: [
        '- name: envoy.filters.http.ext_authz',
        '  typed_config:',
        '    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
        '    grpc_service: { envoy_grpc: { cluster_name: authz } }',
      ],
    },
    rule: 'reference-unknown-cluster',
    offset: 4,
  },
];

/** Changes Envoy accepts: no error, no new warning. */
const ACCEPTED: readonly Case[] = [
  { name: 'a field by its JSON name', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connectTimeout: 0.25s' } },
  { name: 'JSON names inside typed_config', file: 'front-proxy.yaml', edit: { find: 'stat_prefix: ingress_http', replace: 'statPrefix: ingress_http' } },
  { name: 'JSON names at the top', file: 'routing.json', edit: { find: '"static_resources"', replace: '"staticResources"' } },
  { name: 'a lower-case enum', file: 'front-proxy.yaml', edit: { find: 'type: STRICT_DNS', replace: 'type: strict_dns' } },
  { name: 'a lower-case enum in typed_config', file: 'front-proxy.yaml', edit: { find: 'codec_type: AUTO', replace: 'codec_type: auto' } },
  { name: 'an enum by number', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', replace: 'lb_policy: 0' } },
  { name: 'ads: {}', file: 'dynamic-ads.yaml', edit: { find: 'ads: {}', replace: 'ads: { }' } },
  { name: 'a quoted duration', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connect_timeout: "5s"' } },
  { name: 'a duration as seconds and nanos', file: 'front-proxy.yaml', edit: { find: 'connect_timeout: 0.25s', replace: 'connect_timeout: { seconds: 0, nanos: 250000000 }' } },
  { name: 'a number as a string', file: 'front-proxy.yaml', edit: { find: 'port_value: 8080', replace: 'port_value: "8080"' } },
  {
    name: 'a 64-bit integer as a string',
    file: 'front-proxy.yaml',
    edit: { find: 'lb_policy: ROUND_ROBIN', replace: 'lb_policy: RING_HASH', insert: ['ring_hash_lb_config: { minimum_ring_size: "1024" }'] },
  },
  { name: 'a wrapper as its value or as {value}', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', insert: ['per_connection_buffer_limit_bytes: { value: 32768 }'] } },
  { name: 'a single element for a list', file: 'front-proxy.yaml', edit: { find: 'domains:', replace: 'domains: "*"', removeNext: 1 } },
  { name: 'a boolean as a string', file: 'tls-listener.yaml', edit: { find: 'use_remote_address: true', replace: 'use_remote_address: "true"' } },
  { name: 'null for a field', file: 'front-proxy.yaml', edit: { find: 'lb_policy: ROUND_ROBIN', insert: ['per_connection_buffer_limit_bytes: null'] } },
  {
    name: 'a compressor with its library (a typed_config in a typed_config)',
    file: 'front-proxy.yaml',
    edit: {
      find: 'http_filters:',
      insert: [
        '- name: envoy.filters.http.compressor',
        '  typed_config:',
        '    "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor',
        '    compressor_library:',
        '      name: gzip',
        '      typed_config:',
        '        "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip',
        '        compression_level: BEST_SPEED',
      ],
    },
  },
];

function mutate(text: string, e: Edit): { text: string; line: number } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(e.find));
  if (i < 0) throw new Error(`no line contains ${JSON.stringify(e.find)}`);
  const indent = /^\s*/.exec(lines[i]!)![0];
  if (e.replace !== undefined) lines[i] = lines[i]!.replace(e.find, e.replace);
  if (e.insert !== undefined && e.insert.length > 0) {
    // A list item's fields are indented past its `- `.
    const inner = lines[i]!.trimStart().startsWith('- ') && !lines[i]!.trimEnd().endsWith(':') ? indent + '  ' : indent;
    lines.splice(i + 1, 0, ...e.insert.map((l) => inner + l));
  }
  if (e.removeNext !== undefined) lines.splice(i + 1, e.removeNext);
  if (e.remove === true) lines.splice(i, 1);
  return { text: lines.join('\n'), line: i + 1 };
}

interface JsonDiag {
  rule: string;
  severity: string;
  line: number;
  message: string;
}

async function validate(files: string[]): Promise<Map<string, JsonDiag[]>> {
  const r = await runCli(['validate', '--format', 'json', ...files]);
  assert.equal(r.stderr, '');
  const report = JSON.parse(r.stdout) as { files: { file: string; diagnostics: JsonDiag[] }[] };
  return new Map(report.files.map((f) => [f.file, f.diagnostics]));
}

test('Envoy refuses these changes to real configs: an error at the changed line; it accepts those, with no error', async () => {
  assert.ok(REFUSED.length >= 30, 'at least 30 kinds of refused change');
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-mutations-'));
  try {
    const originals = new Map<string, string>();
    const planned: { c: Case; path: string; line: number; accepted: boolean }[] = [];
    [...REFUSED.map((c) => ({ c, accepted: false })), ...ACCEPTED.map((c) => ({ c, accepted: true }))].forEach(({ c, accepted }, n) => {
      const source = join(FIXTURES, 'envoy', c.file);
      originals.set(source, readFileSync(source, 'utf8'));
      const { text, line } = mutate(originals.get(source)!, c.edit);
      const path = join(dir, `${String(n).padStart(2, '0')}-${c.file}`);
      writeFileSync(path, text);
      planned.push({ c, path, line, accepted });
    });
    const got = await validate([...originals.keys(), ...planned.map((p) => p.path)]);
    const failures: string[] = [];
    for (const { c, path, line, accepted } of planned) {
      const diags = got.get(path);
      assert.ok(diags !== undefined, `no report for ${c.name}`);
      const show = diags.map((d) => `${d.line} ${d.severity} ${d.rule}: ${d.message}`).join('\n');
      if (accepted) {
        const before = got.get(join(FIXTURES, 'envoy', c.file))!;
        const warnings = (ds: JsonDiag[]): string[] => ds.filter((d) => d.severity !== 'info').map((d) => `${d.severity} ${d.rule}`).sort();
        if (JSON.stringify(warnings(diags)) !== JSON.stringify(warnings(before))) failures.push(`${c.name}: Envoy accepts it, yet:\n${show}`);
      } else {
        const at = line + (c.offset ?? 0);
        if (!diags.some((d) => d.rule === c.rule && d.line === at && d.severity === (c.severity ?? 'error'))) {
          failures.push(`${c.name}: expected ${c.rule} at line ${at}, got:\n${show}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
