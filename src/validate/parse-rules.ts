/**
 * The rule ids the config layer (parsers, decoder) reports with, so that `--disable` and `.meshctl.yaml` accept
 * them and the SARIF output can describe them. Keep in step with src/config (the corpus test checks it).
 */
import { UNKNOWN_SUPPRESSION } from './suppress.js';
import { CONSTRAINT_RULE_IDS, ENVOY_FORM_NOT_JUDGED, JUDGE_RULE_IDS, UNMODELED_FIELD } from '../config/envoy-api/rule-ids.js';
import { RUN_IGNORED } from '../config/run-fate/rule-ids.js';

export const PARSE_RULE_IDS: readonly string[] = [
  ...JUDGE_RULE_IDS,
  ...CONSTRAINT_RULE_IDS,
  UNMODELED_FIELD,
  ENVOY_FORM_NOT_JUDGED,
  // `validate --target run` and run itself; `run-refused` cannot be turned off (src/validate/index.ts).
  RUN_IGNORED,
  'alias-expansion',
  'comments-dropped',
  'duplicate-field',
  'file-too-large',
  'ignored-keys-dropped',
  'invalid-value',
  'multi-document',
  'nesting-too-deep',
  'syntax-error',
  'too-many-resources',
  'unknown-field',
  UNKNOWN_SUPPRESSION,
  'unmodeled-extension',
];
