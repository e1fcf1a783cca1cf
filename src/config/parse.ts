/**
 * The config layer's entry point: text (of any supported format) → typed model + diagnostics. Picks the reader by
 * format (detected from the file name, then the content; `from` overrides), decodes the syntax tree against the
 * schema, and enforces the limits that keep a hostile or accidental input from exhausting memory.
 */
import { isAscii } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigDecoder } from './decode.js';
import type { Diagnostic } from './diagnostic.js';
import type { Bootstrap, InputFormat, ParseResult } from './model.js';
import { SourceFile } from './source.js';
import { UsageError } from './usage-error.js';
import { EnvoyJudge } from './envoy-api/judge.js';
import { looksLikeEnvoy, mergeVerdicts, reviewUnknownFields } from './envoy-api/verdict.js';
import type { SMessage } from './syntax.js';
import { parseTextproto } from './textproto/parser.js';
import { readYaml } from './yaml-reader.js';

export interface ParseOptions {
  /** Force the input format instead of detecting it. */
  readonly from?: InputFormat;
  /** Largest input accepted, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Deepest nesting accepted (default 200). */
  readonly maxDepth?: number;
  /** Most listeners + clusters + virtual hosts + routes accepted (default 1,000,000). */
  readonly maxResources?: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_RESOURCES = 1_000_000;

/** A config file that could not be read at all (missing, a directory, no permission). The message names the path. */
export class ConfigReadError extends UsageError {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, message: string, code?: string) {
    super(message);
    this.name = 'ConfigReadError';
    this.path = path;
    this.code = code;
  }
}

const TEXTPROTO_EXTENSIONS = new Set(['.textproto', '.pbtxt', '.txtpb', '.prototxt', '.txt', '.conf']);
const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * The format of a config: by extension first (`.textproto .pbtxt .txtpb .txt .conf` → textproto, `.yaml .yml` →
 * yaml, `.json` → json), else by content. YAML and JSON that are Envoy's (a `@type` URL, or top-level keys that make
 * an Envoy Bootstrap and not meshctl's own shape: src/config/envoy-api/shape.ts) are reported as `envoy`, and
 * judged by Envoy's descriptors.
 */
export function detectFormat(file: string, text: string): InputFormat {
  const ext = extname(file).toLowerCase();
  if (TEXTPROTO_EXTENSIONS.has(ext)) return 'textproto';
  if (YAML_EXTENSIONS.has(ext)) return looksLikeEnvoy(text) ? 'envoy' : 'yaml';
  if (ext === '.json') return looksLikeEnvoy(text) ? 'envoy' : 'json';
  return detectFromContent(text);
}

function detectFromContent(text: string): InputFormat {
  const body = stripBom(text).trimStart();
  if (body.startsWith('{') || body.startsWith('[')) {
    // `{` also opens a text-proto file that starts with an anonymous message, which is not valid; JSON it is,
    // unless the braces hold `name {` blocks.
    if (!looksLikeTextproto(body)) return looksLikeEnvoy(body) ? 'envoy' : 'json';
  }
  if (looksLikeTextproto(body)) return 'textproto';
  return looksLikeEnvoy(body) ? 'envoy' : 'yaml';
}

/** `name {`, `name <` or `name: {` starting a line: a text-proto message; YAML never writes a block that way. */
function looksLikeTextproto(text: string): boolean {
  const noComments = text.replace(/^\s*#.*$/gm, '');
  // A file of only `name: "value"` lines is read the same either way, so only the braces decide.
  if (/^\s*[A-Za-z_][\w.]*\s*[{<]/m.test(noComments)) return true;
  // `name: {` is text-proto too, or a YAML flow mapping; a YAML block key (`name:` alone on a line) settles it.
  return /^\s*[A-Za-z_][\w.]*\s*:\s*[{<]\s*$/m.test(noComments) && !/^\s*-?\s*[\w"'.-]+\s*:\s*$/m.test(noComments);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parse a config from text. `file` names it in spans and picks the format by extension. */
export function parseConfig(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const source = new SourceFile(file, stripBom(text));
  const format = opts.from ?? detectFormat(file, text);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  // A UTF-16 unit is at most 3 bytes of UTF-8: a text that short needs no count.
  const bytes = text.length * 3 <= maxBytes ? 0 : Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return { config: undefined, diagnostics: [tooLarge(file, bytes, maxBytes)], source, format };
  }
  // Envoy-shaped input is judged by Envoy's descriptors first, and decoded in the canonical form the judge returns.
  const judge = format === 'envoy' ? new EnvoyJudge({ yaml: !readsJson(source, format) }) : undefined;
  // Decoding starts while the file is read (ConfigDecoder.element): most of a big config's syntax tree is then
  // garbage within moments of being built.
  const decoder = new ConfigDecoder({ format, ...(judge !== undefined ? { judge } : {}) });
  const read = readTree(source, format, opts, decoder);
  if (read.tree === undefined) return { config: undefined, diagnostics: sortDiagnostics(read.diagnostics), source, format };
  const decoded = decoder.decode(read.tree);
  const diagnostics =
    judge !== undefined
      ? [...read.diagnostics, ...mergeVerdicts(judge.diagnostics, judge.refusedFields, decoded.diagnostics)]
      : format === 'textproto'
        ? [...read.diagnostics, ...decoded.diagnostics]
        : [...read.diagnostics, ...reviewUnknownFields(source, decoded.diagnostics, () => readTree(source, format, opts, undefined).tree, format === 'yaml')];
  const limit = opts.maxResources ?? DEFAULT_MAX_RESOURCES;
  const count = resourceCount(decoded.config);
  if (count > limit) {
    diagnostics.push({
      ruleId: 'too-many-resources',
      severity: 'error',
      message: `the config holds ${count} listeners, clusters, virtual hosts and routes; meshctl accepts at most ${limit}`,
      span: source.span(0, 0),
    });
  }
  const result: ParseResult = { config: decoded.config, diagnostics: sortDiagnostics(diagnostics), source, format };
  return judge === undefined ? result : { ...result, envoy: judge.clusterUse() };
}

/** Whether the text is read as JSON (else YAML, whose plain scalars Envoy reads by YAML rules). */
function readsJson(source: SourceFile, format: InputFormat): boolean {
  const trimmed = source.text.trimStart();
  return format === 'json' || (format === 'envoy' && (trimmed.startsWith('{') || trimmed.startsWith('[')));
}

/** The syntax tree; with a decoder, its elements are decoded while they are read (ConfigDecoder.element). */
function readTree(
  source: SourceFile,
  format: InputFormat,
  opts: ParseOptions,
  decoder: ConfigDecoder | undefined,
): { tree: SMessage | undefined; diagnostics: Diagnostic[] } {
  const element = decoder?.element.bind(decoder);
  if (format === 'textproto') return parseTextproto(source, element !== undefined ? { element } : {});
  return readYaml(source, {
    json: readsJson(source, format),
    ...(element !== undefined ? { element } : {}),
    ...(opts.maxDepth !== undefined ? { maxDepth: opts.maxDepth } : {}),
  });
}

/**
 * Read and parse a config file. Rejects with ConfigReadError when the file cannot be read at all; a file that is
 * too large is a diagnostic (`file-too-large`), not an exception.
 */
export async function readConfigFile(path: string, opts: ParseOptions = {}): Promise<ParseResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ConfigReadError(path, `cannot read ${path}: it is a directory`, 'EISDIR');
    size = st.size;
  } catch (err) {
    throw asReadError(path, err);
  }
  if (size > maxBytes) {
    const source = new SourceFile(path, '');
    return { config: undefined, diagnostics: [tooLarge(path, size, maxBytes)], source, format: opts.from ?? detectFormat(path, '') };
  }
  let text: string;
  try {
    // Bytes, then one decode: readFile(path, 'utf8') decodes chunk by chunk into a rope of strings that the first
    // read of the text then has to copy flat (~20 ms for 5 MB). Pure ASCII (nearly every config) reads as latin1,
    // the same string, made by a copy instead of a UTF-8 decode.
    const bytes = await readFile(path);
    text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  } catch (err) {
    throw asReadError(path, err);
  }
  return parseConfig(text, path, opts);
}

function asReadError(path: string, err: unknown): ConfigReadError {
  if (err instanceof ConfigReadError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : err instanceof Error
            ? err.message
            : String(err);
  return new ConfigReadError(path, `cannot read ${path}: ${why}`, code);
}

function tooLarge(file: string, size: number, max: number): Diagnostic {
  return {
    ruleId: 'file-too-large',
    severity: 'error',
    message: `${file} is ${formatBytes(size)}; meshctl reads configs of at most ${formatBytes(max)}`,
    span: { file, line: 1, column: 1, endLine: 1, endColumn: 2 },
  };
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Listeners, clusters, virtual hosts and routes: what the size of a config's work grows with. */
export function resourceCount(config: Bootstrap): number {
  const sr = config.static_resources;
  let n = (sr?.clusters?.length ?? 0) + (sr?.listeners?.length ?? 0);
  for (const l of sr?.listeners ?? []) {
    for (const fc of l.filter_chains ?? []) {
      for (const f of fc.filters ?? []) {
        for (const vh of f.typed_config?.route_config?.virtual_hosts ?? []) n += 1 + (vh.routes?.length ?? 0);
      }
    }
  }
  return n;
}

/** File order (line, column), stable for diagnostics at the same place. */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.span.line - b.d.span.line || a.d.span.column - b.d.span.column || a.i - b.i)
    .map((x) => x.d);
}
