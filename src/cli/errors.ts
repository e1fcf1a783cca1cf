/** Exit codes, as every meshctl command uses them. */
export const EXIT_OK = 0;
/** The config has errors (or warnings under --strict / --max-warnings). */
export const EXIT_CONFIG = 1;
/** Usage or I/O error. */
export const EXIT_USAGE = 2;

/** An error that ends the command with a message (no stack trace) and a given exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}
