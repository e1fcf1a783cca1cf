/** The rule ids of Envoy's judgement (docs/rules.md, "Envoy's judgement"), for `--disable` and the docs test. */

/** What Envoy's parser refuses, and the judge's other findings. */
export const JUDGE_RULE_IDS = [
  'envoy-unknown-field',
  'envoy-invalid-value',
  'envoy-unknown-enum-value',
  'envoy-unknown-type',
  'envoy-oneof-conflict',
  'envoy-required',
  'envoy-oneof-required',
  'envoy-deprecated-field',
  'envoy-newer-api',
] as const;

/** One per family of protoc-gen-validate constraints (src/config/envoy-api/constraints.ts). */
export const CONSTRAINT_RULE_IDS = [
  'envoy-string-rule',
  'envoy-bytes-rule',
  'envoy-number-rule',
  'envoy-bool-rule',
  'envoy-enum-rule',
  'envoy-duration-rule',
  'envoy-timestamp-rule',
  'envoy-repeated-rule',
  'envoy-map-rule',
  'envoy-any-rule',
] as const;

export type ConstraintRuleId = (typeof CONSTRAINT_RULE_IDS)[number];

/** A field (or value) Envoy knows that meshctl's model does not act on: a note, never an error. */
export const UNMODELED_FIELD = 'unmodeled-field';

/** A dialect file too big for its Envoy form to be judged within validate's time budget (src/validate/envoy-form.ts): a note. */
export const ENVOY_FORM_NOT_JUDGED = 'envoy-form-not-judged';
