/**
 * A diagnostic: one problem (or note) about a config, with a stable rule id and a position. Parsers, the validator
 * and the converter all report through this one shape; reporters (src/validate/formatters) turn it into text.
 */
import type { Span } from './source.js';

export type Severity = 'error' | 'warning' | 'info';

export interface RelatedLocation {
  readonly message: string;
  readonly span: Span;
}

export interface Diagnostic {
  /** Stable kebab-case id, documented in docs/rules.md (for example `syntax-error`, `route-unknown-cluster`). */
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  /** Where; file-level problems point at 1:1. */
  readonly span: Span;
  /** How to fix it, when there is something to say ("did you mean `example-cluster`?"). */
  readonly hint?: string;
  readonly related?: readonly RelatedLocation[];
}
