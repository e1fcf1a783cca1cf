/**
 * How a failed command ends, for every command in one place. Commands and the layers below throw UsageError (or a
 * subclass) for what the user can fix; this module turns it, and the system errors that mean the same (an address
 * that cannot be bound, a file that cannot be opened), into one `meshctl: message` line and exit 2. Anything else is a
 * bug in meshctl: `meshctl: internal error: message`, also exit 2, with the stack under MESHCTL_DEBUG.
 */
import { EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from '../app/exit-codes.js';
import { ConfigRefusedError, UsageError } from '../config/usage-error.js';
import { CommanderError } from './commander.js';

/** Writes what `err` means for the user on `write` and returns the exit status. */
export function exitCodeFor(err: unknown, write: (text: string) => void): number {
  // commander has printed its message already (see commanderError); --help and --version end here with 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  const message = userMessage(err);
  if (message !== undefined) {
    write(`meshctl: ${message}\n`);
    return err instanceof ConfigRefusedError ? EXIT_CONFIG : EXIT_USAGE;
  }
  write(`meshctl: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.MESHCTL_DEBUG && err instanceof Error && err.stack) write(err.stack + '\n');
  return EXIT_INTERNAL;
}

/** commander's own usage errors (`error: unknown option …`) in the same `meshctl: …` form. */
export function commanderError(text: string, write: (text: string) => void): void {
  write(text.replace(/^error: /, 'meshctl: '));
}

const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: ' (is another meshctl running?)',
  EACCES: ' (ports below 1024 need root: try --listen-port-offset 10000)',
  EADDRNOTAVAIL: ' (no interface of this machine has that address)',
};

/** The message for an error the user can act on, or undefined for a bug. */
function userMessage(err: unknown): string | undefined {
  if (err instanceof UsageError) return err.message;
  if (!isSystemError(err)) return undefined;
  if (err.syscall === 'listen' || err.syscall === 'bind') return `cannot listen: ${err.message}${LISTEN_HINTS[err.code] ?? ''}`;
  // A file or socket the system refused (an access log that cannot be opened, …): I/O, not a bug.
  return err.message;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string; syscall: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}
