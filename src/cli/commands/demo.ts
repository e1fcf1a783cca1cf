/** `meshctl demo`: two echo upstreams and the proxy on the quickstart config, so `curl` works at once. */
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Start two echo upstreams (127.0.0.1:18080, :18081) and the proxy on fixtures/quickstart/mesh.textproto')
    .option('--config <file>', 'a different config (its endpoints should be the two demo upstreams)')
    .option('--no-access-log', 'no access log on stdout')
    .option('--dashboard', 'live terminal view')
    .action(async (opts: { config?: string; accessLog: boolean; dashboard?: boolean }) => {
      const { runDemo } = await import('../../app/demo.js');
      try {
        process.exitCode = await runDemo({ config: opts.config, accessLog: opts.accessLog !== false, dashboard: opts.dashboard === true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new CliError(`cannot start the demo: ${e.message} (is another demo running?)`, EXIT_USAGE);
        throw err;
      }
    });
}
