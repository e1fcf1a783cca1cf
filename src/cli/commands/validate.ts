/** `meshctl validate FILE|GLOB...`: every problem in every file, in a format people or CI read. */
import type { Command } from 'commander';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from '../errors.js';

interface ValidateCliOptions {
  format: string;
  strict?: boolean;
  maxWarnings?: string;
  disable?: string[];
  config?: string;
  checkFiles?: boolean;
  baseDir?: string;
  color: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('Check configs for errors: references, duplicates, values, reachability, placement and (optionally) TLS files')
    .argument('<files...>', 'config files, directories or globs (quote globs: "configs/**/*.yaml")')
    .option('-f, --format <format>', 'output format: pretty, json, sarif or github', 'pretty')
    .option('--strict', 'treat warnings as errors (exit 1 when there are any)')
    .option('--max-warnings <n>', 'exit 1 when there are more than N warnings')
    .option('--disable <rules...>', 'turn rules off (ids, space or comma separated)')
    .option('--config <path>', 'rule settings file (default: .meshctl.yaml in the current directory, if present)')
    .option('--check-files', 'also check TLS key and certificate files: present, matching, not expired')
    .option('--base-dir <dir>', 'directory that relative TLS file paths resolve against (default: the current directory, as Envoy does)')
    .option('--no-color', 'no colours in pretty output')
    .action(async (files: string[], opts: ValidateCliOptions) => {
      process.exitCode = await runValidate(files, opts);
    });
}

async function runValidate(patterns: string[], opts: ValidateCliOptions): Promise<number> {
  const [{ validateFiles, ConfigFileError, RULES_BY_ID }, { renderReport, REPORT_FORMATS, totals }, { existsSync }] = await Promise.all([
    import('../../validate/index.js'),
    import('../../validate/report.js'),
    import('node:fs'),
  ]);
  const format = opts.format as (typeof REPORT_FORMATS)[number];
  if (!REPORT_FORMATS.includes(format)) {
    throw new CliError(`unknown --format \`${opts.format}\` (expected ${REPORT_FORMATS.join(', ')})`, EXIT_USAGE);
  }
  let maxWarnings: number | undefined;
  if (opts.maxWarnings !== undefined) {
    maxWarnings = Number(opts.maxWarnings);
    if (!/^\d+$/.test(opts.maxWarnings)) throw new CliError(`--max-warnings expects a whole number, got \`${opts.maxWarnings}\``, EXIT_USAGE);
  }
  // `--disable` is variadic, so `--disable rule file.yaml` swallows the file: give path-like words back.
  const disable: string[] = [];
  for (const word of (opts.disable ?? []).flatMap((w) => w.split(',')).filter((w) => w !== '')) {
    if (!RULES_BY_ID.has(word) && (/[./*]/.test(word) || existsSync(word))) patterns.push(word);
    else disable.push(word);
  }
  const known = new Set<string>([...RULES_BY_ID.keys(), ...(await parseRuleIds())]);
  for (const id of disable) {
    if (!known.has(id)) {
      const { didYouMean } = await import('../../config/suggest.js');
      const best = didYouMean(id, known);
      throw new CliError(`--disable: unknown rule \`${id}\`${best ? ` (did you mean \`${best}\`?)` : ''}`, EXIT_USAGE);
    }
  }
  let rules = {};
  let checkFiles = opts.checkFiles === true;
  const settingsPath = opts.config ?? (existsSync('.meshctl.yaml') ? '.meshctl.yaml' : undefined);
  if (settingsPath !== undefined) {
    const { loadSettings, SettingsError } = await import('../../validate/settings.js');
    try {
      const s = await loadSettings(settingsPath, known);
      rules = s.rules;
      if (s.checkFiles === true) checkFiles = true;
    } catch (err) {
      if (err instanceof SettingsError) throw new CliError(err.message, EXIT_USAGE);
      throw err;
    }
  }

  let reports;
  try {
    reports = await validateFiles(patterns, {
      checkFiles,
      disable,
      rules,
      ...(opts.baseDir !== undefined ? { filesBase: opts.baseDir } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
  const readable = reports.filter((r) => r.ioError === undefined);
  const color = format === 'pretty' && opts.color !== false && !process.env.NO_COLOR && (process.stdout.isTTY === true || isForced());
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

function isForced(): boolean {
  const f = process.env.FORCE_COLOR;
  return f !== undefined && f !== '' && f !== '0' && f !== 'false';
}

/** The parse diagnostics' rule ids (owned by the config layer), so they can be disabled too. */
async function parseRuleIds(): Promise<string[]> {
  const { PARSE_RULE_IDS } = await import('../../validate/parse-rules.js');
  return [...PARSE_RULE_IDS];
}
