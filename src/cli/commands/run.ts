/** `meshctl run CONFIG`: a real proxy from the config (validated first; a config with errors is refused). */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { RunOptions } from '../../app/run.js';
import { EXIT_CONFIG } from '../../app/exit-codes.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { collect, fromOption, hostPort, int, listenPortOffset } from '../flags.js';
import type { InputFormat } from '../../config/model.js';

interface RunCliOptions {
  from?: InputFormat;
  mapEndpoint?: string[];
  dnsServer?: string[];
  listenPortOffset?: string;
  listenAddress?: string;
  adminAddress?: string;
  workers: string;
  accessLog?: string | false;
  drainTimeout: string;
  dashboard?: boolean;
  watch: boolean;
  upstreamClient: string;
  downstreamH2?: string;
  upstreamFailureStatus: string;
  xffAlways?: boolean;
  rejectPathAboveRoot?: boolean;
  seed?: string;
  color: boolean;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Serve real traffic from a config: listeners, routing, balancing, TLS, admin and metrics')
    .argument('<config>', 'config file (text-proto, YAML, JSON or Envoy v3)')
    .addOption(fromOption())
    .option('--map-endpoint <from=to>', 'rewrite an endpoint address, e.g. 10.244.0.2:8080=127.0.0.1:18080 (repeatable)', collect)
    .option('--dns-server <ip[:port]>', "resolve DNS clusters with this nameserver instead of the config's (repeatable)", collect)
    .option('--listen-port-offset <n>', 'add N to every listener port (run port 80 as 10080 without root)')
    .option('--listen-address <ip>', "bind every listener to this address instead of the config's")
    .option('--admin-address <host:port>', "admin server address (default: the config's admin, else 127.0.0.1:9901)")
    .option('--workers <n>', 'worker processes sharing the listeners', '1')
    .option('--access-log <file>', 'JSON-lines access log to FILE (`-` = stdout, the default)')
    .option('--no-access-log', 'no access log')
    .option('--drain-timeout <duration>', 'on SIGTERM/SIGINT, wait this long for requests in flight', '10s')
    .option('--dashboard', 'live terminal view (requests/s, status codes, endpoint shares and latency)')
    .option('--no-watch', 'do not reload when the config file changes (SIGHUP still reloads)')
    .option('--upstream-client <kind>', 'HTTP/1.1 upstream client: meshctl (its own), undici or node', 'meshctl')
    .option('--downstream-h2 <kind>', "downstream HTTP/2 codec: meshctl (its own, the default) or node (node's http2)")
    .option('--upstream-failure-status <code>', "status for refused/reset upstreams: 503 (Envoy's UF/UR) or 502", '503')
    .option('--xff-always', 'append x-forwarded-for even without use_remote_address (Envoy appends only with it)')
    .option('--reject-path-above-root', 'with normalize_path, answer 400 to a path whose `..` climbs above / (Envoy clamps it at /)')
    .option('--seed <n>', 'seed the balancers (same picks as `simulate --seed`)')
    .option('--no-color', 'no colours in diagnostics')
    .action(async (file: string, opts: RunCliOptions) => {
      process.exitCode = await runCommand(file, opts);
    });
}

/** A nameserver as node:dns takes it: `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53`, IP literals only. */
function dnsServer(v: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+))(?::(\d+))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined, undefined] : null);
  const ip = m ? (m[1] ?? m[2]!) : '';
  if (!m || isIP(ip) === 0) throw new UsageError(`--dns-server expects an IP address with an optional port, got \`${v}\``);
  if (m[3] !== undefined) int('--dns-server port', m[3], 1, 65535);
  return v;
}

async function runCommand(file: string, opts: RunCliOptions): Promise<number> {
  const [{ parseDuration, durationToMs }, { parseMapping, endpointMapper }, run, { renderFileReport }] = await Promise.all([
    import('../../config/duration.js'),
    import('../../app/map-endpoint.js'),
    import('../../app/run.js'),
    import('../../validate/report.js'),
  ]);
  const from = opts.from;
  const mapEndpoint = endpointMapper((opts.mapEndpoint ?? []).map(parseMapping));
  const drain = parseDuration(opts.drainTimeout);
  if (drain === undefined) throw new UsageError(`--drain-timeout expects a duration such as 10s or 500ms, got \`${opts.drainTimeout}\``);
  if (opts.upstreamClient !== 'meshctl' && opts.upstreamClient !== 'undici' && opts.upstreamClient !== 'node') {
    throw new UsageError(`--upstream-client expects meshctl, undici or node`);
  }
  if (opts.downstreamH2 !== undefined && opts.downstreamH2 !== 'meshctl' && opts.downstreamH2 !== 'node') throw new UsageError(`--downstream-h2 expects meshctl or node`);
  if (opts.upstreamFailureStatus !== '503' && opts.upstreamFailureStatus !== '502') throw new UsageError(`--upstream-failure-status expects 503 or 502`);
  const color = useColor(process.stderr, opts.color);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  // Every flag is read before the config, so a usage error comes alone, not after the config's report.
  const runOptions: RunOptions = {
    file,
    ...(from ? { from } : {}),
    ...(mapEndpoint ? { mapEndpoint } : {}),
    ...(opts.dnsServer !== undefined ? { dnsServers: opts.dnsServer.map(dnsServer) } : {}),
    ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
    ...(opts.listenPortOffset !== undefined ? { listenPortOffset: listenPortOffset(opts.listenPortOffset) } : {}),
    ...(opts.adminAddress ? { admin: hostPort('--admin-address', opts.adminAddress) } : {}),
    workers: int('--workers', opts.workers, 1, 256),
    accessLog: opts.accessLog === false ? undefined : (opts.accessLog ?? '-'),
    drainTimeoutMs: durationToMs(drain),
    dashboard: opts.dashboard === true,
    watch: opts.watch !== false,
    upstreamClient: opts.upstreamClient,
    ...(opts.downstreamH2 !== undefined ? { downstreamH2: opts.downstreamH2 } : {}),
    upstreamFailureMode: opts.upstreamFailureStatus === '502' ? '502' : 'envoy',
    forceXff: opts.xffAlways === true,
    rejectPathAboveRoot: opts.rejectPathAboveRoot === true,
    ...(opts.seed !== undefined ? { seed: int('--seed', opts.seed, 0, 2 ** 32 - 1) } : {}),
    color,
    log,
  };

  const loaded = await run.loadRunConfig(file, runOptions.from);
  if (loaded.config === undefined) {
    process.stderr.write(await renderFileReport(loaded.report, color));
    log(`meshctl: ${file} has ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}; not starting`);
    return EXIT_CONFIG;
  }
  const { notesForRun } = await import('../run-notes.js');
  const notes = notesForRun(loaded.report.diagnostics, loaded.config, runOptions);
  process.stderr.write(await renderFileReport({ ...loaded.report, diagnostics: notes.diagnostics }, color));
  for (const line of notes.lines) log(line);
  return run.runProxy(runOptions, loaded.config);
}
