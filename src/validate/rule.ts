/**
 * What a validation rule is: its metadata (stable id, default severity, category, one-line description, message
 * templates) and a `check` that reports problems through its context. Rules never format output, pick colours or
 * decide exit codes; the engine resolves messages and severities and the reporters render them.
 */
import type { Bootstrap } from '../config/model.js';
import type { Severity } from '../config/diagnostic.js';
import type { Span } from '../config/source.js';
import type { ConfigIndex } from './config-index.js';

type RuleCategory =
  | 'reference'
  | 'uniqueness'
  | 'value'
  | 'reachability'
  | 'placement'
  | 'files'
  | 'privileges';

interface RuleMeta<M extends string = string> {
  /** Stable kebab-case id; documented in docs/rules.md. */
  readonly id: string;
  readonly severity: Severity;
  readonly category: RuleCategory;
  /** One line, used by `--format sarif` and the docs. */
  readonly description: string;
  /** messageId → template; `{{name}}` placeholders are filled from the report's data. */
  readonly messages: Readonly<Record<M, string>>;
  /** Off unless a setting (`.meshctl.yaml`) gives it a severity. */
  readonly offByDefault?: boolean;
  /** Only runs under `--check-files`. */
  readonly needsFiles?: boolean;
}

interface Report<M extends string> {
  readonly messageId: M;
  readonly data?: Readonly<Record<string, string | number>>;
  /** Where; undefined for nodes without source positions (hand-built models), which report at 1:1. */
  readonly at: Span | undefined;
  /** A per-occurrence severity, when a rule's messages differ in how serious they are. */
  readonly severity?: Severity;
  readonly hint?: string;
  readonly related?: readonly { message: string; span: Span | undefined }[];
}

export interface RuleContext<M extends string> {
  readonly config: Bootstrap;
  readonly index: ConfigIndex;
  /** The file being validated (diagnostics for nodes without spans point at its first line). */
  readonly file: string;
  /** Directory that relative file paths (TLS keys, certificates) resolve against. */
  readonly filesBase: string;
  /** The current time, for certificate expiry. */
  readonly now: Date;
  report(r: Report<M>): void;
}

export interface Rule<M extends string = string> extends RuleMeta<M> {
  check(ctx: RuleContext<M>): void;
}

export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

/** Fill `{{name}}` placeholders. */
export function formatMessage(template: string, data: Readonly<Record<string, string | number>> | undefined): string {
  if (data === undefined) return template;
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, k: string) => (k in data ? String(data[k]) : m));
}
