/**
 * Reload a config on SIGHUP and when its file changes (`run` and `serve`): each change is loaded and validated
 * first; a config with errors is logged with its diagnostics (file:line:column) and ignored, the previous one keeps
 * serving. Reloads never overlap: a change during one runs once more after it.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Bootstrap } from '../config/model.js';
import type { LoadedConfig } from '../validate/load.js';
import { renderFileReport } from '../validate/report.js';

interface WatchOptions {
  readonly file: string;
  /** Watch the file (SIGHUP reloads either way). */
  readonly watch: boolean;
  readonly color: boolean;
  readonly log: (line: string) => void;
  /** How long a file must be quiet before it is read (default 150 ms: an editor's save is several writes). */
  readonly debounceMs?: number;
  /** Told of a refused edit (after it was logged). */
  readonly onRejected?: (loaded: LoadedConfig, report: string) => void;
  /** Told of an applied edit (after it was logged), with its diagnostics. */
  readonly onApplied?: (loaded: LoadedConfig) => Promise<void>;
}

export function watchConfig(opts: WatchOptions, load: () => Promise<LoadedConfig>, apply: (config: Bootstrap) => Promise<void>): { stop(): void; trigger(): void } {
  let running = false;
  let again = false;
  const doReload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const loaded = await load();
      if (loaded.config === undefined) {
        opts.log(`meshctl: reload of ${opts.file} refused (${loaded.errors} error${loaded.errors === 1 ? '' : 's'}); still serving the previous config`);
        const report = await renderFileReport(loaded.report, opts.color);
        if (report) opts.log(report.trimEnd());
        opts.onRejected?.(loaded, report);
      } else {
        await apply(loaded.config);
        opts.log(`meshctl: reloaded ${opts.file}`);
        await opts.onApplied?.(loaded);
      }
    } catch (err) {
      opts.log(`meshctl: reload of ${opts.file} failed: ${(err as Error).message}; still serving the previous config`);
    } finally {
      running = false;
      if (again) {
        again = false;
        void doReload();
      }
    }
  };
  const onHup = (): void => void doReload();
  // A write that truncates first (`>`, most editors' save without rename) shows the file empty for a moment; a
  // change seen then is a file still being written, not a config to serve (an empty config is valid and would take
  // every listener away). SIGHUP still reloads whatever the file holds.
  const onChange = (): void => {
    let size: number;
    try {
      size = statSync(opts.file).size;
    } catch {
      return void doReload();
    }
    if (size === 0) opts.log(`meshctl: ${opts.file} is empty (still being written?); waiting for the next change`);
    else void doReload();
  };
  process.on('SIGHUP', onHup);
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (opts.watch) {
    // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
    const abs = resolve(opts.file);
    const base = abs.slice(dirname(abs).length + 1);
    try {
      watcher = watch(dirname(abs), (_ev, name) => {
        if (name !== null && name !== base) return;
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(onChange, opts.debounceMs ?? 150);
      });
      watcher.on('error', () => undefined);
    } catch {
      // No watch support: SIGHUP still works.
    }
  }
  return {
    stop() {
      process.removeListener('SIGHUP', onHup);
      watcher?.close();
      if (debounce) clearTimeout(debounce);
    },
    trigger: () => void doReload(),
  };
}
