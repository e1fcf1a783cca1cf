/**
 * `--format pretty`: for people. Each diagnostic as a header, a location, a code frame with a caret under the
 * span and the hint, then a summary line. Colour only when asked (the CLI decides: TTY, NO_COLOR, --no-color).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnostic, Severity } from '../../config/diagnostic.js';
import { codeFrame } from '../../config/code-frame.js';
import type { SourceFile } from '../../config/source.js';
import type { FileReport } from '../index.js';
import { summaryLine, totals } from './summary.js';

function severityLabel(s: Severity, c: ChalkInstance): string {
  if (s === 'error') return c.red.bold('error');
  if (s === 'warning') return c.yellow.bold('warning');
  return c.cyan.bold('info');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : '  ' + l))
    .join('\n');
}

function one(d: Diagnostic, source: SourceFile | undefined, c: ChalkInstance): string {
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

export function formatPretty(reports: readonly FileReport[], color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const blocks: string[] = [];
  for (const r of reports) for (const d of r.diagnostics) blocks.push(one(d, r.source, c));
  const t = totals(reports);
  const summary = summaryLine(t);
  const styled = t.errors > 0 ? c.red.bold(summary) : t.warnings > 0 ? c.yellow.bold(summary) : c.green.bold(summary);
  return (blocks.length > 0 ? blocks.join('\n\n') + '\n\n' : '') + styled + '\n';
}
