/** `meshctl validate FILE|GLOB...`: every problem in every file, in a format people or CI read. */
import type { Command } from 'commander';
import { EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from '../../app/exit-codes.js';
import { UsageError } from '../../config/usage-error.js';
import { useColor } from '../color.js';
import { collect } from '../flags.js';

interface ValidateCliOptions {
  format: string;
  strict?: boolean;
  maxWarnings?: string;
  disable?: string[];
  config?: string;
  checkFiles?: boolean;
  baseDir?: string;
  target?: string;
  color: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('Check configs for errors: references, duplicates, values, reachability, placement and (optionally) TLS files')
    .argument('<files...>', 'config files, directories or globs (quote globs: "configs/**/*.yaml"); `-` for stdin')
    .option('-f, --format <format>', 'output format: pretty, json, sarif or github', 'pretty')
    .option('--strict', 'treat warnings as errors (exit 1 when there are any)')
    .option('--max-warnings <n>', 'exit 1 when there are more than N warnings')
    // One value per flag, so `--disable RULE FILE` leaves FILE to the files (a variadic option would swallow it).
    .option('--disable <rules>', 'turn rules off: comma-separated ids; repeatable (--disable a,b or --disable a --disable b)', collect)
    .option('--config <path>', 'rule settings file (default: .meshctl.yaml in the current directory, if present)')
    .option('--check-files', 'also check TLS key and certificate files: present, matching, not expired')
    .option('--base-dir <dir>', 'directory that relative TLS file paths resolve against (default: the current directory, as Envoy does)')
    .option('--target <target>', 'also check what a target does with the config: `run` (what meshctl run refuses or ignores)')
    .option('--no-color', 'no colours in pretty output')
    .action(async (files: string[], opts: ValidateCliOptions) => {
      process.exitCode = await runValidate(files, opts);
    });
}

async function runValidate(patterns: string[], opts: ValidateCliOptions): Promise<number> {
  const [{ validateFiles, knownRuleIds }, { validateOptionsFor }, { renderReport, REPORT_FORMATS, totals }, { existsSync }] = await Promise.all([
    import('../../validate/index.js'),
    import('../../validate/load.js'),
    import('../../validate/report.js'),
    import('node:fs'),
  ]);
  const format = opts.format as (typeof REPORT_FORMATS)[number];
  if (!REPORT_FORMATS.includes(format)) {
    throw new UsageError(`unknown --format \`${opts.format}\` (expected ${REPORT_FORMATS.join(', ')})`);
  }
  if (opts.target !== undefined && opts.target !== 'run') throw new UsageError(`unknown --target \`${opts.target}\` (expected run)`);
  let maxWarnings: number | undefined;
  if (opts.maxWarnings !== undefined) {
    maxWarnings = Number(opts.maxWarnings);
    if (!/^\d+$/.test(opts.maxWarnings)) throw new UsageError(`--max-warnings expects a whole number, got \`${opts.maxWarnings}\``);
  }
  const disable = (opts.disable ?? []).flatMap((w) => w.split(',')).filter((w) => w !== '');
  // `--disable a b FILE` (the old space-separated form) leaves `b` among the files: say how to write it.
  const stray = patterns.find((p) => knownRuleIds().has(p) && !existsSync(p));
  if (stray !== undefined) throw new UsageError(`\`${stray}\` is a rule id, not a file: --disable takes one value (write --disable a,b or repeat --disable)`);
  const validateOptions = await validateOptionsFor({
    disable,
    checkFiles: opts.checkFiles === true,
    ...(opts.config !== undefined ? { settings: opts.config } : {}),
    ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
  });
  const reports = await validateFiles(patterns, opts.target === 'run' ? { ...validateOptions, target: 'run' } : validateOptions);
  const readable = reports.filter((r) => r.ioError === undefined);
  const color = format === 'pretty' && useColor(process.stdout, opts.color);
  process.stdout.write(await renderReport(readable, { format, color }));
  for (const r of reports) if (r.ioError !== undefined) process.stderr.write(`meshctl: ${r.ioError}\n`);
  if (readable.length < reports.length) return EXIT_USAGE;

  const t = totals(readable);
  if (t.errors > 0) return EXIT_CONFIG;
  if (opts.strict === true && t.warnings > 0) {
    process.stderr.write(`meshctl: ${t.warnings} warning${t.warnings === 1 ? '' : 's'} and --strict\n`);
    return EXIT_CONFIG;
  }
  if (maxWarnings !== undefined && t.warnings > maxWarnings) {
    process.stderr.write(`meshctl: ${t.warnings} warning${t.warnings === 1 ? "" : "s"} exceed${t.warnings === 1 ? "s" : ""} --max-warnings ${maxWarnings}\n`);
    return EXIT_CONFIG;
  }
  return EXIT_OK;
}
