/**
 * `--format json`. The shape is stable (documented in docs/rules.md); new fields may be added, none renamed:
 *
 *     { "version": 1,
 *       "summary": { "files", "errors", "warnings", "infos" },
 *       "files": [ { "file", "format", "errors", "warnings", "infos",
 *                    "diagnostics": [ { "rule", "severity", "message", "line", "column", "endLine", "endColumn",
 *                                       "hint"?, "related"?: [ { "message", "file", "line", "column", "endLine", "endColumn" } ] } ] } ] }
 */
import type { Diagnostic } from '../../config/diagnostic.js';
import type { FileReport } from '../index.js';
import { totals } from './summary.js';

const JSON_REPORT_VERSION = 1;

function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  const o: Record<string, unknown> = {
    rule: d.ruleId,
    severity: d.severity,
    message: d.message,
    line: d.span.line,
    column: d.span.column,
    endLine: d.span.endLine,
    endColumn: d.span.endColumn,
  };
  if (d.hint !== undefined) o.hint = d.hint;
  if (d.related !== undefined && d.related.length > 0) {
    o.related = d.related.map((r) => ({
      message: r.message,
      file: r.span.file,
      line: r.span.line,
      column: r.span.column,
      endLine: r.span.endLine,
      endColumn: r.span.endColumn,
    }));
  }
  return o;
}

export function formatJson(reports: readonly FileReport[]): string {
  const t = totals(reports);
  return (
    JSON.stringify(
      {
        version: JSON_REPORT_VERSION,
        summary: t,
        files: reports.map((r) => {
          const ft = totals([r]);
          return {
            file: r.file,
            ...(r.format !== undefined ? { format: r.format } : {}),
            errors: ft.errors,
            warnings: ft.warnings,
            infos: ft.infos,
            diagnostics: r.diagnostics.map(diagnosticToJson),
          };
        }),
      },
      null,
      2,
    ) + '\n'
  );
}
