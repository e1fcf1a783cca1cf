/** Validating files named on the command line: expand globs and directories, read, parse and validate each. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileReport, ValidateOptions } from './index.js';
import { globFiles, hasMagic } from './util/glob.js';

/** A pattern that matches nothing, or a file that cannot be read: a usage / I/O problem (exit 2), not a config one. */
export class ConfigFileError extends Error {}

const CONFIG_EXTENSIONS = '{textproto,txtpb,pbtxt,yaml,yml,json}';

/** Patterns → file list (deduplicated, in the order given, each glob's matches sorted). */
export function expandPatterns(patterns: readonly string[], cwd = process.cwd()): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (f: string): void => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(f);
    }
  };
  for (const p of patterns) {
    if (hasMagic(p)) {
      const matches = globFiles(p, cwd);
      if (matches.length === 0) throw new ConfigFileError(`no files match \`${p}\``);
      matches.forEach(add);
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(p.startsWith('/') ? p : join(cwd, p)).isDirectory();
    } catch {
      /* a missing file is reported when it is read */
    }
    if (isDir) {
      const matches = globFiles(join(p, '**', `*.${CONFIG_EXTENSIONS}`), cwd);
      if (matches.length === 0) throw new ConfigFileError(`no config files in directory \`${p}\``);
      matches.forEach(add);
    } else add(p);
  }
  return out;
}

export interface FileReportWithError extends FileReport {
  /** Set when the file could not be read; its diagnostics are then empty. */
  readonly ioError?: string;
}

/**
 * Validate every file the patterns name. Files that cannot be read get a report with `ioError` (the CLI exits 2);
 * a pattern that matches nothing throws ConfigFileError.
 */
export async function validateFiles(patterns: readonly string[], opts: ValidateOptions = {}): Promise<FileReportWithError[]> {
  const files = expandPatterns(patterns);
  const { readConfigFile } = await import('../config/index.js');
  const { validateParsed } = await import('./index.js');
  const reports: FileReportWithError[] = [];
  for (const file of files) {
    try {
      const result = await readConfigFile(file);
      reports.push({ file, format: result.format, source: result.source, diagnostics: validateParsed(result, opts) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      reports.push({ file, diagnostics: [], ioError: message });
    }
  }
  return reports;
}
