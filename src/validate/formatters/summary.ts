/** Counting and the one-line summary shared by the formatters. */
import type { Severity } from '../../config/diagnostic.js';
import type { FileReport } from '../index.js';

export interface Totals {
  files: number;
  errors: number;
  warnings: number;
  infos: number;
}

export function totals(reports: readonly FileReport[]): Totals {
  const t: Totals = { files: reports.length, errors: 0, warnings: 0, infos: 0 };
  for (const r of reports) for (const d of r.diagnostics) count(t, d.severity);
  return t;
}

function count(t: Totals, s: Severity): void {
  if (s === 'error') t.errors++;
  else if (s === 'warning') t.warnings++;
  else t.infos++;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `2 errors, 1 warning in 3 files` (infos are added only when there are some). */
export function summaryLine(t: Totals): string {
  const parts = [plural(t.errors, 'error'), plural(t.warnings, 'warning')];
  if (t.infos > 0) parts.push(plural(t.infos, 'info'));
  return `${parts.join(', ')} in ${plural(t.files, 'file')}`;
}
