/**
 * `--format pretty`: for people. Each diagnostic as a header, a location, a code frame with a caret under the
 * span and the hint, then a summary line. Colour only when asked (the CLI decides, in src/cli/color.ts).
 */
import type { ChalkInstance } from 'chalk';
import type { Diagnostic, Severity } from '../../config/diagnostic.js';
import { codeFrame } from '../../config/code-frame.js';
import type { SourceFile } from '../../config/source.js';
import type { FileReport } from '../index.js';
import { summaryLine, totals } from './summary.js';

/** The styles the report uses. Without colour they are the identity, so CI runs (pipes, NO_COLOR) never load chalk:
 * importing it and its terminal probing is a tenth of `meshctl validate`'s start-up. */
interface Paint {
  readonly level: number;
  error(s: string): string;
  warning(s: string): string;
  info(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  success(s: string): string;
}

const same = (s: string): string => s;
const NO_PAINT: Paint = { level: 0, error: same, warning: same, info: same, dim: same, bold: same, green: same, success: same };

function chalkPaint(c: ChalkInstance): Paint {
  return {
    level: c.level,
    error: (s) => c.red.bold(s),
    warning: (s) => c.yellow.bold(s),
    info: (s) => c.cyan.bold(s),
    dim: (s) => c.dim(s),
    bold: (s) => c.bold(s),
    green: (s) => c.green(s),
    success: (s) => c.green.bold(s),
  };
}

/** Chalk at level 1 (16 colours) when colour is wanted, else the identity; chalk is imported only in the first case. */
export async function loadPaint(color: boolean): Promise<Paint> {
  if (!color) return NO_PAINT;
  const { Chalk } = await import('chalk');
  return chalkPaint(new Chalk({ level: 1 }));
}

function severityLabel(s: Severity, c: Paint): string {
  if (s === 'error') return c.error('error');
  if (s === 'warning') return c.warning('warning');
  return c.info('info');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : '  ' + l))
    .join('\n');
}

function one(d: Diagnostic, source: SourceFile | undefined, c: Paint): string {
  const s = d.span;
  const parts = [
    `${severityLabel(d.severity, c)}${c.dim(`[${d.ruleId}]`)}: ${c.bold(d.message)}`,
    `  ${c.dim('-->')} ${s.file}:${s.line}:${s.column}`,
  ];
  if (source !== undefined && source.name === s.file && s.line <= source.lineCount) parts.push(indent(codeFrame(source, s, { color: c.level > 0, linesBelow: 0, maxSpanLines: 3 })));
  for (const r of d.related ?? []) parts.push(`  ${c.dim('note:')} ${r.message} (${r.span.file}:${r.span.line}:${r.span.column})`);
  if (d.hint !== undefined) parts.push(`  ${c.green('hint:')} ${d.hint}`);
  return parts.join('\n');
}

export function formatPretty(reports: readonly FileReport[], c: Paint): string {
  const blocks: string[] = [];
  for (const r of reports) for (const d of r.diagnostics) blocks.push(one(d, r.source, c));
  const t = totals(reports);
  const summary = summaryLine(t);
  const styled = t.errors > 0 ? c.error(summary) : t.warnings > 0 ? c.warning(summary) : c.success(summary);
  return (blocks.length > 0 ? blocks.join('\n\n') + '\n\n' : '') + styled + '\n';
}
