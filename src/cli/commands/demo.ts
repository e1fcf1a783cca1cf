/** `meshctl demo`: two echo upstreams and the proxy on the quickstart config, so `curl` works at once. */
import type { Command } from 'commander';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { hostPort, int, listenPortOffset } from '../flags.js';

interface DemoCliOptions {
  config?: string;
  accessLog: boolean;
  dashboard?: boolean;
  upstreamPorts?: string;
  listenPortOffset?: string;
  adminAddress?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Start two echo upstreams (127.0.0.1:18080, :18081) and the proxy on fixtures/quickstart/mesh.textproto')
    .option('--config <file>', 'use another config (its endpoints should be the two demo upstreams)')
    .option('--upstream-ports <a,b>', 'ports of the two echo upstreams (default 18080,18081); the config\'s endpoints follow them')
    .option('--listen-port-offset <n>', 'add N to every listener port (when 10000 is taken)')
    .option('--admin-address <host:port>', "admin server address (default: the config's, 127.0.0.1:9901)")
    .option('--no-access-log', 'no access log on stdout')
    .option('--dashboard', 'live terminal view (requests/s, status codes, endpoint shares and latency)')
    .action(async (opts: DemoCliOptions) => {
      const { runDemo } = await import('../../app/demo.js');
      process.exitCode = await runDemo({
        config: opts.config,
        accessLog: opts.accessLog !== false,
        dashboard: opts.dashboard === true,
        color: useColor(process.stderr),
        ...(opts.upstreamPorts !== undefined ? { upstreamPorts: upstreamPorts(opts.upstreamPorts) } : {}),
        ...(opts.listenPortOffset !== undefined ? { listenPortOffset: listenPortOffset(opts.listenPortOffset) } : {}),
        ...(opts.adminAddress !== undefined ? { admin: hostPort('--admin-address', opts.adminAddress) } : {}),
      });
    });
}

function upstreamPorts(v: string): [number, number] {
  const parts = v.split(',');
  if (parts.length !== 2) throw new UsageError(`--upstream-ports expects two ports, a,b (e.g. 28080,28081), got \`${v}\``);
  return [int('--upstream-ports', parts[0]!.trim(), 1, 65535), int('--upstream-ports', parts[1]!.trim(), 1, 65535)];
}
