/** Rendering validation results in the four output formats. */
import type { FileReport } from './index.js';
import { formatGithub } from './formatters/github.js';
import { formatJson } from './formatters/json.js';
import { formatPretty } from './formatters/pretty.js';
import { formatSarif } from './formatters/sarif.js';

export type ReportFormat = 'pretty' | 'json' | 'sarif' | 'github';
export const REPORT_FORMATS: readonly ReportFormat[] = ['pretty', 'json', 'sarif', 'github'];

export interface RenderOptions {
  readonly format: ReportFormat;
  /** Colour (pretty only). The caller decides: a TTY, no NO_COLOR, no --no-color. */
  readonly color: boolean;
}

export function renderReport(reports: readonly FileReport[], opts: RenderOptions): string {
  switch (opts.format) {
    case 'json':
      return formatJson(reports);
    case 'sarif':
      return formatSarif(reports);
    case 'github':
      return formatGithub(reports);
    case 'pretty':
      return formatPretty(reports, opts.color);
  }
}

export { summaryLine, totals, type Totals } from './formatters/summary.js';
