/**
 * Turning diagnostics off: rule settings (`--disable`, `.meshctl.yaml`) and inline
 * `# meshctl-disable-next-line RULE[, RULE…]` comments (text-proto and YAML; `//` works in text-proto too).
 */
import type { Diagnostic, Severity } from '../config/diagnostic.js';
import type { SourceFile } from '../config/source.js';
import { didYouMean } from '../config/suggest.js';

export type RuleSetting = Severity | 'off';

/** line number (1-based) → rule ids disabled on it ('*' = every rule). */
type InlineDisables = Map<number, Set<string>>;

/** The rule id of a suppression comment that names no rule, or a `meshctl-disable…` word that is no directive. */
export const UNKNOWN_SUPPRESSION = 'unknown-suppression';

const DIRECTIVE_NAME = 'meshctl-disable-next-line';
/** A comment word that looks like a directive: the real one, or a misspelling such as `meshctl-disable`. */
const DIRECTIVE = /(?:#|\/\/)\s*(meshctl-disable[\w-]*)([^\n]*)/;

/**
 * Find the directives. Each applies to the next line that is not blank and not a comment, so several directives
 * can stack above one line. A rule id that is not in `known` (every rule and parse-rule id) and a directive word
 * that is not `meshctl-disable-next-line` are reported as warnings at their line:column: a typo would otherwise
 * silence nothing without a word, while `--disable` and `.meshctl.yaml` refuse unknown ids.
 */
export function readSuppressions(source: SourceFile, known: ReadonlySet<string>): { disables: InlineDisables; problems: Diagnostic[] } {
  const disables: InlineDisables = new Map();
  const problems: Diagnostic[] = [];
  const text = source.text;
  if (!text.includes('meshctl-disable')) return { disables, problems };
  let pending: Set<string> | undefined;
  let start = 0;
  for (let i = 0; start <= text.length; i++) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end);
    const m = DIRECTIVE.exec(line);
    const trimmed = line.trim();
    const isComment = trimmed.startsWith('#') || trimmed.startsWith('//');
    if (m !== null) {
      const wordAt = start + m.index + m[0].indexOf(m[1]!);
      if (m[1] !== DIRECTIVE_NAME) {
        problems.push({
          ruleId: UNKNOWN_SUPPRESSION,
          severity: 'warning',
          message: `\`${m[1]}\` is not a meshctl directive; this comment silences nothing`,
          span: source.span(wordAt, wordAt + m[1]!.length),
          hint: `write \`# ${DIRECTIVE_NAME} RULE\` on the line above the one to silence`,
        });
      } else {
        pending ??= new Set();
        // Anything after `--` is an explanation, as in eslint.
        const idsText = m[2]!.split('--')[0]!;
        const idsAt = wordAt + m[1]!.length;
        const ids = [...idsText.matchAll(/[^\s,]+/g)];
        if (ids.length === 0) pending.add('*');
        for (const id of ids) {
          pending.add(id[0]);
          if (!known.has(id[0])) problems.push(unknownRule(source, id[0], idsAt + id.index, known));
        }
      }
    } else if (pending !== undefined && trimmed !== '' && !isComment) {
      disables.set(i + 1, pending);
      pending = undefined;
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return { disables, problems };
}

function unknownRule(source: SourceFile, id: string, at: number, known: ReadonlySet<string>): Diagnostic {
  const best = didYouMean(id, known);
  return {
    ruleId: UNKNOWN_SUPPRESSION,
    severity: 'warning',
    message: `unknown rule \`${id}\` in a suppression comment; it silences nothing`,
    span: source.span(at, at + id.length),
    ...(best !== undefined ? { hint: `did you mean \`${best}\`?` } : {}),
  };
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
