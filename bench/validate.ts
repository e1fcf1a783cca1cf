/**
 * `meshctl validate` end to end through the CLI on generated configs with 100, 1,000 and 10,000 clusters and as
 * many routes (one route per cluster, spread over virtual hosts of 100 routes, one listener). Prints a markdown
 * table and writes it into docs/BENCHMARKS.md under `<!-- bench:validate -->`.
 *
 *     npx tsc -p . && node dist/bench/validate.js [--runs 5] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchSection } from './bench-doc.js';

const REPO = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const BIN = join(REPO, 'bin', 'meshctl');
const SIZES = [100, 1_000, 10_000];
const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
const WRITE = !args.includes('--no-write');

/**
 * `envoy`: the same config as Envoy writes it (`@type`s on the connection manager and the router): judged by Envoy's
 * descriptors before it is decoded (src/config/envoy-api/).
 */
function yamlConfig(n: number, envoy = false): string {
  const out: string[] = [
    'static_resources:',
    '  listeners:',
    '    - name: ingress',
    '      address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }',
    '      filter_chains:',
    '        - filters:',
    '            - name: envoy.filters.network.http_connection_manager',
    '              typed_config:',
    ...(envoy ? ['                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'] : []),
    '                stat_prefix: ingress',
    ...(envoy
      ? [
          '                http_filters:',
          '                  - name: envoy.filters.http.router',
          '                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }',
        ]
      : []),
    '                route_config:',
    '                  name: routes',
    '                  virtual_hosts:',
  ];
  const perHost = 100;
  for (let h = 0; h * perHost < n; h++) {
    out.push(`                    - name: host-${h}`, `                      domains: ["host-${h}.example.com"]`, '                      routes:');
    for (let i = h * perHost; i < Math.min(n, (h + 1) * perHost); i++) {
      out.push(`                        - match: { prefix: "/svc-${i}/" }`, `                          route: { cluster: cluster-${i}, timeout: 2s }`);
    }
  }
  out.push('  clusters:');
  for (let i = 0; i < n; i++) {
    out.push(
      `    - name: cluster-${i}`,
      '      connect_timeout: 0.25s',
      '      load_assignment:',
      `        cluster_name: cluster-${i}`,
      '        endpoints:',
      '          - lb_endpoints:',
      `              - endpoint: { address: { socket_address: { address: 127.0.0.${1 + (i % 250)}, port_value: ${1024 + (i % 60000)} } } }`,
      `              - endpoint: { address: { socket_address: { address: 127.0.1.${1 + (i % 250)}, port_value: ${1024 + (i % 60000)} } } }`,
    );
  }
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeRun(file: string): { ms: number; code: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, 'validate', '--format', 'json', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`validate exited ${r.status}: ${r.stderr}${r.stdout.slice(0, 500)}`);
  return { ms, code: r.status };
}

/** In-process: parse once, then time the rules alone (validateParsed), to separate them from parsing. */
async function rulesOnly(file: string): Promise<{ parseMs: number; rulesMs: number }> {
  const { readConfigFile } = await import('../src/config/index.js');
  const { validateParsed } = await import('../src/validate/index.js');
  const t0 = performance.now();
  const parsed = await readConfigFile(file);
  const parseMs = performance.now() - t0;
  validateParsed(parsed);
  const times = Array.from({ length: RUNS }, () => {
    const t = performance.now();
    validateParsed(parsed);
    return performance.now() - t;
  });
  return { parseMs, rulesMs: median(times) };
}

const dir = mkdtempSync(join(tmpdir(), 'meshctl-bench-validate-'));
const rows: string[] = [];
try {
  // The CLI's fixed cost: a tiny valid file.
  const tiny = join(REPO, 'fixtures', 'valid', 'weighted.textproto');
  timeRun(tiny);
  const base = median(Array.from({ length: RUNS }, () => timeRun(tiny).ms));
  rows.push(`| startup (fixtures/valid/weighted.textproto) | ${base.toFixed(0)} ms | – | – | – |`);
  let prev: number | undefined;
  for (const n of SIZES) {
    const file = join(dir, `mesh-${n}.yaml`);
    writeFileSync(file, yamlConfig(n));
    const kb = statSync(file).size / 1024;
    timeRun(file);
    const ms = median(Array.from({ length: RUNS }, () => timeRun(file).ms));
    const growth = prev === undefined ? '–' : `×${(ms / prev).toFixed(1)}`;
    const inproc = await rulesOnly(file);
    rows.push(
      `| ${n.toLocaleString('en')} clusters + ${n.toLocaleString('en')} routes (${kb >= 1024 ? (kb / 1024).toFixed(1) + ' MiB' : kb.toFixed(0) + ' KiB'} YAML) | ${ms.toFixed(0)} ms | ${growth} | ${inproc.parseMs.toFixed(0)} ms | ${inproc.rulesMs.toFixed(1)} ms |`,
    );
    prev = ms;
  }
  // The largest config again, Envoy-shaped: what Envoy's judgement costs on top.
  const n = SIZES[SIZES.length - 1]!;
  const file = join(dir, `envoy-${n}.yaml`);
  writeFileSync(file, yamlConfig(n, true));
  const kb = statSync(file).size / 1024;
  timeRun(file);
  const ms = median(Array.from({ length: RUNS }, () => timeRun(file).ms));
  const inproc = await rulesOnly(file);
  rows.push(
    `| the same, Envoy-shaped (\`@type\`s: judged by Envoy's descriptors; ${(kb / 1024).toFixed(1)} MiB YAML) | ${ms.toFixed(0)} ms | – | ${inproc.parseMs.toFixed(0)} ms | ${inproc.rulesMs.toFixed(1)} ms |`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const table = [
  `Command: \`node dist/bench/validate.js --runs ${RUNS}\` (median of ${RUNS} runs of \`meshctl validate --format json FILE\`, wall time, `,
  `end to end: process start, parse, every rule, JSON report; ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)},`,
  `load average ${loadavg()[0]!.toFixed(1)} at the end: other work shared the machine). The last two columns are in-process: one`,
  '`readConfigFile` (parse) and the median `validateParsed` (every rule, no parsing) on the parsed result.',
  '',
  '| config | CLI median | growth vs previous row | parse (in-process) | rules (in-process) |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
process.stdout.write(table + '\n');

if (WRITE) writeBenchSection('validate', table);
