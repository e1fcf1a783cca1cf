/**
 * The one way a command reads a config: a file (or stdin for `-`), parsed, then validated as `meshctl validate`
 * validates it (the same rules, `.meshctl.yaml` settings and inline suppressions). `validate` loads each file through
 * here, and so do `run` (at start and on every reload), `simulate`, `convert`, `prometheus-config` and `demo`; each
 * decides what to do with errors. A file that cannot be read rejects with ConfigReadError (a usage error).
 */
import type { Bootstrap, InputFormat } from '../config/model.js';
import { UsageError } from '../config/usage-error.js';
import type { FileReport, ValidateOptions } from './index.js';

/** The name a config read from stdin has in diagnostics. */
const STDIN_NAME = '<stdin>';

/** The settings file read from the current directory when none is named. */
const DEFAULT_SETTINGS = '.meshctl.yaml';

interface LoadOptions extends ValidateOptions {
  /** Force the input format instead of detecting it. */
  readonly from?: InputFormat;
}

export interface LoadedConfig {
  /** The file's report as `meshctl validate` prints it: source (for code frames) and sorted diagnostics. */
  readonly report: FileReport;
  /** How many of the diagnostics are errors. */
  readonly errors: number;
  /** The config, when it was read and has no errors. */
  readonly config: Bootstrap | undefined;
  /** The config as read, errors or not (undefined only when it could not be parsed): for `graph`, which draws them. */
  readonly model: Bootstrap | undefined;
}

export async function loadConfig(input: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  // Imported here: validate/index.ts re-exports files.ts, which loads through this module.
  const [{ parseConfig, readConfigFile }, { validateParsed }] = await Promise.all([import('../config/index.js'), import('./index.js')]);
  const parseOpts = opts.from !== undefined ? { from: opts.from } : {};
  const parsed = input === '-' ? parseConfig(await readStdin(), STDIN_NAME, parseOpts) : await readConfigFile(input, parseOpts);
  const diagnostics = validateParsed(parsed, opts);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return {
    report: { file: parsed.source.name, format: parsed.format, source: parsed.source, diagnostics },
    errors,
    config: errors === 0 ? parsed.config : undefined,
    model: parsed.config,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What the command line says about rules; every command without such flags passes none. */
interface RuleFlags {
  /** Rule ids to turn off (`validate --disable`). */
  readonly disable?: readonly string[];
  /** A settings file (`validate --config`); default: `.meshctl.yaml` in the current directory, if there is one. */
  readonly settings?: string;
  /** `validate --check-files`. */
  readonly checkFiles?: boolean;
  /** `validate --base-dir`. */
  readonly baseDir?: string;
}

/**
 * The validation options `meshctl validate` runs with, from its flags and the settings file. Unknown rule ids (in
 * `disable` or the settings) and an unreadable or malformed settings file are usage errors.
 */
export async function validateOptionsFor(flags: RuleFlags = {}): Promise<ValidateOptions> {
  const [{ knownRuleIds }, { existsSync }] = await Promise.all([import('./index.js'), import('node:fs')]);
  const known = knownRuleIds();
  for (const id of flags.disable ?? []) {
    if (!known.has(id)) {
      const { didYouMean } = await import('../config/suggest.js');
      const best = didYouMean(id, known);
      throw new UsageError(`--disable: unknown rule \`${id}\`${best ? ` (did you mean \`${best}\`?)` : ''}`);
    }
  }
  let rules = {};
  let checkFiles = flags.checkFiles === true;
  const settingsPath = flags.settings ?? (existsSync(DEFAULT_SETTINGS) ? DEFAULT_SETTINGS : undefined);
  if (settingsPath !== undefined) {
    const { loadSettings } = await import('./settings.js');
    const s = await loadSettings(settingsPath, known);
    rules = s.rules;
    if (s.checkFiles === true) checkFiles = true;
  }
  return {
    checkFiles,
    rules,
    ...(flags.disable !== undefined ? { disable: flags.disable } : {}),
    ...(flags.baseDir !== undefined ? { filesBase: flags.baseDir } : {}),
  };
}
