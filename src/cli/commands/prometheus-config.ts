/** `meshctl prometheus-config CONFIG`: the Prometheus scrape configuration for the config's metrics. */
import type { Command } from 'commander';
import { CliError, EXIT_CONFIG, EXIT_USAGE } from '../errors.js';

export function register(program: Command): void {
  program
    .command('prometheus-config')
    .description("Write a Prometheus scrape config (YAML) from the config's http_server.prometheus.scrape_configs")
    .argument('<config>', 'config file')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--from <format>', 'input format: textproto, yaml, json or envoy (default: detected)')
    .action(async (file: string, opts: { output?: string; from?: string }) => {
      const [{ readConfigFile, ConfigReadError }, { prometheusConfig }] = await Promise.all([
        import('../../config/index.js'),
        import('../../app/prometheus-config.js'),
      ]);
      let parsed;
      try {
        parsed = await readConfigFile(file, opts.from ? { from: opts.from as 'yaml' } : {});
      } catch (err) {
        if (err instanceof ConfigReadError) throw new CliError(err.message, EXIT_USAGE);
        throw err;
      }
      if (parsed.config === undefined) {
        for (const d of parsed.diagnostics) process.stderr.write(`${d.span.file}:${d.span.line}:${d.span.column}: ${d.severity}: ${d.message}\n`);
        throw new CliError(`${file} could not be read as a config`, EXIT_CONFIG);
      }
      const text = prometheusConfig(parsed.config);
      if (opts.output) {
        const { writeFile } = await import('node:fs/promises');
        try {
          await writeFile(opts.output, text);
        } catch (err) {
          throw new CliError(`cannot write ${opts.output}: ${(err as Error).message}`, EXIT_USAGE);
        }
      } else process.stdout.write(text);
    });
}
