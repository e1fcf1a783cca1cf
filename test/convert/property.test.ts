/**
 * Property: for models generated from the schema (schemas/meshctl.descriptor.json), printing in text-proto, YAML or
 * JSON and parsing the text back gives the same model. Every message type is generated (to a bounded depth) and
 * placed in a Bootstrap along a path of fields from the root, so the whole schema is covered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/index.js';
import { emitConfig } from '../../src/config/convert.js';
import type { JsonValue } from '../../src/config/json-value.js';
import type { Bootstrap } from '../../src/config/model.js';
import { BOOTSTRAP, schema, type FieldInfo } from '../../src/config/emit/schema.js';
import { plain } from './helpers.js';

const S = schema();
type Obj = Record<string, unknown>;

/**
 * Fields the reader rewrites on purpose (the article's dialect), so they cannot come back as written:
 * the TLS socket inside the connection manager moves to the filter chain.
 */
const EXCLUDED = new Set(['meshctl.config.v1.HttpConnectionManager.transport_socket']);

/** Names that make the reader treat a filter's or socket's typed_config as another (unmodelled) extension. */
const EXTENSION_NAMES: Record<string, fc.Arbitrary<string>> = {
  'meshctl.config.v1.Filter.name': fc.constantFrom('envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager', 'edge'),
  'meshctl.config.v1.TransportSocket.name': fc.constantFrom('envoy.transport_sockets.tls', 'tls'),
};

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '80', 'true', 'null', '~', '0.25s', 'a: b', '# not a comment', '- x', 'tab\there', 'new\nline', '"q"', "'s'", '\\', '{}', '[x]', 'ROUND_ROBIN', ' lead', 'trail '),
  },
);

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

function scalarArb(type: string | undefined): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
    case 'bytes':
      return text;
    case 'bool':
      return fc.boolean();
    case 'uint32':
    case 'fixed32':
      return fc.nat({ max: 0xffffffff });
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'uint64':
    case 'fixed64':
      return fc.maxSafeNat();
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return fc.maxSafeInteger();
    case 'double':
    case 'float':
      // every double, NaN, ±Infinity and -0 included
      return type === 'float' ? fc.float().map(Math.fround) : fc.double();
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

const duration = fc
  .record({ seconds: fc.integer({ min: 0, max: 315_576_000 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) })
  .map((d) => (d.seconds === 0 && d.nanos === 0 ? { seconds: 0, nanos: 0 } : d));

const jsonKey = fc.oneof(fc.constantFrom('name', 'typed_config', '@type', 'value', 'x-y', 'a b'), fc.string({ minLength: 1, maxLength: 8 })).filter(
  (k) => k !== '__proto__',
);
// integers past 2^53 in verbatim JSON are read back as their digits (a string), so they cannot survive as numbers
const jsonNumber = finiteDouble.filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d));
const jsonLeaf: fc.Arbitrary<JsonValue> = fc.oneof(text, fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.boolean(), fc.constant(null), jsonNumber);
const jsonObject: fc.Arbitrary<{ [k: string]: JsonValue }> = fc.letrec<{ obj: { [k: string]: JsonValue }; value: JsonValue }>((tie) => ({
  obj: fc.dictionary(jsonKey, tie('value'), { maxKeys: 3, depthIdentifier: 'json' }),
  value: fc.oneof({ depthSize: 'small', depthIdentifier: 'json' }, jsonLeaf, tie('obj'), fc.array(tie('value'), { maxLength: 2, depthIdentifier: 'json' })),
})).obj;

function valueArb(owner: string, f: FieldInfo, depth: number): fc.Arbitrary<unknown> | undefined {
  const special = EXTENSION_NAMES[`${owner}.${f.name}`];
  if (special !== undefined) return special;
  switch (f.kind) {
    case 'duration':
      return duration;
    case 'enum':
      return fc.constantFrom(...S.enumValues(f.typeName!).values);
    case 'struct':
      return jsonObject;
    case 'scalar':
    case 'wrapper':
      return scalarArb(f.scalar);
    case 'message':
      return depth <= 0 ? undefined : messageArb(f.typeName!, depth - 1);
  }
}

const unmodeled = fc.dictionary(
  fc.stringMatching(/^x_[a-z][a-z0-9_]{0,6}$/),
  jsonObject.map((o): JsonValue => o),
  { minKeys: 1, maxKeys: 2 },
);

/** A message of the given type with up to four of its fields set, nested at most `depth` messages deep. */
function messageArb(typeName: string, depth: number): fc.Arbitrary<Obj> {
  const fields = S.message(typeName).fields.filter((f) => !EXCLUDED.has(`${typeName}.${f.name}`));
  const entries: Array<[string, fc.Arbitrary<unknown>]> = [];
  for (const f of fields) {
    const v = valueArb(typeName, f, depth);
    if (v === undefined) continue;
    entries.push([f.name, f.repeated ? fc.array(v, { minLength: 1, maxLength: 2 }) : v]);
  }
  return fc
    .tuple(fc.subarray(entries, { maxLength: Math.min(4, entries.length) }), fc.option(unmodeled, { freq: 6 }))
    .chain(([chosen, extra]) =>
      fc.tuple(...chosen.map(([, arb]) => arb)).map((values) => {
        const o: Obj = {};
        chosen.forEach(([name], i) => (o[name] = values[i]));
        if (extra !== null) o.unmodeled = extra;
        return o;
      }),
    );
}

/** For each message type, the fields leading to it from Bootstrap (breadth first: the shortest path). */
function pathsFromRoot(): Map<string, Array<{ field: string; repeated: boolean }>> {
  const paths = new Map<string, Array<{ field: string; repeated: boolean }>>([[BOOTSTRAP, []]]);
  const queue = [BOOTSTRAP];
  while (queue.length > 0) {
    const t = queue.shift()!;
    for (const f of S.message(t).fields) {
      if (f.kind !== 'message' || paths.has(f.typeName!) || EXCLUDED.has(`${t}.${f.name}`)) continue;
      paths.set(f.typeName!, [...paths.get(t)!, { field: f.name, repeated: f.repeated }]);
      queue.push(f.typeName!);
    }
  }
  return paths;
}

function embed(value: Obj, path: Array<{ field: string; repeated: boolean }>): Bootstrap {
  let v: Obj = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i]!;
    v = { [step.field]: step.repeated ? [v] : v };
  }
  return v as Bootstrap;
}

const FORMATS = ['textproto', 'yaml', 'json'] as const;
const EXT = { textproto: 'textproto', yaml: 'yaml', json: 'json' } as const;
const paths = pathsFromRoot();

test('every message type is reachable from Bootstrap', () => {
  const all = S.messageNames().filter((n) => n.startsWith('meshctl.'));
  assert.deepEqual(all.filter((n) => !paths.has(n)), []);
});

for (const format of FORMATS) {
  test(`property: emit → parse is the identity for generated models (${format})`, () => {
    for (const [typeName, path] of paths) {
      const arb = messageArb(typeName, 2).map((m) => embed(m, path));
      fc.assert(
        fc.property(arb, (model) => {
          const { text: out } = emitConfig(model, format);
          const back = parseConfig(out, `generated.${EXT[format]}`, { from: format });
          const errors = back.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.span.line}:${d.span.column} ${d.message}`);
          assert.deepEqual(errors, [], `${typeName}: the ${format} output does not parse:\n${out}`);
          assert.deepStrictEqual(plain(back.config), plain(model), `${typeName} via ${format}:\n${out}`);
        }),
        { numRuns: 12, seed: 0x6d657368 + FORMATS.indexOf(format) },
      );
    }
  });
}
