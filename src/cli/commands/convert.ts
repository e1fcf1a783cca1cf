/**
 * `meshctl convert INPUT [-o OUTPUT] [--from F] --to FORMAT`: parse a config in any input format and print it in
 * another. Parse errors are shown with file:line:column and a code frame (exit 1); a missing input is exit 2; the
 * output file is replaced atomically, so a failed conversion never leaves a half-written or clobbered OUTPUT.
 */
import type { Command } from 'commander';
import { Option } from '../commander.js';
import type { Diagnostic } from '../../config/diagnostic.js';
import type { ParseResult } from '../../config/model.js';
import type { SourceFile } from '../../config/source.js';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from '../errors.js';

const TO = ['textproto', 'yaml', 'json', 'envoy', 'envoy-json'] as const;
const FROM = ['textproto', 'yaml', 'json', 'envoy'] as const;

interface ConvertOptions {
  to: (typeof TO)[number];
  from?: (typeof FROM)[number];
  output?: string;
  color?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a config between text-proto, YAML, JSON and Envoy v3 (YAML or JSON)')
    .argument('<input>', 'config file to read (`-` for stdin)')
    .addOption(new Option('-t, --to <format>', 'output format').choices(TO).makeOptionMandatory())
    .addOption(new Option('-f, --from <format>', 'input format (default: from the extension, then the content)').choices(FROM))
    .option('-o, --output <file>', 'write here instead of stdout (replaced atomically; `-` is stdout)')
    .option('--no-color', 'no colour in messages')
    .action(async (input: string, opts: ConvertOptions) => {
      process.exitCode = await runConvert(input, opts);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function parseInput(input: string, from: ConvertOptions['from']): Promise<ParseResult> {
  const config = await import('../../config/index.js');
  const parseOpts = from !== undefined ? { from } : {};
  if (input === '-') return config.parseConfig(await readStdin(), '<stdin>', parseOpts);
  try {
    return await config.readConfigFile(input, parseOpts);
  } catch (err) {
    if (err instanceof config.ConfigReadError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
}

async function renderDiagnostics(diags: readonly Diagnostic[], source: SourceFile | undefined, color: boolean): Promise<string> {
  if (diags.length === 0) return '';
  const { codeFrame } = await import('../../config/code-frame.js');
  const { default: chalk, Chalk } = await import('chalk');
  const c = color ? chalk : new Chalk({ level: 0 });
  const paint = { error: c.red.bold, warning: c.yellow.bold, info: c.cyan.bold };
  let out = '';
  for (const d of diags) {
    const s = d.span;
    out += `${c.bold(`${s.file}:${s.line}:${s.column}`)}: ${paint[d.severity](d.severity)}: ${d.message} ${c.dim(`[${d.ruleId}]`)}\n`;
    if (d.severity !== 'info' && source !== undefined && s.file === source.name && s.line >= 1 && s.line <= source.lineCount) {
      out += codeFrame(source, s, { color }) + '\n';
    }
    if (d.hint !== undefined) out += `  ${c.cyan('hint')}: ${d.hint}\n`;
  }
  return out;
}

/** Replace `path` with `text` through a temporary file in the same directory and a rename. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const { writeFile, rename, rm } = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    const reason = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
    throw new CliError(`cannot write ${path}: ${reason}`, EXIT_USAGE);
  }
}

export async function runConvert(input: string, opts: ConvertOptions): Promise<number> {
  const color = opts.color !== false && process.stderr.isTTY === true && !process.env.NO_COLOR;
  const parsed = await parseInput(input, opts.from);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  process.stderr.write(await renderDiagnostics(parsed.diagnostics, parsed.source, color));
  if (parsed.config === undefined || errors.length > 0) {
    const n = Math.max(errors.length, 1);
    process.stderr.write(`meshctl: ${parsed.source.name}: ${n} error${n === 1 ? '' : 's'}; nothing converted\n`);
    return EXIT_CONFIG;
  }
  const { emitConfig } = await import('../../config/convert.js');
  const { text, diagnostics } = emitConfig(parsed.config, opts.to);
  process.stderr.write(await renderDiagnostics(diagnostics, parsed.source, color));
  if (opts.output !== undefined && opts.output !== '-') await writeAtomically(opts.output, text);
  else process.stdout.write(text);
  return EXIT_OK;
}
