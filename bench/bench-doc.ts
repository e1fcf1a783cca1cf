/**
 * Puts a benchmark's result into docs/BENCHMARKS.md under its `<!-- bench:NAME -->` marker, replacing what stood
 * there up to the next `## ` heading. The file is read at the moment of writing (never at the start of a long run),
 * so sections other benchmarks wrote meanwhile are kept.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench scripts run from dist/bench/). */
const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const BENCHMARKS_MD = join(REPO, 'docs', 'BENCHMARKS.md');

/**
 * Replace the body of section `name`. When the marker is missing, `heading` (a `## …` line) and the marker are
 * appended first; without a heading a missing marker is an error.
 */
export function writeBenchSection(name: string, body: string, heading?: string): void {
  const marker = `<!-- bench:${name} -->`;
  let doc = readFileSync(BENCHMARKS_MD, 'utf8');
  if (!doc.includes(marker)) {
    if (heading === undefined) throw new Error(`${marker} not found in docs/BENCHMARKS.md`);
    doc = doc.replace(/\n*$/, `\n\n${heading}\n\n${marker}\n`);
  }
  const after = doc.indexOf(marker) + marker.length;
  const next = doc.indexOf('\n## ', after);
  const end = next < 0 ? doc.length : next;
  writeFileSync(BENCHMARKS_MD, doc.slice(0, after) + '\n\n' + body.replace(/\n*$/, '\n') + doc.slice(end));
}
