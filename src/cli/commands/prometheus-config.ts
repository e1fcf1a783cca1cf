/** `meshctl prometheus-config CONFIG`: the Prometheus scrape configuration for the config's metrics. */
import type { Command } from 'commander';
import { EXIT_CONFIG } from '../../app/exit-codes.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { fromOption } from '../flags.js';
import type { InputFormat } from '../../config/model.js';

export function register(program: Command): void {
  program
    .command('prometheus-config')
    .description("Print a Prometheus scrape config (YAML) from the config's http_server.prometheus.scrape_configs")
    .argument('<config>', 'config file (`-` for stdin)')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addOption(fromOption())
    .action(async (file: string, opts: { output?: string; from?: InputFormat }) => {
      const [{ loadConfig, validateOptionsFor }, { renderFileReport }, { prometheusConfig }] = await Promise.all([
        import('../../validate/load.js'),
        import('../../validate/report.js'),
        import('../../app/prometheus-config.js'),
      ]);
      // Only what the parser says stops it, as for `convert`: the scrape targets do not depend on the routes.
      const loaded = await loadConfig(file, { ...(await validateOptionsFor()), parseOnly: true, ...(opts.from ? { from: opts.from } : {}) });
      if (loaded.config === undefined) {
        process.stderr.write(await renderFileReport(loaded.report, useColor(process.stderr)));
        process.stderr.write(`meshctl: ${file} could not be read as a config\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      const text = prometheusConfig(loaded.config);
      if (opts.output) {
        const { writeFile } = await import('node:fs/promises');
        try {
          await writeFile(opts.output, text);
        } catch (err) {
          throw new UsageError(`cannot write ${opts.output}: ${(err as Error).message}`);
        }
      } else process.stdout.write(text);
    });
}
