/**
 * The typed config model. The types are generated from schemas/meshctl.proto (model.generated.ts); this module adds
 * what a parsed config carries around them.
 */
import type { Bootstrap } from './model.generated.js';
import type { Diagnostic } from './diagnostic.js';
import type { SourceFile } from './source.js';
import type { EnvoyClusterUse } from './envoy-api/cluster-refs.js';

export * from './model.generated.js';
export * from './json-value.js';
export * from './duration.js';
export * from './node-meta.js';

/** The input and output formats. `envoy` is Envoy's own v3 bootstrap shape (YAML or JSON, with `@type`s). */
export type InputFormat = 'textproto' | 'yaml' | 'json' | 'envoy';
export type OutputFormat = 'textproto' | 'yaml' | 'json' | 'envoy' | 'envoy-json' | 'envoy-textproto';

export interface ParseResult {
  /** The model, present unless the input could not be read at all (a syntax error). */
  readonly config: Bootstrap | undefined;
  /** Syntax errors, unknown fields, dialect notes: everything the parse found, in file order. */
  readonly diagnostics: Diagnostic[];
  readonly source: SourceFile;
  /** The format that was used (detected or forced). */
  readonly format: InputFormat;
  /**
   * For Envoy-shaped input (judged by Envoy's descriptors): every place the input names a cluster where Envoy takes
   * a cluster name, for the reference rules.
   */
  readonly envoy?: EnvoyClusterUse;
}
