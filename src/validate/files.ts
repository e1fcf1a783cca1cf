/** Validating files named on the command line: expand globs and directories, read, parse and validate each. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../config/usage-error.js';
import type { FileReport, ValidateOptions } from './index.js';
import { loadConfig } from './load.js';
import { globFiles, hasMagic } from './util/glob.js';

const CONFIG_EXTENSIONS = '{textproto,txtpb,pbtxt,yaml,yml,json}';

/** Patterns → file list (deduplicated, in the order given, each glob's matches sorted). */
function expandPatterns(patterns: readonly string[], cwd = process.cwd()): string[] {
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
      if (matches.length === 0) throw new UsageError(`no files match \`${p}\``);
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
      if (matches.length === 0) throw new UsageError(`no config files in directory \`${p}\``);
      matches.forEach(add);
    } else add(p);
  }
  return out;
}

interface FileReportWithError extends FileReport {
  /** Set when the file could not be read; its diagnostics are then empty. */
  readonly ioError?: string;
}

/**
 * Validate every file the patterns name (`-` is stdin). Files that cannot be read get a report with `ioError` (the
 * CLI exits 2); a pattern that matches nothing is a UsageError.
 */
export async function validateFiles(patterns: readonly string[], opts: ValidateOptions = {}): Promise<FileReportWithError[]> {
  const files = expandPatterns(patterns);
  const reports: FileReportWithError[] = [];
  for (const file of files) {
    try {
      reports.push((await loadConfig(file, opts)).report);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      reports.push({ file, diagnostics: [], ioError: err.message });
    }
  }
  return reports;
}
