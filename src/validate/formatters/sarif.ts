/** `--format sarif`: SARIF 2.1.0, as GitHub code scanning uploads it (relative URIs against %SRCROOT%). */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Severity } from '../../config/diagnostic.js';
import type { Span } from '../../config/source.js';
import type { FileReport } from '../index.js';
import { RULES_BY_ID } from '../rules/index.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** A path relative to the current directory with forward slashes, percent-encoded as a URI reference. */
function uriOf(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(file)) {
    const r = relative(cwd, file);
    if (r.startsWith('..') || isAbsolute(r)) return { uri: pathToFileURL(file).href };
    file = r;
  }
  const uri = file.split(sep).join('/').replace(/^\.\//, '').split('/').map(encodeURIComponent).join('/');
  return { uri, uriBaseId: '%SRCROOT%' };
}

function location(span: Span, cwd: string, message?: string): Record<string, unknown> {
  return {
    physicalLocation: {
      artifactLocation: uriOf(span.file, cwd),
      region: { startLine: span.line, startColumn: span.column, endLine: span.endLine, endColumn: span.endColumn },
    },
    ...(message !== undefined ? { message: { text: message } } : {}),
  };
}

export function formatSarif(reports: readonly FileReport[], cwd = process.cwd()): string {
  const ruleIds: string[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Record<string, unknown>[] = [];
  const noteRule = (d: Diagnostic): number => {
    let i = ruleIndex.get(d.ruleId);
    if (i === undefined) {
      i = ruleIds.length;
      ruleIds.push(d.ruleId);
      ruleIndex.set(d.ruleId, i);
    }
    return i;
  };
  for (const r of reports) {
    for (const d of r.diagnostics) {
      const text = d.hint === undefined ? d.message : `${d.message}. Hint: ${d.hint}`;
      results.push({
        ruleId: d.ruleId,
        ruleIndex: noteRule(d),
        level: LEVEL[d.severity],
        message: { text },
        locations: [location(d.span, cwd)],
        ...(d.related !== undefined && d.related.length > 0
          ? { relatedLocations: d.related.map((x, id) => ({ id, ...location(x.span, cwd, x.message) })) }
          : {}),
      });
    }
  }
  const rules = ruleIds.map((id) => {
    const meta = RULES_BY_ID.get(id);
    const description = meta?.description ?? `meshctl parse diagnostic \`${id}\``;
    return {
      id,
      name: id,
      shortDescription: { text: description },
      help: { text: `See docs/rules.md#${id} in the meshctl repository.`, markdown: `See [\`${id}\`](docs/rules.md#${id}).` },
      defaultConfiguration: { level: LEVEL[meta?.severity ?? 'error'] },
      ...(meta !== undefined ? { properties: { category: meta.category } } : {}),
    };
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'meshctl', semanticVersion: toolVersion(), rules } },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd.endsWith('/') ? cwd : cwd + '/').href } },
        artifacts: reports.map((r) => ({ location: uriOf(r.file, cwd) })),
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
