/** Every command, registered in help order. Each module only declares its options; its action imports the work. */
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Command name → the module that registers it, in help order. */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<{ register: Register }>]> = [
  ['validate', () => import('./validate.js')],
  ['convert', () => import('./convert.js')],
  ['simulate', () => import('./simulate.js')],
  ['graph', () => import('./graph.js')],
  ['run', () => import('./run.js')],
  ['serve', () => import('./serve.js')],
  ['demo', () => import('./demo.js')],
  ['prometheus-config', () => import('./prometheus-config.js')],
];

/**
 * Registers the commands. When the command line names one of them, only that one is loaded: `meshctl validate` runs
 * many times in CI and need not load the option tables of the proxy. Anything else (help, a typo that deserves a
 * suggestion) gets all of them.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const named = COMMANDS.find(([name]) => name === argv[2]);
  for (const [name, load] of named !== undefined ? [named] : COMMANDS) {
    (await load()).register(program);
    // A usage error names the help that explains it: `meshctl validate --help`, not the list of commands.
    program.commands.find((c) => c.name() === name)?.showHelpAfterError(`(run \`meshctl ${name} --help\` for usage)`);
  }
}
