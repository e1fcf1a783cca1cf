/**
 * meshctl's entry point. Commands are registered here cheaply (their options only); each command's action loads
 * its implementation lazily, so `meshctl validate` never pays for ink, React or the proxy.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from './commander.js';
import { registerCommands } from './commands/index.js';
import { CliError, EXIT_USAGE } from './errors.js';

const program = new Command();
program
  .name('meshctl')
  .description('Validate, convert, simulate and run Envoy-style service-mesh proxy configs.')
  .version(packageVersion(), '-V, --version')
  .showHelpAfterError('(run `meshctl --help` for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end in a CommanderError with exit code 0.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (err instanceof CliError) {
    if (err.message) process.stderr.write(`meshctl: ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`meshctl: internal error: ${message}\n`);
  if (process.env.MESHCTL_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return EXIT_USAGE;
}

await main(process.argv);
