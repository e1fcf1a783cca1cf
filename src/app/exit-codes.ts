/**
 * meshctl's exit statuses (README "Exit codes"), shared by the CLI and the processes under src/app, which cannot
 * import the CLI.
 */
export const EXIT_OK = 0;
/** The config has errors (or warnings under --strict / --max-warnings). */
export const EXIT_CONFIG = 1;
/** A usage or I/O error: a bad flag, a file that cannot be read or written, an address that cannot be bound. */
export const EXIT_USAGE = 2;
/** meshctl failed by itself (a crash, a run that ended without being stopped): shares 2 with usage errors. */
export const EXIT_INTERNAL = 2;
