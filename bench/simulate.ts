/**
 * Router + balancer throughput: 10 million requests through the shared router and balancer on the article's example
 * and on a 1,000-endpoint cluster for each policy, plus pick cost as the endpoint count grows (it should grow no faster
 * than log n). One core, one process. `node dist/bench/simulate.js [--requests N] [--write]` prints a Markdown table
 * and, with --write, puts it into docs/BENCHMARKS.md under `<!-- bench:simulate -->`.
 */
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../src/config/index.js';
import { HostSet, createBalancer, createRandom, hostsFromCluster } from '../src/balancer/index.js';
import { RouteResult, compileRouter, routeRequest, type HeaderLookup } from '../src/router/index.js';
import type { Cluster, Cluster_LbPolicy } from '../src/config/model.js';
import { runSimulation } from '../src/simulate/engine.js';
import { writeBenchSection } from './bench-doc.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const WRITE = args.includes('--write');
const nIdx = args.indexOf('--requests');
const N = nIdx >= 0 ? Number(args[nIdx + 1]) : 10_000_000;
const POLICIES: Cluster_LbPolicy[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];

function bigCluster(policy: Cluster_LbPolicy, n: number, weighted: boolean): Cluster {
  return {
    name: 'big',
    lb_policy: policy,
    load_assignment: {
      endpoints: [
        {
          lb_endpoints: Array.from({ length: n }, (_, i) => ({
            endpoint: { address: { socket_address: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port_value: 8080 } } },
            load_balancing_weight: weighted ? 1 + (i % 7) : 1,
          })),
        },
      ],
    },
  };
}

const noHeaders: HeaderLookup = () => undefined;

/** CPU milliseconds (user + system) of this process: rates stay honest when other work shares the machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
const performance = { now: cpuMs };
let sink = 0;

/**
 * Requests/s of `n` requests routed on the first listener (routeRequest, as simulate and run do), sent to the
 * route's cluster by its id and picked by that cluster's balancer.
 */
function routedRate(config: Parameters<typeof compileRouter>[0], n: number): number {
  const compiled = compileRouter(config);
  const router = compiled.listeners[0]!;
  const byId = compiled.clusterIds.names.map((name) => {
    const c = (config.static_resources?.clusters ?? []).find((x) => x.name === name)!;
    return createBalancer(c, new HostSet(hostsFromCluster(c)), createRandom(1));
  });
  const random = createRandom(1);
  const routed = new RouteResult();
  let s = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    routeRequest(router, 'example.service.local', '/', 'GET', noHeaders, undefined, random, routed);
    const host = byId[routed.clusterId]!.pick();
    s += host!.port;
  }
  sink += s;
  return n / ((performance.now() - t0) / 1000);
}

/** Picks/s for one balancer; hashed policies get a fresh 64-bit hash per pick (as a request with a hash policy would). */
function pickRate(policy: Cluster_LbPolicy, endpoints: number, n: number, weighted: boolean): { rate: number; buildMs: number } {
  const cluster = bigCluster(policy, endpoints, weighted);
  const t0 = performance.now();
  const b = createBalancer(cluster, new HostSet(hostsFromCluster(cluster)), createRandom(1));
  b.pick(); // builds the ring / table
  const buildMs = performance.now() - t0;
  let s = 0;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) s += b.pick()!.port;
  sink += s;
  return { rate: n / ((performance.now() - t1) / 1000), buildMs };
}

function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(1)} M/s` : `${(r / 1e3).toFixed(0)} k/s`;
}

const rows: string[] = [];
// 1. The article's example, routed.
const article = await readConfigFile(join(REPO, 'fixtures', 'seed', 'full-example.textproto'));
const cfg = article.config!;
routedRate(cfg, 1_000_000); // warm-up
rows.push(`| article example (2 endpoints, weights 100/200) | ROUND_ROBIN (EDF) | router + balancer | ${N.toLocaleString('en')} | ${fmtRate(routedRate(cfg, N))} |`);

// 2. 1,000 endpoints per policy (unequal weights, so round robin and least request use EDF).
for (const policy of POLICIES) {
  pickRate(policy, 1000, 200_000, true); // warm-up
  const { rate } = pickRate(policy, 1000, N, true);
  rows.push(`| 1,000 endpoints, weights 1..7 | ${policy} | balancer | ${N.toLocaleString('en')} | ${fmtRate(rate)} |`);
}

// 3. Growth with n.
const sizes = [10, 100, 1000, 10000];
const growth: string[] = [];
const perSize = Math.max(1_000_000, Math.floor(N / 5));
for (const policy of POLICIES) {
  const cells = sizes.map((n) => {
    const { rate, buildMs } = pickRate(policy, n, perSize, true);
    return `${(1e9 / rate).toFixed(0)} ns (build ${buildMs.toFixed(0)} ms)`;
  });
  growth.push(`| ${policy} | ${cells.join(' | ')} |`);
}

// 4. The full simulator (report bookkeeping included) on the article.
const t0 = performance.now();
const simN = Math.min(N, 3_000_000);
await runSimulation(cfg, { requests: simN, seed: 1 });
const simRate = simN / ((performance.now() - t0) / 1000);

const table = [
  `Command: \`node dist/bench/simulate.js --write\` (rates from process CPU time; one core, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}).`,
  '',
  '| workload | policy | path measured | requests | throughput |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  `| article example, \`runSimulation\` (router, balancer, per-endpoint tallies, expected shares) | ROUND_ROBIN | simulator | ${simN.toLocaleString('en')} | ${fmtRate(simRate)} |`,
  '',
  `Pick cost by endpoint count (weights 1..7; ${perSize.toLocaleString('en')} picks each; ring hash and maglev draw a random 64-bit hash per pick; build = table/ring construction):`,
  '',
  `| policy | ${sizes.map((s) => `${s.toLocaleString('en')} endpoints`).join(' | ')} |`,
  `| --- | ${sizes.map(() => '---').join(' | ')} |`,
  ...growth,
].join('\n');
process.stdout.write(table + '\n');
if (sink === -1) process.stdout.write('');

if (WRITE) writeBenchSection('simulate', table);
