/**
 * Envoy's judgement of a dialect file's Envoy form (src/config/envoy-api/envoy-form.ts), merged with meshctl's own
 * findings so that each problem is reported once.
 *
 * The policy: a finding of the Envoy form is dropped when a meshctl diagnostic (error or warning, from the parser or
 * a rule) that checks the same thing — SAME_CHECKS below — stands where the finding lands (its span contains the
 * finding's start). meshctl's message says it in the dialect's own terms; the Envoy form adds what no meshctl rule
 * checks (a range from a protoc-gen-validate annotation, a required message meshctl's model leaves optional, …).
 * Findings about the same place but of another kind stay (a connection manager with an HTTP3 codec on a TCP listener
 * and with no route configuration is two problems).
 */
import type { Diagnostic } from '../config/diagnostic.js';
import { judgeEnvoyForm } from '../config/envoy-api/envoy-form.js';
import { ENVOY_FORM_NOT_JUDGED } from '../config/envoy-api/rule-ids.js';
import type { Bootstrap } from '../config/model.js';
import { resourceCount } from '../config/parse.js';
import { pointSpan, type SourceFile, type Span } from '../config/source.js';

/**
 * The most listeners, clusters, virtual hosts and routes a dialect file may hold for its Envoy form to be judged.
 * Judging it means converting the whole model and judging the result, about as much work again as reading the file:
 * measured in process at 2,101 resources (1,000 clusters and routes), 260 ms warm and 800 ms cold on the shared
 * 2-core machine (load average 23). A 10,000-cluster file would go past validate's one-second budget
 * (docs/BENCHMARKS.md); this bound keeps the added time to a few hundred milliseconds at most, and a bigger file gets
 * a note saying how to judge its Envoy form instead.
 */
export const ENVOY_FORM_MAX_RESOURCES = 2_000;

/** meshctl's rules (and the decoder's findings) → the Envoy judgements they already make, in the dialect's terms. */
const SAME_CHECKS: Readonly<Record<string, readonly string[]>> = {
  // the decoder
  'unknown-field': ['envoy-unknown-field'],
  'invalid-value': ['envoy-invalid-value', 'envoy-unknown-enum-value', 'envoy-enum-rule', 'envoy-number-rule', 'envoy-string-rule', 'envoy-duration-rule'],
  'duplicate-field': ['envoy-oneof-conflict', 'duplicate-field'],
  // the rules
  'required-field': ['envoy-required', 'envoy-oneof-required', 'envoy-string-rule', 'envoy-repeated-rule', 'envoy-duration-rule'],
  'invalid-port': ['envoy-number-rule'],
  'invalid-address': ['envoy-string-rule', 'envoy-required', 'envoy-oneof-required'],
  'invalid-nameserver': ['envoy-number-rule', 'envoy-string-rule'],
  'invalid-endpoint-weight': ['envoy-number-rule'],
  'invalid-cluster-config': ['envoy-number-rule', 'envoy-enum-rule', 'envoy-duration-rule'],
  'invalid-duration': ['envoy-duration-rule', 'envoy-invalid-value'],
  'invalid-domain': ['envoy-repeated-rule', 'envoy-string-rule'],
  'invalid-codec': ['envoy-enum-rule'],
  'invalid-regex': ['envoy-string-rule'],
  'route-path-specifier': ['envoy-oneof-conflict', 'envoy-oneof-required'],
  'route-action': ['envoy-oneof-conflict', 'envoy-oneof-required'],
  'weighted-cluster-weights': ['envoy-number-rule', 'envoy-repeated-rule'],
  'weighted-cluster-zero-weight': ['envoy-number-rule'],
  'deprecated-total-weight': ['envoy-deprecated-field'],
};

function contains(s: Span, line: number, column: number): boolean {
  if (line < s.line || line > s.endLine) return false;
  if (line === s.line && column < s.column) return false;
  // the end is exclusive, but a point span (a message's start) is one column wide at most
  return !(line === s.endLine && column >= Math.max(s.endColumn, s.column + 1));
}

/** What Envoy refuses in the Envoy form of a dialect file, less what `reported` (meshctl's findings on it) already says. */
export function envoyFormFindings(config: Bootstrap, source: SourceFile, reported: readonly Diagnostic[]): Diagnostic[] {
  const count = resourceCount(config);
  if (count > ENVOY_FORM_MAX_RESOURCES) {
    return [
      {
        ruleId: ENVOY_FORM_NOT_JUDGED,
        severity: 'info',
        message: `the file's Envoy form was not judged by Envoy's descriptors: it holds ${count} listeners, clusters, virtual hosts and routes, and meshctl judges it for at most ${ENVOY_FORM_MAX_RESOURCES}`,
        span: pointSpan(source.name),
        hint: `judge it as Envoy would load it: \`meshctl convert --to envoy ${source.name} > envoy.yaml && meshctl validate envoy.yaml\``,
      },
    ];
  }
  const findings = judgeEnvoyForm(config, source);
  if (findings.length === 0) return findings;
  const covering = reported.filter((d) => d.severity !== 'info' && SAME_CHECKS[d.ruleId] !== undefined);
  return findings
    .filter((f) => !covering.some((d) => d.span.file === f.span.file && SAME_CHECKS[d.ruleId]!.includes(f.ruleId) && contains(d.span, f.span.line, f.span.column)))
    .map((f) => ({ ...f, message: `${f.message} (in the Envoy form, as \`meshctl convert --to envoy\` writes it)` }));
}
