/**
 * `meshctl simulate CONFIG`: where will the traffic go? Routes synthetic or replayed requests through the same router
 * and balancer `meshctl run` uses and reports the split per listener → route → cluster → endpoint.
 */
import type { Command } from 'commander';
import { Option } from '../commander.js';
import { EXIT_CONFIG, EXIT_OK } from '../../app/exit-codes.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { collect } from '../flags.js';

interface SimulateCliOptions {
  requests?: string;
  rps?: string;
  duration?: string;
  seed: string;
  listener?: string;
  host?: string[];
  path?: string[];
  method?: string[];
  header?: string[];
  requestsFile?: string;
  unhealthy?: string[];
  latency?: string[];
  at?: string[];
  format: 'table' | 'json' | 'html';
  watch?: boolean;
  color: boolean;
  randomWeighted?: boolean;
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('Predict the traffic split: route requests through the router and balancers and report the share of each endpoint')
    .argument('<config>', 'config file (text-proto, YAML, JSON or Envoy v3; `-` for stdin)')
    .option('-n, --requests <n>', 'number of requests (default 10000; 300k and 1M work)')
    .option('--rps <r>', 'arrival rate on the virtual clock (default 1000)')
    .option('--duration <d>', 'simulate this long at --rps (e.g. 60s); requests = rps × duration')
    .option('--seed <s>', 'random seed: the same seed gives the same result', '1')
    .option('--listener <name>', 'send traffic to this listener only (default: spread over all HTTP listeners)')
    .option('--host <host>', 'the Host (:authority) of the requests; repeat for a mix (default: the first domain of the first virtual host)', collect)
    .option('--path <path>', 'request path; repeat for a mix (default /)', collect)
    .option('--method <method>', 'request method; repeat for a mix (default GET)', collect)
    .option('--header <name:value>', 'request header; repeat, several values of one name form a mix', collect)
    .option('--requests-file <file>', 'replay requests: JSON lines {method, host, path, headers, source_ip, listener} or Envoy access-log lines')
    .option('--unhealthy <host:port>', 'mark an endpoint unhealthy from the start; repeatable', collect)
    .option('--latency <host:port=dist>', 'endpoint latency on the virtual clock: const:5ms, exp:10ms, normal:20ms,5ms, uniform:5ms,15ms (`*=` for all); repeatable', collect)
    .option('--at <time:down|up=host:port>', 'timeline event, e.g. 10s:down=10.244.0.2:8080; repeatable', collect)
    .addOption(new Option('--format <format>', 'output format (html: one self-contained page with charts)').choices(['table', 'json', 'html']).default('table'))
    .option('--watch', 'live view while the simulation runs (on a terminal only)')
    .option('--random-weighted', 'make RANDOM clusters honour endpoint weights (Envoy\'s RANDOM ignores them)')
    .option('--no-color', 'no colours in the table')
    .action(async (config: string, opts: SimulateCliOptions) => {
      process.exitCode = await runSimulate(config, opts);
    });
}

async function runSimulate(path: string, opts: SimulateCliOptions): Promise<number> {
  const o = await import('../../simulate/options.js');
  const { runSimulation } = await import('../../simulate/engine.js');
  if (opts.requests !== undefined && opts.duration !== undefined) throw new UsageError('give --requests or --rps/--duration, not both');
  const rps = opts.rps !== undefined ? o.parsePositive(opts.rps, '--rps') : undefined;
  let simOpts: Parameters<typeof runSimulation>[1] = {
    seed: o.parseSeed(opts.seed),
    configName: path,
    hosts: opts.host ?? [],
    paths: opts.path ?? [],
    methods: (opts.method ?? []).map((m) => m.toUpperCase()),
    headers: o.parseHeaders(opts.header ?? []),
    unhealthy: (opts.unhealthy ?? []).map((u) => o.parseAddress(u, '--unhealthy')),
    latency: o.parseLatencyFlags(opts.latency ?? []),
    timeline: o.parseTimeline(opts.at ?? []),
    weightedRandom: opts.randomWeighted === true,
    ...(opts.requests !== undefined ? { requests: o.parseCount(opts.requests, '--requests') } : {}),
    ...(rps !== undefined ? { rps } : {}),
    ...(opts.duration !== undefined ? { durationMs: o.parseDurationFlag(opts.duration, '--duration') } : {}),
    ...(opts.listener !== undefined ? { listener: opts.listener } : {}),
    ...(opts.requestsFile !== undefined ? { requestsFile: opts.requestsFile } : {}),
  };
  if (simOpts.requestsFile !== undefined) {
    const { existsSync } = await import('node:fs');
    if (!existsSync(simOpts.requestsFile)) throw new UsageError(`--requests-file: cannot read ${simOpts.requestsFile}: no such file`);
  }

  const [{ loadConfig, validateOptionsFor }, { renderFileReport }] = await Promise.all([import('../../validate/load.js'), import('../../validate/report.js')]);
  const loaded = await loadConfig(path, await validateOptionsFor());
  if (loaded.config === undefined) {
    process.stderr.write(await renderFileReport(loaded.report, useColor(process.stderr, opts.color)));
    process.stderr.write('meshctl: the config has errors; fix them (see `meshctl validate`) before simulating\n');
    return EXIT_CONFIG;
  }

  const watch = opts.watch === true && process.stdout.isTTY === true;
  let view: { update(report: import('../../simulate/report-types.js').SimReport, done: number, total: number | undefined): void; close(): Promise<void> } | undefined;
  if (watch) {
    const { startWatchView } = await import('../../simulate/watch-view.js');
    view = startWatchView();
    simOpts = { ...simOpts, onProgress: (r, done, total) => view!.update(r, done, total), progressEvery: 20_000 };
  }
  let report;
  try {
    report = await runSimulation(loaded.config, simOpts);
  } finally {
    await view?.close();
  }
  if (opts.format === 'json') {
    // Fields without a value (a p-value with one endpoint, …) print as null, so every key is always there.
    process.stdout.write(JSON.stringify(report, (_k, v: unknown) => (v === undefined ? null : v), 2) + '\n');
  } else if (opts.format === 'html') {
    const { renderHtml } = await import('../../simulate/html.js');
    process.stdout.write(renderHtml(report));
  } else {
    const { renderTable } = await import('../../simulate/render.js');
    const { default: chalk, Chalk } = await import('chalk');
    process.stdout.write(renderTable(report, useColor(process.stdout, opts.color) ? chalk : new Chalk({ level: 0 })));
  }
  return EXIT_OK;
}
