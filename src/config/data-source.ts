/** Envoy's DataSource (a oneof: a file, an inline string, inline base64 bytes or an environment variable), read. */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { DataSource } from './model.js';
import { UsageError } from './usage-error.js';

export class DataSourceError extends UsageError {
  override readonly name = 'DataSourceError';
}

/** Relative file names resolve against `baseDir` (Envoy: its working directory). */
function resolveDataPath(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

/** The bytes of `ds`, or undefined when it sets nothing. `what` names it in the error when the file cannot be read. */
export function readDataSource(ds: DataSource | undefined, baseDir: string, what: string): Buffer | undefined {
  if (ds === undefined) return undefined;
  if (ds.filename) {
    const p = resolveDataPath(baseDir, ds.filename);
    try {
      return readFileSync(p);
    } catch (err) {
      throw new DataSourceError(`cannot read ${what} ${p}: ${(err as Error).message}`);
    }
  }
  if (ds.inline_string !== undefined) return Buffer.from(ds.inline_string);
  if (ds.inline_bytes !== undefined) return Buffer.from(ds.inline_bytes, 'base64');
  if (ds.environment_variable) return Buffer.from(process.env[ds.environment_variable] ?? '');
  return undefined;
}
