/** `meshctl run CONFIG`: a real proxy from the config (validated first; a config with errors is refused). */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { CliError, EXIT_CONFIG, EXIT_USAGE } from '../errors.js';

interface RunCliOptions {
  from?: string;
  mapEndpoint: string[];
  dnsServer: string[];
  listenPortOffset?: string;
  listenAddress?: string;
  adminAddress?: string;
  workers: string;
  accessLog?: string | false;
  drainTimeout: string;
  dashboard?: boolean;
  watch: boolean;
  upstreamClient: string;
  upstreamFailureStatus: string;
  xffAlways?: boolean;
  rejectPathAboveRoot?: boolean;
  seed?: string;
  color: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('run')
    .description('Serve real traffic from a config: listeners, routing, balancing, TLS, admin and metrics')
    .argument('<config>', 'config file (text-proto, YAML, JSON or Envoy v3)')
    .option('--from <format>', 'input format: textproto, yaml, json or envoy (default: detected)')
    .option('--map-endpoint <from=to>', 'rewrite an endpoint address, e.g. 10.244.0.2:8080=127.0.0.1:18080 (repeatable)', collect, [])
    .option('--dns-server <ip[:port]>', "resolve DNS clusters with this nameserver instead of the config's (repeatable)", collect, [])
    .option('--listen-port-offset <n>', 'add N to every listener port (run port 80 as 10080 without root)')
    .option('--listen-address <ip>', "bind every listener to this address instead of the config's")
    .option('--admin-address <host:port>', "admin server address (default: the config's admin, else 127.0.0.1:9901)")
    .option('--workers <n>', 'worker processes sharing the listeners', '1')
    .option('--access-log <file>', 'JSON-lines access log to FILE (`-` = stdout, the default)')
    .option('--no-access-log', 'no access log')
    .option('--drain-timeout <duration>', 'on SIGTERM/SIGINT, wait this long for requests in flight', '10s')
    .option('--dashboard', 'live terminal view (requests/s, status codes, endpoint shares and latency)')
    .option('--no-watch', 'do not reload when the config file changes (SIGHUP still reloads)')
    .option('--upstream-client <kind>', 'HTTP/1.1 upstream client: undici or node', 'undici')
    .option('--upstream-failure-status <code>', "status for refused/reset upstreams: 503 (Envoy's UF/UR) or 502", '503')
    .option('--xff-always', 'append x-forwarded-for even without use_remote_address (Envoy appends only with it)')
    .option('--reject-path-above-root', 'with normalize_path, answer 400 to a path whose `..` climbs above / (Envoy clamps it at /)')
    .option('--seed <n>', 'seed the balancers (same picks as `simulate --seed`)')
    .option('--no-color', 'no colours in diagnostics')
    .action(async (file: string, opts: RunCliOptions) => {
      process.exitCode = await runCommand(file, opts);
    });
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new CliError(`${name} expects a whole number from ${min} to ${max}, got \`${v}\``, EXIT_USAGE);
  return Number(v);
}

function hostPort(name: string, v: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v);
  if (!m) throw new CliError(`${name} expects host:port, got \`${v}\``, EXIT_USAGE);
  return { address: m[1] ?? m[2]!, port: int(name, m[3]!, 0, 65535) };
}

/** A nameserver as node:dns takes it: `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53`, IP literals only. */
function dnsServer(v: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+))(?::(\d+))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined, undefined] : null);
  const ip = m ? (m[1] ?? m[2]!) : '';
  if (!m || isIP(ip) === 0) throw new CliError(`--dns-server expects an IP address with an optional port, got \`${v}\``, EXIT_USAGE);
  if (m[3] !== undefined) int('--dns-server port', m[3], 1, 65535);
  return v;
}

async function runCommand(file: string, opts: RunCliOptions): Promise<number> {
  const [{ parseDuration, durationToMs }, { parseMapping, endpointMapper, MapEndpointError }, run] = await Promise.all([
    import('../../config/model-base.js'),
    import('../../app/map-endpoint.js'),
    import('../../app/run.js'),
  ]);
  const from = opts.from;
  if (from !== undefined && !['textproto', 'yaml', 'json', 'envoy'].includes(from)) {
    throw new CliError(`unknown --from \`${from}\` (expected textproto, yaml, json or envoy)`, EXIT_USAGE);
  }
  let mapEndpoint;
  try {
    mapEndpoint = endpointMapper(opts.mapEndpoint.map(parseMapping));
  } catch (err) {
    if (err instanceof MapEndpointError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
  const drain = parseDuration(opts.drainTimeout);
  if (drain === undefined) throw new CliError(`--drain-timeout expects a duration such as 10s or 500ms, got \`${opts.drainTimeout}\``, EXIT_USAGE);
  if (opts.upstreamClient !== 'undici' && opts.upstreamClient !== 'node') throw new CliError(`--upstream-client expects undici or node`, EXIT_USAGE);
  if (opts.upstreamFailureStatus !== '503' && opts.upstreamFailureStatus !== '502') throw new CliError(`--upstream-failure-status expects 503 or 502`, EXIT_USAGE);
  const color = opts.color !== false && !process.env.NO_COLOR && process.stderr.isTTY === true;
  const log = (line: string): void => void process.stderr.write(line + '\n');

  let loaded;
  try {
    loaded = await run.loadAndValidate(file, from as 'yaml' | undefined, color);
  } catch (err) {
    if (err instanceof run.ConfigLoadError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
  if (loaded.report) process.stderr.write(loaded.report);
  if (loaded.config === undefined) {
    log(`meshctl: ${file} has ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}; not starting`);
    return EXIT_CONFIG;
  }
  try {
    return await run.runProxy(
      {
        file,
        ...(from ? { from: from as 'yaml' } : {}),
        ...(mapEndpoint ? { mapEndpoint } : {}),
        ...(opts.dnsServer.length > 0 ? { dnsServers: opts.dnsServer.map(dnsServer) } : {}),
        ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
        ...(opts.listenPortOffset !== undefined ? { listenPortOffset: int('--listen-port-offset', opts.listenPortOffset, -65535, 65535) } : {}),
        ...(opts.adminAddress ? { admin: hostPort('--admin-address', opts.adminAddress) } : {}),
        workers: int('--workers', opts.workers, 1, 256),
        accessLog: opts.accessLog === false ? undefined : (opts.accessLog ?? '-'),
        drainTimeoutMs: durationToMs(drain),
        dashboard: opts.dashboard === true,
        watch: opts.watch !== false,
        upstreamClient: opts.upstreamClient,
        upstreamFailureMode: opts.upstreamFailureStatus === '502' ? '502' : 'envoy',
        forceXff: opts.xffAlways === true,
        rejectPathAboveRoot: opts.rejectPathAboveRoot === true,
        ...(opts.seed !== undefined ? { seed: int('--seed', opts.seed, 0, 2 ** 32 - 1) } : {}),
        color,
        log,
      },
      loaded.config,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      const hint = e.code === 'EACCES' ? ' (ports below 1024 need root: try --listen-port-offset 10000)' : '';
      throw new CliError(`cannot listen: ${e.message}${hint}`, EXIT_USAGE);
    }
    // Matched by name: importing the proxy's error classes here would load the proxy for every command.
    if (e.name === 'TlsConfigError' || e.name === 'DataSourceError' || e.code?.startsWith('ERR_OSSL_') === true) {
      throw new CliError(e.message, EXIT_USAGE);
    }
    throw err;
  }
}
