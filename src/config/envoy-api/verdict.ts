/**
 * How Envoy's judgement joins the parse (src/config/parse.ts): which files are judged, and how the judge's findings
 * and the decoder's are merged so that each problem is reported once, by the one that knows.
 */
import { UNMODELED_FIELD } from './rule-ids.js';
import type { Diagnostic } from '../diagnostic.js';
import { loadSchema } from '../descriptor.js';
import { TOP_LEVEL_FRAGMENT_KEYS } from '../normalize.js';
import type { SourceFile, Span } from '../source.js';
import type { SMessage } from '../syntax.js';
import { envoyApi } from './descriptors.js';
import { EnvoyJudge } from './judge.js';
import { bootstrapShape, hasTypeUrl, topLevelKeys, type BootstrapShape } from './shape.js';

let meshctlTopLevelKeys: ReadonlySet<string> | undefined;

/** How a YAML/JSON text's top-level keys relate to Envoy's Bootstrap and meshctl's (see shape.ts). */
export function bootstrapShapeOf(text: string): BootstrapShape {
  const keys = topLevelKeys(text);
  if (keys === undefined || keys.length === 0) return 'other';
  meshctlTopLevelKeys ??= new Set([...loadSchema().message('Bootstrap').fields.keys(), ...TOP_LEVEL_FRAGMENT_KEYS]);
  return bootstrapShape(keys, envoyApi().index.bootstrapFields, meshctlTopLevelKeys);
}

/**
 * Whether a YAML/JSON text is Envoy's (shape.ts): no top-level key only meshctl's shape has, and a `@type` or
 * top-level keys that make an Envoy Bootstrap.
 */
export function looksLikeEnvoy(text: string): boolean {
  const shape = bootstrapShapeOf(text);
  return shape === 'envoy' || (shape !== 'meshctl' && hasTypeUrl(text));
}

/** The decoder's rule ids whose findings the judge's verdict at the same place replaces. */
const DECODER_VALUE_RULES: ReadonlySet<string> = new Set(['invalid-value', 'unknown-field', UNMODELED_FIELD, 'duplicate-field', 'unmodeled-extension']);

function at(span: Span): string {
  return `${span.line}:${span.column}`;
}

/**
 * The judge's diagnostics and the decoder's, for a judged file. Where the judge reported something, the decoder's
 * value, field and extension findings at the same place go (Envoy's verdict stands). A value the decoder could not
 * hold that Envoy accepts (an enum value meshctl's model lacks, …) is a note, not an error: Envoy loads it, and
 * meshctl does not act on it.
 */
export function mergeVerdicts(judged: readonly Diagnostic[], refusedFields: readonly Span[], decoded: readonly Diagnostic[]): Diagnostic[] {
  const places = new Set(judged.map((d) => at(d.span)));
  for (const s of refusedFields) places.add(at(s));
  const out: Diagnostic[] = [...judged];
  for (const d of decoded) {
    if (DECODER_VALUE_RULES.has(d.ruleId) && places.has(at(d.span))) continue;
    if (d.ruleId === 'invalid-value') {
      out.push({ ruleId: UNMODELED_FIELD, severity: 'info', message: `Envoy accepts this value; meshctl's model cannot hold it, so meshctl does not act on it (${d.message})`, span: d.span });
      continue;
    }
    out.push(d);
  }
  return out;
}

/**
 * For a file read in meshctl's shape whose top-level keys are all Envoy Bootstrap fields too: the decoder's
 * `unknown-field` warnings for fields Envoy knows at that place (`layered_runtime` under a cluster's … , a
 * `path_config_source`) become notes that meshctl does not act on them, instead of "unknown" with a wrong
 * did-you-mean. Only files with such warnings are read again, for Envoy's judge to walk.
 */
export function reviewUnknownFields(source: SourceFile, diagnostics: Diagnostic[], reread: () => SMessage | undefined, yaml: boolean): Diagnostic[] {
  if (!diagnostics.some((d) => d.ruleId === 'unknown-field')) return diagnostics;
  if (bootstrapShapeOf(source.text) !== 'shared') return diagnostics;
  const tree = reread();
  if (tree === undefined) return diagnostics;
  const judge = new EnvoyJudge({ yaml, recordKnownFields: true });
  judge.root(tree);
  const known = judge.knownFields();
  const starts = source.starts();
  return diagnostics.map((d) => {
    if (d.ruleId !== 'unknown-field') return d;
    const where = known.get(starts[d.span.line - 1]! + d.span.column - 1);
    if (where === undefined) return d;
    return {
      ruleId: UNMODELED_FIELD,
      severity: 'info',
      message: `\`${where.field}\` (in ${where.message}) is an Envoy field meshctl does not act on; it is kept verbatim`,
      span: d.span,
    };
  });
}
