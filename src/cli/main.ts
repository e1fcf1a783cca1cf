/**
 * meshctl's entry point. Commands are registered here cheaply (their options only); each command's action loads
 * its implementation lazily, so `meshctl validate` never pays for ink, React or the proxy.
 */
import { readFileSync } from 'node:fs';
import { Command } from './commander.js';
import { registerCommands } from './commands/index.js';
import { commanderError, exitCodeFor } from './errors.js';

// `run` and `demo` hold V8's young generation at its start-up size (app/young-generation.ts) before anything else is
// loaded: the proxy's modules and the config, read next, would otherwise grow it for good.
if (process.argv[2] === 'run' || process.argv[2] === 'demo') (await import('../app/young-generation.js')).holdYoungGeneration();

const program = new Command();
program
  .name('meshctl')
  .description('Validate, convert, simulate and run Envoy-style service-mesh proxy configs')
  .version(packageVersion(), '-V, --version', 'print the version')
  // Every command inherits these: option texts are lower-case phrases, command summaries imperative sentences.
  .helpOption('-h, --help', 'show this help')
  .helpCommand('help [command]', 'Show help for a command')
  .showHelpAfterError('(run `meshctl --help` for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: commanderError });

await registerCommands(program, process.argv);

function packageVersion(): string {
  // dist/src/cli/main.js → the package root three levels up.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err, (text) => void process.stderr.write(text));
  }
}

await main(process.argv);
