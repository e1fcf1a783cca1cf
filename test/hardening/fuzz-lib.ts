/**
 * Shared machinery of the config fuzzer (test/hardening/config-fuzz.test.ts runs a few thousand cases with a fixed
 * seed; bench/fuzz-config.ts runs 100,000). Inputs are real fixtures in every input format, mutated the way hostile or
 * broken files look (truncated, bytes flipped, keys duplicated, prototype-named keys, huge numbers, long and nasty
 * strings), plus structured documents generated from the schema's field names. Each input goes through the real path
 * a user's file takes: parseConfig → validateParsed → emitConfig in every output format → parse the output again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/index.js';
import type { Diagnostic, InputFormat, Span } from '../../src/config/index.js';
import { emitConfig } from '../../src/config/convert.js';
import type { OutputFormat } from '../../src/config/model.js';
import { validateParsed } from '../../src/validate/index.js';
import { FIXTURES } from '../helpers/cli.js';

export interface FuzzInput {
  /** File name handed to the parser: its extension picks the format unless `from` is set. */
  readonly file: string;
  readonly text: string;
  readonly from?: InputFormat;
  /** What produced it, for the failure message. */
  readonly how: string;
}

export interface CaseOutcome {
  readonly ms: number;
  readonly modelled: boolean;
  readonly diagnostics: number;
  /** Broken promises: an exception, a diagnostic without a position, a model-less result without an error... */
  readonly failures: string[];
}

/** A bound that only a hang or a super-linear blow-up crosses; "small" inputs are under SMALL_INPUT bytes. */
export const SMALL_INPUT = 64 * 1024;
export const SMALL_CASE_MS = 2_000;
export const LARGE_CASE_MS = 15_000;

/** What the fuzzer converts to and reads back (Envoy's text format is checked by protoc: test/convert/pbtext.test.ts). */
type Readable = Exclude<OutputFormat, 'envoy-textproto'>;
const OUTPUTS: readonly Readable[] = ['textproto', 'yaml', 'json', 'envoy', 'envoy-json'];
const REPARSE_AS: Record<Readable, { file: string; from: InputFormat }> = {
  textproto: { file: 'out.textproto', from: 'textproto' },
  yaml: { file: 'out.yaml', from: 'yaml' },
  json: { file: 'out.json', from: 'json' },
  envoy: { file: 'out.yaml', from: 'envoy' },
  'envoy-json': { file: 'out.json', from: 'envoy' },
};
const SEVERITIES = new Set(['error', 'warning', 'info']);

function checkSpan(span: Span | undefined, where: string, out: string[]): void {
  if (span === undefined || span === null) {
    out.push(`${where}: no span`);
    return;
  }
  const ok =
    Number.isInteger(span.line) &&
    Number.isInteger(span.column) &&
    Number.isInteger(span.endLine) &&
    Number.isInteger(span.endColumn) &&
    span.line >= 1 &&
    span.column >= 1 &&
    (span.endLine > span.line || (span.endLine === span.line && span.endColumn >= span.column));
  if (!ok) out.push(`${where}: bad span ${JSON.stringify(span)}`);
  if (typeof span.file !== 'string' || span.file === '') out.push(`${where}: span without a file`);
}

export function checkDiagnostics(diags: readonly Diagnostic[], stage: string, out: string[]): void {
  for (const d of diags) {
    const where = `${stage} ${d.ruleId}`;
    if (typeof d.ruleId !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(d.ruleId)) out.push(`${stage}: rule id ${JSON.stringify(d.ruleId)} is not kebab-case`);
    if (!SEVERITIES.has(d.severity)) out.push(`${where}: severity ${String(d.severity)}`);
    if (typeof d.message !== 'string' || d.message.trim() === '') out.push(`${where}: empty message`);
    checkSpan(d.span, where, out);
    for (const r of d.related ?? []) checkSpan(r.span, `${where} (related)`, out);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 5).join('\n')}`;
  return String(err);
}

let rotation = 0;

/**
 * Run one input through parse → validate → convert (every output format) → re-parse. `reparse: 'one'` reads back
 * one output per case, rotating through the formats (the re-parse is most of a case's cost).
 */
export function runCase(input: FuzzInput, opts: { reparse?: 'all' | 'one' } = {}): CaseOutcome {
  const reparseAt = opts.reparse === 'one' ? rotation++ % OUTPUTS.length : -1;
  const failures: string[] = [];
  const t0 = performance.now();
  // The bound is on CPU time: wall time on a shared CI machine measures the neighbours as much as meshctl.
  const cpu0 = process.cpuUsage();
  let modelled = false;
  let count = 0;
  let stage = 'parse';
  try {
    const parsed = parseConfig(input.text, input.file, input.from !== undefined ? { from: input.from } : {});
    checkDiagnostics(parsed.diagnostics, 'parse', failures);
    if (parsed.config === undefined && !parsed.diagnostics.some((d) => d.severity === 'error')) {
      failures.push('parse: no model and no error diagnostic');
    }
    stage = 'validate';
    const diags = validateParsed(parsed, { now: new Date('2026-01-01T00:00:00Z') });
    count = diags.length;
    checkDiagnostics(diags, 'validate', failures);
    if (parsed.config !== undefined) {
      modelled = true;
      for (const [k, to] of OUTPUTS.entries()) {
        stage = `convert --to ${to}`;
        const emitted = emitConfig(parsed.config, to);
        if (typeof emitted.text !== 'string') failures.push(`${stage}: no text`);
        checkDiagnostics(emitted.diagnostics, stage, failures);
        if (reparseAt >= 0 && k !== reparseAt) continue;
        stage = `re-parse of --to ${to}`;
        const again = parseConfig(emitted.text, REPARSE_AS[to].file, { from: REPARSE_AS[to].from });
        checkDiagnostics(again.diagnostics, stage, failures);
        const syntax = again.diagnostics.find((d) => d.ruleId === 'syntax-error');
        if (syntax !== undefined) {
          failures.push(`${stage}: meshctl cannot read its own output: ${syntax.message} at ${syntax.span.line}:${syntax.span.column}`);
        }
      }
    }
  } catch (err) {
    failures.push(`${stage} threw ${describeError(err)}`);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const bound = Buffer.byteLength(input.text) <= SMALL_INPUT ? SMALL_CASE_MS : LARGE_CASE_MS;
  if (cpuMs > bound) failures.push(`took ${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall; bound ${bound} ms for ${Buffer.byteLength(input.text)} bytes)`);
  return { ms, modelled, diagnostics: count, failures };
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds: every fixture, and every fixture that parses printed in every output format.

export interface Seed {
  readonly name: string;
  readonly file: string;
  readonly text: string;
  readonly from?: InputFormat;
}

const FIXTURE_DIRS = ['seed', 'textproto', 'valid', 'invalid', 'envoy', 'quickstart'];
const READABLE = new Set(['.textproto', '.yaml', '.yml', '.json', '.pbtxt', '.txtpb', '.conf']);

export function loadSeeds(): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of FIXTURE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(FIXTURES, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!READABLE.has(extname(name)) || name.includes('.meshctl.') || name.endsWith('.expected.json')) continue;
      const text = readFileSync(join(FIXTURES, dir, name), 'utf8');
      seeds.push({ name: `${dir}/${name}`, file: name, text });
      const parsed = parseConfig(text, name);
      if (parsed.config === undefined) continue;
      for (const to of OUTPUTS) {
        try {
          const out = emitConfig(parsed.config, to).text;
          seeds.push({ name: `${dir}/${name} as ${to}`, file: REPARSE_AS[to].file, text: out, from: REPARSE_AS[to].from });
        } catch {
          // A seed the emitter cannot print shows up as a failure of the plain fixture's case.
        }
      }
    }
  }
  return seeds;
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations.

/** Keys that collide with Object.prototype, and other names a careless lookup table trips over. */
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '@type', 'then'];

const TOKENS = [
  '{', '}', '[', ']', '<', '>', ':', ',', ';', '"', "'", '\\', '#', '&a', '*a', '<<: *a', '!!binary', '!tag', '? ', '- ',
  '---', '...', '|', '>-', '%YAML 1.2', '0x', '-', '.', 'e', '\t', '\n', '\r\n', '\r', ' ', '\u0000', '\ud800', '\udc00',
  '\uffff', '\ufeff', '\u2028', '\u202e', '💥', 'NaN', 'nan', '-inf', 'Infinity', '1e999', '-1e-999', '-0',
  '18446744073709551616', '9007199254740993', '0777', '0x7fffffffffffffffffff', '1.5s', '-1s', '99999999999999999999s',
  'true', 'null', '~', '"\\x00"', '"\\uD800"', '"\\777"', '"\\', ...HOSTILE_KEYS,
];

const HUGE_NUMBERS = [
  '1e400', '-1e400', '1e-400', '18446744073709551615', '18446744073709551616', '-9223372036854775809',
  '340282366920938463463374607431768211456', '0xffffffffffffffffffffffff', '0.00000000000000000000000000001',
  '123456789012345678901234567890123456789012345678901234567890', 'nan', '-inf', '4294967296', '65536', '-1', '0',
];

/** Strings that are awkward for a printer or a terminal: NUL, lone surrogates, quotes, escapes, bidi overrides. */
export const NASTY_STRINGS = [
  '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud800y', '"', '\\', '\\"', "'", '\n', '\r\n', '\t', '\u2028', '\u202e',
  '${x}', '%s%n', '💥', '\ufeff', '#', ': ', '- x', '{', '}', '<', '*', '&', '!', '@type', '__proto__', '',
];

type Mutation = (text: string) => string;

function splice(text: string, at: number, remove: number, insert: string): string {
  const i = Math.max(0, Math.min(text.length, at));
  return text.slice(0, i) + insert + text.slice(i + remove);
}

function replaceNth(text: string, re: RegExp, n: number, by: (m: string) => string): string {
  const all = [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))];
  if (all.length === 0) return text;
  const m = all[n % all.length]!;
  return splice(text, m.index, m[0].length, by(m[0]));
}

/** One mutation, given as data so fast-check can shrink it and print it. */
const mutationArb: fc.Arbitrary<{ label: string; apply: Mutation }> = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({
    label: `truncate@${f.toFixed(3)}`,
    apply: (t: string) => t.slice(0, Math.floor(t.length * f)),
  })),
  fc.tuple(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.boolean()).map(
    ([flips, latin1]) => ({
      label: `flip ${flips.length} bytes${latin1 ? ' (read as latin1)' : ''}`,
      apply: (t: string) => {
        const b = Buffer.from(t, 'utf8');
        if (b.length === 0) return t;
        for (const [pos, byte] of flips) b[Math.floor(pos * (b.length - 1))] = byte;
        // Invalid UTF-8 decodes to U+FFFD, as readFile(path, 'utf8') gives it to the parser.
        return latin1 ? b.toString('latin1') : new TextDecoder('utf-8').decode(b);
      },
    }),
  ),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...TOKENS), fc.integer({ min: 1, max: 3 })).map(([f, tok, n]) => ({
    label: `insert ${JSON.stringify(tok)}x${n}`,
    apply: (t: string) => splice(t, Math.floor(t.length * f), 0, tok.repeat(n)),
  })),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 200 })).map(([f, n]) => ({
    label: `delete ${n} chars`,
    apply: (t: string) => splice(t, Math.floor(t.length * f), n, ''),
  })),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 5 })).map(([line, count]) => ({
    label: `duplicate ${count} line(s)`,
    apply: (t: string) => {
      const lines = t.split('\n');
      const i = line % Math.max(1, lines.length);
      const block = lines.slice(i, i + count);
      lines.splice(i, 0, ...block);
      return lines.join('\n');
    },
  })),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ({
    label: 'swap two lines',
    apply: (t: string) => {
      const lines = t.split('\n');
      const i = a % lines.length;
      const j = b % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    },
  })),
  fc.tuple(fc.nat(), fc.constantFrom(...HUGE_NUMBERS)).map(([n, num]) => ({
    label: `number → ${num}`,
    apply: (t: string) => replaceNth(t, /(?<![\w.])-?\d+(\.\d+)?(?![\w.])/, n, () => num),
  })),
  fc.tuple(fc.nat(), fc.constantFrom(...NASTY_STRINGS), fc.integer({ min: 0, max: 3 })).map(([n, s, big]) => {
    const long = big === 3 ? 'x'.repeat(100_000) : '';
    return {
      label: `string → ${JSON.stringify(s)}${long ? ' + 100k chars' : ''}`,
      apply: (t: string) => replaceNth(t, /"(?:[^"\\\n]|\\.)*"/, n, () => JSON.stringify(s + long)),
    };
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE_KEYS)).map(([n, key]) => ({
    label: `key → ${key}`,
    apply: (t: string) => replaceNth(t, /(?<=^\s*-?\s*"?)[A-Za-z_][\w]*(?="?\s*[:{<])/m, n, () => key),
  })),
  fc.tuple(fc.nat(), fc.integer({ min: 2, max: 50 })).map(([n, times]) => ({
    label: `repeat a value x${times}`,
    apply: (t: string) => replaceNth(t, /"(?:[^"\\\n]|\\.)*"/, n, (m) => Array(times).fill(m).join(t.trimStart().startsWith('{') ? ' ' : ' ')),
  })),
);

export function mutatedInputArb(seeds: readonly Seed[]): fc.Arbitrary<FuzzInput> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([seed, muts, keepFrom]) => {
      let text = seed.text;
      for (const m of muts) text = m.apply(text);
      const how = `${seed.name}: ${muts.map((m) => m.label).join(', ')}`;
      // Half the cases force the seed's format (as --from does); the rest let detection guess from the mangled text.
      return keepFrom && seed.from !== undefined
        ? { file: seed.file, text, from: seed.from, how }
        : { file: keepFrom ? seed.file : 'input', text, how: `${how}${keepFrom ? '' : ' (format detected from content)'}` };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Structured documents built from the schema's own field names, printed as JSON, YAML and text-proto.

type Doc = null | boolean | number | string | Doc[] | { [k: string]: Doc };

export function fieldNames(seeds: readonly Seed[]): string[] {
  const names = new Set<string>();
  for (const s of seeds) for (const m of s.text.matchAll(/\b([a-z][a-z0-9_]{2,})\b(?=\s*[:{<])/g)) names.add(m[1]!);
  return [...names].sort();
}

function docArb(keys: readonly string[]): fc.Arbitrary<Doc> {
  const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS) });
  const scalar: fc.Arbitrary<Doc> = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(1e308, -1e308, 2 ** 64, -(2 ** 63), Number.MAX_SAFE_INTEGER + 2, 5e-324),
    fc.string({ maxLength: 12 }),
    fc.constantFrom(...NASTY_STRINGS, '0.25s', '5s', '-1s', 'ROUND_ROBIN', 'STATIC', 'HTTP2', '10.0.0.1', '127.0.0.1', '::1', '*', '/'),
  );
  const { doc } = fc.letrec<{ doc: Doc; obj: Doc; arr: Doc }>((tie) => ({
    doc: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('obj'), tie('arr')),
    obj: fc.dictionary(key, tie('doc'), { maxKeys: 5 }) as fc.Arbitrary<Doc>,
    arr: fc.array(tie('doc'), { maxLength: 4 }) as fc.Arbitrary<Doc>,
  }));
  return doc;
}

function tpString(s: string): string {
  return JSON.stringify(s);
}

/** A text-proto rendering of a JSON-like document: objects are messages, arrays repeat the field. */
export function toTextproto(doc: Doc, indent = ''): string {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return '';
  let out = '';
  for (const [k, v] of Object.entries(doc)) {
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) out += `${indent}${k} {\n${toTextproto(item, indent + '  ')}${indent}}\n`;
      else if (Array.isArray(item)) out += `${indent}${k}: [${item.map((x) => (typeof x === 'string' ? tpString(x) : JSON.stringify(x) ?? 'null')).join(', ')}]\n`;
      else out += `${indent}${k}: ${typeof item === 'string' ? tpString(item) : String(item)}\n`;
    }
  }
  return out;
}

export function structuredInputArb(keys: readonly string[], stringify: (doc: Doc) => string): fc.Arbitrary<FuzzInput> {
  return fc.tuple(fc.dictionary(fc.constantFrom(...keys), docArb(keys), { maxKeys: 4 }), fc.constantFrom('json', 'yaml', 'textproto', 'envoy')).map(([doc, fmt]) => {
    const text = fmt === 'textproto' ? toTextproto(doc) : fmt === 'json' ? JSON.stringify(doc) : fmt === 'envoy' ? JSON.stringify({ ...doc, '@type': 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap' }) : stringify(doc);
    const file = fmt === 'textproto' ? 'gen.textproto' : fmt === 'yaml' ? 'gen.yaml' : 'gen.json';
    return { file, text, from: fmt as InputFormat, how: `generated ${fmt} document` };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile inputs that need no randomness: each is a known way to exhaust a parser.

export function deepNesting(depth: number): FuzzInput[] {
  // Block nesting costs indentation: depth d takes d²/2 bytes, so the block forms stop at 1,000 levels (0.5 MB);
  // compact sequences (`- - - x`) nest on one line.
  const blockDepth = Math.min(depth, 1000);
  const yamlBlock = Array.from({ length: blockDepth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
  return [
    { file: 'deep.textproto', text: 'admin ' + '{ a '.repeat(depth) + '}'.repeat(depth), how: `text-proto messages nested ${depth} deep` },
    { file: 'deep.textproto', text: 'admin: ' + '<a: '.repeat(depth) + '>'.repeat(depth), how: `text-proto <> messages nested ${depth} deep` },
    { file: 'deep.textproto', text: 'a: ' + '['.repeat(depth) + ']'.repeat(depth), how: `text-proto lists nested ${depth} deep` },
    { file: 'deep.json', text: '{"admin":'.repeat(depth) + '1' + '}'.repeat(depth), how: `JSON objects nested ${depth} deep` },
    { file: 'deep.json', text: '{"static_resources":{"clusters":' + '['.repeat(depth) + ']'.repeat(depth) + '}}', how: `JSON arrays nested ${depth} deep` },
    { file: 'deep.yaml', text: 'static_resources: ' + '{a: '.repeat(depth) + '}'.repeat(depth), how: `YAML flow mappings nested ${depth} deep` },
    { file: 'deep.yaml', text: 'admin: ' + '['.repeat(depth) + ']'.repeat(depth), how: `YAML flow sequences nested ${depth} deep` },
    { file: 'deep.yaml', text: yamlBlock, how: `YAML block mappings nested ${blockDepth} deep` },
    { file: 'deep.yaml', text: 'admin:\n  ' + '- '.repeat(depth) + 'x\n', how: `YAML compact block sequences nested ${depth} deep` },
    {
      file: 'deep.json',
      text: '{"@type":"type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap","static_resources":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}',
      from: 'envoy',
      how: `Envoy v3 JSON nested ${depth} deep`,
    },
  ];
}

/** "Billion laughs": `levels` anchors, each referring `fanout` times to the previous one. */
export function billionLaughs(levels: number, fanout: number, where: 'top' | 'cluster' | 'merge'): FuzzInput {
  const lines = [`l0: &l0 [${Array(fanout).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(fanout).fill(`*l${i - 1}`).join(', ')}]`);
  const top = `l${levels - 1}`;
  let text: string;
  if (where === 'top') text = lines.join('\n') + '\n';
  else if (where === 'cluster') {
    text = `x_anchors:\n${lines.map((l) => '  ' + l).join('\n')}\nstatic_resources:\n  clusters:\n    - name: c\n      metadata: *${top}\n`;
  } else {
    const maps = [`m0: &m0 {a: 1, b: 2}`];
    for (let i = 1; i < levels; i++) maps.push(`m${i}: &m${i} {${Array.from({ length: fanout }, (_, j) => `k${j}: *m${i - 1}`).join(', ')}}`);
    text = `x:\n${maps.map((l) => '  ' + l).join('\n')}\nadmin:\n  <<: *m${levels - 1}\n`;
  }
  return { file: 'laughs.yaml', text, how: `YAML aliases ${fanout}^${levels} (${where})` };
}

/** `scale` 1 is the bench's size (1 MB strings, 20,000 clusters); the test suite uses a fifth of it. */
export function edgeInputs(scale = 1): FuzzInput[] {
  const big = 'x'.repeat(Math.round(1_000_000 * scale));
  const mb = `${(big.length / 1e6).toFixed(1)} MB`;
  const clusters = Math.round(20_000 * scale);
  return [
    { file: 'empty.textproto', text: '', how: 'empty text-proto' },
    { file: 'empty.yaml', text: '', how: 'empty YAML' },
    { file: 'empty.json', text: '', how: 'empty JSON' },
    { file: 'ws.json', text: ' \n\t\r\n', how: 'whitespace JSON' },
    { file: 'nul.textproto', text: '\u0000'.repeat(100), how: 'NUL bytes as text-proto' },
    { file: 'nul.yaml', text: 'admin:\u0000\n  address: \u0000', how: 'NUL bytes in YAML' },
    { file: 'nul.json', text: '{"admin":{"\u0000":"\u0000"}}', how: 'NUL bytes in JSON keys' },
    { file: 's.textproto', text: 'cluster { name: "a\\x00\\uD800\\U0010FFFF\\U00110000" }', how: 'escapes for NUL, a lone surrogate, past U+10FFFF' },
    { file: 's.textproto', text: 'cluster { name: "\ud800\udc00\ud800" }', how: 'lone surrogate in a text-proto string' },
    { file: 's.yaml', text: 'static_resources:\n  clusters:\n    - name: "\\ud800"\n', how: 'lone surrogate escape in YAML' },
    { file: 's.json', text: '{"static_resources":{"clusters":[{"name":"\\ud800\\u0000"}]}}', how: 'lone surrogate escape in JSON' },
    { file: 'bom.yaml', text: '\ufeff\ufeffadmin: {}', how: 'two byte-order marks' },
    { file: 'latin1.textproto', text: Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28, 0xe2, 0x82]).toString('latin1'), how: 'invalid UTF-8 read as latin1' },
    { file: 'bad.textproto', text: new TextDecoder().decode(Buffer.from([0x63, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x20, 0x7b, 0xc3, 0x28, 0xa0, 0xa1, 0x7d])), how: 'invalid UTF-8 decoded' },
    { file: 'long.textproto', text: `cluster { name: "${big}" }`, how: `${mb} string in text-proto` },
    { file: 'long.yaml', text: `static_resources:\n  clusters:\n    - name: ${big}\n`, how: `${mb} plain scalar in YAML` },
    { file: 'long.json', text: `{"${big}": 1}`, how: `${mb} key in JSON` },
    { file: 'long.textproto', text: `${big} { }`, how: `${mb} field name in text-proto` },
    { file: 'num.textproto', text: `cluster { name: "a" connect_timeout: ${'9'.repeat(100_000)}s per_connection_buffer_limit_bytes: 0x${'f'.repeat(1000)} }`, how: '100k-digit numbers in text-proto' },
    { file: 'num.json', text: `{"static_resources":{"clusters":[{"name":"a","per_connection_buffer_limit_bytes":1e99999,"connect_timeout":"1e400s"}]}}`, how: 'overflowing numbers in JSON' },
    { file: 'num.yaml', text: `admin:\n  address:\n    socket_address:\n      port_value: ${'9'.repeat(400)}\n`, how: 'a 400-digit port in YAML' },
    { file: 'dup.json', text: `{"admin":{},"admin":{},"static_resources":{"clusters":[],"clusters":[]}}`, how: 'duplicate JSON keys' },
    { file: 'dup.textproto', text: 'admin { } admin { } admin { address { socket_address { port_value: 1 port_value: 2 } } }', how: 'duplicate text-proto fields' },
    { file: 'dup.yaml', text: 'admin: {}\nadmin: {}\n', how: 'duplicate YAML keys' },
    { file: 'proto.json', text: '{"__proto__":{"admin":1},"constructor":{"prototype":{}},"static_resources":{"toString":1,"clusters":[{"name":"a","hasOwnProperty":2,"valueOf":{}}]}}', how: 'Object.prototype names as JSON keys' },
    { file: 'proto.textproto', text: '__proto__ { } constructor { } toString: 1 cluster { name: "a" __proto__: 1 lb_policy: constructor codec: constructor }', how: 'Object.prototype names as text-proto fields and enum values' },
    { file: 'proto.yaml', text: 'static_resources:\n  listeners:\n    - name: l\n      filter_chains:\n        - filters:\n            - name: constructor\n              typed_config: {codec: toString, codec_type: __proto__, constructor: 1}\n', how: 'Object.prototype names as YAML values' },
    { file: 'many.textproto', text: Array.from({ length: clusters }, (_, i) => `cluster { name: "c${i}" }`).join('\n'), how: `${clusters} clusters` },
    { file: 'docs.yaml', text: 'admin: {}\n---\nadmin: {}\n---\n'.repeat(1000), how: '2,000 YAML documents' },
    { file: 'tags.yaml', text: 'admin: !!binary aGVsbG8=\nstatic_resources: !!set {a, b}\nx: !!timestamp 2001-12-14\ny: !custom 1\n', how: 'YAML tags' },
    { file: 'cycle.yaml', text: 'a: &a\n  b: *a\nadmin: *a\n', how: 'an alias inside its own anchor' },
    { file: 'undefined-alias.yaml', text: 'admin: *nothing\n', how: 'an alias to no anchor' },
    { file: 'keys.yaml', text: '? [a, b]\n: 1\n? {c: d}\n: 2\n1: x\nnull: y\ntrue: z\n', how: 'complex and non-string YAML keys' },
    { file: 'crlf.textproto', text: 'cluster {\r\n  name: "a"\r\r\n}\r', how: 'CR and CRLF line ends' },
  ];
}
