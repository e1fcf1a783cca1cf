/** Access-log format strings: what Envoy refuses when it loads the config. */
import { jsonFormatStrings, listenerAccessLogs, logFormatOf, parseFormat, FormatError } from '../../config/access-log-format.js';
import type { JsonObject } from '../../config/json-value.js';
import { spanOf } from '../../config/node-meta.js';
import type { Span } from '../../config/source.js';
import { defineRule } from '../rule.js';

/** Each format string of one access-log entry (inline only: a text_format_source file is read by `run`). */
function formatStrings(entry: JsonObject): { path: string; text: string }[] {
  const tc = entry.typed_config;
  const spec = logFormatOf(tc !== null && typeof tc === 'object' && !Array.isArray(tc) ? tc : undefined);
  // Formatter extensions add their own operators, which only the extension knows: nothing to check here.
  if (spec.formatters > 0) return [];
  if (spec.kind === 'json') return jsonFormatStrings(spec.json!).map((s) => ({ path: `json_format.${s.path}`, text: s.text }));
  return spec.text === undefined ? [] : [{ path: 'format', text: spec.text }];
}

export const accessLogFormat = defineRule({
  id: 'access-log-format',
  severity: 'error',
  category: 'value',
  description: 'An access-log format string Envoy refuses: an unknown command operator, a `%` that starts none, a missing or stray argument.',
  messages: {
    invalid: 'access log {{where}}: {{reason}}',
  },
  check(ctx) {
    const check = (entry: JsonObject, at: Span | undefined): void => {
      for (const { path, text } of formatStrings(entry)) {
        try {
          parseFormat(text);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          ctx.report({ messageId: 'invalid', data: { where: path, reason: err.message }, at });
        }
      }
    };
    for (const l of ctx.index.listeners) {
      for (const entry of listenerAccessLogs(l)) check(entry, spanOf(l, 'access_log'));
    }
    for (const { hcm } of ctx.index.hcms) {
      (hcm.access_log ?? []).forEach((entry, i) => check(entry, spanOf(hcm, 'access_log', i)));
    }
  },
});
