/**
 * `meshctl graph CONFIG [-o FILE] [--format svg|html|dot|mermaid]`: the config as a picture — listeners → virtual
 * hosts → routes → clusters → endpoints, each edge with the share of traffic `meshctl simulate` expects, and the
 * validator's problems drawn on the element they concern. A config with errors is still drawn (exit 1).
 */
import type { Command } from 'commander';
import { Option } from '../commander.js';
import { EXIT_CONFIG, EXIT_OK } from '../../app/exit-codes.js';
import type { InputFormat } from '../../config/model.js';
import { useColor } from '../color.js';
import { fromOption } from '../flags.js';

import type { GraphFormat } from '../../graph/render.js';

const FORMATS: readonly GraphFormat[] = ['svg', 'html', 'dot', 'mermaid'];

/** The format an output file's extension implies, when --format is not given. */
const BY_EXTENSION: Readonly<Record<string, GraphFormat>> = { svg: 'svg', html: 'html', htm: 'html', dot: 'dot', gv: 'dot', mmd: 'mermaid', mermaid: 'mermaid' };

interface GraphOptions {
  format?: GraphFormat;
  output?: string;
  from?: InputFormat;
  color: boolean;
}

export function register(program: Command): void {
  program
    .command('graph')
    .description('Draw the config: listeners → routes → clusters → endpoints, with expected traffic shares and problems')
    .argument('<config>', 'config file (text-proto, YAML, JSON or Envoy v3; `-` for stdin)')
    .addOption(new Option('--format <format>', 'output format (default: from the -o extension, else svg)').choices(FORMATS))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addOption(fromOption())
    .option('--no-color', 'no colours in messages on stderr')
    .action(async (config: string, opts: GraphOptions) => {
      process.exitCode = await runGraph(config, opts);
    });
}

async function runGraph(path: string, opts: GraphOptions): Promise<number> {
  const toFile = opts.output !== undefined && opts.output !== '-';
  const ext = toFile ? (/\.([^./]+)$/.exec(opts.output!)?.[1] ?? '').toLowerCase() : '';
  const format: GraphFormat = opts.format ?? BY_EXTENSION[ext] ?? 'svg';
  const [{ loadConfig, validateOptionsFor }, { renderFileReport }, { buildGraph }] = await Promise.all([
    import('../../validate/load.js'),
    import('../../validate/report.js'),
    import('../../graph/model.js'),
  ]);
  const loaded = await loadConfig(path, { ...(await validateOptionsFor()), ...(opts.from !== undefined ? { from: opts.from } : {}) });
  process.stderr.write(await renderFileReport(loaded.report, useColor(process.stderr, opts.color)));
  const graph = buildGraph(loaded.report.file, loaded.model, loaded.report.diagnostics);
  const { renderGraph } = await import('../../graph/render.js');
  const text = await renderGraph(graph, format);
  if (toFile) {
    const { writeAtomically } = await import('./convert.js');
    await writeAtomically(opts.output!, text);
  } else process.stdout.write(text);
  if (loaded.errors > 0) {
    process.stderr.write(`meshctl: ${loaded.report.file}: ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}, drawn on the graph\n`);
    return EXIT_CONFIG;
  }
  return EXIT_OK;
}
