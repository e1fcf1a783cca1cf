/**
 * The config fuzzer at scale: 100,000 cases (mutated fixtures in every input format, and generated documents) through
 * parse → validate → convert → re-parse, then the hostile edge inputs at full size (1 MB strings, 20,000 clusters,
 * 10,000 levels of nesting, billion laughs). Prints a summary and, with --write, records it under
 * `<!-- bench:fuzz -->` in docs/BENCHMARKS.md.
 *
 *   node dist/bench/fuzz-config.js [--cases 100000] [--seed 20261125] [--write]
 */
import { cpus } from 'node:os';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  billionLaughs,
  deepNesting,
  edgeInputs,
  fieldNames,
  loadSeeds,
  mutatedInputArb,
  runCase,
  structuredInputArb,
  type FuzzInput,
} from '../test/hardening/fuzz-lib.js';
import { writeBenchSection } from './bench-doc.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const CASES = Number(arg('cases', '100000'));
const SEED = Number(arg('seed', '20261125'));
const WRITE = process.argv.includes('--write');
const BATCH = 1000;

interface Tally {
  cases: number;
  modelled: number;
  failures: number;
  times: number[];
  examples: string[];
  slowest: { ms: number; how: string };
}

function tally(): Tally {
  return { cases: 0, modelled: 0, failures: 0, times: [], examples: [], slowest: { ms: 0, how: '' } };
}

function record(t: Tally, input: FuzzInput, reparse: 'one' | 'all'): void {
  const out = runCase(input, { reparse });
  t.cases++;
  if (out.modelled) t.modelled++;
  t.times.push(out.ms);
  if (out.ms > t.slowest.ms) t.slowest = { ms: out.ms, how: input.how };
  if (out.failures.length > 0) {
    t.failures++;
    if (t.examples.length < 10) t.examples.push(`${input.how}: ${out.failures[0]!.split('\n')[0]}`);
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(name: string, t: Tally, wallMs: number): string {
  const s = [...t.times].sort((a, b) => a - b);
  return `| ${name} | ${t.cases.toLocaleString('en')} | ${Math.round(t.cases / (wallMs / 1000)).toLocaleString('en')} | ${pct(s, 50).toFixed(2)} | ${pct(s, 99).toFixed(2)} | ${s.length ? s[s.length - 1]!.toFixed(0) : '0'} | ${((100 * t.modelled) / Math.max(1, t.cases)).toFixed(0)}% | ${t.failures} |`;
}

const seeds = loadSeeds();
const keys = fieldNames(seeds);
const mutated = mutatedInputArb(seeds);
const generated = structuredInputArb(keys, (d) => stringify(d));

const mTally = tally();
const gTally = tally();
const nGenerated = Math.round(CASES * 0.2);
const nMutated = CASES - nGenerated;
let t0 = performance.now();
for (let done = 0, b = 0; done < nMutated; b++) {
  const n = Math.min(BATCH, nMutated - done);
  for (const input of fc.sample(mutated, { seed: SEED + b, numRuns: n })) record(mTally, input, 'one');
  done += n;
  if (b % 10 === 9) console.error(`fuzz: ${done.toLocaleString('en')} mutated cases, ${mTally.failures} failures`);
}
const mWall = performance.now() - t0;
t0 = performance.now();
for (let done = 0, b = 0; done < nGenerated; b++) {
  const n = Math.min(BATCH, nGenerated - done);
  for (const input of fc.sample(generated, { seed: SEED + 100_000 + b, numRuns: n })) record(gTally, input, 'one');
  done += n;
}
const gWall = performance.now() - t0;

// Full-size hostile inputs, each read back in every output format.
const edgeRows: string[] = [];
let edgeFailures = 0;
for (const input of [...edgeInputs(1), ...deepNesting(10_000), billionLaughs(10, 10, 'top'), billionLaughs(10, 10, 'cluster'), billionLaughs(10, 10, 'merge')]) {
  const out = runCase(input, { reparse: 'all' });
  if (out.failures.length > 0) edgeFailures++;
  edgeRows.push(`| ${input.how} | ${(Buffer.byteLength(input.text) / 1024).toFixed(0)} KiB | ${out.ms.toFixed(0)} | ${out.failures.length === 0 ? 'ok' : out.failures[0]!.split('\n')[0]!.replace(/\|/g, '\\|')} |`);
}

const all = [...mTally.examples, ...gTally.examples];
const text = [
  `Command: \`node dist/bench/fuzz-config.js --cases ${CASES} --seed ${SEED} --write\` (${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}).`,
  'Each case: parseConfig → validateParsed → emitConfig to textproto, YAML, JSON, Envoy YAML and Envoy JSON → one output',
  'read back (rotating). A failure is an exception, a diagnostic without a 1-based position, no model and no error, output',
  'meshctl cannot read back, or a small input (≤ 64 KiB) taking over 2 s of CPU time (15 s for larger ones); the ms',
  'columns are wall time.',
  '',
  '| inputs | cases | cases/s | p50 ms | p99 ms | max ms | reached a model | failures |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  row('mutated fixtures (all formats)', mTally, mWall),
  row('generated documents', gTally, gWall),
  '',
  `Slowest mutated case: ${mTally.slowest.ms.toFixed(0)} ms (${mTally.slowest.how.replace(/\|/g, '\\|').slice(0, 160)}).`,
  ...(all.length ? ['', 'Failures (first 10):', '', ...all.map((e) => `- ${e.replace(/\|/g, '\\|').slice(0, 300)}`)] : []),
  '',
  'Full-size hostile inputs (every output read back):',
  '',
  '| input | size | ms | result |',
  '| --- | ---: | ---: | --- |',
  ...edgeRows,
].join('\n');
console.log(text);

if (WRITE) {
  writeBenchSection('fuzz', text);
  console.error('fuzz: wrote docs/BENCHMARKS.md');
}
process.exitCode = mTally.failures + gTally.failures + edgeFailures > 0 ? 1 : 0;
