/**
 * Conversion: a parsed model printed in any output format. The emitters share one canonical tree (proto field
 * order, comments attached), so text-proto, YAML and JSON agree field for field; `envoy`/`envoy-json` first map
 * the model onto Envoy's own v3 bootstrap shape.
 */
import type { Diagnostic } from './diagnostic.js';
import { META, type NodeMeta } from './node-meta.js';
import type { Bootstrap } from './model.generated.js';
import type { OutputFormat } from './model.js';
import { pointSpan } from './source.js';
import { bootstrapToPbText } from './emit/pbtext.js';
import { toEnvoy } from './emit/envoy.js';
import { printJson } from './emit/json.js';
import { printTextproto } from './emit/textproto.js';
import { configToTree, hasComments, hasIgnoredKeys, jsonToTree } from './emit/tree.js';
import { printYaml } from './emit/yaml.js';

interface EmitResult {
  readonly text: string;
  /** Warnings about what the target format could not hold (`not-representable-in-envoy`, `comments-dropped`). */
  readonly diagnostics: Diagnostic[];
}

function fileOf(config: Bootstrap): string {
  return (config as { [META]?: NodeMeta })[META]?.span.file ?? '<config>';
}

/** Print a config in the given format. Never throws for a well-typed model. */
export function emitConfig(config: Bootstrap, to: OutputFormat): EmitResult {
  switch (to) {
    case 'textproto':
      return { text: printTextproto(configToTree(config, { durations: 'short', comments: true })), diagnostics: ignoredKeysDropped(config, 'Text-proto') };
    case 'yaml':
      return { text: printYaml(configToTree(config, { durations: 'envoy', comments: true, ignoredKeys: true })), diagnostics: [] };
    case 'json': {
      const tree = configToTree(config, { durations: 'envoy', comments: true });
      return { text: printJson(tree), diagnostics: [...commentsDropped(config, hasComments(tree), 'JSON'), ...ignoredKeysDropped(config, 'JSON')] };
    }
    case 'envoy':
    case 'envoy-json':
    case 'envoy-textproto': {
      const { bootstrap, diagnostics } = toEnvoy(config);
      const hadComments = hasComments(configToTree(config, { durations: 'envoy', comments: true }));
      if (to === 'envoy-textproto') {
        const pb = bootstrapToPbText(bootstrap, fileOf(config));
        return { text: pb.text, diagnostics: [...diagnostics, ...pb.diagnostics, ...commentsDropped(config, hadComments, 'Envoy text-format'), ...ignoredKeysDropped(config, 'Envoy text-format')] };
      }
      if (to === 'envoy-json') {
        return { text: JSON.stringify(bootstrap, null, 2) + '\n', diagnostics: [...diagnostics, ...commentsDropped(config, hadComments, 'Envoy JSON'), ...ignoredKeysDropped(config, 'Envoy JSON')] };
      }
      const tree = jsonToTree(bootstrap);
      if (tree.kind !== 'message') throw new Error('envoy bootstrap is not an object');
      const text = printYaml(tree);
      return { text, diagnostics: [...diagnostics, ...commentsDropped(config, hadComments, 'Envoy YAML'), ...ignoredKeysDropped(config, 'Envoy YAML', 'it is built in Envoy\'s shape, without them')] };
    }
  }
}

/**
 * Envoy's YAML loader leaves out keys tagged `!ignore` (source/common/protobuf/yaml_utility.cc); JSON and text
 * formats have no tags, and Envoy's JSON loader would refuse the unknown key, so those outputs leave them out too.
 * `--to envoy` maps the model onto Envoy's shape through JSON, so its YAML leaves them out as well.
 */
function ignoredKeysDropped(config: Bootstrap, what: string, why = 'this format cannot tag them'): Diagnostic[] {
  if (!hasIgnoredKeys(config)) return [];
  return [
    {
      ruleId: 'ignored-keys-dropped',
      severity: 'info',
      message: `${what} output leaves out the keys tagged \`!ignore\` (Envoy's YAML loader ignores them; ${why}).`,
      span: pointSpan(fileOf(config)),
      hint: 'convert to yaml to keep them.',
    },
  ];
}

function commentsDropped(config: Bootstrap, had: boolean, what: string): Diagnostic[] {
  if (!had) return [];
  return [
    {
      ruleId: 'comments-dropped',
      severity: 'info',
      message: `${what} output has no comments; the comments of the input were not written.`,
      span: pointSpan(fileOf(config)),
      hint: 'convert to textproto or yaml to keep them.',
    },
  ];
}
