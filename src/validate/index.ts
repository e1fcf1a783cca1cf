/**
 * meshctl's validator: parse diagnostics plus every semantic rule, with suppressions applied and a stable order.
 * Every command reaches it through load.ts (`loadConfig`).
 */
import type { Diagnostic, Severity } from '../config/diagnostic.js';
import type { InputFormat, ParseResult } from '../config/model.js';
import type { SourceFile } from '../config/source.js';
import { runFateDiagnostics } from '../config/run-fate/check.js';
import { RUN_IGNORED, RUN_REFUSED } from '../config/run-fate/rule-ids.js';
import { UNMODELED_FIELD } from '../config/envoy-api/rule-ids.js';
import { runRules } from './engine.js';
import { envoyFormFindings } from './envoy-form.js';
import { PARSE_RULE_IDS } from './parse-rules.js';
import { RULES_BY_ID } from './rules/index.js';
import { applySettings, isDisabledInline, readSuppressions, type RuleSetting } from './suppress.js';

export type { RuleSetting } from './suppress.js';
export { RULES, RULES_BY_ID } from './rules/index.js';

export interface ValidateOptions {
  /** Also check the TLS files the config names (existence, key/certificate match, expiry). */
  readonly checkFiles?: boolean;
  /** Directory that relative TLS file paths resolve against. Default: the current directory, as Envoy does. */
  readonly filesBase?: string;
  /** Rule ids to turn off (`--disable`). */
  readonly disable?: readonly string[];
  /** Per-rule settings (`.meshctl.yaml` `rules:`): 'off' or a severity. `disable` wins over these. */
  readonly rules?: Readonly<Record<string, RuleSetting>>;
  /** The current time, for certificate expiry. Default: now. */
  readonly now?: Date;
  /**
   * Only the parser's diagnostics (settings and suppressions still apply): for `convert`, which turns any config it
   * can read into another format, and for `run`'s workers, whose primary has just validated the same file.
   */
  readonly parseOnly?: boolean;
  /**
   * `run`: also hold the config to what `meshctl run` does (src/config/run-fate): `run-refused` errors for what it
   * cannot enforce, `run-ignored` warnings for what it accepts and does not act on. `validate --target run`, and run
   * itself at start-up and on reload.
   */
  readonly target?: 'run';
}

/** One input file's result. `source` is there when the file could be read (for code frames). */
export interface FileReport {
  readonly file: string;
  readonly format?: InputFormat;
  readonly source?: SourceFile;
  readonly diagnostics: Diagnostic[];
}

function settingsOf(opts: ValidateOptions): Map<string, RuleSetting> {
  const m = new Map<string, RuleSetting>(Object.entries(opts.rules ?? {}));
  for (const id of opts.disable ?? []) m.set(id, 'off');
  return m;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) ||
    a.span.line - b.span.line ||
    a.span.column - b.span.column ||
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

let known: ReadonlySet<string> | undefined;
/** Every rule id `--disable`, `.meshctl.yaml` and suppression comments may name: the rules' and the parsers'. */
export function knownRuleIds(): ReadonlySet<string> {
  return (known ??= new Set([...RULES_BY_ID.keys(), ...PARSE_RULE_IDS]));
}

/** Parse diagnostics and semantic ones for one parsed file: suppressions applied, duplicates dropped, sorted. */
export function validateParsed(result: ParseResult, opts: ValidateOptions = {}): Diagnostic[] {
  const settings = settingsOf(opts);
  const off = new Set<string>();
  const on = new Set<string>();
  for (const [id, s] of settings) (s === 'off' ? off : on).add(id);
  const all: Diagnostic[] = [...result.diagnostics];
  if (result.config !== undefined && opts.parseOnly !== true) {
    all.push(
      ...runRules(result.config, result.source.name, {
        checkFiles: opts.checkFiles === true,
        filesBase: opts.filesBase ?? process.cwd(),
        now: opts.now ?? new Date(),
        off,
        on,
        ...(result.envoy !== undefined ? { envoy: result.envoy } : {}),
      }),
    );
    // A file in Envoy's shape was judged while it was read; a dialect file's Envoy form is judged here (envoy-form.ts).
    if (result.format !== 'envoy') all.push(...envoyFormFindings(result.config, result.source, all));
  }
  const runFate = opts.target === 'run' && result.config !== undefined ? runFateDiagnostics(result.config, result.source.name) : [];
  if (runFate.length > 0) mergeRunFate(all, runFate);
  const { disables, problems } = readSuppressions(result.source, knownRuleIds());
  all.push(...problems);
  const seen = new Set<string>();
  const kept = applySettings(all, settings).filter((d) => {
    if (isDisabledInline(d, disables)) return false;
    // A parser may already report what a rule reports (dialect notes): keep one.
    const key = `${d.ruleId}\0${d.span.file}\0${d.span.line}\0${d.span.column}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // What run refuses is not a lint to turn off: no setting or suppression lets run start without it.
  for (const d of runFate) if (d.ruleId === RUN_REFUSED) kept.push(d);
  return kept.sort(compareDiagnostics);
}

/**
 * The run-fate warnings joined to the parse's diagnostics: at a place where the decoder noted an unmodeled field
 * (`unmodeled-field`), the run's verdict replaces the note (one answer per field); where it warned of an unknown
 * field (a typo, in meshctl's dialect), that warning says it already. Refusals are added after the settings.
 */
function mergeRunFate(all: Diagnostic[], runFate: readonly Diagnostic[]): void {
  const at = (d: Diagnostic): string => `${d.span.file}:${d.span.line}:${d.span.column}`;
  const judged = new Set(runFate.map(at));
  const unknown = new Set(all.filter((d) => d.ruleId === 'unknown-field').map(at));
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.ruleId === UNMODELED_FIELD && judged.has(at(all[i]!))) all.splice(i, 1);
  for (const d of runFate) if (d.ruleId === RUN_IGNORED && !unknown.has(at(d))) all.push(d);
}

export { validateFiles } from './files.js';
