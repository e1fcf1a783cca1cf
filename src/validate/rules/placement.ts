/**
 * Constructs the article's dialect writes where, or how, Envoy would not. The parsers record each one as a dialect
 * note on the node (META.dialect, ids listed in src/config/normalize.ts); these rules turn them into diagnostics that
 * say what Envoy expects. Misplacements are warnings; mere shorthands are info notes.
 */
import { spanOf } from '../../config/node-meta.js';
import { defineRule } from '../rule.js';

/** Constructs that sit somewhere Envoy does not look for them. */
const MISPLACED: Record<string, string> = {
  'transport-socket-in-hcm': '`transport_socket` is inside the HTTP connection manager',
  'top-level-fragment': 'this resource is at the top level of the file',
  'v2-tls-context': '`tls_context` is Envoy v2\'s field, removed in v3',
};

/** Constructs that are only a shorter way of writing Envoy's shape. */
const SHORTHAND: Record<string, string> = {
  'wrapper-block': 'a wrapper block around a list element',
  'endpoint-shorthand': 'an endpoint written without `lb_endpoints { endpoint { … } }`',
  'endpoint-weight': '`weight` on an endpoint',
  'codec-shorthand': 'the `codec` shorthand',
  'tls-context-wrapper': 'a `tls_context { … }` wrapper inside typed_config',
  'certificate-file-shorthand': 'the `certificate_key_file` / `certificate_chain_file` shorthand',
  'ads-shorthand': 'a bool `ads`',
};


const CONVERT_HINT = "`meshctl convert --to envoy` writes Envoy's own layout";

export const envoyPlacement = defineRule({
  id: 'envoy-placement',
  severity: 'warning',
  category: 'placement',
  description:
    "A construct the article's dialect places where Envoy does not (for example `transport_socket` inside the connection manager). meshctl accepts it; Envoy would not.",
  messages: {
    note: '{{what}}; Envoy expects {{placement}}',
    loneTls:
      "the top-level tls_context is not attached to any listener or cluster; Envoy expects it as the typed_config of a filter chain's transport_socket",
  },
  check(ctx) {
    ctx.index.dialectNotes.forEach((note) => {
      const what = MISPLACED[note.construct];
      // Unknown constructs are treated as misplacements: better a warning than silence.
      if (what === undefined && SHORTHAND[note.construct] !== undefined) return;
      ctx.report({
        messageId: 'note',
        data: { what: what ?? note.construct.replace(/-/g, ' '), placement: note.envoyPlacement },
        at: note.span,
        hint: CONVERT_HINT,
      });
    });
    if (ctx.config.tls_context !== undefined) ctx.report({ messageId: 'loneTls', at: spanOf(ctx.config, 'tls_context') });
  },
});

export const dialectShorthand = defineRule({
  id: 'dialect-shorthand',
  severity: 'info',
  offByDefault: true,
  category: 'placement',
  description: "Off by default. A shorthand of the article's dialect that Envoy does not accept as written (meshctl expands it).",
  messages: {
    note: '{{what}} (dialect shorthand); Envoy writes {{placement}}',
  },
  check(ctx) {
    ctx.index.dialectNotes.forEach((note) => {
      const what = SHORTHAND[note.construct];
      if (what === undefined) return;
      ctx.report({ messageId: 'note', data: { what, placement: note.envoyPlacement }, at: note.span, hint: CONVERT_HINT });
    });
  },
});
