/**
 * Turning diagnostics off: rule settings (`--disable`, `.meshctl.yaml`) and inline
 * `# meshctl-disable-next-line RULE[, RULE…]` comments (text-proto and YAML; `//` works in text-proto too).
 */
import type { Diagnostic, Severity } from '../config/diagnostic.js';

export type RuleSetting = Severity | 'off';

/** line number (1-based) → rule ids disabled on it ('*' = every rule). */
type InlineDisables = Map<number, Set<string>>;

const DIRECTIVE = /(?:#|\/\/)\s*meshctl-disable-next-line\b([^\n]*)/;

/**
 * Find the directives. Each applies to the next line that is not blank and not a comment, so several directives
 * can stack above one line.
 */
export function inlineDisables(text: string): InlineDisables {
  const out: InlineDisables = new Map();
  if (!text.includes('meshctl-disable-next-line')) return out;
  const lines = text.split('\n');
  let pending: Set<string> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = DIRECTIVE.exec(line);
    const trimmed = line.trim();
    const isComment = trimmed.startsWith('#') || trimmed.startsWith('//');
    if (m !== null) {
      pending ??= new Set();
      // Anything after `--` is an explanation, as in eslint.
      const ids = m[1]!.split('--')[0]!.split(/[\s,]+/).filter((s) => s !== '');
      if (ids.length === 0) pending.add('*');
      for (const id of ids) pending.add(id);
      continue;
    }
    if (pending === undefined || trimmed === '' || isComment) continue;
    out.set(i + 1, pending);
    pending = undefined;
  }
  return out;
}

export function isDisabledInline(d: Diagnostic, disables: InlineDisables): boolean {
  const set = disables.get(d.span.line);
  return set !== undefined && (set.has('*') || set.has(d.ruleId));
}

/** Apply rule settings: drop 'off' rules, rewrite severities. */
export function applySettings(diags: Diagnostic[], settings: ReadonlyMap<string, RuleSetting>): Diagnostic[] {
  if (settings.size === 0) return diags;
  const out: Diagnostic[] = [];
  for (const d of diags) {
    const s = settings.get(d.ruleId);
    if (s === undefined) out.push(d);
    else if (s !== 'off') out.push(s === d.severity ? d : { ...d, severity: s });
  }
  return out;
}
