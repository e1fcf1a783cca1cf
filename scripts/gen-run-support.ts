/** `npm run run-support`: regenerate docs/run-support.md from the run-fate table (src/config/run-fate). */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRunSupport } from './run-support-lib.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
writeFileSync(join(repo, 'docs', 'run-support.md'), renderRunSupport());
process.stdout.write('wrote docs/run-support.md\n');
