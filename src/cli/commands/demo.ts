/** `meshctl demo`: two echo upstreams and the proxy on the quickstart config, so `curl` works at once. */
import type { Command } from 'commander';
import { useColor } from '../color.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Start two echo upstreams (127.0.0.1:18080, :18081) and the proxy on fixtures/quickstart/mesh.textproto')
    .option('--config <file>', 'a different config (its endpoints should be the two demo upstreams)')
    .option('--no-access-log', 'no access log on stdout')
    .option('--dashboard', 'live terminal view')
    .action(async (opts: { config?: string; accessLog: boolean; dashboard?: boolean }) => {
      const { runDemo } = await import('../../app/demo.js');
      process.exitCode = await runDemo({
        config: opts.config,
        accessLog: opts.accessLog !== false,
        dashboard: opts.dashboard === true,
        color: useColor(process.stderr),
      });
    });
}
