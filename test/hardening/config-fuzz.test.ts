/**
 * Hostile config input, in-process: fuzzed fixtures in every input format and known parser-exhaustion inputs go
 * through parse → validate → convert → re-parse. Each must end in a model or in diagnostics with a position, inside a
 * hang bound, and never throw. The seed is fixed so a failure reproduces; bench/fuzz-config.ts runs 100,000 cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
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
} from './fuzz-lib.js';

const SEED = Number(process.env.MESHCTL_FUZZ_SEED ?? 20261125);
const RUNS = Number(process.env.MESHCTL_FUZZ_RUNS ?? 2500);

const seeds = loadSeeds();
const keys = fieldNames(seeds);

function expectSound(input: FuzzInput): ReturnType<typeof runCase> {
  const out = runCase(input);
  assert.deepEqual(out.failures, [], `${input.how}\n${out.failures.join('\n')}`);
  return out;
}

test('the seed corpus covers every input format', () => {
  const formats = new Set(seeds.map((s) => s.from ?? parseConfig(s.text, s.file).format));
  assert.deepEqual([...formats].sort(), ['envoy', 'json', 'textproto', 'yaml']);
  assert.ok(seeds.length >= 40, `only ${seeds.length} seeds`);
});

test('every fixture, unmutated, survives the whole path', () => {
  for (const s of seeds.filter((x) => !x.name.includes(' as '))) {
    const out = runCase({ file: s.file, text: s.text, ...(s.from ? { from: s.from } : {}), how: s.name }, { reparse: 'one' });
    assert.deepEqual(out.failures, [], `${s.name}\n${out.failures.join('\n')}`);
  }
});

test(`mutated fixtures (${RUNS} cases, seed ${SEED}): a model or positioned diagnostics, never an exception`, () => {
  let modelled = 0;
  fc.assert(
    fc.property(mutatedInputArb(seeds), (input) => {
      const out = runCase(input, { reparse: 'one' });
      if (out.modelled) modelled++;
      if (out.failures.length > 0) throw new Error(`${input.how}\n${out.failures.join('\n')}`);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  );
  // Mutations that leave nothing parseable would test only the tokenizer.
  assert.ok(modelled > RUNS / 10, `only ${modelled} of ${RUNS} mutated inputs reached the decoder`);
});

test(`generated documents from the schema's field names (${RUNS} cases)`, () => {
  fc.assert(
    fc.property(structuredInputArb(keys, (d) => stringify(d)), (input) => {
      const out = runCase(input, { reparse: 'one' });
      if (out.failures.length > 0) throw new Error(`${input.how}\n${input.text.slice(0, 2000)}\n${out.failures.join('\n')}`);
    }),
    { seed: SEED + 1, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  );
});

test('10,000 levels of nesting in every format end in a nesting-too-deep error with a position', () => {
  for (const input of deepNesting(10_000)) {
    const out = expectSound(input);
    assert.equal(out.modelled, false, `${input.how}: a model came out`);
    const r = parseConfig(input.text, input.file, input.from ? { from: input.from } : {});
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.equal(d?.ruleId, 'nesting-too-deep', `${input.how}: ${d?.ruleId}: ${d?.message}`);
    assert.match(d.message, /nest/i);
  }
});

test('nesting just inside the limit still reads', () => {
  // 50 levels is deeper than any real config; it must not be refused.
  for (const input of deepNesting(50)) expectSound(input);
  const r = parseConfig('admin:\n  ' + '- '.repeat(50) + 'x\n', 'ok.yaml');
  assert.ok(!r.diagnostics.some((d) => d.ruleId === 'nesting-too-deep'));
});

test('YAML aliases that expand exponentially are refused with alias-expansion', () => {
  for (const where of ['top', 'cluster', 'merge'] as const) {
    const input = billionLaughs(10, 10, where);
    const out = expectSound(input);
    assert.equal(out.modelled, false, `${input.how}: expanded into a model`);
    const r = parseConfig(input.text, input.file);
    const d = r.diagnostics.find((x) => x.ruleId === 'alias-expansion');
    assert.ok(d, `${input.how}: ${r.diagnostics.map((x) => x.ruleId).join(', ')}`);
    assert.ok(d.span.line >= 1 && d.span.column >= 1);
  }
  // A few aliases, as people use them to share blocks, still expand.
  const small = billionLaughs(2, 3, 'cluster');
  assert.equal(parseConfig(small.text, small.file).diagnostics.some((d) => d.ruleId === 'alias-expansion'), false);
});

for (const input of edgeInputs(0.2)) {
  test(`edge input: ${input.how}`, () => {
    expectSound(input);
  });
}

test('text-proto and JSON with duplicate singular fields report duplicate-field at the second key', () => {
  for (const [file, text] of [
    ['d.textproto', 'admin {\n}\nadmin {\n}\n'],
    ['d.json', '{\n"admin": {},\n"admin": {}\n}'],
    ['d.yaml', 'admin: {}\n\nadmin: {}\n'],
  ] as const) {
    const r = parseConfig(text, file);
    const d = r.diagnostics.find((x) => x.ruleId === 'duplicate-field');
    assert.ok(d, `${file}: ${r.diagnostics.map((x) => x.ruleId).join(', ')}`);
    assert.equal(d.span.line, 3, file);
  }
});

test('the resource limit is a clear error, not an exhausted heap', () => {
  const text = Array.from({ length: 200 }, (_, i) => `cluster { name: "c${i}" }`).join('\n');
  const r = parseConfig(text, 'many.textproto', { maxResources: 100 });
  const d = r.diagnostics.find((x) => x.ruleId === 'too-many-resources');
  assert.ok(d, r.diagnostics.map((x) => x.ruleId).join(', '));
  assert.match(d.message, /200/);
  assert.match(d.message, /100/);
});

test('the size limit is a clear error', () => {
  const r = parseConfig('admin: {}\n' + '#'.repeat(2000), 'big.yaml', { maxBytes: 1000 });
  assert.equal(r.config, undefined);
  assert.equal(r.diagnostics[0]?.ruleId, 'file-too-large');
  assert.match(r.diagnostics[0]!.message, /big\.yaml/);
});
