/** Rendering validation results in the four output formats. */
import type { FileReport } from './index.js';

type ReportFormat = 'pretty' | 'json' | 'sarif' | 'github';
export const REPORT_FORMATS: readonly ReportFormat[] = ['pretty', 'json', 'sarif', 'github'];

interface RenderOptions {
  readonly format: ReportFormat;
  /** Colour (pretty only). The CLI decides (src/cli/color.ts). */
  readonly color: boolean;
}

/** Async so that only the chosen formatter (and chalk only when colour is on) is loaded: start-up matters when CI
 * runs `meshctl validate` on many small files. */
export async function renderReport(reports: readonly FileReport[], opts: RenderOptions): Promise<string> {
  switch (opts.format) {
    case 'json':
      return (await import('./formatters/json.js')).formatJson(reports);
    case 'sarif':
      return (await import('./formatters/sarif.js')).formatSarif(reports);
    case 'github':
      return (await import('./formatters/github.js')).formatGithub(reports);
    case 'pretty': {
      const { formatPretty, loadPaint } = await import('./formatters/pretty.js');
      return formatPretty(reports, await loadPaint(opts.color));
    }
  }
}

/**
 * One loaded file's diagnostics as `meshctl validate` prints them (pretty), or '' when there are none: what `run`,
 * `simulate`, `convert`, `prometheus-config` and `demo` write on stderr.
 */
export async function renderFileReport(report: FileReport, color: boolean): Promise<string> {
  return report.diagnostics.length === 0 ? '' : renderReport([report], { format: 'pretty', color });
}

export { summaryLine, totals, type Totals } from './formatters/summary.js';
