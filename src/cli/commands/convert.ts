/**
 * `meshctl convert INPUT [-o OUTPUT] [--from F] --to FORMAT`: parse a config in any input format and print it in
 * another. What the parser and the printer have to say is reported on stderr as `meshctl validate` reports it; a
 * config the parser finds errors in is not converted (exit 1), while semantic problems (a route to an unknown cluster)
 * are `validate`'s business and do not stop a conversion. A missing input is exit 2; the output file is replaced
 * atomically, so a failed conversion never leaves a half-written or clobbered OUTPUT.
 */
import type { Command } from 'commander';
import { Option } from '../commander.js';
import { EXIT_CONFIG, EXIT_OK } from '../../app/exit-codes.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { fromOption } from '../flags.js';
import type { InputFormat } from '../../config/model.js';

const TO = ['textproto', 'yaml', 'json', 'envoy', 'envoy-json', 'envoy-textproto'] as const;

interface ConvertOptions {
  to: (typeof TO)[number];
  from?: InputFormat;
  output?: string;
  color?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('Convert a config between text-proto, YAML, JSON and Envoy v3 (YAML, JSON or text-proto)')
    .argument('<input>', 'config file to read (`-` for stdin)')
    .addOption(new Option('-t, --to <format>', 'output format').choices(TO).makeOptionMandatory())
    .addOption(fromOption('-f, --from <format>'))
    .option('-o, --output <file>', 'write to FILE instead of stdout (replaced atomically; `-` is stdout)')
    .option('--no-color', 'no colours in messages on stderr')
    .action(async (input: string, opts: ConvertOptions) => {
      process.exitCode = await runConvert(input, opts);
    });
}

/** Replace `path` with `text` through a temporary file in the same directory and a rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const { writeFile, rename, rm } = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    const reason = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
    throw new UsageError(`cannot write ${path}: ${reason}`);
  }
}

async function runConvert(input: string, opts: ConvertOptions): Promise<number> {
  const [{ loadConfig, validateOptionsFor }, { renderFileReport }] = await Promise.all([import('../../validate/load.js'), import('../../validate/report.js')]);
  const color = useColor(process.stderr, opts.color);
  const loaded = await loadConfig(input, { ...(await validateOptionsFor()), parseOnly: true, ...(opts.from !== undefined ? { from: opts.from } : {}) });
  if (loaded.config === undefined) {
    process.stderr.write(await renderFileReport(loaded.report, color));
    const n = Math.max(loaded.errors, 1);
    process.stderr.write(`meshctl: ${loaded.report.file}: ${n} error${n === 1 ? '' : 's'}; nothing converted\n`);
    return EXIT_CONFIG;
  }
  const { emitConfig } = await import('../../config/convert.js');
  const { text, diagnostics } = emitConfig(loaded.config, opts.to);
  process.stderr.write(await renderFileReport({ ...loaded.report, diagnostics: [...loaded.report.diagnostics, ...diagnostics] }, color));
  if (opts.output !== undefined && opts.output !== '-') await writeAtomically(opts.output, text);
  else process.stdout.write(text);
  return EXIT_OK;
}
