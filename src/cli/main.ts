/**
 * meshctl's entry point. Commands are registered here cheaply (their options only); each command's action loads
 * its implementation lazily, so `meshctl validate` never pays for ink, React or the proxy.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { CliError, EXIT_USAGE } from './errors.js';

const program = new Command();
program
  .name('meshctl')
  .description('Validate, convert, simulate and run Envoy-style service-mesh proxy configs.')
  .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
  .showHelpAfterError('(run `meshctl --help` for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

registerCommands(program);

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
