/** `--format github`: GitHub Actions workflow commands, which annotate the files in a pull request. */
import type { Severity } from '../../config/diagnostic.js';
import type { FileReport } from '../index.js';
import { summaryLine, totals } from './summary.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

/** Escaping rules of the runner's command parser. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatGithub(reports: readonly FileReport[]): string {
  let out = '';
  for (const r of reports) {
    for (const d of r.diagnostics) {
      const s = d.span;
      const props =
        `file=${escapeProperty(s.file)},line=${s.line},col=${s.column},endLine=${s.endLine},endColumn=${s.endColumn},` +
        `title=${escapeProperty(d.ruleId)}`;
      const message = d.hint === undefined ? d.message : `${d.message} (${d.hint})`;
      out += `::${COMMAND[d.severity]} ${props}::${escapeData(message)}\n`;
    }
  }
  return out + summaryLine(totals(reports)) + '\n';
}
