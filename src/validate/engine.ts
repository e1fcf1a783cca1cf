/** Runs the rules over one parsed file: build the index once, run each enabled rule, resolve messages and spans. */
import type { Diagnostic, Severity } from '../config/diagnostic.js';
import type { EnvoyClusterUse } from '../config/envoy-api/cluster-refs.js';
import type { Bootstrap } from '../config/model.js';
import { pointSpan, type Span } from '../config/source.js';
import { buildIndex } from './config-index.js';
import { formatMessage, type Rule, type RuleContext } from './rule.js';
import { RULES } from './rules/index.js';
import { resetHintBudget } from './rules/hints.js';

interface EngineOptions {
  readonly checkFiles: boolean;
  readonly filesBase: string;
  readonly now: Date;
  /** Rules not to run at all (their diagnostics would be dropped anyway). */
  readonly off: ReadonlySet<string>;
  /** Rules a setting turned on (needed for rules that are off by default). */
  readonly on: ReadonlySet<string>;
  /** What Envoy's judge learned about the clusters an Envoy-shaped file names (ParseResult.envoy). */
  readonly envoy?: EnvoyClusterUse;
}

export function runRules(config: Bootstrap, file: string, opts: EngineOptions): Diagnostic[] {
  const index = buildIndex(config, opts.envoy);
  const out: Diagnostic[] = [];
  const fallback = pointSpan(file);
  const spanOrFile = (s: Span | undefined): Span => s ?? fallback;
  resetHintBudget();
  for (const rule of RULES as readonly Rule<string>[]) {
    if (rule.needsFiles === true && !opts.checkFiles) continue;
    if (opts.off.has(rule.id)) continue;
    if (rule.offByDefault === true && !opts.on.has(rule.id)) continue;
    const ctx: RuleContext<string> = {
      config,
      index,
      file,
      filesBase: opts.filesBase,
      now: opts.now,
      report(r) {
        const template = rule.messages[r.messageId] ?? r.messageId;
        const severity: Severity = r.severity ?? rule.severity;
        const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = {
          ruleId: rule.id,
          severity,
          message: formatMessage(template, r.data),
          span: spanOrFile(r.at),
        };
        if (r.hint !== undefined) d.hint = r.hint;
        if (r.related !== undefined && r.related.length > 0) {
          d.related = r.related.map((x) => ({ message: x.message, span: spanOrFile(x.span) }));
        }
        out.push(d);
      },
    };
    rule.check(ctx);
  }
  return out;
}
