/**
 * The config layer's public API: parse any supported format into the typed model, detect formats, and the model's
 * types and helpers. Commands and other layers import from here.
 */
export { parseConfig, readConfigFile, detectFormat, ConfigReadError, sortDiagnostics } from './parse.js';
export type { ParseOptions } from './parse.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_RESOURCES } from './parse.js';
export { refreshServiceCluster, HCM_FILTER_NAMES, TLS_SOCKET_NAMES } from './normalize.js';
export { dialectNotes } from './notes.js';
export type { LocatedNote } from './notes.js';
export { codeFrame } from './code-frame.js';
export type { CodeFrameOptions } from './code-frame.js';
export * from './model.js';
export type { Diagnostic, Severity, RelatedLocation } from './diagnostic.js';
export { SourceFile } from './source.js';
export type { Span } from './source.js';
