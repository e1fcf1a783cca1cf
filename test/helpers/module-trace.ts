/**
 * A module-resolution hook for `node --import`: every module URL the process resolves is appended to the file named by
 * MESHCTL_TRACE. Tests of what the real CLI loads (and what it leaves unloaded until needed) run it with this.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes the hook into a new temp directory; returns the module to pass to `node --import`. */
export function moduleTraceHook(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-module-trace-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MESHCTL_TRACE, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  return join(dir, 'register.mjs');
}
