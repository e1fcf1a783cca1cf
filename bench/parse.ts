/**
 * Parse and convert speed. Generates configs of 100, 1,000 and 10,000 clusters (two endpoints each; one listener per
 * 100 clusters, one route per cluster), writes each in every format, and times parseConfig on that text and
 * emitConfig to every output format. Prints a markdown table (median of several runs after a warm-up).
 *
 *   npx tsc -p . && node dist/bench/parse.js [--sizes 100,1000,10000] [--runs 5] [--wall] [--write]
 *
 * `--write` puts the table (with the command, date and load average) into docs/BENCHMARKS.md under
 * `<!-- bench:parse -->`, replacing that section's text: notes about the figures are written by hand after it.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { writeBenchSection } from './bench-doc.js';
import { parseConfig } from '../src/config/index.js';
import { emitConfig } from '../src/config/convert.js';
import type { Bootstrap, Cluster, Listener, OutputFormat } from '../src/config/model.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const SIZES = arg('sizes', '100,1000,10000').split(',').map(Number);
const RUNS = Number(arg('runs', '5'));

function cluster(i: number): Cluster {
  const name = `service-${i}`;
  return {
    name,
    type: 'STATIC',
    connect_timeout: { seconds: 0, nanos: 250_000_000 },
    lb_policy: i % 3 === 0 ? 'ROUND_ROBIN' : i % 3 === 1 ? 'LEAST_REQUEST' : 'RANDOM',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [0, 1].map((h) => ({
            endpoint: { address: { socket_address: { address: `127.0.${(i >> 8) & 255}.${(i & 255) + h}`, port_value: 8000 + h } } },
            load_balancing_weight: 100 * (h + 1),
          })),
        },
      ],
    },
  };
}

function listener(l: number, first: number, last: number): Listener {
  const routes = [];
  for (let i = first; i < last; i++) {
    routes.push({ match: { prefix: `/service-${i}/` }, route: { cluster: `service-${i}`, timeout: { seconds: 2, nanos: 500_000_000 } } });
  }
  return {
    name: `listener-${l}`,
    address: { socket_address: { address: '127.0.0.1', port_value: 10000 + l } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              codec_type: 'AUTO',
              stat_prefix: `ingress_${l}`,
              route_config: { name: `routes-${l}`, virtual_hosts: [{ name: `vh-${l}`, domains: ['*'], routes }] },
            },
          },
        ],
      },
    ],
  };
}

export function generate(clusters: number): Bootstrap {
  const listeners: Listener[] = [];
  const perListener = 100;
  for (let l = 0; l * perListener < clusters; l++) listeners.push(listener(l, l * perListener, Math.min(clusters, (l + 1) * perListener)));
  return { static_resources: { listeners, clusters: Array.from({ length: clusters }, (_, i) => cluster(i)) } };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Milliseconds of this process's CPU time (user + system, all its threads) for one call: the development machine
 * is shared, and CPU time is far steadier than wall time under load. `--wall` measures wall time instead.
 */
const WALL = process.argv.includes('--wall');
function now(): number {
  if (WALL) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time(fn: () => void, runs: number): number {
  fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    fn();
    samples.push(now() - t0);
  }
  return median(samples);
}

const INPUTS: Array<{ label: string; to: 'textproto' | 'yaml' | 'json' | 'envoy'; ext: string }> = [
  { label: 'textproto', to: 'textproto', ext: 'textproto' },
  { label: 'yaml', to: 'yaml', ext: 'yaml' },
  { label: 'json', to: 'json', ext: 'json' },
  { label: 'envoy (yaml)', to: 'envoy', ext: 'yaml' },
];
const OUTPUTS: OutputFormat[] = ['textproto', 'yaml', 'json', 'envoy'];

// rows are printed as they are measured: a 10,000-cluster run takes a while
const WRITE = process.argv.includes('--write');
const table: string[] = [];
const loads: number[] = [];
const rows = {
  push: (line: string): void => {
    table.push(line);
    loads.push(loadavg()[0]!);
    process.stdout.write(line + '\n');
  },
};
rows.push(`| clusters | input format | input size | parse (ms) | parse µs/cluster | ${OUTPUTS.map((o) => `emit ${o} (ms)`).join(' | ')} |`);
rows.push(`|---:|---|---:|---:|---:|${OUTPUTS.map(() => '---:').join('|')}|`);
for (const n of SIZES) {
  const model = generate(n);
  const runs = n >= 10_000 ? Math.min(RUNS, 5) : RUNS;
  for (const input of INPUTS) {
    const text = emitConfig(model, input.to).text;
    const file = `bench.${input.ext}`;
    const from = input.to === 'envoy' ? 'envoy' : input.to;
    const check = parseConfig(text, file, { from });
    const errors = check.diagnostics.filter((d) => d.severity === 'error');
    if (check.config === undefined || errors.length > 0) {
      throw new Error(`${input.label} input does not parse: ${errors[0]?.message ?? 'no config'}`);
    }
    const parseMs = time(() => void parseConfig(text, file, { from }), runs);
    // convert = print the parsed model (with its source metadata) in each output format
    const emitMs = OUTPUTS.map((to) => time(() => void emitConfig(check.config!, to), runs));
    const size = text.length >= 1e6 ? `${(text.length / 1e6).toFixed(1)} MB` : `${Math.round(text.length / 1e3)} kB`;
    rows.push(
      `| ${n.toLocaleString('en-US')} | ${input.label} | ${size} | ${parseMs.toFixed(1)} | ${((parseMs * 1000) / n).toFixed(1)} | ${emitMs.map((m) => m.toFixed(1)).join(' | ')} |`,
    );
  }
}
process.stdout.write(
  `\nnode ${process.version}, ${process.platform}/${process.arch}; ${WALL ? 'wall' : 'process CPU'} time, median of ${RUNS} runs after one warm-up (at most 5 at 10,000 clusters).\n`,
);

/** Lines longer than `width` broken at spaces (the table rows, which must stay whole, are not touched). */
function wrap(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('|') || line.length <= width) return line;
      const out: string[] = [];
      let cur = '';
      for (const word of line.split(' ')) {
        if (cur !== '' && cur.length + 1 + word.length > width) {
          out.push(cur);
          cur = word;
        } else cur = cur === '' ? word : `${cur} ${word}`;
      }
      if (cur !== '') out.push(cur);
      return out.join('\n');
    })
    .join('\n');
}

if (WRITE) {
  const args = process.argv.slice(2).filter((a) => a !== '--write');
  const now = new Date();
  const body = [
    `Command: \`npx tsc -p . && node dist/bench/parse.js${args.length > 0 ? ' ' + args.join(' ') : ''}\` (${now.toISOString().slice(0, 10)} ` +
      `${now.toISOString().slice(11, 16)} UTC, Node ${process.version}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} ` +
      `during the run on the shared machine). Figures are **${WALL ? 'wall' : 'process CPU'} time**, median of ${RUNS} runs after a warm-up ` +
      `(at most 5 at 10,000 clusters${WALL ? '' : '; `--wall` measures wall time instead'}). Each config has N clusters (two endpoints each), one ` +
      'listener per 100 clusters and one route per cluster. "parse" is `parseConfig` on the text in that format; "emit X" is `emitConfig` of ' +
      'the parsed model (with its source metadata) to format X.',
    '',
    ...table,
  ].join('\n');
  writeBenchSection('parse', wrap(body, 120));
}
