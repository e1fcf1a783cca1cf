/** `meshctl serve CONFIG`: a control plane serving the config as xDS; `meshctl serve --status`: what a running one knows. */
import type { Command } from 'commander';
import { EXIT_CONFIG } from '../../app/exit-codes.js';
import type { InputFormat } from '../../config/model.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { hostPort } from '../flags.js';

interface ServeCliOptions {
  from?: string;
  address: string;
  adminAddress?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  watch: boolean;
  status?: boolean;
  json?: boolean;
  color: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve a config as xDS (gRPC, SotW and delta ADS, CDS/EDS/LDS/RDS) to a fleet of Envoys, meshctl runs and gRPC clients')
    .argument('[config]', 'config file (text-proto, YAML, JSON or Envoy v3); watched, every valid edit is pushed')
    .option('--from <format>', 'input format: textproto, yaml, json or envoy (default: detected)')
    .option('--address <host:port>', 'gRPC xDS address', '127.0.0.1:18000')
    .option('--admin-address <host:port>', 'admin address: / (text status), /status (JSON), /metrics, /topology (default 127.0.0.1:18001)')
    .option('--tls-cert <file>', 'serve xDS over TLS with this certificate chain (PEM; needs --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--client-ca <file>', 'require client certificates signed by this CA (PEM; needs --tls-cert)')
    .option('--no-watch', 'do not push when the file changes (SIGHUP still reloads)')
    .option('--status', "print a running server's status (nodes, versions ACKed and NACKed) from its --admin-address, and exit")
    .option('--json', 'with --status: the status as JSON')
    .option('--no-color', 'no colours in diagnostics')
    .action(async (file: string | undefined, opts: ServeCliOptions) => {
      process.exitCode = await serveCommand(file, opts);
    });
}

async function serveCommand(file: string | undefined, opts: ServeCliOptions): Promise<number> {
  const app = await import('../../app/serve.js');
  const admin = opts.adminAddress !== undefined ? hostPort('--admin-address', opts.adminAddress) : app.DEFAULT_SERVE_ADMIN;
  if (opts.status === true) {
    if (file !== undefined) throw new UsageError('--status asks a running server; it takes no config file (pass --admin-address to find the server)');
    const status = await app.fetchStatus(admin);
    const { renderStatus } = await import('../../control-plane/status.js');
    process.stdout.write(opts.json === true ? JSON.stringify(status, null, 1) + '\n' : renderStatus(status));
    return 0;
  }
  if (opts.json === true) throw new UsageError('--json goes with --status');
  if (file === undefined) throw new UsageError('serve needs a config file (or --status)');
  const from = opts.from;
  if (from !== undefined && !['textproto', 'yaml', 'json', 'envoy'].includes(from)) {
    throw new UsageError(`unknown --from \`${from}\` (expected textproto, yaml, json or envoy)`);
  }
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (opts.clientCa !== undefined && opts.tlsCert === undefined) throw new UsageError('--client-ca needs --tls-cert and --tls-key (client certificates are a TLS feature)');
  const xds = hostPort('--address', opts.address);
  const color = useColor(process.stderr, opts.color);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const { renderFileReport } = await import('../../validate/report.js');
  const loaded = await app.loadServeConfig(file, from as InputFormat | undefined);
  process.stderr.write(await renderFileReport(loaded.report, color));
  if (loaded.config === undefined) {
    log(`meshctl: ${file} has ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}; not serving`);
    return EXIT_CONFIG;
  }
  return app.serve(
    {
      file,
      ...(from !== undefined ? { from: from as InputFormat } : {}),
      xds,
      admin,
      ...(opts.tlsCert !== undefined && opts.tlsKey !== undefined
        ? { tls: { cert: opts.tlsCert, key: opts.tlsKey, ...(opts.clientCa !== undefined ? { clientCa: opts.clientCa } : {}) } }
        : {}),
      watch: opts.watch !== false,
      color,
      log,
    },
    loaded.config,
  );
}
